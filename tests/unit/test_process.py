"""Supervision primitives on real child processes (no services)."""

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from ioc.embedded.process import EmbeddedError, ManagedProcess, ProcessSpec, kill_stale

# A child that ignores SIGTERM and starts a grandchild, like a stubborn worker.
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, subprocess, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "subprocess.Popen(['sleep', '300'])\n"
    "print('up', flush=True)\n"
    "time.sleep(300)\n",
]


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and __import__("os").getpgid(proc.pid) == pgid:
                members.append(proc)
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
    return members


def test_stop_escalates_to_sigkill_and_clears_the_group(tmp_path: Path) -> None:
    proc = ManagedProcess(ProcessSpec("stubborn", STUBBORN), tmp_path)
    proc.start()
    deadline = time.monotonic() + 10
    while "up" not in proc.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    pid = proc.pid
    assert pid is not None and len(_group_members(pid)) == 2
    started = time.monotonic()
    proc.stop(grace=1.0)
    assert 1.0 <= time.monotonic() - started < 8
    # The killed group's last member may take a moment to be reaped on a loaded machine.
    deadline = time.monotonic() + 5
    while _group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_members(pid) == []
    assert not proc.pid_file.exists()


def test_polite_child_stops_on_its_signal_within_grace(tmp_path: Path) -> None:
    # The child restores SIGINT itself: a test run started in the background (`cmd &`)
    # hands its children SIGINT ignored, and `sleep` would then ignore it.
    polite = (
        "import signal, time; signal.signal(signal.SIGINT, signal.SIG_DFL); "
        "print('ready', flush=True); time.sleep(300)"
    )
    spec = ProcessSpec("polite", [sys.executable, "-c", polite], stop_signal=signal.SIGINT)
    proc = ManagedProcess(spec, tmp_path)
    proc.start()
    deadline = time.monotonic() + 10
    while "ready" not in proc.log_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    proc.stop(grace=20.0)
    assert time.monotonic() - started < 5
    assert proc.poll() == -signal.SIGINT


def test_wait_ready_reports_a_crash_with_its_log(tmp_path: Path) -> None:
    spec = ProcessSpec(
        "crasher",
        [sys.executable, "-c", "print('boom: no config'); raise SystemExit(3)"],
        ready=lambda: False,
    )
    proc = ManagedProcess(spec, tmp_path)
    proc.start()
    with pytest.raises(EmbeddedError, match=r"(?s)exited with code 3.*boom: no config"):
        proc.wait_ready(10)


def test_stale_process_from_a_crashed_run_is_killed(tmp_path: Path) -> None:
    argv = ["sleep", "301"]
    orphan = subprocess.Popen(argv, start_new_session=True)
    try:
        # A crashed run's process has long been exec'd; a fresh one may not be yet (a loaded
        # machine), and until then its command line is still this Python's.
        deadline = time.monotonic() + 10
        while psutil.Process(orphan.pid).cmdline() != argv and time.monotonic() < deadline:
            time.sleep(0.01)
        pid_file = tmp_path / "pids" / "orphan.json"
        pid_file.parent.mkdir()
        pid_file.write_text(json.dumps({"pid": orphan.pid, "argv": argv}))
        assert kill_stale(pid_file)
        assert orphan.wait(timeout=10) is not None
        assert not pid_file.exists()
    finally:
        orphan.kill()
        orphan.wait()


def test_a_reused_pid_running_something_else_is_left_alone(tmp_path: Path) -> None:
    bystander = subprocess.Popen(["sleep", "302"], start_new_session=True)
    pid_file = tmp_path / "stale.json"
    pid_file.write_text(json.dumps({"pid": bystander.pid, "argv": ["java", "kafka.Kafka"]}))
    try:
        assert not kill_stale(pid_file)
        assert bystander.poll() is None
        assert not pid_file.exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_kraft_cluster_ids_never_look_like_an_option() -> None:
    import base64

    from ioc.embedded.kafka import _cluster_id

    ids = [_cluster_id() for _ in range(5000)]
    assert not any(i.startswith("-") for i in ids)
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids)
    assert len(set(ids)) == len(ids)
