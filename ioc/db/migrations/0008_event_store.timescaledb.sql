-- With TimescaleDB: the store is a hypertable of daily chunks instead of native partitions.
-- A partitioned table cannot become a hypertable, so it is made again under the same name.
DROP TABLE events;
CREATE TABLE events (
    event_id     uuid        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    feed         text        NOT NULL,
    kind         text        NOT NULL,
    area         text        NOT NULL,
    entity       text        NOT NULL,
    metrics      text[]      NOT NULL,
    payload      jsonb       NOT NULL,
    source       text        NOT NULL,
    stored_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, occurred_at)
);
CREATE INDEX events_area_time ON events (area, occurred_at);
SELECT create_hypertable('events', 'occurred_at', chunk_time_interval => INTERVAL '1 day');
-- Compressed after a week, segmented by area (drill-through reads one area at a time). A
-- repeat of a compressed event is still refused: TimescaleDB checks unique keys there too.
ALTER TABLE events SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'area',
    timescaledb.compress_orderby = 'occurred_at, event_id'
);
SELECT add_compression_policy('events', INTERVAL '7 days');

-- Chunks are made by TimescaleDB: nothing to prepare.
CREATE OR REPLACE FUNCTION ioc_event_days(days date[]) RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;

-- Retention is the worker's setting (IOC_STREAMS__EVENT_RETENTION_DAYS), applied the same way
-- on both tiers: whole chunks before the cutoff are dropped.
CREATE OR REPLACE FUNCTION ioc_expire_events(cutoff timestamptz) RETURNS integer LANGUAGE sql AS $$
    SELECT count(*)::integer FROM drop_chunks('events', older_than => cutoff)
$$;
