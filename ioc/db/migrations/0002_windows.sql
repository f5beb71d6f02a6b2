-- Event-time windows written by the stream workers, and what makes their totals exact.
--
-- window_metrics: one row per (window start, metric, area) with the count, sum, min and max of
-- what the window's events contributed (ioc.measures). Rows only ever grow by additive upserts;
-- KPIs are ratios of sums of these rows. On TimescaleDB a companion migration will make it a
-- hypertable with compression, retention and continuous aggregates under the same names.
CREATE TABLE window_metrics (
    window_start  timestamptz      NOT NULL,
    metric        text             NOT NULL,
    area          text             NOT NULL,
    count         bigint           NOT NULL CHECK (count >= 0),
    sum           double precision NOT NULL,
    min           double precision,
    max           double precision,
    updated_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (window_start, metric, area)
);
CREATE INDEX window_metrics_metric_time ON window_metrics (metric, window_start DESC);

-- The Kafka position each consumer group has written up to, committed in the same transaction
-- as the window rows: after a crash, a worker resumes exactly after what the database holds.
-- watermark: the newest event time read from the partition before next_offset (its event-time
-- clock, which decides lateness), so a restarted worker judges lateness as the old one did.
CREATE TABLE stream_offsets (
    consumer_group  text        NOT NULL,
    topic           text        NOT NULL,
    partition       integer     NOT NULL CHECK (partition >= 0),
    next_offset     bigint      NOT NULL CHECK (next_offset >= 0),
    watermark       timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Event ids already counted, so an event delivered twice (a connector retry, a spool replay)
-- counts once. A repeat always lands on the same partition as the first copy (same key), or
-- on the late topic; ids are pruned per partition once their window is more than the dedupe
-- horizon behind that partition's watermark.
CREATE TABLE counted_events (
    event_id      uuid        PRIMARY KEY,
    window_start  timestamptz NOT NULL,
    topic         text        NOT NULL,
    partition     integer     NOT NULL
);
CREATE INDEX counted_events_prune ON counted_events (topic, partition, window_start);

-- Roll-ups by the hour and by the local day (Asia/Ho_Chi_Minh has no daylight saving, so an
-- origin at local midnight bins every day correctly).
CREATE VIEW window_metrics_1h AS
SELECT date_bin('1 hour', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+07') AS bucket,
       metric, area,
       sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
FROM window_metrics
GROUP BY 1, 2, 3;

CREATE VIEW window_metrics_1d AS
SELECT date_bin('1 day', window_start, TIMESTAMPTZ '2000-01-01 00:00:00+07') AS bucket,
       metric, area,
       sum(count)::bigint AS count, sum(sum) AS sum, min(min) AS min, max(max) AS max
FROM window_metrics
GROUP BY 1, 2, 3;
