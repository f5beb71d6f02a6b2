"""``/metrics``: the pipeline's own health in the Prometheus text format (prometheus-client).

Gathered at scrape time from what each part already reports: the stream workers' and
connectors' telemetry files (lag, rates, counts per feed), the database (alerts by state and
severity, the notification outbox), the dead-letter index, and this process's request latency.
Telemetry files are per machine: in Kubernetes, scrape each worker pod's API or add a sidecar.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ioc.api.context import ApiContext
from ioc.api.queries.alerts import counts_by_state
from ioc.notify.outbox import outbox_depth
from ioc.telemetry import (
    notifier_problems,
    read_connector_metrics,
    read_notifier_metrics,
    read_stream_metrics,
)

__all__ = ["REQUEST_SECONDS", "observe_request", "render"]

_OWN = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram(
    "ioc_api_request_seconds",
    "API request latency by route and status",
    ["route", "method", "status"],
    registry=_OWN,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
# Every label comes from a fixed set, never from the request as sent: a client inventing
# methods or paths would otherwise add one label set (about 3 KB) per request, without a key.
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """Record one request's latency.

    Args:
        route: the matched route's template (``/api/v1/alerts/{alert_id}``), None: no route.
        method: the HTTP method as sent; anything but the usual ones is counted as ``other``.
        status: the status answered; one outside 100–599 is counted as ``other``.
        seconds: how long it took.
    """
    REQUEST_SECONDS.labels(
        route or "unmatched",
        method if method in _METHODS else "other",
        str(status) if 100 <= status <= 599 else "other",
    ).observe(seconds)


class _Snapshot(Collector):
    """Families built from one scrape's readings."""

    def __init__(self, families: list[GaugeMetricFamily | CounterMetricFamily]) -> None:
        self.families = families

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self.families


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


async def render(ctx: ApiContext) -> bytes:
    """The metrics text of one scrape."""
    state_dir = ctx.settings.state_dir
    now = datetime.now(UTC)
    lag = _gauge("ioc_stream_lag_records", "records behind the end of the topics", ["feed"])
    rate = _gauge("ioc_stream_rate_per_second", "records read per second", ["feed"])
    counted = CounterMetricFamily("ioc_stream_counted", "events counted once", labels=["feed"])
    dup = CounterMetricFamily("ioc_stream_duplicates", "repeated event ids", labels=["feed"])
    dlq = CounterMetricFamily(
        "ioc_stream_dead_lettered", "records sent to the DLQ by workers", labels=["feed"]
    )
    late = CounterMetricFamily(
        "ioc_stream_late", "events past the allowed lateness", labels=["feed"]
    )
    worker_up = _gauge("ioc_stream_worker_up", "1 while a worker reports", ["worker", "state"])
    flush_errors = CounterMetricFamily(
        "ioc_stream_flush_errors", "failed flushes (recovered)", labels=["worker"]
    )
    reported = read_stream_metrics(state_dir)
    for worker in reported:
        worker_up.add_metric([worker.name, worker.state], 1.0 if worker.live else 0.0)
        flush_errors.add_metric([worker.name], worker.flush_errors)
    workers = [w for w in reported if w.live]
    for feed in sorted({f for w in workers for f in w.agents}):
        agents = [w.agents[feed] for w in workers if feed in w.agents]
        lag.add_metric([feed], sum(a.lag for a in agents))
        rate.add_metric([feed], sum(a.rate for a in agents))
        counted.add_metric([feed], sum(a.counted for a in agents))
        dup.add_metric([feed], sum(a.duplicates for a in agents))
        dlq.add_metric([feed], sum(a.dead_lettered for a in agents))
        late.add_metric([feed], sum(a.late for a in agents))
    sent = CounterMetricFamily("ioc_connector_sent", "events delivered", labels=["connector"])
    c_rate = _gauge("ioc_connector_rate_per_second", "events per second", ["connector"])
    c_failed = CounterMetricFamily(
        "ioc_connector_failed", "events not delivered", labels=["connector"]
    )
    c_dlq = CounterMetricFamily(
        "ioc_connector_dead_lettered", "inputs rejected", labels=["connector"]
    )
    spooled = _gauge("ioc_connector_spool_records", "records waiting in the spool", ["connector"])
    c_up = _gauge("ioc_connector_up", "1 while a connector reports", ["connector", "state"])
    for c in read_connector_metrics(state_dir):
        c_up.add_metric([c.name, c.state], 1.0 if c.live else 0.0)
        sent.add_metric([c.name], c.sent)
        c_rate.add_metric([c.name], c.rate)
        c_failed.add_metric([c.name], c.failed)
        c_dlq.add_metric([c.name], c.dead_lettered)
        spooled.add_metric([c.name], c.spool_records)
    n_up = _gauge("ioc_notifier_up", "1 while a notifier reports", ["notifier", "state"])
    n_ok = _gauge(
        "ioc_notifier_delivering", "1 while a notifier reaches the outbox, 0 failing", ["notifier"]
    )
    problems = notifier_problems(state_dir)
    for notifier in read_notifier_metrics(state_dir):
        n_up.add_metric([notifier.name, notifier.state], 1.0 if notifier.live else 0.0)
        if notifier.live:
            n_ok.add_metric([notifier.name], 0.0 if notifier.name in problems else 1.0)
    alerts = _gauge("ioc_alerts", "alerts by state and severity", ["state", "severity"])
    outbox = _gauge("ioc_notify_outbox_pending", "notifications not delivered yet", ["channel"])
    retrying = _gauge("ioc_notify_outbox_retrying", "pending notifications that failed once", [])
    oldest = _gauge("ioc_notify_outbox_oldest_seconds", "age of the oldest pending one", [])
    async with ctx.pool.acquire() as conn:
        counts = await counts_by_state(conn)
        depth = await outbox_depth(conn)
    for state, severity, n in counts:
        alerts.add_metric([state, severity], n)
    for channel, pending in depth.by_channel.items():
        outbox.add_metric([channel], pending)
    retrying.add_metric([], depth.retrying)
    oldest.add_metric(
        [],
        (now - depth.oldest_pending_at).total_seconds() if depth.oldest_pending_at else 0.0,
    )
    families: list[GaugeMetricFamily | CounterMetricFamily] = [
        lag, rate, counted, dup, dlq, late, worker_up, flush_errors,
        sent, c_rate, c_failed, c_dlq, spooled, c_up, n_up, n_ok, alerts, outbox, retrying,
        oldest,
    ]  # fmt: skip
    index = ctx.dead_letters
    if index is not None:
        letters = _gauge("ioc_dlq_letters", "dead letters on ioc.dlq", ["source", "reason"])
        for item in index.page(None, None, 0, 0)[2]:
            letters.add_metric([item["source"], item["reason"]], item["count"])
        families.append(letters)
    scrape = CollectorRegistry()
    scrape.register(_Snapshot(families))
    return generate_latest(scrape) + generate_latest(_OWN)
