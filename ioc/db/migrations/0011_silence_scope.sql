-- Who may hold an escalation back (issue 17): the scope of the key that set a silence.
--
-- A silence set with a key limited to an area (a commune's leader) holds that area's own
-- notifications, never an escalation above it: an escalated alert (level >= 1) goes to the
-- leaders of an ancestor area, and a silence holds it only when that ancestor lies within the
-- silence's scope (ioc.alerts.silences.holds). NULL: a province-wide key or the CLI, which
-- may hold everything.
ALTER TABLE silences ADD COLUMN scope text;
