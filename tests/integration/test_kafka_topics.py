"""`ioc kafka topics`: create every topic, then check partitions and configs on a real broker."""

from __future__ import annotations

import uuid

from aiokafka.admin import NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from click.testing import Result
from typer.testing import CliRunner

from ioc.config import Settings, get_settings, load_settings
from ioc.kafka import check_topics, make_admin, project_topics
from ioc.kafka_cli import app


def _isolated(settings: Settings) -> Settings:
    return load_settings(
        kafka_bootstrap=settings.kafka_bootstrap,
        state_dir=settings.state_dir,
        kafka={"topic_prefix": f"t{uuid.uuid4().hex[:10]}", "partitions": 3},
    )


async def test_creates_every_topic_then_finds_them_as_wanted(settings: Settings) -> None:
    isolated = _isolated(settings)
    specs = project_topics(isolated)
    first = await check_topics(isolated, specs)
    assert all(c.created for c in first)
    assert [c.problems for c in first] == [[] for _ in first]
    dlq = next(c for c in first if c.spec.name.endswith(".dlq"))
    assert dlq.config["retention.ms"] == "-1"
    again = await check_topics(isolated, specs)
    assert not any(c.created for c in again)
    assert all(c.partitions == c.spec.partitions for c in again)


async def test_reports_a_topic_made_by_someone_else_and_fixes_its_configs(
    settings: Settings,
) -> None:
    isolated = _isolated(settings)
    specs = project_topics(isolated)
    dvc = next(s for s in specs if s.name.endswith(".events.dvc"))
    # What a broker's auto-creation would have made: one partition, CreateTime, defaults.
    admin = make_admin(isolated)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(dvc.name, 1, 1)])
    finally:
        await admin.close()

    checks = {c.spec.name: c for c in await check_topics(isolated, specs)}
    wrong = checks[dvc.name]
    assert not wrong.created
    assert any("1 partitions, not 3" in p for p in wrong.problems)
    assert "message.timestamp.type=CreateTime, not LogAppendTime" in wrong.problems

    fixed = {c.spec.name: c for c in await check_topics(isolated, specs, fix=True)}[dvc.name]
    assert fixed.altered
    assert fixed.config["message.timestamp.type"] == "LogAppendTime"
    # Partitions are reported, never changed: adding them would re-key events.
    assert [p for p in fixed.problems if "partitions" in p] and len(fixed.problems) == 1

    admin = make_admin(isolated)
    await admin.start()
    try:
        (response,) = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, dvc.name)]
        )
    finally:
        await admin.close()
    values = {entry[0]: entry[1] for entry in response.resources[0][4]}
    assert values["retention.ms"] == dvc.config["retention.ms"]


def _invoke(args: list[str], env: dict[str, str]) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args, env=env)
    finally:
        get_settings.cache_clear()


def test_command_exit_codes(settings: Settings) -> None:
    isolated = _isolated(settings)
    env = {
        "IOC_KAFKA_BOOTSTRAP": str(isolated.kafka_bootstrap),
        "IOC_KAFKA__TOPIC_PREFIX": isolated.kafka.topic_prefix,
        "IOC_KAFKA__PARTITIONS": "3",
        "IOC_STATE_DIR": str(isolated.state_dir),
    }
    result = _invoke(["topics", "--json"], env)
    assert result.exit_code == 0, result.output
    assert f"{isolated.kafka.topic_prefix}.dlq" in result.output
    # Another partition count than the topics have: a difference, exit 1.
    result = _invoke(["topics"], env | {"IOC_KAFKA__PARTITIONS": "4"})
    assert result.exit_code == 1, result.output
    # An unreachable broker (one line, exit 4) is tested with every command: test_cli_errors.py.
