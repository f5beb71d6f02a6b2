"""The API and live board `ioc up` runs: one `ioc api run` process."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ioc.api.cli import ADMIN_KEY_FILE
from ioc.config import Environment, Settings
from ioc.embedded.process import ProcessSpec

__all__ = ["api_processes"]


def _key_hint(settings: Settings) -> str:
    if settings.environment is not Environment.LOCAL:
        return ""
    return f"  (key: {settings.state_dir / ADMIN_KEY_FILE})"


def api_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """`ioc api run` on IOC_API_HOST:IOC_API_PORT (the child reads the same settings)."""
    host = env.get("IOC_API_HOST", settings.api_host)
    port = env.get("IOC_API_PORT", str(settings.api_port))
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (compared, not bound)
    return [
        ProcessSpec(
            name="api",
            argv=[sys.executable, "-m", "ioc", "api", "run"],
            env=dict(env),
            address=f"http://{shown}:{port}/" + _key_hint(settings),
        )
    ]
