"""Every `ioc` command, pointed at a closed port, says in one line what it cannot reach.

The commands run as a user runs them (the installed `ioc`, in a child process) with
IOC_DATABASE_URL and IOC_KAFKA_BOOTSTRAP on a loopback port nothing listens on. Every
registered command is accounted for: it either needs the database or the broker (and is run
here), runs as a daemon that waits for them by design, or needs neither. A new command fails
`test_every_command_is_accounted_for` until it is put in one of the three.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import typer

from ioc._cli import EXIT_BROKER, EXIT_DATABASE

IOC = shutil.which("ioc") or str(Path(__import__("sys").executable).parent / "ioc")
PASSWORD = "s3cret-pw"

# command → (extra arguments, exit code): each meets the database or the broker first.
TOUCHING: dict[str, tuple[list[str], int]] = {
    "alerts list": ([], EXIT_DATABASE),
    "alerts quiet": ([], EXIT_DATABASE),
    "alerts ack": (["1", "--by", "Trực ban"], EXIT_DATABASE),
    "alerts silence": (
        ["--rule", "dvc_*", "--for", "1h", "--reason", "bảo trì", "--by", "Trực ban"],
        EXIT_DATABASE,
    ),
    "db migrate": ([], EXIT_DATABASE),
    "api keys list": ([], EXIT_DATABASE),
    "api keys create": (["--name", "Trực ban", "--role", "operator"], EXIT_DATABASE),
    "api keys revoke": (["abc123"], EXIT_DATABASE),
    "kpis show": (["dvc_on_time_rate"], EXIT_DATABASE),
    "kpis events": (["dvc_on_time_rate"], EXIT_DATABASE),
    "indicators list": ([], EXIT_DATABASE),
    "indicators import": (["values.csv"], EXIT_DATABASE),
    "entities list": ([], EXIT_DATABASE),
    "dashboards db-role": ([], EXIT_DATABASE),
    "dlq show": ([], EXIT_BROKER),
    "dlq export": (["--source", "camera-sim"], EXIT_BROKER),
    "streams positions": ([], EXIT_BROKER),
    "kafka topics": ([], EXIT_BROKER),
    "reports build": (["--period", "2026-10"], EXIT_DATABASE),
    "streams seek": (
        ["--topic", "ioc.events.dvc", "--partition", "0", "--to", "earliest"],
        EXIT_BROKER,
    ),
}
# Daemons wait for their services and retry (a supervisor or Kubernetes restarts them too).
DAEMONS = {
    "up": "starts the services itself",
    "alerts run": "retries each pass until the database is back",
    "api run": "serves and reports the database in /readyz until it is back",
    "connectors run": "spools to disk while the broker is away",
    "connectors backfill": "spools to disk while the broker is away",
}
# Needs neither, or reports the services' health itself.
NEITHER = {
    "down",
    "status",  # reports each part DOWN in its table, exit 1
    "config",
    "version",
    "connectors list",
    "connectors describe",
    "connectors health",
    "streams health",
    "kpis list",
    "indicators template",
    "dashboards build",
    "dashboards list",
    "dashboards push",  # talks to Grafana only (test_dashboards_push.py)
}
# A daemon that cannot start without the broker: it logs like a daemon, then the one line.
STARTING_DAEMONS = {"streams run": ([], EXIT_BROKER)}


def _leaves(group: Any, prefix: str = "") -> list[str]:
    names = []
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):  # a group (typer 0.29 vendors its own click)
            names += _leaves(command, path + " ")
        else:
            names.append(path)
    return names


def _registered() -> list[str]:
    from ioc import cli

    cli._add_plugin_commands()
    return sorted(_leaves(typer.main.get_command(cli.app)))


@pytest.fixture(scope="module")
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def env(closed_port: int, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    return base | {
        "IOC_DATABASE_URL": f"postgresql://ioc:{PASSWORD}@127.0.0.1:{closed_port}/ioc",
        "IOC_KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port}",
        "IOC_DATABASE__GRAFANA_PASSWORD": "grafana-pw",
        "IOC_STATE_DIR": str(tmp_path_factory.mktemp("state")),
        "COLUMNS": "80",
    }


def _run(
    command: str, args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IOC, *command.split(), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_command_is_accounted_for() -> None:
    known = set(TOUCHING) | set(DAEMONS) | NEITHER | set(STARTING_DAEMONS)
    registered = set(_registered())
    assert registered - known == set(), "new commands: put them in TOUCHING, DAEMONS or NEITHER"
    assert known - registered == set(), "commands listed here that no longer exist"


def _expected(command: str, code: int, port: int) -> tuple[str, str]:
    if code == EXIT_DATABASE:
        return f"Cannot reach the database at postgresql://ioc:***@127.0.0.1:{port}/ioc (", (
            "set IOC_DATABASE_URL"
        )
    return f"Cannot reach the Kafka broker at 127.0.0.1:{port} (", "set IOC_KAFKA_BOOTSTRAP"


def test_one_line_and_exit_code_per_service(
    env: dict[str, str], closed_port: int, tmp_path: Path
) -> None:
    with ThreadPoolExecutor(4) as pool:
        results = dict(
            zip(
                TOUCHING,
                pool.map(lambda c: _run(c, TOUCHING[c][0], env, tmp_path), TOUCHING),
                strict=True,
            )
        )
    wrong = []
    for command, result in results.items():
        code = TOUCHING[command][1]
        start, fix = _expected(command, code, closed_port)
        lines = result.stderr.strip().splitlines()
        if (
            result.returncode != code
            or len(lines) != 1
            or not lines[0].startswith(start)
            or fix not in lines[0]
            or PASSWORD in result.stderr + result.stdout
            or "Traceback" in result.stderr
        ):
            wrong.append(f"ioc {command}: exit {result.returncode}\n{result.stderr[-2000:]}")
    assert not wrong, "\n\n".join(wrong)


def test_a_daemon_that_cannot_start_ends_with_the_line(
    env: dict[str, str], closed_port: int, tmp_path: Path
) -> None:
    for command, (args, code) in STARTING_DAEMONS.items():
        result = _run(command, args, env, tmp_path)
        start, fix = _expected(command, code, closed_port)
        last = result.stderr.strip().splitlines()[-1]
        assert result.returncode == code, result.stderr
        assert last.startswith(start) and fix in last, result.stderr
        assert "Traceback" not in result.stderr


def test_help_documents_the_exit_codes(env: dict[str, str], tmp_path: Path) -> None:
    result = _run("--help", [], env | {"COLUMNS": "200"}, tmp_path)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert f"{EXIT_DATABASE} the database cannot be reached (IOC_DATABASE_URL)" in text
    assert f"{EXIT_BROKER} the Kafka broker cannot be reached (IOC_KAFKA_BOOTSTRAP)" in text
