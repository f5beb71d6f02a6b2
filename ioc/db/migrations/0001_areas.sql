-- The administrative areas, copied from the areas data file by `ioc db migrate` so that
-- window rows, KPI queries and Grafana variables can join on them. The file stays the source.
CREATE TABLE areas (
    code        text        NOT NULL,
    name_vi     text        NOT NULL,
    name_en     text,
    level       text        NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    parent      text,
    population  bigint      CHECK (population >= 0),
    households  bigint      CHECK (households >= 0),
    valid_from  date,
    valid_to    date,
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from)
);
CREATE UNIQUE INDEX areas_code_valid_from ON areas (code, coalesce(valid_from, '-infinity'::date));
CREATE INDEX areas_parent ON areas (parent);
