"""The connectors `ioc up` runs: one process per name in `IOC_CONNECTORS__RUN`."""

from __future__ import annotations

import sys
from collections.abc import Mapping

from ioc.config import Settings
from ioc.connectors.registry import load_connector
from ioc.embedded.process import ProcessSpec

__all__ = ["connector_processes"]


def connector_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """`ioc connectors run NAME --history …` for each configured connector.

    A name that is not registered fails `ioc up` at once, with the list of registered names.
    """
    options = settings.connectors
    specs = []
    for name in options.run:
        load_connector(name)
        argv = [
            sys.executable,
            "-m",
            "ioc",
            "connectors",
            "run",
            name,
            "--rate",
            f"{options.rate:g}",
        ]
        if options.history_hours:
            argv += ["--history", f"{round(options.history_hours * 3600)}s"]
        specs.append(ProcessSpec(name=f"connector-{name}", argv=argv, env=dict(env)))
    return specs
