"""Alerts: rules evaluated on KPI values, one lifecycle per (rule, area), notifications.

`model` holds the shapes shared by the evaluator and the notifier (and the `TransitionSink`
seam between them); `rules` the rule file; `judge` the pure judging of values and streaks;
`store` the SQL of states, alerts and history; `engine` the evaluation pass and lifecycle;
`silences` the one owner of silences; `cli` the `ioc alerts` commands. The wiring of the
evaluator with the outbox is `ioc.services`; the delivery is `ioc.notify`.
"""
