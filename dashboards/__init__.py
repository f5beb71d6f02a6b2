"""Grafana boards as code (imported as `ioc.dashboards`)."""
