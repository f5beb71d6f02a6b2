"""A feed declared only in a province's folder (``IOC_FEEDS_DIR``) reaches the core's rooms.

Nothing in the code names the feed below: its topic is created with the partitions and the
retention its declaration asks for, the API lists it with its names (and takes it as a feed
whose entities report states), and the Grafana boards draw a board for it. Declarations are
read once per process (and the payload union is built at import), so each test runs `ioc` in
a child process with ``IOC_FEEDS_DIR`` set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from ioc.api.keys import create_key
from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.dashboards import JSON_DIR
from ioc.db import migrate, sync_areas
from ioc.kafka import make_admin
from tests._api import running_api

WARD = "11953"  # Phường Phố Hiến

DECLARATION = """\
feed: flood
name: {vi: Quan trắc mực nước, en: Water level monitoring}
order: 50
topic: {partitions: 2, retention_hours: 48}
enums:
  GaugeKind:
    values:
      river: {vi: Sông, en: River}
      canal: {vi: Kênh, en: Canal}
events:
  flood.reading:
    class: WaterLevelReading
    doc: One reading of a water level gauge.
    entity: gauge_id
    status: {kind: gauge, up: online}
    fields:
      gauge_id: {type: id}
      gauge: {type: GaugeKind}
      online: {type: bool}
      level_cm: {type: float, ge: 0}
    metrics:
      - {metric: flood.readings, doc: readings}
      - {metric: "flood.{gauge}.level_cm", value: level_cm, doc: "{gauge} water level, cm"}
