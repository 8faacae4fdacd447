-- The usage ledger: one row per upstream call and per answer served from the cache or shared with another caller.
-- Written by each silo in batches (binary COPY); read by the admin API's usage query.
CREATE TABLE gatehouse_usage
(
    at                   timestamptz    NOT NULL,
    app_id               text           NOT NULL,
    alias                text           NOT NULL,
    provider             text           NOT NULL,
    model                text           NOT NULL,
    prompt_tokens        integer        NOT NULL,
    completion_tokens    integer        NOT NULL,
    cached_prompt_tokens integer        NOT NULL,
    cost_usd             numeric(20, 10) NOT NULL,
    saved_usd            numeric(20, 10) NOT NULL,
    priced               boolean        NOT NULL,
    latency_ms           integer        NOT NULL,
    cache                text           NOT NULL,
    attempts             integer        NOT NULL,
    status               text           NOT NULL
);

CREATE INDEX gatehouse_usage_at ON gatehouse_usage (at);
CREATE INDEX gatehouse_usage_app_at ON gatehouse_usage (app_id, at);
