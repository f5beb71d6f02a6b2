"""The stream workers `ioc up` runs: `IOC_STREAMS__WORKERS` processes in one group."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ioc.config import Settings
from ioc.embedded.process import ProcessSpec

__all__ = ["stream_processes"]


def stream_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """`ioc streams run --name worker-N` for N = 1 … IOC_STREAMS__WORKERS."""
    return [
        ProcessSpec(
            name=f"streams-{n}",
            argv=[sys.executable, "-m", "ioc", "streams", "run", "--name", f"worker-{n}"],
            env=dict(env),
        )
        for n in range(1, settings.streams.workers + 1)
    ]
