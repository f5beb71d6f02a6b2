-- The event store: every valid event, kept by its id, so that every figure stays exact for as
-- long as it is kept and can be traced to the events behind it (issue 15).
--
-- A stream worker stores each event here in the same transaction that adds it to its windows
-- and moves its partition's position. An event is counted exactly when it is first stored: a
-- repeat (a re-import, a replayed dead letter, an overlapping backfill, a new consumer group, a
-- spool re-sent after an outage) finds its row and changes nothing, at any age up to the
-- store's retention (IOC_STREAMS__EVENT_RETENTION_DAYS). An event older than that is refused
-- as a dead letter (reason `expired`), so nothing is counted that the store cannot recognise.
--
-- The key is (event_id, occurred_at): both TimescaleDB and PostgreSQL partitioning need the
-- time column in every unique index. A repeat carries the same event time, so the pair is
-- the event's identity; an id reused with another time is a different event.
--
-- Typed columns for what queries need, generic over feeds (a new kind of feed needs no table):
--   feed, kind    `dvc`, `dvc.dossier`;
--   area          the area code the event belongs to (a leaf of the areas file);
--   entity        what the event is about: a camera, a network point, a dossier, a procedure,
--                 a transaction (ioc.store.entity_of);
--   metrics       the window metrics it added (ioc.measures): drill-through finds the events
--                 behind a KPI's numerator or denominator with `metrics @> ARRAY[...]`;
--   payload       its payload's fields, shown in drill-through lists and read by distinct
--                 counts (e.g. payload->>'procedure_code').
-- Plain PostgreSQL: daily partitions (UTC days), created by the worker before it writes a day
-- (ioc_event_days) and dropped whole when the day is beyond retention. TimescaleDB: the
-- companion file makes it a hypertable of daily chunks with compression.
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
) PARTITION BY RANGE (occurred_at);
-- Drill-through and distinct counts read one area (or the leaves under it) over a period.
CREATE INDEX events_area_time ON events (area, occurred_at);

-- Make sure the daily partitions holding `days` exist. Several workers may ask at once: the
-- advisory lock makes the check-then-create atomic. On TimescaleDB this is a no-op (chunks).
CREATE FUNCTION ioc_event_days(days date[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    day date;
    name text;
BEGIN
    PERFORM pg_advisory_xact_lock(x'10C0E5'::integer);
    FOREACH day IN ARRAY days LOOP
        name := 'events_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                name, (day::timestamp AT TIME ZONE 'UTC'), ((day + 1)::timestamp AT TIME ZONE 'UTC'));
        END IF;
    END LOOP;
END $$;

-- Drop the days wholly before `cutoff` (retention). Returns how many partitions went.
CREATE FUNCTION ioc_expire_events(cutoff timestamptz) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    part record;
    dropped integer := 0;
BEGIN
    PERFORM pg_advisory_xact_lock(x'10C0E5'::integer);
    FOR part IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'events'::regclass AND c.relname ~ '^events_[0-9]{8}$'
          AND (to_date(substr(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff
    LOOP
        EXECUTE format('DROP TABLE %I', part.relname);
        dropped := dropped + 1;
    END LOOP;
    RETURN dropped;
END $$;

-- The latest known state of every entity that reports one (a camera online or not, a network
-- point up or down, a procedure offered online or not), kept current by the stream workers in
-- the same transaction as the events: since = the event time its current state began, as far
-- as the stored events show; last_seen = the event time of its newest report. Events older than
-- last_seen (history imported after live data) do not move it.
CREATE TABLE entity_status (
    feed        text        NOT NULL,
    entity      text        NOT NULL,
    kind        text        NOT NULL,
    area        text        NOT NULL,
    up          boolean     NOT NULL,
    since       timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (feed, entity)
);
CREATE INDEX entity_status_area ON entity_status (area, feed, up);

-- Replaced by the store: ids were only remembered for an hour of event time behind each
-- partition's watermark, while the window rows they changed are kept 400 days.
DROP TABLE counted_events;
