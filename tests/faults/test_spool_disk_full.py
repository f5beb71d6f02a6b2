"""A full disk under the spool is back-pressure: the connector waits, loses nothing, goes on.

How the disk is filled: a child process runs a real connector runner with the broker
unreachable (so everything goes to the spool) under a file-size limit (`RLIMIT_FSIZE`, with
SIGXFSZ ignored), so writing the spool past 200 kB fails with an OSError (EFBIG), as ENOSPC
does on a full disk; no root, tmpfs or loop device needed. Then the parent lifts the limit
(`prlimit`), as freeing space would.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

from ioc.codec import decode
from ioc.connectors.spool import Spool
from ioc.telemetry import connector_metrics_path, health_problem, read_connector_metrics
from tests._notify import free_port
from tests._sequence import sequence_of

LIMIT = 200_000
COUNT = 3_000
REPO = Path(__file__).resolve().parents[2]

CHILD = """
import asyncio, json, resource, signal, sys
from pathlib import Path
from ioc.config import load_settings
from ioc.connectors.runner import ConnectorRunner
from tests._sequence import sequence_connector

state, port, count, limit = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
settings = load_settings(
    kafka_bootstrap=f"127.0.0.1:{port}", state_dir=state,
    connectors={"delivery_timeout_seconds": 1},
)

async def main() -> None:
    runner = ConnectorRunner(sequence_connector(settings, count, per_second=2000), settings)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, runner.stop)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    metrics = await runner.run()
    print(json.dumps({"yielded": metrics.yielded, "spooled": metrics.spooled}))

asyncio.run(main())
"""


def _metrics(state: Path) -> dict[str, object]:
    try:
        data: dict[str, object] = json.loads(connector_metrics_path(state, "sequence").read_text())
    except (OSError, ValueError):
        return {}
    return data


def _until(what: str, condition: object, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_full_spool_disk_holds_the_source_back_and_loses_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(state), str(free_port()), str(COUNT), str(LIMIT)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _until("the disk to fill", lambda: _metrics(state).get("state") == "disk-full")
        assert child.poll() is None, child.communicate()  # still running
        (reported,) = read_connector_metrics(state)
        assert health_problem(reported, 30, healthy=("running", "spooling")) == "state disk-full"
        held = int(str(_metrics(state)["yielded"]))
        time.sleep(2)
        assert int(str(_metrics(state)["yielded"])) <= held + 1  # the source is held back
        assert held < COUNT

        # Room again: the runner writes what it held and goes on pulling.
        resource.prlimit(
            child.pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
        )
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
    assert child.returncode == 0, err
    final = json.loads(out.strip().splitlines()[-1])
    assert final == {"yielded": COUNT, "spooled": COUNT}
    assert "cannot write the spool" in err

    # Every record is in the spool once, whole and in order per key.
    with Spool(state / "spool" / "sequence", 2**30) as spool:
        assert len(spool) == COUNT
        records, _ = spool.peek(COUNT + 1)
    seqs: dict[str, list[int]] = {}
    for record in records:
        decode(record.value)
        key, seq = sequence_of(record.value)
        seqs.setdefault(key, []).append(seq)
    assert all(found == list(range(COUNT // 10)) for found in seqs.values())
