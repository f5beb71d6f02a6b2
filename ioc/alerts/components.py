"""The alert evaluator and notifier `ioc up` runs: one `ioc alerts run` process."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ioc.config import Settings
from ioc.embedded.process import ProcessSpec

__all__ = ["alert_processes"]


def alert_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """`ioc alerts run`: evaluates the rules and delivers the notification outbox."""
    del settings  # one evaluator is enough: passes lock each other out anyway
    return [
        ProcessSpec(
            name="alerts", argv=[sys.executable, "-m", "ioc", "alerts", "run"], env=dict(env)
        )
    ]
