"""`ioc up`: the embedded stack and every component of the product, under supervision.

It starts the embedded broker and database (unless external ones are configured),
migrates, then runs every component.

Components plug in through the entry-point group `ioc.components`: each entry point names a
function `(settings, env) -> list[ProcessSpec]`, where `env` holds the resolved
`IOC_KAFKA_BOOTSTRAP` and `IOC_DATABASE_URL` for the child. Adding the stream workers or the
API to `ioc up` is one function and one pyproject line; nothing here changes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import fcntl
import logging
import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from types import FrameType

from rich.console import Console

from ioc.areas import load_areas
from ioc.config import Settings, mask_url
from ioc.db import connect, migrate, sync_areas
from ioc.embedded.kafka import KafkaNode
from ioc.embedded.postgres import PostgresNode
from ioc.embedded.process import EmbeddedError, ManagedProcess, ProcessSpec, kill_stale
from ioc.kafka import check_topics, project_topics
from ioc.runstate import RunState

__all__ = ["COMPONENT_GROUP", "ComponentFactory", "Supervisor", "component_specs", "up"]

log = logging.getLogger(__name__)

COMPONENT_GROUP = "ioc.components"
ComponentFactory = Callable[[Settings, Mapping[str, str]], list[ProcessSpec]]
STABLE_AFTER_SECONDS = 60.0  # a child that ran this long gets its restart backoff reset


def component_specs(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """The processes every installed component asks `ioc up` to run."""
    specs: list[ProcessSpec] = []
    for point in sorted(entry_points(group=COMPONENT_GROUP), key=lambda p: p.name):
        factory: ComponentFactory = point.load()
        specs.extend(factory(settings, env))
    return specs


@dataclass
class _Child:
    process: ManagedProcess
    restarts: int = 0
    restart_at: float | None = None


class Supervisor:
    """Runs children, restarts the ones that die (with backoff), stops them all on request."""

    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        self.run_dir = settings.state_dir.resolve()
        self.children: list[_Child] = []
        self.stopping = False

    def start(self, spec: ProcessSpec) -> ManagedProcess:
        """Start a child and wait until its readiness check passes."""
        process = ManagedProcess(spec, self.run_dir)
        process.start()
        self.children.append(_Child(process))
        process.wait_ready(self.settings.embedded.start_timeout_seconds)
        return process

    def watch_once(self) -> None:
        """Restart children that exited, each after its own exponential backoff."""
        now = time.monotonic()
        cap = self.settings.embedded.restart_backoff_max_seconds
        for child in self.children:
            proc = child.process
            if proc.running():
                if child.restarts and now - proc.started_at > STABLE_AFTER_SECONDS:
                    child.restarts = 0
                continue
            if child.restart_at is None:
                delay = min(cap, 2.0**child.restarts)
                child.restart_at = now + delay
                message = (
                    f"{proc.spec.name} exited with code {proc.poll()}; restarting in "
                    f"{delay:.0f} s (log: {proc.log_file})"
                )
                self.console.print(f"[yellow]![/] {message}")
                log.warning(message)
            elif now >= child.restart_at:
                child.restarts += 1
                child.restart_at = None
                proc.start()
                self.console.print(f"[green]↻[/] {proc.spec.name} restarted (pid {proc.pid})")

    def stop_all(self) -> None:
        """Stop children in reverse start order: components first, then database and broker."""
        grace = self.settings.embedded.stop_grace_seconds
        for child in reversed(self.children):
            child.process.stop(grace)
        self.children.clear()


@contextmanager
def _step(console: Console, text: str) -> Iterator[None]:
    started = time.monotonic()
    with console.status(f"{text}…"):
        yield
    console.print(f"[green]✓[/] {text} [dim]({time.monotonic() - started:.1f} s)[/]")


@contextmanager
def _single_supervisor(state_dir: Path) -> Iterator[None]:
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / "supervisor.lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            running = RunState.load(state_dir)
            pid = f" (pid {running.supervisor_pid})" if running else ""
            raise EmbeddedError(
                f"`ioc up` is already running for IOC_STATE_DIR={state_dir}{pid}. "
                "Use `ioc status`, stop it with `ioc down`, or set IOC_STATE_DIR to another folder."
            ) from None
        yield


async def _prepare_services(settings: Settings, bootstrap: str, database_url: str) -> list[str]:
    # Topics made by an older release get today's settings (e.g. dead letters kept for good);
    # what cannot be changed in place (partitions, replicas) is only reported.
    for check in await check_topics(settings, project_topics(settings), bootstrap, fix=True):
        for problem in check.problems:
            log.warning("topic %s: %s", check.spec.name, problem)
    conn = await connect(settings, database_url)
    try:
        applied = await migrate(conn)
        await sync_areas(conn, load_areas(settings.areas_file))
    finally:
        await conn.close()
    return applied


def up(settings: Settings, console: Console) -> None:
    """Start the stack and supervise it until SIGINT/SIGTERM; then stop everything.

    Raises:
        EmbeddedError: a part could not start; everything started so far is stopped.
    """
    state_dir = settings.state_dir.resolve()
    with _single_supervisor(state_dir):
        for stale in sorted((state_dir / "pids").glob("*.json")):
            kill_stale(stale)
        supervisor = Supervisor(settings, console)
        received: list[int] = []

        def _on_signal(signum: int, _frame: FrameType | None) -> None:
            received.append(signum)
            if len(received) == 1:
                console.print("\nStopping… (again to force)")
                raise KeyboardInterrupt
            raise SystemExit(130)

        previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        state = RunState(supervisor_pid=os.getpid(), started_at=datetime.now(UTC).isoformat())
        try:
            started = time.monotonic()
            state.kafka_bootstrap = settings.kafka_bootstrap or _start_kafka(
                settings, supervisor, console
            )
            state.database_url = _database_url(settings) or _start_postgres(
                settings, supervisor, console
            )
            with _step(console, "Migrating the database and creating topics"):
                asyncio.run(_prepare_services(settings, state.kafka_bootstrap, state.database_url))
            env = {
                "IOC_KAFKA_BOOTSTRAP": state.kafka_bootstrap,
                "IOC_DATABASE_URL": state.database_url,
                "IOC_STATE_DIR": str(state_dir),
            }
            for spec in component_specs(settings, env):
                with _step(console, f"Starting {spec.name}"):
                    supervisor.start(dataclasses.replace(spec, env={**env, **spec.env}))
                if spec.address:
                    state.urls[spec.name] = spec.address
            state.urls |= {"kafka": state.kafka_bootstrap, "postgres": mask_url(state.database_url)}
            state.pids = {c.process.spec.name: c.process.pid or 0 for c in supervisor.children}
            state.save(state_dir)
            _print_ready(console, state, time.monotonic() - started)
            while True:
                supervisor.watch_once()
                state.pids = {c.process.spec.name: c.process.pid or 0 for c in supervisor.children}
                state.save(state_dir)
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            with _step(console, "Stopping every process"):
                supervisor.stop_all()
            RunState.path(state_dir).unlink(missing_ok=True)
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _database_url(settings: Settings) -> str | None:
    return settings.database_url.get_secret_value() if settings.database_url else None


def _start_kafka(settings: Settings, supervisor: Supervisor, console: Console) -> str:
    emb = settings.embedded
    node = KafkaNode(
        settings.state_dir,
        settings.cache_dir,
        version=emb.kafka_version,
        port=emb.kafka_port,
        controller_port=emb.kafka_controller_port,
    )
    node.check_prerequisites()
    if not node.provisioned():
        with _step(
            console,
            f"Resolving Apache Kafka {node.version} from Maven Central (first run only, ~43 MB)",
        ):
            node.provision()
    with _step(console, f"Starting Apache Kafka {node.version} (KRaft) on {node.bootstrap}"):
        supervisor.start(node.prepare(emb.kafka_heap))
    return node.bootstrap


def _start_postgres(settings: Settings, supervisor: Supervisor, console: Console) -> str:
    emb = settings.embedded
    node = PostgresNode(settings.state_dir, port=emb.postgres_port, database=emb.postgres_database)
    with _step(console, f"Starting PostgreSQL on 127.0.0.1:{node.port}"):
        supervisor.start(node.prepare())
        node.create_database()
    return node.url


def _print_ready(console: Console, state: RunState, seconds: float) -> None:
    console.print(f"\n[bold green]IOC stack ready[/] in {seconds:.1f} s. Press Ctrl-C to stop.")
    for name, url in state.urls.items():
        console.print(f"  {name:<12} {url}")
    console.print("  status       ioc status\n")
