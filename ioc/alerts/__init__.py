"""Alerts: rules evaluated on KPI values, one lifecycle per (rule, area), notifications.

`model` holds the shapes shared by the evaluator and the notifier; `rules` the rule file,
`engine` the evaluation and lifecycle, and `ioc.notify` the delivery.
"""
