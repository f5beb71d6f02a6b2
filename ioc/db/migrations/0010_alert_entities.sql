-- The points at fault of an availability alert (issue 15, item 5).
--
-- When a rule on a KPI whose feed reports entity states fires (network_special_availability:
-- special-network points; camera_online_rate: cameras), the evaluator names the entities of
-- that kind that were down in the alert's area (or under it) when it fired, read from the
-- event store as they stood then (ioc.entities.down_at: right even when the windows are
-- evaluated late), and keeps them with the alert beside its ranked contributing areas
-- (`contributors`): the messages, `GET /api/v1/alerts/{id}` and the board's alert card show
-- the same list, even after the points recover.
--   entities       [{feed, entity, kind, area, area_name_vi, since, last_seen}], longest down
--                  first, at most 20;
--   entities_down  how many were down in all (the list may be cut short).
ALTER TABLE alerts
    ADD COLUMN entities      jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN entities_down integer NOT NULL DEFAULT 0;
