-- Issue 21: a no-data rule knows when its feed is expected to be quiet (office hours and
-- public holidays, ioc/data/feed_calendar.yaml) and says so instead of firing.
--
-- quiet_since: the (no-data rule, area) has been "yên lặng như dự kiến" / "quiet as expected"
-- since then (silent while the calendar expects its feed to be); NULL otherwise.
-- quiet_reason: why, in Vietnamese (a holiday's name, or "ngoài giờ làm việc").
ALTER TABLE alert_rule_state
    ADD COLUMN quiet_since  timestamptz,
    ADD COLUMN quiet_reason text;
