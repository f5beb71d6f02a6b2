"""`GET /api/v1/entities` and the causes of an alert, from `ioc api` as a process.

The database holds real entity states written by the workers' sink and alerts fired on them
by the shipped evaluator (tests/_entities.py). No broker is needed: the API's dead-letter
index retries in the background and nothing here reads it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from ioc.config import load_settings
from ioc.entities import feeds_with_states
from tests._api import RunningApi, add_key, running_api
from tests._entities import CAMERA_DOWN, CAMERA_SILENT, OTHER_WARD, POINTS, WARD, seed_entities

PROBLEM = "application/problem+json"


@dataclass
class Stack:
    api: RunningApi
    database_url: str
    operator: str  # the whole province
    ward: str  # WARD and below only


@pytest.fixture(scope="module")
async def stack(postgres: object, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    name = f"test_entities_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres.address)  # type: ignore[attr-defined]
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{postgres.address.rpartition('/')[0]}/{name}"  # type: ignore[attr-defined]
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9",  # nothing listens: the API does not need the broker here
        database_url=url,
        state_dir=tmp_path_factory.mktemp("entities-state"),
    )
    conn = await asyncpg.connect(url)
    try:
        await seed_entities(conn, settings)
        keys = [
            await add_key(conn, "Trực ban tỉnh", "operator"),
            await add_key(conn, "Trực ban Phố Hiến", "operator", WARD),
        ]
    finally:
        await conn.close()
    with running_api(settings, tmp_path_factory.mktemp("entities-logs")) as api:
        yield Stack(api, url, *keys)


def _problem(response: httpx.Response, status: int, slug: str | None = None) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, object] = response.json()
    assert body["status"] == status and body["detail"]
    if slug is not None:
        assert str(body["type"]).endswith(f"/{slug}"), body
    return body


def _names(body: dict[str, object]) -> list[str]:
    return [e["entity"] for e in body["items"]]  # type: ignore[attr-defined]


async def test_down_now_first_with_area_names_and_counts(stack: Stack) -> None:
    async with stack.api.client(stack.operator) as client:
        body = (await client.get("/api/v1/entities")).json()
        # Down first, longest first: the camera (20 min), then the ward's points (12 min).
        assert _names(body)[:5] == [CAMERA_DOWN, *POINTS[WARD]]
        assert body["counts"] == {"down": 5, "silent": 1, "up": 5, "total": 11}
        assert body["items"][5]["entity"] == CAMERA_SILENT
        assert body["items"][5]["state"] == "silent"
        point = body["items"][1]
        assert point["feed"] == "network" and point["kind"] == "special_network"
        assert point["area_name_vi"] == "Phường Phố Hiến" and point["up"] is False
        assert point["since"] < point["last_seen"]
        network = (await client.get("/api/v1/entities", params={"feed": "network"})).json()
        assert network["counts"] == {"down": 4, "silent": 0, "up": 4, "total": 8}
        down = await client.get("/api/v1/entities", params={"feed": "network", "state": "down"})
        assert _names(down.json()) == POINTS[WARD]
        other = await client.get("/api/v1/entities", params={"area": OTHER_WARD, "state": "up"})
        assert set(_names(other.json())) == {*POINTS[OTHER_WARD], "CAM-11983-01"}
        # The silent threshold is the caller's: at 60 minutes the quiet camera is up.
        patient = await client.get("/api/v1/entities", params={"silent_minutes": 60})
        assert patient.json()["counts"]["silent"] == 0
        cameras = await client.get("/api/v1/entities", params={"kind": "camera", "state": "down"})
        assert _names(cameras.json()) == [CAMERA_DOWN]
        # Several feeds at once: the board's "points" are cameras and network points.
        points = await client.get(
            "/api/v1/entities", params=[("feed", "network"), ("feed", "camera"), ("state", "down")]
        )
        assert _names(points.json()) == [CAMERA_DOWN, *POINTS[WARD]]
        assert points.json()["filters"]["feed"] == ["camera", "network"]


async def test_pages_walk_every_entity_once(stack: Stack) -> None:
    async with stack.api.client(stack.operator) as client:
        seen: list[str] = []
        params: dict[str, object] = {"limit": 3}
        while True:
            page = (await client.get("/api/v1/entities", params=params)).json()
            seen += _names(page)
            if page["next_cursor"] is None:
                break
            params = {"limit": 3, "cursor": page["next_cursor"]}
        whole = (await client.get("/api/v1/entities")).json()
        assert seen == _names(whole) and len(set(seen)) == 11


async def test_an_area_key_sees_only_its_area(stack: Stack) -> None:
    async with stack.api.client(stack.ward) as ward:
        body = (await ward.get("/api/v1/entities")).json()
        assert {e["area"] for e in body["items"]} == {WARD}
        assert body["counts"] == {"down": 5, "silent": 0, "up": 0, "total": 5}
        same = (await ward.get("/api/v1/entities", params={"area": WARD})).json()
        assert _names(same) == _names(body)
        for area in (OTHER_WARD, "33"):
            detail = _problem(
                await ward.get("/api/v1/entities", params={"area": area}), 403, "out-of-scope"
            )["detail"]
            assert "outside this key's scope" in str(detail)


async def test_bad_requests_get_precise_problems(stack: Stack) -> None:
    async with stack.api.client() as anonymous:
        _problem(await anonymous.get("/api/v1/entities"), 401, "unauthorized")
    async with stack.api.client(stack.operator) as client:
        get = client.get
        _problem(await get("/api/v1/entities", params={"area": "99999"}), 404, "unknown-area")
        feed = _problem(await get("/api/v1/entities", params={"feed": "payment"}), 422)
        # The declarations' order; air is the test plug-in's (its stations report up or down).
        assert "camera, dvc, network, air" in str(feed["detail"])
        # One more repeated feed than there are feeds with states.
        too_many = [("feed", "camera")] * (len(feeds_with_states()) + 1)
        _problem(await get("/api/v1/entities", params=too_many), 422)
        _problem(await get("/api/v1/entities", params={"state": "broken"}), 422)
        _problem(await get("/api/v1/entities", params={"kind": "Camera; drop"}), 422)
        _problem(await get("/api/v1/entities", params={"limit": 0}), 422)
        _problem(await get("/api/v1/entities", params={"limit": 501}), 422)
        _problem(await get("/api/v1/entities", params={"silent_minutes": 0}), 422)
        bad = _problem(await get("/api/v1/entities", params={"cursor": "xyz"}), 400)
        assert "next_cursor" in str(bad["detail"])


async def _alert(stack: Stack, area: str) -> int:
    conn = await asyncpg.connect(stack.database_url)
    try:
        found: int = await conn.fetchval(
            "SELECT id FROM alerts WHERE area = $1 AND rule_id = 'network_special_down'", area
        )
        return found
    finally:
        await conn.close()


async def test_an_alert_shows_its_contributing_areas_and_points_at_fault(stack: Stack) -> None:
    ward_alert, province_alert = await _alert(stack, WARD), await _alert(stack, "33")
    async with stack.api.client(stack.operator) as client:
        province = (await client.get(f"/api/v1/alerts/{province_alert}")).json()
        assert province["contributors"][0]["area"] == WARD
        assert province["contributors"][0]["area_name_vi"] == "Phường Phố Hiến"
        assert province["contributors"][0]["gap"] > 0
        assert [e["entity"] for e in province["entities"]] == POINTS[WARD]
        assert province["entities_down"] == 4
        listed = (await client.get("/api/v1/alerts", params={"area": "33"})).json()["items"]
        assert listed[0]["entities"] == province["entities"]
    async with stack.api.client(stack.ward) as ward:
        alert = (await ward.get(f"/api/v1/alerts/{ward_alert}")).json()
        assert [e["entity"] for e in alert["entities"]] == POINTS[WARD]
        assert alert["entities"][0]["area_name_vi"] == "Phường Phố Hiến"
        assert alert["contributors"] == []  # a commune has no areas under it
        # Another area's alert reads as one that does not exist (nothing about it is told).
        _problem(await ward.get(f"/api/v1/alerts/{province_alert}"), 404, "unknown-alert")


def test_cli_lists_down_entities_with_names_and_local_times(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from typer.testing import CliRunner

    from ioc.cli import app
    from ioc.config import get_settings

    monkeypatch.setenv("IOC_DATABASE_URL", stack.database_url)
    monkeypatch.setenv("IOC_DATABASE__SSLMODE", "disable")
    get_settings.cache_clear()
    runner = CliRunner()
    args = ["entities", "list", "--feed", "network", "--state", "down", "--area", "Phố Hiến"]
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "4 ngừng hoạt động · 0 mất tín hiệu · 0 hoạt động — lúc " in out
    assert all(point in out for point in POINTS[WARD]) and "TSL-11983" not in out
    assert "Phường Phố Hiến" in out and "ngừng hoạt động" in out
    api = httpx.get(
        f"{stack.api.url}/api/v1/entities",
        params={"feed": "network", "state": "down"},
        headers={"Authorization": f"Bearer {stack.operator}"},
    ).json()
    since = datetime.fromisoformat(api["items"][0]["since"]).astimezone(
        ZoneInfo("Asia/Ho_Chi_Minh")
    )
    assert f"{since:%H:%M %d/%m/%Y}" in out  # local time, not UTC
    as_json = runner.invoke(app, ["entities", "list", "--state", "silent", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert [e["entity"] for e in json.loads(as_json.output)["items"]] == [CAMERA_SILENT]
    for bad in (["--feed", "payment"], ["--area", "Không Có"]):
        refused = runner.invoke(app, ["entities", "list", *bad])
        assert refused.exit_code == 2, refused.output
