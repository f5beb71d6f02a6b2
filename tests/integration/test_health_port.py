"""IOC_HEALTH_PORT on the real processes: a connector, a stream worker and the alert evaluator,
each started as `ioc … run` would be in its pod, answer probes and scrapes on their own port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ioc.config import Settings
from tests._notify import free_port


def _get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


@contextmanager
def _process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ioc", *args], env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.terminate()
            proc.wait(30)


def _until(port: int, path: str, wanted: str, proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 90
    last = (0, "")
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        try:
            last = _get(port, path)
        except OSError:
            time.sleep(0.3)
            continue
        if last[0] == 200 and wanted in last[1]:
            return last[1]
        time.sleep(0.3)
    raise AssertionError(
        f"GET {path} never showed {wanted!r}; last {last}\n{log.read_text()[-3000:]}"
    )


def _env(settings: Settings, database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    return env | {
        "IOC_KAFKA_BOOTSTRAP": str(settings.kafka_bootstrap),
        "IOC_DATABASE_URL": database_url,
        "IOC_STATE_DIR": str(settings.state_dir),
        "IOC_KAFKA__TOPIC_PREFIX": settings.kafka.topic_prefix,
        "IOC_STREAMS__GROUP": f"{settings.kafka.topic_prefix}-group",
        "IOC_HEALTH_PORT": str(port),
    }


def test_connector_and_worker_and_evaluator_serve_their_port(
    topics_settings: Settings, database_url: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in ("connector", "worker", "alerts")}
    envs = {name: _env(topics_settings, database_url, port) for name, port in ports.items()}
    subprocess.run(
        [sys.executable, "-m", "ioc", "db", "migrate"], env=envs["worker"], check=True, timeout=300
    )
    with (
        _process(["connectors", "run", "dvc-sim"], envs["connector"], tmp_path / "c.log") as c,
        _process(["streams", "run", "--name", "w1"], envs["worker"], tmp_path / "w.log") as w,
        _process(["alerts", "run"], envs["alerts"], tmp_path / "a.log") as a,
    ):
        _until(ports["connector"], "/readyz", "ok", c, tmp_path / "c.log")
        text = _until(
            ports["connector"],
            "/metrics",
            'ioc_connector_sent_total{connector="dvc-sim"',
            c,
            tmp_path / "c.log",
        )
        assert 'ioc_connector_up{connector="dvc-sim",state="running"} 1.0' in text
        _until(ports["worker"], "/healthz", "ok", w, tmp_path / "w.log")
        text = _until(
            ports["worker"],
            "/metrics",
            'ioc_stream_counted_total{feed="dvc",worker="w1"}',
            w,
            tmp_path / "w.log",
        )
        assert 'ioc_stream_worker_up{state="running",worker="w1"} 1.0' in text
        _until(ports["alerts"], "/readyz", "ok", a, tmp_path / "a.log")
        _until(ports["alerts"], "/metrics", "ioc_alerts_passes_total", a, tmp_path / "a.log")
