"""The API's endpoints, one router per resource; every one needs a key (see ioc.api.security).

Routers check the request (scope, parameters), call :mod:`ioc.api.queries` for what is
stored, audit changes, and return what a response model would describe; none writes SQL.

- ``me``: the calling key; ``areas``: areas and the map of an area's children;
- ``kpis``: the catalogue, current values, series; ``drill``: the events behind a value;
- ``reports``: every KPI over a period (``/kpis/periods``), the report as XLSX or PDF;
- ``scorecard``: the QĐ 766 scorecard by agency or commune;
- ``feeds``: feed health; ``windows``: window rows; ``entities``: what is down now;
- ``alerts``: lists, one alert, history, acknowledgement; ``silences``;
- ``indicators``: periodic indicators a department enters (values, upload, template, state);
- ``dead_letters``: ``/dlq`` and replay; ``audit``: the audit log;
- ``stream``: the live board's server-sent events; ``metrics``: ``/metrics`` for Prometheus.
"""

from __future__ import annotations

from fastapi import APIRouter

from ioc.api.routers import (
    alerts,
    areas,
    audit,
    dead_letters,
    drill,
    entities,
    feeds,
    indicators,
    kpis,
    me,
    metrics,
    reports,
    scorecard,
    silences,
    stream,
    windows,
)

__all__ = ["api_router", "metrics_router"]

api_router = APIRouter(prefix="/api/v1")
for _resource in (
    me, areas, reports, scorecard, kpis, indicators, drill, feeds, windows, entities, alerts,
    silences, dead_letters, audit, stream,
):  # fmt: skip
    api_router.include_router(_resource.router)
metrics_router = metrics.router
