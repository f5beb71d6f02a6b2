"""Test services, started with the same provisioning code as `ioc up` (ioc.embedded).

Fault tests stop, kill and restart them through `LocalService`.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from ioc.embedded.process import ManagedProcess, ProcessSpec

START_TIMEOUT = 120.0


@dataclass
class LocalService:
    """A broker or database process owned by the test session."""

    spec: ProcessSpec
    run_dir: Path
    address: str
    process: ManagedProcess | None = None

    def start(self) -> None:
        self.process = ManagedProcess(self.spec, self.run_dir)
        self.process.start()
        self.process.wait_ready(START_TIMEOUT)

    def stop(self, grace: float = 15.0) -> None:
        """A clean stop (the service's own shutdown signal)."""
        if self.process is not None:
            self.process.stop(grace)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would."""
        if self.process is not None and self.process.pid is not None:
            import os

            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.stop(1.0)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class ExternalService:
    """A service given by IOC_TEST_KAFKA_BOOTSTRAP / IOC_TEST_DATABASE_URL; never restarted."""

    address: str

    def stop(self, grace: float = 15.0) -> None:
        raise RuntimeError("fault tests need the harness's own services; unset IOC_TEST_*")

    kill = restart = start = stop  # type: ignore[assignment]
