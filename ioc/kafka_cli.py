"""`ioc kafka …`: the project's Kafka topics, created and checked before anything runs.

`ioc up` creates the topics itself. On a cluster (Kubernetes, compose) `ioc kafka topics` runs
once as a job before the connectors and workers start, so no topic is ever made by a broker's
automatic creation with the wrong partitions or timestamp type.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ioc._cli import command_settings, quiet_kafka_client
from ioc.kafka import TopicCheck, check_topics, project_topics

__all__ = ["app"]

app = typer.Typer(help="The project's Kafka topics.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """The project's Kafka topics."""


def _row_state(check: TopicCheck) -> str:
    if check.problems:
        return "[red]DIFFERS[/]"
    if check.created:
        return "[green]created[/]"
    return "[green]altered[/]" if check.altered else "[green]ok[/]"


@app.command()
def topics(
    fix: Annotated[
        bool,
        typer.Option(
            help="Set the configs of topics whose configs differ (partitions and replicas are "
            "only reported)."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Create every topic the project writes and check its partitions, replicas and configs.

    Idempotent: run it before the connectors and workers on every deploy. Exit code 0 when every
    topic matches IOC_KAFKA__* (partitions, replication factor, retention, min.insync.replicas,
    LogAppendTime, …), 1 when one differs (each difference is printed), 4 when the broker cannot
    be reached.
    """
    settings = command_settings()
    quiet_kafka_client()
    specs = project_topics(settings)
    # An unreachable broker is one line and exit 4, as for every command (ioc._cli.run_app).
    checks = asyncio.run(asyncio.wait_for(check_topics(settings, specs, fix=fix), 60))
    if as_json:
        print(json.dumps([asdict(c) for c in checks], ensure_ascii=False, indent=2))
    else:
        table = Table(title=f"{len(checks)} topics")
        for column in ("topic", "state", "partitions", "replicas", "problems"):
            table.add_column(column, overflow="fold")
        for check in checks:
            table.add_row(
                check.spec.name,
                _row_state(check),
                str(check.partitions),
                str(check.replication_factor),
                "; ".join(check.problems) or "-",
            )
        Console().print(table)
    if any(c.problems for c in checks):
        raise typer.Exit(1)
