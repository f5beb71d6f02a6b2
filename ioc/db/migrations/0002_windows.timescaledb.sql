-- With TimescaleDB: the same names, backed by a hypertable, compression, retention and
-- continuous aggregates instead of plain views.
SELECT create_hypertable('window_metrics', 'window_start', chunk_time_interval => INTERVAL '1 day');
ALTER TABLE window_metrics SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'metric, area',
    timescaledb.compress_orderby = 'window_start'
);
-- Late corrections reach compressed chunks too (upserts into compressed chunks are supported).
SELECT add_compression_policy('window_metrics', INTERVAL '7 days');
SELECT add_retention_policy('window_metrics', INTERVAL '400 days');

DROP VIEW window_metrics_1h;
DROP VIEW window_metrics_1d;

-- Real-time aggregates (materialized_only = false): recent windows not yet materialized are
-- read from window_metrics, so the roll-ups equal the plain-PostgreSQL views at all times.
CREATE MATERIALIZED VIEW window_metrics_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+07') AS bucket,
       metric, area,
       sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
FROM window_metrics
GROUP BY 1, 2, 3
WITH NO DATA;

CREATE MATERIALIZED VIEW window_metrics_1d
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 day', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+07') AS bucket,
       metric, area,
       sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
FROM window_metrics
GROUP BY 1, 2, 3
WITH NO DATA;

-- start_offset NULL: each run also re-materialises any older bucket a late correction changed
-- (TimescaleDB logs those invalidations; untouched buckets cost nothing). The stream worker
-- refreshes corrected buckets at once too; the policy is the safety net if it crashes first.
SELECT add_continuous_aggregate_policy('window_metrics_1h',
    start_offset => NULL, end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '5 minutes');
SELECT add_continuous_aggregate_policy('window_metrics_1d',
    start_offset => NULL, end_offset => INTERVAL '1 day',
    schedule_interval => INTERVAL '1 hour');
