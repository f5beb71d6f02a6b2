"""The SQL layer of the API: one module per resource; routers and the live hub call these.

Each function takes a connection (or the context and a connection) and returns JSON-ready
values shaped as the API answers them, so a response model can describe each one. Everything
comes from the tables the Grafana boards read too: ``kpi_values`` (kept current at 1m, 1h and
1d by ``ioc alerts run``), ``window_metrics`` and its roll-ups, ``alerts``, ``alert_history``,
``silences``, ``audit_log``; plus the workers' and connectors' telemetry files.
"""
