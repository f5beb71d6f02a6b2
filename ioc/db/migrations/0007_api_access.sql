-- API access: keys with a role and an area scope (only a hash of the secret is kept), and the
-- audit log of what keys did and were refused.
CREATE TABLE api_keys (
    id            text        PRIMARY KEY,  -- the public part of the key: ioc_<id>_<secret>
    name          text        NOT NULL,     -- who holds it; audit lines and acknowledgements say this
    role          text        NOT NULL CHECK (role IN ('operator', 'leader', 'engineer', 'admin')),
    area          text,                     -- NULL: the whole province
    secret_hash   text        NOT NULL,     -- sha256 of the secret, hex (the secret is 256 random bits)
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text        NOT NULL,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

CREATE TABLE audit_log (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    key_id    text,                 -- NULL when no valid key was presented
    actor     text,                 -- the key's name
    role      text,
    action    text        NOT NULL, -- alerts.ack, silences.create, dlq.replay, auth.denied, …
    target    text,                 -- what it was about: alert 12, /api/v1/kpis/current?area=323
    outcome   text        NOT NULL CHECK (outcome IN ('ok', 'denied', 'failed')),
    status    integer     NOT NULL, -- the HTTP status returned
    client    text,                 -- client address
    detail    jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at DESC);

-- The board reads every KPI of one area (tiles, map): by area first, not by KPI.
CREATE INDEX kpi_values_area ON kpi_values (area, resolution, bucket);

-- KPI values follow the window rows written since their last pass (ioc.kpi_values.keep_current).
-- BRIN: rows are written roughly in updated_at order, so a few pages answer, and it costs the
-- workers' upserts almost nothing to maintain.
CREATE INDEX window_metrics_updated ON window_metrics USING brin (updated_at);
