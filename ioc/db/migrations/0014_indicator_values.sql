-- Periodic indicators (ioc.indicators): values a department enters once a month, quarter or
-- year, their history, and the catalogue as the API last loaded it (Grafana reads names,
-- targets and due days from it, so a panel says "Chưa báo cáo" exactly as the API does).

-- The catalogue (ioc/data/indicators.yaml and the province's file), rewritten by
-- ioc.indicators.store.sync_catalogue whenever the API or `ioc indicators` starts.
CREATE TABLE indicators (
    id              text             PRIMARY KEY,
    position        integer          NOT NULL,  -- catalogue order
    name_vi         text             NOT NULL,
    name_en         text             NOT NULL,
    unit            text             NOT NULL CHECK (unit IN ('percent', 'number', 'rank')),
    direction       text             NOT NULL CHECK (direction IN ('higher', 'lower')),
    period          text             NOT NULL CHECK (period IN ('monthly', 'quarterly', 'yearly')),
    department_vi   text             NOT NULL,
    department_en   text             NOT NULL,
    due_days        integer          NOT NULL CHECK (due_days >= 0),
    levels          text[]           NOT NULL,
    target_province double precision,           -- NULL: no target (shown, never judged)
    target_district double precision,
    target_commune  double precision,
    target_source   text,
    target_estimate boolean          NOT NULL DEFAULT false
);

-- One value per indicator, area and period: the latest entered. `revision` counts entries.
CREATE TABLE indicator_values (
    indicator    text             NOT NULL,
    area         text             NOT NULL,
    period       text             NOT NULL,  -- 2025-07, 2025-Q3 or 2025 (local calendar)
    period_start date             NOT NULL,
    period_end   date             NOT NULL,  -- its last day, included
    value        double precision NOT NULL,  -- percent as a fraction 0–1, like KPI values
    note         text,
    entered_by   text             NOT NULL,  -- the key's holder, or the CLI's user
    key_id       text,                       -- NULL when entered with `ioc indicators import`
    entered_at   timestamptz      NOT NULL DEFAULT now(),
    via          text             NOT NULL CHECK (via IN ('api', 'upload', 'cli')),
    revision     integer          NOT NULL DEFAULT 1,
    PRIMARY KEY (indicator, area, period)
);
CREATE INDEX indicator_values_area ON indicator_values (area, indicator, period_start DESC);

-- Every entry ever made, corrections included: who changed what from which value, and when.
-- Never updated; the API's audit log has a line for each entry made through the API too.
CREATE TABLE indicator_value_history (
    id         bigserial        PRIMARY KEY,
    indicator  text             NOT NULL,
    area       text             NOT NULL,
    period     text             NOT NULL,
    value      double precision NOT NULL,
    previous   double precision,             -- NULL: the first value of the period
    revision   integer          NOT NULL,    -- 1 for the first entry of the period, then 2, …
    note       text,
    entered_by text             NOT NULL,
    key_id     text,
    entered_at timestamptz      NOT NULL DEFAULT now(),
    via        text             NOT NULL CHECK (via IN ('api', 'upload', 'cli'))
);
CREATE INDEX indicator_value_history_key ON indicator_value_history (indicator, area, period, id);

-- A department's key: reads, and enters its indicators' values (ioc.api.keys). `department`
-- (an id of the indicator catalogue's departments) limits a key to its own department's
-- indicators; NULL: any indicator (an admin, or a department key made without one).
ALTER TABLE api_keys ADD COLUMN department text;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_role_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_role_check
    CHECK (role IN ('operator', 'leader', 'engineer', 'admin', 'department'));

-- The boards show the values beside the KPIs (dashboards/overview.py). The history names the
-- people who entered values: the audit's business, not a wall screen's.
GRANT SELECT ON indicators, indicator_values TO ioc_grafana;
