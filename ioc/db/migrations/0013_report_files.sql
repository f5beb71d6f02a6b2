-- Period reports made for the monthly email (ioc.notify.reports), stored once per area, period
-- and format. Outbox rows name their attachments in `payload->'attachments'` (area, period,
-- format) instead of carrying the bytes: one report goes to every recipient of its area, and a
-- retried or re-claimed row sends the very bytes first made, not a report rebuilt later.
CREATE TABLE report_files (
    area       text        NOT NULL,
    period     text        NOT NULL,
    format     text        NOT NULL CHECK (format IN ('xlsx', 'pdf')),
    filename   text        NOT NULL,
    media_type text        NOT NULL,
    content    bytea       NOT NULL,
    made_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (area, period, format)
);
