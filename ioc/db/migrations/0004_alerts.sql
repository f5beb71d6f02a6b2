-- Alerts: one row per lifecycle of a rule in an area, their history, silences, and the
-- evaluator's own state (streaks and EWMA per rule and area, the last window evaluated).
CREATE TABLE alerts (
    id               bigserial   PRIMARY KEY,
    rule_id          text        NOT NULL,
    area             text        NOT NULL,
    severity         text        NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    kpi_id           text,
    state            text        NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
    level            integer     NOT NULL DEFAULT 0,  -- escalation: 0 = the area's own leaders
    started_at       timestamptz NOT NULL,            -- when the condition began to hold
    fired_at         timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    resolved_at      timestamptz,
    last_value       double precision,
    target           double precision,
    contributors     jsonb       NOT NULL DEFAULT '[]'
);
-- One open lifecycle per (rule, area).
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule_id, area) WHERE state <> 'resolved';
CREATE INDEX alerts_started ON alerts (started_at DESC);

-- Every transition, kept: the audit trail of who acknowledged what and when.
CREATE TABLE alert_history (
    id        bigserial   PRIMARY KEY,
    alert_id  bigint      NOT NULL REFERENCES alerts (id),
    kind      text        NOT NULL CHECK (kind IN ('fired', 'acknowledged', 'escalated', 'resolved')),
    at        timestamptz NOT NULL,
    level     integer     NOT NULL,
    actor     text,
    value     double precision,
    notified  boolean     NOT NULL  -- false: a silence or a mute window held it back
);
CREATE INDEX alert_history_alert ON alert_history (alert_id, at);

-- Silences hold notifications back (the alert still fires and is recorded).
CREATE TABLE silences (
    id            bigserial   PRIMARY KEY,
    rule_pattern  text        NOT NULL,  -- a rule id, or a pattern with * (e.g. dvc_*)
    area          text,                  -- NULL: every area
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL CHECK (ends_at > starts_at),
    reason        text        NOT NULL,
    created_by    text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE alert_rule_state (
    rule_id        text             NOT NULL,
    area           text             NOT NULL,
    breach_streak  integer          NOT NULL,
    clear_streak   integer          NOT NULL,
    first_breach   timestamptz,
    ewma_mean      double precision,
    ewma_var       double precision NOT NULL DEFAULT 0,
    ewma_n         integer          NOT NULL DEFAULT 0,
    PRIMARY KEY (rule_id, area)
);

CREATE TABLE alert_cursor (
    name             text        PRIMARY KEY,
    evaluated_until  timestamptz NOT NULL
);
