"""`GET /api/v1/kpis/{kpi}/events` on `ioc api` as a process: lists, scope, errors, CSV.

The API test stack of test_api.py (real PostgreSQL and Kafka, keys of each role and a
ward-scoped key), with dossiers stored the way a stream worker stores them.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis import Case

from ioc.events import DossierEvent, Envelope
from ioc.kpis.drill import CSV_COLUMNS
from ioc.streams.sink import to_counted, write_batch
from tests._api import OTHER_WARD, WARD
from tests.integration.test_api import Stack, _problem, stack  # noqa: F401 (module fixture)

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 08:00 in Hưng Yên
HOUR = timedelta(hours=1)
EVENTS = "/api/v1/kpis/dvc_online_dossier_rate/events"
SPAN = {"from": T0.isoformat(), "to": (T0 + HOUR).isoformat()}


@pytest.fixture(scope="module")
async def dossiers(stack: Stack) -> AsyncIterator[dict[str, set[str]]]:  # noqa: F811
    """Per ward, 5 dossiers received in the hour from T0, 3 of them online (+1 online after)."""
    events, online = [], {WARD: set(), OTHER_WARD: set()}
    for area in (WARD, OTHER_WARD):
        for n in range(6):
            dossier = f"HS-{area}-{n}"
            envelope = Envelope.create(
                source="dvc-sim",
                area=area,
                key=dossier,
                occurred_at=T0 + timedelta(minutes=11 * n if n < 5 else 65),
                payload=DossierEvent(
                    dossier_id=dossier,
                    stage="received",
                    procedure_code="1.001",
                    procedure_name="Đăng ký khai sinh",
                    agency_code=f"UBND-{area}",
                    channel="online" if n % 2 == 0 or n == 5 else "desk",
                    service_level="full",
                ),
            )
            events.append(to_counted(envelope, timedelta(minutes=1), "ioc.events.dvc", 0))
            if n % 2 == 0 and n < 5:
                online[area].add(dossier)
    conn = await asyncpg.connect(stack.database_url)
    try:
        await write_batch(conn, "drill-test", events, {})
    finally:
        await conn.close()
    yield online


async def _walk(client: httpx.AsyncClient, params: dict[str, object]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        response = await client.get(EVENTS, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        assert (page["total"] is None) == (cursor is not None)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_the_events_behind_each_part_walk_page_by_page(
    stack: Stack,  # noqa: F811
    dossiers: dict[str, set[str]],
) -> None:
    async with stack.api.client(stack.operator) as client:
        first = (await client.get(EVENTS, params={"area": "33", **SPAN, "limit": 2})).json()
        assert first["total"] == 6 and len(first["items"]) == 2 and first["next_cursor"]
        assert (first["metric"], first["part"], first["area"]) == (
            "dvc.received_online",
            "numerator",
            "33",
        )
        items = await _walk(client, {"area": "33", **SPAN, "limit": 2})
        assert {i["entity"] for i in items} == dossiers[WARD] | dossiers[OTHER_WARD]
        assert len(items) == 6
        assert [i["occurred_at"] for i in items] == sorted(i["occurred_at"] for i in items)  # type: ignore[type-var]
        item = next(i for i in items if i["area"] == WARD)
        assert item["area_name_vi"] == "Phường Phố Hiến" and item["kind"] == "dvc.dossier"
        assert item["payload"]["channel"] == "online"  # type: ignore[index]

        denominator = await _walk(client, {"area": WARD, "part": "denominator", **SPAN})
        assert len(denominator) == 5 and {i["area"] for i in denominator} == {WARD}
        # The same hour named as a bucket of the hourly series.
        hourly = (
            await client.get(
                EVENTS, params={"area": WARD, "bucket": T0.isoformat(), "resolution": "1h"}
            )
        ).json()
        assert {i["entity"] for i in hourly["items"]} == dossiers[WARD]
        assert (hourly["from"], hourly["to"]) == (SPAN["from"], SPAN["to"])
        day = (datetime(2026, 11, 22, 17, tzinfo=UTC)).isoformat()  # local midnight of 23/11
        daily = (
            await client.get(EVENTS, params={"area": WARD, "bucket": day, "resolution": "1d"})
        ).json()
        assert daily["total"] == 4  # and n = 5, in the next hour


async def test_a_ward_key_drills_only_within_its_ward(
    stack: Stack,  # noqa: F811
    dossiers: dict[str, set[str]],
) -> None:
    async with stack.api.client(stack.ward_operator) as ward:
        own = (await ward.get(EVENTS, params=SPAN)).json()  # the key's own area by default
        assert own["area"] == WARD and {i["entity"] for i in own["items"]} == dossiers[WARD]
        for area in (OTHER_WARD, "33"):
            body = _problem(await ward.get(EVENTS, params={"area": area, **SPAN}), 403)
            assert "outside this key's scope" in str(body["detail"])
            _problem(await ward.get(EVENTS, params={"area": area, **SPAN, "format": "csv"}), 403)


async def test_bad_drill_requests_get_precise_problems(stack: Stack) -> None:  # noqa: F811
    async with stack.api.client(stack.operator) as client:
        cases: list[tuple[str, dict[str, object], int, str]] = [
            ("/api/v1/kpis/no_such_kpi/events", SPAN, 404, "no KPI"),
            (EVENTS, {"area": "99999", **SPAN}, 404, "no area"),
            (EVENTS, {}, 422, "from and to missing"),
            (EVENTS, {"from": SPAN["from"]}, 422, "to missing"),
            (EVENTS, {"bucket": T0.isoformat(), **SPAN}, 422, "not both"),
            (EVENTS, {"resolution": "1d", **SPAN}, 422, "give bucket too"),
            (EVENTS, {"bucket": "2026-11-23T01:30:00Z"}, 422, "starts at 2026-11-23T01:00:00"),
            (EVENTS, {"bucket": "2026-11-23T01:00:00Z", "resolution": "1d"}, 422, "1d bucket"),
            (EVENTS, {"from": SPAN["to"], "to": SPAN["from"]}, 422, "must be after"),
            (EVENTS, {**SPAN, "cursor": "not-a-cursor"}, 422, "cursor"),
            (EVENTS, {**SPAN, "limit": 1001}, 422, "limit"),
            (EVENTS, {**SPAN, "part": "both"}, 422, "part"),
            (EVENTS, {"from": "2026-11-23T01:00:00", "to": SPAN["to"]}, 422, "from"),
            (EVENTS, {"from": "0001-01-01T00:00:00+14:00", "to": SPAN["to"]}, 422, "1970"),
        ]
        for path, params, status, words in cases:
            body = _problem(await client.get(path, params=params), status)
            assert words in str(body["detail"]), (params, body)


async def test_csv_export_has_vietnamese_headers_and_a_bom(
    stack: Stack,  # noqa: F811
    dossiers: dict[str, set[str]],
) -> None:
    async with stack.api.client(stack.operator) as client:
        response = await client.get(
            EVENTS, params={"area": "33", "part": "denominator", **SPAN, "format": "csv"}
        )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="su-kien-')
    assert response.headers["x-total-count"] == "10"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel reads as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert rows[0][:3] == ["Mã sự kiện", "Thời điểm (giờ Việt Nam)", "Thời điểm (UTC)"]
    assert len(rows) == 11
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Thời điểm (giờ Việt Nam)"] == "2026-11-23 08:00:00"
    assert first["Địa bàn"] in {"Phường Phố Hiến", "Phường Sơn Nam"}
    assert first["Loại"] == "dvc.dossier" and first["Nguồn"] == "dvc-sim"
    assert "Đăng ký khai sinh" in first["Chi tiết"]
    assert uuid.UUID(first["Mã sự kiện"])


def test_no_generated_drill_request_gets_a_server_error(stack: Stack) -> None:  # noqa: F811
    """schemathesis on the drill-through operation only (test_api covers every operation)."""
    schema = schemathesis.openapi.from_url(stack.api.url + "/openapi.json")
    headers = {"Authorization": f"Bearer {stack.admin}"}
    [operation] = [
        r.ok() for r in schema.get_all_operations() if r.ok().path == "/api/v1/kpis/{kpi}/events"
    ]

    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Case) -> None:
        kwargs = case.as_transport_kwargs(base_url=stack.api.url, headers=headers)
        response = httpx.request(
            kwargs.pop("method"),
            kwargs.pop("url"),
            headers=kwargs.pop("headers"),
            params=kwargs.pop("params", None),
            timeout=30,
        )
        assert response.status_code < 500, f"{case.as_curl_command()}\n{response.text}"

    check()
