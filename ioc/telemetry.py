"""What running components report about themselves, read by `ioc status` and the API.

Each connector runner rewrites `<state>/connectors/<name>.json`, each stream worker
`<state>/streams/<name>.json`, and each notifier `<state>/notifier/<name>.json`, every second
(atomically), so a reader never needs to talk to the process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ioc.events import utc_now
from ioc.runstate import pid_alive

__all__ = [
    "AgentMetrics",
    "ConnectorMetrics",
    "NotifierMetrics",
    "StreamMetrics",
    "connector_metrics_path",
    "health_problem",
    "notifier_metrics_path",
    "notifier_problems",
    "read_connector_metrics",
    "read_notifier_metrics",
    "read_stream_metrics",
    "stream_metrics_path",
]


def health_problem(
    metrics: ConnectorMetrics | StreamMetrics | NotifierMetrics | None,
    within: float,
    healthy: Iterable[str],
) -> str | None:
    """Why a component is not healthy (for probes), or None when it is.

    Healthy = its process runs, it wrote its metrics within `within` seconds, and its state is
    one of `healthy`.
    """
    if metrics is None:
        return "no metrics written yet (not started, or another IOC_STATE_DIR)"
    if not metrics.live:
        return f"not running (state {metrics.state}, pid {metrics.pid})"
    age = (
        (utc_now() - datetime.fromisoformat(metrics.updated_at)).total_seconds()
        if (metrics.updated_at)
        else float("inf")
    )
    if age > within:
        return f"metrics are {age:.0f} s old (limit {within:g} s): the process is stuck"
    if metrics.state not in healthy:
        return f"state {metrics.state}"
    return None


def _save(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def _load_all(folder: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # being replaced, or not ours
        if isinstance(data, dict):
            found.append(data)
    return found


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
    full: the source is slowed), disk-full (the spool's disk refuses writes: the source waits,
    nothing is dropped) or stopped.
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
        _save(connector_metrics_path(state_dir, self.name), asdict(self))


def read_connector_metrics(state_dir: Path) -> list[ConnectorMetrics]:
    """The last metrics of every connector that ran with this state directory, by name."""
    found = []
    for data in _load_all(state_dir / "connectors"):
        try:
            found.append(ConnectorMetrics(**data))
        except TypeError:
            continue  # written by another version
    return found


def stream_metrics_path(state_dir: Path, name: str) -> Path:
    """Where stream worker `name` writes its metrics."""
    return state_dir / "streams" / f"{name}.json"


@dataclass
class AgentMetrics:
    """Counters of one agent (one feed's topic, or the late-corrections topic) in a worker.

    `read` records taken from Kafka; `counted` events added to windows; `duplicates` repeats of
    an event id already counted; `dead_lettered` records sent to `ioc.dlq`; `late` events past
    the allowed lateness sent to the late topic; `lag` records on the worker's partitions not
    read yet; `rate` records read per second over the last ten seconds; `watermark` the newest
    event time read (UTC, ISO 8601).
    """

    read: int = 0
    counted: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    late: int = 0
    lag: int = 0
    rate: float = 0.0
    watermark: str | None = None


@dataclass
class StreamMetrics:
    """Counters of one stream worker, per agent.

    `state` is starting, running, recovering (the database or broker is away: it resumes from
    the offsets stored with the window rows) or stopped; `partitions` the ones it owns now;
    `flushes` transactions committed; `flush_errors` transactions that failed (their events are
    read again, never lost or doubled); `lost_to_retention` records the broker deleted before
    they were read (the worker fell behind more than the topic retention: alert on it);
    `position_errors` partitions it will not read, with why (a stored position past the end of
    the partition: the topic was re-created or its offsets reset) and the command that resolves
    it. While there are any, the state is `blocked` and the worker is unhealthy.
    """

    name: str
    group: str
    pid: int = field(default_factory=os.getpid)
    state: str = "starting"
    started_at: str = field(default_factory=lambda: utc_now().isoformat())
    updated_at: str = ""
    partitions: list[str] = field(default_factory=list)
    flushes: int = 0
    flush_errors: int = 0
    lost_to_retention: int = 0
    position_errors: dict[str, str] = field(default_factory=dict)
    agents: dict[str, AgentMetrics] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        """True while the process that writes these metrics runs."""
        return self.state != "stopped" and pid_alive(self.pid)

    def agent(self, name: str) -> AgentMetrics:
        """The counters of one agent, created on first use."""
        found = self.agents.get(name)
        if found is None:
            found = self.agents[name] = AgentMetrics()
        return found

    def save(self, state_dir: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        _save(stream_metrics_path(state_dir, self.name), asdict(self))


def read_stream_metrics(state_dir: Path) -> list[StreamMetrics]:
    """The last metrics of every stream worker that ran with this state directory, by name."""
    found = []
    for data in _load_all(state_dir / "streams"):
        try:
            agents = {k: AgentMetrics(**v) for k, v in data.pop("agents", {}).items()}
            found.append(StreamMetrics(**data, agents=agents))
        except (TypeError, AttributeError):
            continue  # written by another version
    return found


def notifier_metrics_path(state_dir: Path, name: str) -> Path:
    """Where notifier `name` writes its metrics."""
    return state_dir / "notifier" / f"{name}.json"


@dataclass
class NotifierMetrics:
    """What one notifier (the outbox sender) reports.

    `state` is starting, running, failing (it cannot read or update the outbox: the database
    is away, read-only after a failover, or refuses; it retries with backoff and the messages
    wait in the outbox) or stopped. `failing_since` and `last_error` say since when and why;
    `delivered` and `failed` count messages accepted and refused by the channels;
    `last_delivered_at` is when a channel last accepted one.
    """

    name: str
    pid: int = field(default_factory=os.getpid)
    state: str = "starting"
    started_at: str = field(default_factory=lambda: utc_now().isoformat())
    updated_at: str = ""
    delivered: int = 0
    failed: int = 0
    last_delivered_at: str | None = None
    failing_since: str | None = None
    last_error: str | None = None

    @property
    def live(self) -> bool:
        """True while the process that writes these metrics runs."""
        return self.state != "stopped" and pid_alive(self.pid)

    def save(self, state_dir: Path) -> None:
        """Write atomically, so a reader never sees half a file."""
        self.updated_at = utc_now().isoformat()
        _save(notifier_metrics_path(state_dir, self.name), asdict(self))


def read_notifier_metrics(state_dir: Path) -> list[NotifierMetrics]:
    """The last metrics of every notifier that ran with this state directory, by name."""
    found = []
    for data in _load_all(state_dir / "notifier"):
        try:
            found.append(NotifierMetrics(**data))
        except TypeError:
            continue  # written by another version
    return found


# A notifier rewrites its file after every poll; one batch may take up to the outbox lease
# (10 min), and a failing notifier polls at least once a minute.
_NOTIFIER_FRESH_SECONDS = 660.0


def notifier_problems(state_dir: Path) -> dict[str, str]:
    """Why each running notifier of this state directory cannot deliver (empty: all can).

    Read by `ioc status`, the API's `/healthz` and `/metrics`.
    """
    problems = {}
    for metrics in read_notifier_metrics(state_dir):
        if not metrics.live:
            continue
        problem = health_problem(metrics, _NOTIFIER_FRESH_SECONDS, healthy=("running",))
        if problem is not None:
            if metrics.last_error:
                problem += f" ({metrics.last_error})"
            problems[metrics.name] = problem
    return problems
