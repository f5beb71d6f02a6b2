"""What a running `ioc up` publishes about itself: addresses and pids, in `<state>/run.json`.

Clients started outside the supervisor (`ioc status`, a connector run by hand) find the
embedded broker and database here when `IOC_KAFKA_BOOTSTRAP` / `IOC_DATABASE_URL` are unset.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from ioc.config import ConfigError, Settings

__all__ = ["RunState", "pid_alive", "resolve_database_url", "resolve_kafka_bootstrap"]


def pid_alive(pid: int) -> bool:
    """True when `pid` runs (a zombie waiting for its parent to reap it does not count)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@dataclass
class RunState:
    """The supervisor's view of the stack; rewritten atomically on every change."""

    supervisor_pid: int
    kafka_bootstrap: str | None = None
    database_url: str | None = None
    urls: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    started_at: str = ""

    @staticmethod
    def path(state_dir: Path) -> Path:
        """Where the run state of `state_dir` lives."""
        return state_dir / "run.json"

    def save(self, state_dir: Path) -> None:
        """Write atomically, so a reader never sees half a file; readable by its owner only.

        The database URL may carry an external database's password: mode 0600, set when the
        file is created (never a moment readable by others), whatever the umask.
        """
        target = self.path(state_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)  # a leftover from a crash may have other modes
        text = json.dumps(asdict(self), indent=2, ensure_ascii=False)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, target)

    @classmethod
    def load(cls, state_dir: Path) -> RunState | None:
        """The state of a live supervisor, or None when none runs for `state_dir`."""
        try:
            data = json.loads(cls.path(state_dir).read_text(encoding="utf-8"))
            state = cls(**data)
        except (OSError, ValueError, TypeError):
            return None
        return state if pid_alive(state.supervisor_pid) else None


def resolve_kafka_bootstrap(settings: Settings) -> str:
    """The broker address: `IOC_KAFKA_BOOTSTRAP`, else the one `ioc up` started."""
    if settings.kafka_bootstrap:
        return settings.kafka_bootstrap
    state = RunState.load(settings.state_dir)
    if state and state.kafka_bootstrap:
        return state.kafka_bootstrap
    raise ConfigError(
        "No Kafka broker: IOC_KAFKA_BOOTSTRAP is unset and no `ioc up` is running for "
        f"IOC_STATE_DIR={settings.state_dir}. Start the stack with `ioc up`, or set "
        "IOC_KAFKA_BOOTSTRAP=host:port."
    )


def resolve_database_url(settings: Settings) -> str:
    """The database address: `IOC_DATABASE_URL`, else the one `ioc up` started."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    state = RunState.load(settings.state_dir)
    if state and state.database_url:
        return state.database_url
    raise ConfigError(
        "No database: IOC_DATABASE_URL is unset and no `ioc up` is running for "
        f"IOC_STATE_DIR={settings.state_dir}. Start the stack with `ioc up`, or set "
        "IOC_DATABASE_URL=postgresql://user:password@host:5432/ioc."
    )
