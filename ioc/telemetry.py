"""What running components report about themselves, read by `ioc status` and the API.

Each connector runner rewrites `<state>/connectors/<name>.json` every second (atomically), so
a reader never needs to talk to the connector process.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ioc.events import utc_now
from ioc.runstate import pid_alive

__all__ = ["ConnectorMetrics", "connector_metrics_path", "read_connector_metrics"]


def connector_metrics_path(state_dir: Path, name: str) -> Path:
    """Where the runner of connector `name` writes its metrics."""
    return state_dir / "connectors" / f"{name}.json"


@dataclass
class ConnectorMetrics:
    """Counters of one connector run.

    `sent` counts broker acknowledgements; `spooled` records written to the disk spool while
    the broker was away (each is counted in `sent` too once delivered); `failed` delivery
    attempts that failed or timed out (each such record was spooled and retried, not lost);
    `dead_lettered` rejected inputs sent to `ioc.dlq`; `rate` acknowledged records per second
    over the last ten seconds. `state` is starting, running, spooling, back-pressure (spool
    full: the source is slowed) or stopped.
    """

    name: str
    feed: str
    pid: int = field(default_factory=os.getpid)
    state: str = "starting"
    started_at: str = field(default_factory=lambda: utc_now().isoformat())
    updated_at: str = ""
    yielded: int = 0
    sent: int = 0
    spooled: int = 0
    failed: int = 0
    dead_lettered: int = 0
    spool_records: int = 0
    spool_bytes: int = 0
    rate: float = 0.0
    last_event_time: str | None = None

    @property
    def live(self) -> bool:
        """True while the process that writes these metrics runs."""
        return self.state != "stopped" and pid_alive(self.pid)

    def save(self, state_dir: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        path = connector_metrics_path(state_dir, self.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)


def read_connector_metrics(state_dir: Path) -> list[ConnectorMetrics]:
    """The last metrics of every connector that ran with this state directory, by name."""
    found = []
    for path in sorted((state_dir / "connectors").glob("*.json")):
        try:
            found.append(ConnectorMetrics(**json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, TypeError):
            continue  # written by another version
    return found
