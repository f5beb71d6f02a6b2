"""A small HTTP port in each long-running process: `/healthz`, `/readyz` and `/metrics`.

On a cluster every process runs in its own pod (or container), so a probe or a Prometheus
scrape must reach the process itself: the telemetry files under `IOC_STATE_DIR` are per pod,
and an exec probe starts a whole Python process every few seconds. With `IOC_HEALTH_PORT` set,
the stream worker, each connector and the alert evaluator serve, from their own event loop:

- `GET /healthz`: 200 while the process is alive and making progress (liveness), else 503;
- `GET /readyz`: 200 while it does its work (readiness), else 503 with the reason;
- `GET /metrics`: its own counters in the Prometheus text format, for a PodMonitor.

The answers are computed from what the process holds in memory, so a probe costs a few
microseconds. Unset (the default, and `ioc up`, whose processes share one machine), nothing
listens. The port is unauthenticated and says nothing secret; keep it inside the cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ioc.telemetry import ConnectorMetrics, StreamMetrics, health_problem

__all__ = [
    "AlertPasses",
    "Probes",
    "alert_probes",
    "connector_probes",
    "serve_health",
    "stream_probes",
]

log = logging.getLogger(__name__)

Check = Callable[[], str | None]
"""Why the process is not healthy (or ready), or None when it is."""

HEADER_TIMEOUT_SECONDS = 5.0
MAX_REQUEST_BYTES = 8192
# A stalled process stops rewriting its metrics: this long without an update fails liveness.
STALE_AFTER_SECONDS = 30.0


@dataclass(frozen=True)
class Probes:
    """What one process answers on its health port."""

    live: Check
    ready: Check
    metrics: Callable[[], Iterable[Metric]]


class _Families(Collector):
    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families()


def _response(status: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n"
        "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n"
    )
    return head.encode("ascii") + body


def _answer(probes: Probes, registry: CollectorRegistry, method: str, path: str) -> bytes:
    text = "text/plain; charset=utf-8"
    if method not in ("GET", "HEAD"):
        return _response("405 Method Not Allowed", b"GET only\n", text)
    path = path.split("?", 1)[0]
    if path == "/metrics":
        body = generate_latest(registry)
        return _response("200 OK", body, "text/plain; version=0.0.4; charset=utf-8")
    checks = {"/healthz": probes.live, "/readyz": probes.ready}
    if path not in checks:
        return _response("404 Not Found", b"/healthz, /readyz or /metrics\n", text)
    problem = checks[path]()
    if problem is None:
        return _response("200 OK", b"ok\n", text)
    return _response("503 Service Unavailable", f"{problem}\n".encode(), text)


async def _handle(
    probes: Probes,
    registry: CollectorRegistry,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    try:
        async with asyncio.timeout(HEADER_TIMEOUT_SECONDS):
            head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_REQUEST_BYTES:
            return
        method, path, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
        answer = _answer(probes, registry, method, path)
        if method == "HEAD":
            answer = answer.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        writer.write(answer)
        await writer.drain()
    except (TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass  # a client that sends nothing useful gets nothing
    except ConnectionError:
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@contextlib.asynccontextmanager
async def serve_health(
    port: int | None,
    probes: Probes,
    host: str = "0.0.0.0",  # noqa: S104 - kubelet and Prometheus reach the pod's IP
) -> AsyncIterator[int | None]:
    """Serve `probes` on `host:port` while the block runs; yields the bound port.

    `port` None serves nothing (yields None); 0 takes a free port (tests). A port that cannot
    be bound (in use) is logged and yields None: the process runs on without it.
    """
    if port is None:
        yield None
        return
    registry = CollectorRegistry()
    registry.register(_Families(probes.metrics))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _handle(probes, registry, reader, writer)

    try:
        server = await asyncio.start_server(handle, host, port, limit=MAX_REQUEST_BYTES)
    except OSError as err:
        # The work matters more than its probes: e.g. `ioc up` with IOC_HEALTH_PORT in .env
        # starts several processes on one machine, and only the first gets the port.
        log.warning("health port %s:%d not served: %s", host, port, err)
        yield None
        return
    bound = int(server.sockets[0].getsockname()[1])
    log.info("health and metrics on http://%s:%d/ (/healthz /readyz /metrics)", host, bound)
    try:
        yield bound
    finally:
        server.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), 2)


# --- the processes' probes ----------------------------------------------------------------


def connector_probes(metrics: ConnectorMetrics, within: float = STALE_AFTER_SECONDS) -> Probes:
    """Probes of a connector: alive while it reports, ready while it delivers or spools.

    Back-pressure (the broker is away and the spool full) counts as alive: a restart would not
    help.
    """
    alive = ("starting", "running", "spooling", "back-pressure")

    def families() -> Iterator[Metric]:
        labels = [metrics.name, metrics.feed]
        up = GaugeMetricFamily(
            "ioc_connector_up", "1 while a connector reports", labels=["connector", "state"]
        )
        up.add_metric([metrics.name, metrics.state], 1.0 if metrics.live else 0.0)
        yield up
        for name, doc, value in (
            ("ioc_connector_yielded", "items read from the source", metrics.yielded),
            ("ioc_connector_sent", "events delivered (broker-acknowledged)", metrics.sent),
            ("ioc_connector_spooled", "events written to the disk spool", metrics.spooled),
            ("ioc_connector_failed", "delivery attempts that failed", metrics.failed),
            ("ioc_connector_dead_lettered", "inputs rejected", metrics.dead_lettered),
        ):
            counter = CounterMetricFamily(name, doc, labels=["connector", "feed"])
            counter.add_metric(labels, value)
            yield counter
        for name, doc, gauge_value in (
            ("ioc_connector_rate_per_second", "events per second", metrics.rate),
            ("ioc_connector_spool_records", "records waiting in the spool", metrics.spool_records),
            ("ioc_connector_spool_bytes", "bytes waiting in the spool", metrics.spool_bytes),
        ):
            gauge = GaugeMetricFamily(name, doc, labels=["connector", "feed"])
            gauge.add_metric(labels, gauge_value)
            yield gauge

    return Probes(
        live=lambda: health_problem(metrics, within, alive),
        ready=lambda: health_problem(metrics, within, ("running", "spooling")),
        metrics=families,
    )


def stream_probes(metrics: StreamMetrics, within: float = STALE_AFTER_SECONDS) -> Probes:
    """Probes of a stream worker: alive while it reports, ready while it reads every partition.

    A partition left for an operator (`ioc streams positions`) keeps it alive but not ready: a
    restart would not fix it.
    """

    def ready() -> str | None:
        problem = health_problem(metrics, within, ("running", "starting"))
        if problem is not None and metrics.position_errors:
            problem += "; " + "; ".join(f"{k}: {v}" for k, v in metrics.position_errors.items())
        return problem

    def families() -> Iterator[Metric]:
        worker = metrics.name
        up = GaugeMetricFamily(
            "ioc_stream_worker_up", "1 while a worker reports", labels=["worker", "state"]
        )
        up.add_metric([worker, metrics.state], 1.0 if metrics.live else 0.0)
        yield up
        owned = GaugeMetricFamily(
            "ioc_stream_partitions", "partitions this worker owns", labels=["worker"]
        )
        owned.add_metric([worker], len(metrics.partitions))
        yield owned
        for name, doc, value in (
            ("ioc_stream_flushes", "transactions committed", metrics.flushes),
            ("ioc_stream_flush_errors", "failed flushes (recovered)", metrics.flush_errors),
            (
                "ioc_stream_lost_to_retention",
                "records deleted before read",
                metrics.lost_to_retention,
            ),
        ):
            total = CounterMetricFamily(name, doc, labels=["worker"])
            total.add_metric([worker], value)
            yield total
        counter, gauge = True, False
        per_feed = {
            "ioc_stream_read": ("records read", "read", counter),
            "ioc_stream_counted": ("events counted once", "counted", counter),
            "ioc_stream_duplicates": ("repeated event ids", "duplicates", counter),
            "ioc_stream_dead_lettered": ("records sent to the DLQ", "dead_lettered", counter),
            "ioc_stream_late": ("events past the allowed lateness", "late", counter),
            "ioc_stream_lag_records": ("records behind the end of the topics", "lag", gauge),
            "ioc_stream_rate_per_second": ("records read per second", "rate", gauge),
        }
        for name, (doc, attribute, is_counter) in per_feed.items():
            family: CounterMetricFamily | GaugeMetricFamily = (
                CounterMetricFamily(name, doc, labels=["worker", "feed"])
                if is_counter
                else GaugeMetricFamily(name, doc, labels=["worker", "feed"])
            )
            for feed, agent in sorted(metrics.agents.items()):
                family.add_metric([worker, feed], getattr(agent, attribute))
            yield family

    return Probes(
        live=lambda: health_problem(metrics, within, ("running", "starting", "blocked")),
        ready=ready,
        metrics=families,
    )


@dataclass
class AlertPasses:
    """What `ioc alerts run` reports about its passes (filled in by `ioc.services.run_alerts`)."""

    started: float = field(default_factory=time.monotonic)
    passes: int = 0
    failures: int = 0
    last_ok: float | None = None
    last_error: str | None = None

    def ok(self) -> None:
        """A pass evaluated the rules and refreshed the KPI values."""
        self.passes += 1
        self.last_ok = time.monotonic()
        self.last_error = None

    def failed(self, err: BaseException) -> None:
        """A pass failed (the database was away); the next one retries."""
        self.failures += 1
        self.last_error = f"{type(err).__name__}: {err}"


def alert_probes(passes: AlertPasses, every_seconds: float) -> Probes:
    """Probes of `ioc alerts run`: alive while its loop turns, ready after recent good passes.

    This port answers from the evaluator's own event loop, so an answer is liveness; readiness
    wants a successful pass within three intervals (plus a minute for the first one).
    """
    allowed = 3 * every_seconds + 60

    def ready() -> str | None:
        since = passes.last_ok if passes.last_ok is not None else passes.started
        age = time.monotonic() - since
        if age <= allowed:
            return None
        why = f"; last error {passes.last_error}" if passes.last_error else ""
        return f"no successful pass for {age:.0f} s (limit {allowed:.0f} s){why}"

    def families() -> Iterator[Metric]:
        done = CounterMetricFamily("ioc_alerts_passes", "evaluation passes completed", labels=[])
        done.add_metric([], passes.passes)
        failed = CounterMetricFamily("ioc_alerts_pass_failures", "passes that failed", labels=[])
        failed.add_metric([], passes.failures)
        age = GaugeMetricFamily(
            "ioc_alerts_last_pass_age_seconds", "seconds since the last successful pass", labels=[]
        )
        since = passes.last_ok if passes.last_ok is not None else passes.started
        age.add_metric([], time.monotonic() - since)
        yield from (done, failed, age)

    return Probes(live=lambda: None, ready=ready, metrics=families)
