-- KPI values, persisted per KPI, resolution, area and bucket (ioc.kpi_values.compute).
--
-- A row keeps the two sums, never the ratio: the value is numerator / denominator, and any
-- coarser figure (a week, a district) is again a ratio of sums of these columns.
-- resolution: '1m' = the stream windows themselves (window_metrics, one minute by default),
-- '1h' and '1d' = the window_metrics_1h / window_metrics_1d roll-ups (days start at local
-- midnight, +07). Recomputing a bucket replaces its row.
CREATE TABLE kpi_values (
    kpi          text             NOT NULL,
    resolution   text             NOT NULL CHECK (resolution IN ('1m', '1h', '1d')),
    area         text             NOT NULL,
    bucket       timestamptz      NOT NULL,
    numerator    double precision NOT NULL,
    denominator  double precision NOT NULL,
    computed_at  timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (kpi, resolution, area, bucket)
);
-- Boards and the province summary read every area of one KPI over a range.
CREATE INDEX kpi_values_kpi_bucket ON kpi_values (kpi, resolution, bucket);

-- Every area with each area above it, following areas.parent: (area, ancestor) pairs, the
-- area itself included at depth 0; ancestor_parent is the ancestor's own parent, so the pairs
-- with ancestor_parent = X name, for every area, the direct child of X it lies in. Validity IS respected: a pair holds only on the days both
-- the area and every link up to the ancestor exist ([valid_from, valid_to), open bounds as
-- -infinity / infinity). So a commune code reused after the 1/7/2025 reform rolls up to its
-- old district before that day and straight to the province after it, and an abolished
-- district receives nothing after it was abolished. Callers match the day of the data
-- against valid_from / valid_to.
CREATE VIEW area_ancestors AS
WITH RECURSIVE chain (area, ancestor, ancestor_level, next_parent, depth, valid_from, valid_to) AS (
    SELECT code, code, level, parent, 0,
           coalesce(valid_from, '-infinity'::date), coalesce(valid_to, 'infinity'::date)
    FROM areas
    UNION ALL
    SELECT c.area, p.code, p.level, p.parent, c.depth + 1,
           greatest(c.valid_from, coalesce(p.valid_from, '-infinity'::date)),
           least(c.valid_to, coalesce(p.valid_to, 'infinity'::date))
    FROM chain c
    JOIN areas p
      ON p.code = c.next_parent
     AND coalesce(p.valid_from, '-infinity'::date) < c.valid_to
     AND c.valid_from < coalesce(p.valid_to, 'infinity'::date)
    -- The areas file is checked for cycles; this bound only protects hand-edited tables.
    WHERE c.depth < 8
)
SELECT area, ancestor, ancestor_level, next_parent AS ancestor_parent, depth, valid_from, valid_to
FROM chain;
