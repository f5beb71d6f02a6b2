-- Notifications waiting to be sent, and a record of those sent (ioc.notify.outbox).
-- A row is written in the same transaction that records the alert transition, then sent by
-- the notifier until the channel accepts it; the unique key makes a second enqueue of the
-- same transition a no-op, so each recipient gets exactly one row per transition and channel.
-- No foreign key to alerts: the outbox must not depend on the alerts migration, and its
-- rows outlive alerts that are pruned. alert_id 0 marks a daily digest (transition
-- 'digest:YYYY-MM-DD').
CREATE TABLE notification_outbox (
    id              bigserial   PRIMARY KEY,
    alert_id        bigint      NOT NULL,
    transition      text        NOT NULL,
    level           integer     NOT NULL DEFAULT 0 CHECK (level >= 0),
    recipient       text        NOT NULL,
    channel         text        NOT NULL,
    address         text        NOT NULL,
    language        text        NOT NULL CHECK (language IN ('vi', 'en')),
    subject         text        NOT NULL,
    body            text        NOT NULL,
    payload         jsonb       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    last_error      text,
    UNIQUE (alert_id, transition, level, recipient, channel)
);
-- What the notifier polls every second: undelivered rows that are due.
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at)
    WHERE delivered_at IS NULL;
