"""The API and live board `ioc up` runs: one `ioc api` process."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ioc.config import Settings
from ioc.embedded.process import ProcessSpec

__all__ = ["api_processes"]


def api_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """`ioc api` on IOC_API_HOST:IOC_API_PORT."""
    del settings  # the child reads the same settings from the environment
    return [ProcessSpec(name="api", argv=[sys.executable, "-m", "ioc", "api"], env=dict(env))]