"""


def _declared(tmp_path: Path) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / "flood.yaml").write_text(DECLARATION, encoding="utf-8")
    return folder


def _ioc(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # No plug-in's feeds (this venv also has the test plug-ins'): the shipped ones and the folder's.
    base = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    base["IOC_FEEDS_PLUGINS"] = "none"
    return subprocess.run(
        [sys.executable, "-m", "ioc", *args],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


async def test_kafka_topics_creates_the_declared_feeds_topic_as_declared(
    settings: Settings, tmp_path: Path
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    env = {
        "IOC_FEEDS_DIR": str(_declared(tmp_path)),
        "IOC_KAFKA_BOOTSTRAP": str(settings.kafka_bootstrap),
        "IOC_KAFKA__TOPIC_PREFIX": prefix,
        "IOC_KAFKA__PARTITIONS": "3",
        "IOC_STATE_DIR": str(settings.state_dir),
    }
    result = _ioc(["kafka", "topics", "--json"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    checks = {c["spec"]["name"]: c for c in json.loads(result.stdout)}
    flood = checks[f"{prefix}.events.flood"]
    assert flood["created"] and flood["problems"] == []
    assert flood["partitions"] == 2
    assert flood["config"]["retention.ms"] == str(48 * 3_600_000)
    # What the declaration leaves unset still comes from the settings.
    dvc = checks[f"{prefix}.events.dvc"]
    assert dvc["partitions"] == 3
    assert dvc["config"]["retention.ms"] == str(settings.kafka.retention_hours * 3_600_000)

    isolated = load_settings(
        kafka_bootstrap=settings.kafka_bootstrap, kafka={"topic_prefix": prefix}
    )
    admin = make_admin(isolated)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([f"{prefix}.events.flood"])
    finally:
        await admin.close()
    assert len(described["partitions"]) == 2

    # A topic made with another count is reported against the declaration, not the settings.
    other = _ioc(
        ["kafka", "topics", "--json"],
        env | {"IOC_FEEDS_DIR": str(_retopic(tmp_path, partitions=4))},
    )
    assert other.returncode == 1, other.stdout + other.stderr
    (problem,) = {c["spec"]["name"]: c for c in json.loads(other.stdout)}[f"{prefix}.events.flood"][
        "problems"
    ]
    assert (
        problem.startswith("2 partitions, not 4 (topic.partitions in ") and "flood.yaml" in problem
    )

    # Records kept longer than the store keeps events would be counted twice if read again.
    longer = _ioc(
        ["kafka", "topics"],
        env | {"IOC_FEEDS_DIR": str(_retopic(tmp_path, partitions=2, retention_hours=10_000))},
    )
    assert longer.returncode == 2, longer.stdout + longer.stderr
    assert "topic.retention_hours=10000 keeps records longer than the store" in longer.stderr


def _retopic(tmp_path: Path, partitions: int, retention_hours: int = 48) -> Path:
    folder = tmp_path / f"feeds-{partitions}-{retention_hours}"
    folder.mkdir()
    text = DECLARATION.replace("partitions: 2", f"partitions: {partitions}").replace(
        "retention_hours: 48", f"retention_hours: {retention_hours}"
    )
    (folder / "flood.yaml").write_text(text, encoding="utf-8")
    return folder


async def test_the_api_lists_the_declared_feed_with_its_names(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await migrate(conn)
        await sync_areas(conn, load_areas())
        key = (await create_key(conn, "Trực ban", "operator", None, "test"))[1]
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        await conn.executemany(
            "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
            "VALUES ($1, 'flood.events', $2, 7, 7, 1, 1)",
            [(now - timedelta(minutes=m), WARD) for m in range(1, 4)],
        )
    finally:
        await conn.close()
    declared = {"IOC_FEEDS_DIR": str(_declared(tmp_path)), "IOC_FEEDS_PLUGINS": "none"}
    with running_api(settings, tmp_path / "logs", **declared) as api:
        async with api.client(key) as client:
            response = await client.get("/api/v1/feeds")
            assert response.status_code == 200, response.text
            items = response.json()["items"]
            shipped = ["camera", "dvc", "payment", "network", "feedback"]
            assert [f["feed"] for f in items] == [*shipped, "flood"]
            flood = items[-1]
            assert (flood["name_vi"], flood["name_en"]) == (
                "Quan trắc mực nước",
                "Water level monitoring",
            )
            assert flood["states"] is True and flood["events_last_5m"] == 3 * 7
            assert [f["name_vi"] for f in items[:4]] == [
                "Camera giám sát",
                "Dịch vụ công trực tuyến",
                "Thanh toán không dùng tiền mặt",
                "Hạ tầng mạng",
            ]
            # Its gauges report states: the entity list takes the feed.
            entities = await client.get("/api/v1/entities", params={"feed": "flood"})
            assert entities.status_code == 200, entities.text
            unknown = await client.get("/api/v1/entities", params={"feed": "payment"})
            assert unknown.status_code == 422, unknown.text


def test_the_boards_draw_one_for_the_declared_feed(tmp_path: Path) -> None:
    out = tmp_path / "json"
    result = _ioc(
        ["dashboards", "build", "--out", str(out)], {"IOC_FEEDS_DIR": str(_declared(tmp_path))}
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # The shipped boards are drawn as before; one more board for the declared feed.
    for shipped in JSON_DIR.glob("*.json"):
        assert (out / shipped.name).read_bytes() == shipped.read_bytes(), shipped.name
    assert sorted(p.name for p in out.glob("*.json")) == sorted(
        [*(p.name for p in JSON_DIR.glob("*.json")), "ioc-flood.json"]
    )
    board = json.loads((out / "ioc-flood.json").read_text(encoding="utf-8"))
    assert board["title"] == "Quan trắc mực nước"
    panels = {p["title"]: p for p in board["panels"] if p["type"] == "timeseries"}
    assert sorted(panels) == [
        "Sự kiện (sự kiện/giờ)",
        "flood.canal.level_cm (trung bình)",
        "flood.readings (mỗi giờ)",
        "flood.river.level_cm (trung bình)",
    ]
    sql = panels["flood.river.level_cm (trung bình)"]["targets"][0]["rawSql"]
    assert "'flood.river.level_cm'" in sql and "sum(w.sum) / nullif(sum(w.count), 0)" in sql
    assert "'flood.events'" in panels["Sự kiện (sự kiện/giờ)"]["targets"][0]["rawSql"]


def test_a_kpi_of_the_declared_feed_gets_tiles_and_an_overview_row(tmp_path: Path) -> None:
    shipped = (Path(__file__).resolve().parents[2] / "ioc/data/kpis.yaml").read_text("utf-8")
    catalogue = tmp_path / "kpis.yaml"
    catalogue.write_text(
        shipped
        + """
  - id: flood_gauges_online
    name_vi: "Tỷ lệ trạm đo mực nước trực tuyến"
    name_en: "Water level gauges online"
    feed: flood
    numerator: flood.readings
    denominator: flood.events
    unit: percent
    direction: higher
    description_vi: "Số lần đọc trên tổng số sự kiện (kiểm thử)."
    description_en: "Readings out of events (a test)."
""",
        encoding="utf-8",
    )
    out = tmp_path / "json"
    result = _ioc(
        ["dashboards", "build", "--out", str(out)],
        {"IOC_FEEDS_DIR": str(_declared(tmp_path)), "IOC_ALERTS__KPIS_FILE": str(catalogue)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    board = json.loads((out / "ioc-flood.json").read_text(encoding="utf-8"))
    titles = [(p["type"], p["title"]) for p in board["panels"]]
    assert ("stat", "Tỷ lệ trạm đo mực nước trực tuyến") in titles
    assert ("row", "Theo địa bàn") in titles
    overview = json.loads((out / "ioc-overview.json").read_text(encoding="utf-8"))
    rows = [p["title"] for p in overview["panels"] if p["type"] == "row"]
    assert "Quan trắc mực nước" in rows  # the declared name heads the feed's KPIs
