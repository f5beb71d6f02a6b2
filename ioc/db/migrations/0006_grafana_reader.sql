-- The read-only role Grafana's datasource logs in as (deploy/grafana/provisioning/datasources/
-- ioc.yaml, and `ioc dashboards push`). Every board panel reads with it, and nothing else.
--
-- Roles belong to the whole server, not to one database: the role may already exist (made by
-- another database of the same server, or by a DBA), so it is made only when missing and is
-- never dropped here. It is made without LOGIN because a migration cannot know its password:
-- `ioc dashboards db-role` gives it LOGIN and the password in IOC_DATABASE__GRAFANA_PASSWORD.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ioc_grafana') THEN
        CREATE ROLE ioc_grafana NOLOGIN;
    END IF;
END
$$;

-- A board never writes, and a runaway panel must not hold the database: every session of the
-- role starts read-only and gives up on a statement after 30 s.
ALTER ROLE ioc_grafana SET default_transaction_read_only = on;
ALTER ROLE ioc_grafana SET statement_timeout = '30s';

-- Only what the boards read. Left out on purpose: notification_outbox (recipients' e-mail
-- addresses and phone hooks) and the pipeline's own bookkeeping (counted_events,
-- stream_offsets, alert_rule_state, alert_cursor, schema_migrations). No default privileges
-- either: a table added later stays unreadable to Grafana until a migration grants it, and a
-- migration that re-creates one of these objects must grant SELECT on it again (the board
-- test runs every panel as this role, so a missing grant fails it).
DO $$
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO ioc_grafana', current_schema());
END
$$;
GRANT SELECT ON areas, area_ancestors, window_metrics, window_metrics_1h, window_metrics_1d,
    kpi_values, alerts, alert_history, silences TO ioc_grafana;
