-- Stored responses (grain_type 'stored_response') are written once and deleted when their retention has passed:
-- this index lets each silo's hourly sweep find them without reading the whole table.
CREATE INDEX orleans_grain_state_type_modified ON orleans_grain_state (grain_type, modified_at);
