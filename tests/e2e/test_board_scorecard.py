"""The QĐ 766 scorecard and a KPI's forecast on the board, in a real browser.

Debian's chromium, driven by Playwright (as tests/e2e/test_board_browser.py), opens the board
served by `ioc api` on a PostgreSQL holding the 20 days of DVC events before today, by two
agencies: in Phường Sơn Nam SO-TU-PHAP resolves 4 of 5 dossiers on time every day (a flat
trend: the honest forecast has no date); in Phường Phố Hiến UBND-XA 2 of 5 (1 of 5 last
month); the share of full-online dossiers
rises every day (a date). The days span this month and the last, so the scorecard has a
month's change.

The test checks the tile's forecast words, opens the scorecard (by agency, then by commune),
its ranking, the components no feed carries ("chưa có dữ liệu (nguồn: …)") and the estimate
note, and saves screenshots to test-artifacts/board-scorecard/.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.db import migrate, sync_areas
from ioc.events import Envelope
from ioc.kpis import load_kpis
from ioc.kpis.periods import Period, refresh
from ioc.kpis.scorecard import previous_period
from ioc.kpis.values import compute
from ioc.localtime import local_day_start, local_today
from ioc.streams.sink import to_counted, write_batch
from tests._api import OTHER_WARD, WARD, add_key, running_api
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright
from tests.integration.test_scorecard import _recent, _resolved

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "board-scorecard"
KEY_NAME = "Lãnh đạo tỉnh (kiểm thử)"
MINUTE = timedelta(minutes=1)


@dataclass
class Served:
    settings: Settings
    key: str
    logs: Path


def _worse_agency(today: date) -> list[Envelope]:
    """UBND-XA, the same 20 days: 2 of 5 dossiers on time this month, 1 of 5 the month before."""
    out = []
    for back in range(20, 0, -1):
        day = today - timedelta(days=back)
        at = local_day_start(day) + timedelta(hours=10)
        good = 2 if day.month == today.month else 1
        for n in range(5):
            out.append(_resolved(at + n * MINUTE, WARD, f"X-{back}-{n}", "UBND-XA", n < good, True))
    return out


async def _seed(postgres_address: str, tmp: Path) -> Served:
    name = f"board_scorecard_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{postgres_address.rpartition('/')[0]}/{name}"
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9", database_url=url, state_dir=tmp / "state"
    )
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await sync_areas(conn, load_areas())
        today = local_today()
        now = datetime.now(UTC)
        envelopes = _recent(today) + _worse_agency(today)
        batch = [to_counted(e, MINUTE, "ioc.events.dvc", 0) for e in envelopes]
        await write_batch(conn, "scorecard-board", batch, {})
        month = Period.parse(f"{today:%Y-%m}")
        kpis = list(load_kpis())
        for period in (month, previous_period(month)):
            await refresh(conn, kpis, period, now)
        await compute(
            conn, kpis, local_day_start(today) - timedelta(days=31), local_day_start(today), "1d"
        )
        key = await add_key(conn, KEY_NAME, "leader")
    finally:
        await conn.close()
    return Served(settings, key, tmp / "logs")


@pytest.fixture
def served(postgres: object, tmp_path: Path) -> Served:
    _chromium()
    _playwright()
    return asyncio.run(_seed(postgres.address, tmp_path))  # type: ignore[attr-defined]


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_scorecard_and_forecast_on_the_board(served: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with running_api(served.settings, served.logs) as api, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, timezone_id="UTC"
            )
            page = context.new_page()
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(api.url + f"/#area={OTHER_WARD}")
            page.get_by_label("Khóa API").fill(served.key)
            page.get_by_role("button", name="Đăng nhập").click()
            expect(page.locator("[data-role=user-name]")).to_have_text(KEY_NAME)

            # The forecast on the tile: a flat on-time rate has no date, and says why.
            on_time = page.locator("[data-kpi=dvc_on_time_rate] [data-role=forecast]")
            expect(on_time).to_contain_text("Dự báo")
            expect(on_time).to_contain_text("không có ngày: xu hướng đi ngang")
            expect(on_time).to_contain_text("sai số dự báo 1 ngày (MAE)")
            rising = page.locator("[data-kpi=dvc_full_online_dossier_rate] [data-role=forecast]")
            expect(rising).to_contain_text(
                re.compile("dự kiến đạt ngày|ngày gần nhất đã đạt mục tiêu")
            )
            on_time.scroll_into_view_if_needed()
            _shot(page, "kpi-forecast")
            page.goto(api.url + "/")
            page.reload()
            expect(page.locator("[data-role=user-name]")).to_have_text(KEY_NAME)

            # The province (both wards): the scorecard by agency, ranked, with the change.
            page.get_by_role("button", name="Bảng điểm QĐ 766").click()
            dialog = page.locator("dialog#scorecard")
            expect(dialog).to_be_visible()
            rows = dialog.locator("[data-role=scorecard-table] tbody tr[data-unit]")
            expect(rows).to_have_count(2)
            assert rows.nth(0).get_attribute("data-unit") == "SO-TU-PHAP"
            assert rows.nth(1).get_attribute("data-unit") == "UBND-XA"
            expect(rows.nth(0).locator("td").first).to_have_text("1")
            expect(dialog.locator("[data-role=total]")).to_contain_text("Tỉnh Hưng Yên")
            # UBND-XA: 1 of 5 on time last month, 2 of 5 this month: 2.1 alone is scored.
            expect(rows.nth(1)).to_contain_text("+20,0")
            expect(dialog).to_contain_text("Tiến độ, kết quả giải quyết")
            expect(dialog.locator("[data-role=missing]")).to_contain_text(
                "chưa có dữ liệu (nguồn: CSDL quốc gia về thủ tục hành chính)"
            )
            expect(dialog.locator("[data-role=estimate]")).to_contain_text("Điểm là ước tính")
            expect(dialog).to_contain_text("So với Tháng")
            _shot(page, "scorecard-agency")

            dialog.get_by_role("button", name="Theo xã, phường").click()
            expect(dialog.locator(f"tr[data-unit='{OTHER_WARD}']")).to_be_visible()
            expect(dialog.locator(f"tr[data-unit='{OTHER_WARD}']")).to_contain_text(
                "Phường Sơn Nam"
            )
            _shot(page, "scorecard-commune")
            dialog.get_by_role("button", name="Đóng").click()
            expect(dialog).to_have_count(0)
        finally:
            browser.close()
    assert not problems, problems
