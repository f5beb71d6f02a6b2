"""`ioc.health_server`: the per-process /healthz, /readyz and /metrics port, over real sockets."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ioc.events import utc_now
from ioc.health_server import (
    AlertPasses,
    alert_probes,
    connector_probes,
    serve_health,
    stream_probes,
)
from ioc.telemetry import AgentMetrics, ConnectorMetrics, StreamMetrics


async def _get(port: int, path: str, method: str = "GET") -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.decode().partition("\r\n\r\n")
    return int(head.split(" ")[1]), body


def _fresh() -> str:
    return utc_now().isoformat()


async def test_connector_port_answers_probes_and_metrics() -> None:
    metrics = ConnectorMetrics(name="hospital-payments", feed="payment", state="running")
    metrics.updated_at = _fresh()
    metrics.sent, metrics.spool_records = 1234, 7
    async with serve_health(0, connector_probes(metrics), host="127.0.0.1") as port:
        assert port
        assert await _get(port, "/healthz") == (200, "ok\n")
        assert (await _get(port, "/readyz"))[0] == 200
        status, text = await _get(port, "/metrics")
        assert status == 200
        assert (
            'ioc_connector_sent_total{connector="hospital-payments",feed="payment"} 1234.0' in text
        )
        assert (
            'ioc_connector_spool_records{connector="hospital-payments",feed="payment"} 7.0' in text
        )
        assert 'ioc_connector_up{connector="hospital-payments",state="running"} 1.0' in text

        # The broker is away and the spool is full: alive (a restart would not help), not ready.
        metrics.state = "back-pressure"
        assert (await _get(port, "/healthz"))[0] == 200
        status, why = await _get(port, "/readyz")
        assert (status, why) == (503, "state back-pressure\n")

        # A process that stopped reporting is stuck: liveness fails, with the reason.
        metrics.state = "running"
        metrics.updated_at = (utc_now() - timedelta(minutes=5)).isoformat()
        status, why = await _get(port, "/healthz")
        assert status == 503 and "the process is stuck" in why

        assert (await _get(port, "/nope"))[0] == 404
        assert (await _get(port, "/healthz", method="POST"))[0] == 405
        head_status, head_body = await _get(port, "/metrics", method="HEAD")
        assert (head_status, head_body) == (200, "")


async def test_stream_worker_blocked_stays_alive_but_not_ready() -> None:
    metrics = StreamMetrics(name="worker-1", group="ioc-streams", state="running")
    metrics.updated_at = _fresh()
    metrics.agents["dvc"] = AgentMetrics(read=10, counted=9, duplicates=1, lag=42)
    async with serve_health(0, stream_probes(metrics), host="127.0.0.1") as port:
        assert port
        assert (await _get(port, "/readyz"))[0] == 200
        _, text = await _get(port, "/metrics")
        assert 'ioc_stream_lag_records{feed="dvc",worker="worker-1"} 42.0' in text
        assert 'ioc_stream_counted_total{feed="dvc",worker="worker-1"} 9.0' in text

        metrics.state = "blocked"
        metrics.position_errors = {"ioc.events.dvc[3]": "stored position past the end"}
        assert (await _get(port, "/healthz"))[0] == 200
        status, why = await _get(port, "/readyz")
        assert status == 503 and "ioc.events.dvc[3]: stored position past the end" in why


async def test_alert_evaluator_is_ready_only_after_recent_passes() -> None:
    passes = AlertPasses()
    probes = alert_probes(passes, every_seconds=0.0)  # allowed: 60 s
    async with serve_health(0, probes, host="127.0.0.1") as port:
        assert port
        assert (await _get(port, "/readyz"))[0] == 200
        passes.started -= 120  # two minutes without a successful pass
        passes.failed(OSError("connection refused"))
        status, why = await _get(port, "/readyz")
        assert status == 503 and "last error OSError: connection refused" in why
        assert (await _get(port, "/healthz"))[0] == 200
        passes.ok()
        assert (await _get(port, "/readyz"))[0] == 200
        _, text = await _get(port, "/metrics")
        assert "ioc_alerts_passes_total 1.0" in text
        assert "ioc_alerts_pass_failures_total 1.0" in text


async def test_no_port_serves_nothing() -> None:
    metrics = ConnectorMetrics(name="x", feed="dvc")
    async with serve_health(None, connector_probes(metrics)) as port:
        assert port is None


async def test_a_port_in_use_is_skipped_not_fatal() -> None:
    metrics = ConnectorMetrics(name="x", feed="dvc")
    probes = connector_probes(metrics)
    async with serve_health(0, probes, host="127.0.0.1") as taken:
        assert taken
        async with serve_health(taken, probes, host="127.0.0.1") as second:
            assert second is None
