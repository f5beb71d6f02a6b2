"""One child process of the stack: own process group, pid file, log file, stop with escalation.

Correctness never depends on a clean shutdown (faust workers were seen ignoring SIGTERM for
minutes), so `stop()` sends the polite signal to the whole group, waits a grace period and
then SIGKILLs it. Pid files record the command line, so a stale pid that the OS has since
reused for an unrelated program is never killed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["EmbeddedError", "ManagedProcess", "ProcessSpec", "kill_stale"]

log = logging.getLogger(__name__)


class EmbeddedError(RuntimeError):
    """A part of the embedded stack cannot start; the message says what to do."""


@dataclass(frozen=True)
class ProcessSpec:
    """How to run one child: command, environment, where it logs, how to tell it is ready."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    user: str | None = None  # run as this OS user (PostgreSQL refuses to run as root)
    stop_signal: signal.Signals = signal.SIGTERM
    ready: Callable[[], bool] | None = None  # polled until True after start
    address: str | None = None  # shown by `ioc status`


class ManagedProcess:
    """A started `ProcessSpec`, tracked through a pid file under `run_dir`."""

    def __init__(self, spec: ProcessSpec, run_dir: Path) -> None:
        self.spec = spec
        self.run_dir = run_dir
        self.pid_file = run_dir / "pids" / f"{spec.name}.json"
        self.log_file = run_dir / "logs" / f"{spec.name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        """Start the child in its own session (so signals reach its whole group)."""
        kill_stale(self.pid_file)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.spec.env}
        # Switching user means dropping root's groups as well (group bits would apply otherwise).
        gid = None if self.spec.user is None else pwd.getpwnam(self.spec.user).pw_gid
        with self.log_file.open("ab") as out:
            out.write(
                f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {self.spec.name}\n".encode()
            )
            out.flush()
            self.popen = subprocess.Popen(
                list(self.spec.argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.spec.cwd,
                user=self.spec.user,
                start_new_session=True,
                group=gid,
                extra_groups=None if gid is None else [],
            )
        self.started_at = time.monotonic()
        record = {"pid": self.popen.pid, "argv": list(self.spec.argv)}
        self.pid_file.write_text(json.dumps(record), encoding="utf-8")

    @property
    def pid(self) -> int | None:
        """The child's pid while it runs."""
        return self.popen.pid if self.popen is not None else None

    def poll(self) -> int | None:
        """The exit code if the child has exited, else None."""
        return None if self.popen is None else self.popen.poll()

    def running(self) -> bool:
        """True while the child runs."""
        return self.popen is not None and self.popen.poll() is None

    def wait_ready(self, timeout: float) -> None:
        """Poll the readiness check until it passes, the child dies or `timeout` expires.

        Raises:
            EmbeddedError: the child exited or did not become ready; the message has its log tail.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise EmbeddedError(
                    f"{self.spec.name} exited with code {self.poll()} while starting.\n"
                    f"Last lines of {self.log_file}:\n{self.log_tail()}"
                )
            if self.spec.ready is None or self.spec.ready():
                return
            time.sleep(0.2)
        raise EmbeddedError(
            f"{self.spec.name} was not ready after {timeout:.0f} s.\n"
            f"Last lines of {self.log_file}:\n{self.log_tail()}"
        )

    def stop(self, grace: float) -> None:
        """Polite signal to the process group, SIGKILL after `grace` seconds."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, self.spec.stop_signal)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log.warning(
                    "%s ignored %s for %.0f s; killing it",
                    self.spec.name,
                    self.spec.stop_signal.name,
                    grace,
                )
        # Grandchildren can outlive the leader: clear the whole group either way.
        _signal_group(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=5)
        self.pid_file.unlink(missing_ok=True)

    def log_tail(self, lines: int = 25) -> str:
        """The last lines the child wrote, for error messages."""
        try:
            text = self.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.rstrip().splitlines()[-lines:])


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # the child leads its own session, so pgid == pid


def kill_stale(pid_file: Path, grace: float = 5.0) -> bool:
    """Kill what a crashed run left behind, if `pid_file` names a live process we started.

    Returns:
        True when a stale process was found and stopped.
    """
    try:
        record = json.loads(pid_file.read_text(encoding="utf-8"))
        pid, argv = int(record["pid"]), list(record["argv"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    try:
        proc = psutil.Process(pid)
        same = proc.cmdline()[: len(argv)] == argv
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        same = False
    if same:
        log.warning("stopping process %d left by an earlier run (%s)", pid, pid_file.stem)
        _signal_group(pid, signal.SIGTERM)
        with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            proc.wait(timeout=grace)
        _signal_group(pid, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            proc.wait(timeout=5)
    pid_file.unlink(missing_ok=True)
    return same
