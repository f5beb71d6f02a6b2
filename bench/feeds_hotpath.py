"""What the worker does to each event, before and after a change, in one run.

Since feed kinds became declarations (`ioc.feeds`), the payload classes, the measures, the
consistency rules and the entity and status of every event are compiled from YAML instead of
being written by hand. This measures exactly that part of the worker's hot path on the same
records for two source trees, alternating them so that both see the same machine:

    decode (ioc.codec) → feed rules → measures → entity, status and fields for the store

Usage::

    .venv/bin/python -m bench.feeds_hotpath --before 2f5a2f8            # ≈ 1 min
    .venv/bin/python -m bench.feeds_hotpath --before 2f5a2f8 --events 1000000 --rounds 5

The records are one simulated day of the four shipped feeds at rate 0.12 (the bench suite's
mix: mostly network samples and camera heartbeats), encoded as the connectors send them. Each
round runs each tree in a fresh process; the best round of each is kept. Results go to
``bench/results/feeds_hotpath.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.harness import REPO
from bench.suite import checkout

__all__ = ["main"]

# Runs inside a child process whose `ioc` is the tree under test.
_MEASURE = """
import sys, time
from ioc.codec import decode
from ioc.kpis.measures import measures
from ioc.store import entity_of, fields_of, status_of
from ioc.streams.rules import FEED_RULES

data = open(sys.argv[1], "rb").read().split(b"\\n")
records = [r for r in data if r]
start = time.perf_counter()
for value in records:
    env = decode(value)
    FEED_RULES[env.feed].reject(env)
    measures(env)
    entity_of(env)
    status_of(env)
    fields_of(env)
print(len(records) / (time.perf_counter() - start))
"""


async def _records(count: int) -> list[bytes]:
    from ioc.areas import load_areas
    from ioc.codec import encode
    from ioc.config import Settings
    from ioc.connectors import ConnectorContext, VirtualClock
    from ioc.connectors.registry import load_connector
    from ioc.events import Envelope

    settings, areas = Settings(), load_areas()
    start = datetime(2026, 3, 2, tzinfo=UTC)
    out: list[bytes] = []
    for name in ("camera-sim", "dvc-sim", "payment-sim", "network-sim"):
        clock = VirtualClock(start, start + timedelta(days=1))
        context = ConnectorContext(
            name=name, settings=settings, areas=areas, clock=clock, seed=7, rate=0.12
        )
        async for item in load_connector(name)(context).events():
            if isinstance(item, Envelope):
                out.append(encode(item))
    # Interleave the feeds as topics are read, then keep `count`.
    out.sort(key=hash)
    return (out * (count // len(out) + 1))[:count]


def _run(tree: Path, path: Path) -> float:
    env = os.environ | {"PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{tree}: {done.stderr.strip()[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, object]:
    """Measure both trees; print and save the events/s of each and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git ref or source folder to compare")
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ioc-hotpath-") as tmp:
        root = Path(tmp)
        records = asyncio.run(_records(args.events))
        path = root / "records.jsonl"
        path.write_bytes(b"\n".join(records) + b"\n")
        given = Path(args.before)
        before = given.resolve() if given.is_dir() else checkout(args.before, root)
        runs: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            runs["before"].append(_run(before, path))
            runs["after"].append(_run(REPO, path))
    best = {k: max(v) for k, v in runs.items()}
    result: dict[str, object] = {
        "before": args.before,
        "events": len(records),
        "events_per_s": {k: round(v) for k, v in best.items()},
        "rounds": {k: [round(x) for x in v] for k, v in runs.items()},
        "median_per_s": {k: round(statistics.median(v)) for k, v in runs.items()},
        "after_to_before": round(best["after"] / best["before"], 3),
        "load_average": os.getloadavg(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = REPO / "bench" / "results" / "feeds_hotpath.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
