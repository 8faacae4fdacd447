-- gatehouse:re-runnable
-- Orleans ADO.NET grain storage (Microsoft.Orleans.Persistence.AdoNet 10.4.2) on PostgreSQL: one row per grain
-- state and the queries the provider looks up by key in OrleansQuery (created by 0001).
--
-- Re-runnable: every statement is idempotent, so Gatehouse re-applies this script whenever its text changes.
--
-- The state is whatever bytes the configured IGrainStorageSerializer makes (Gatehouse uses Orleans' binary
-- serializer): the provider reads and writes only PayloadBinary, so there are no JSON or XML columns.
--
-- Versions (the grain's ETag): a write or clear must name the version it read, or NULL when it read no row.
-- Success returns the next version; any mismatch changes nothing and returns NULL, which the provider turns
-- into an InconsistentStateException. Clearing keeps the row (payload NULL) so the version keeps increasing
-- and a stale activation can never write over a clear.
--
-- Requires PostgreSQL 15 or later (UNIQUE NULLS NOT DISTINCT: most grains have no key extension).
CREATE TABLE IF NOT EXISTS orleans_grain_state
(
    grain_id_hash      integer     NOT NULL,
    grain_type_hash    integer     NOT NULL,
    service_id         text        NOT NULL,
    grain_type         text        NOT NULL,
    grain_id_n0        bigint      NOT NULL,
    grain_id_n1        bigint      NOT NULL,
    grain_id_extension text,
    version            integer     NOT NULL,
    payload            bytea,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orleans_grain_state_identity UNIQUE NULLS NOT DISTINCT
        (grain_id_hash, grain_type_hash, service_id, grain_id_n0, grain_id_n1, grain_type, grain_id_extension)
);

INSERT INTO orleansquery (querykey, querytext) VALUES
('ReadFromStorageKey', $query$
SELECT payload AS "PayloadBinary", version AS "Version"
FROM orleans_grain_state
WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
  AND service_id = @ServiceId AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
  AND grain_type = @GrainTypeString AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
$query$),

-- Updates the row holding the version the grain read, or creates the row when the grain read none.
('WriteToStorageKey', $query$
WITH updated AS (
    UPDATE orleans_grain_state
    SET payload = @PayloadBinary, version = version + 1, modified_at = now()
    WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version),
created AS (
    INSERT INTO orleans_grain_state
        (grain_id_hash, grain_type_hash, service_id, grain_type, grain_id_n0, grain_id_n1, grain_id_extension,
         version, payload)
    SELECT @GrainIdHash, @GrainTypeHash, @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
           @GrainIdExtensionString, 1, @PayloadBinary
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT ON CONSTRAINT orleans_grain_state_identity DO NOTHING
    RETURNING version)
SELECT COALESCE((SELECT version FROM updated), (SELECT version FROM created)) AS "NewGrainStateVersion"
$query$),

-- Empties the state but keeps the row, one version further on.
('ClearStorageKey', $query$
WITH cleared AS (
    UPDATE orleans_grain_state
    SET payload = NULL, version = version + 1, modified_at = now()
    WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version)
SELECT (SELECT version FROM cleared) AS "NewGrainStateVersion"
$query$),

-- Used instead of ClearStorageKey only with DeleteStateOnClear = true: removes the row, so the version starts
-- again from 1 and an activation that still holds an old ETag is refused but one that read nothing is not.
('DeleteStorageKey', $query$
WITH deleted AS (
    DELETE FROM orleans_grain_state
    WHERE grain_id_hash = @GrainIdHash AND grain_type_hash = @GrainTypeHash
      AND service_id = @ServiceId AND grain_id_n0 = @GrainIdN0 AND grain_id_n1 = @GrainIdN1
      AND grain_type = @GrainTypeString AND grain_id_extension IS NOT DISTINCT FROM @GrainIdExtensionString
      AND version = @GrainStateVersion
    RETURNING version + 1 AS next_version)
SELECT (SELECT next_version FROM deleted) AS "NewGrainStateVersion"
$query$)
ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;
