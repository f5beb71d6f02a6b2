"""The periodic indicators on the board, in Chromium: a value against its target, and a late one.

Debian's chromium, driven by Playwright (as tests/e2e/test_board_browser.py), opens the board
served by `ioc api` with Hưng Yên's indicators and a province file that makes one of them late
whatever today is (due on its period's last day). The Văn phòng UBND enters its work files
figure; the board shows it against the 90 % target, and "Chưa báo cáo" in the late style for
the documents figure nobody entered. Screenshots go to test-artifacts/board-indicators/.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.db import migrate, sync_areas
from ioc.indicators import catalogue_file_for, load_indicators
from ioc.indicators.periods import latest_ended
from ioc.indicators.store import check_entry, save
from ioc.localtime import local_today
from tests._api import add_key, running_api
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "board-indicators"
KEY_NAME = "Văn phòng UBND tỉnh (kiểm thử)"


@dataclass
class Served:
    settings: Settings
    key: str
    logs: Path
    overlay: Path


async def _seed(postgres_address: str, tmp: Path) -> Served:
    name = f"board_ind_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = f"{postgres_address.rpartition('/')[0]}/{name}"
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9", database_url=url, state_dir=tmp / "state"
    )
    overlay = tmp / "indicators.yaml"
    overlay.write_text(
        f"extends: {catalogue_file_for('33')}\nindicators:\n"
        "  - id: documents_electronic\n    due_days: 0\n",
        encoding="utf-8",
    )
    areas = load_areas()
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await sync_areas(conn, areas)
        today = local_today()
        entry, problems = check_entry(
            load_indicators(overlay),
            areas,
            indicator="work_files_online",
            area="33",
            period=latest_ended("monthly", today).label,
            value=0.925,
            today=today,
        )
        assert entry is not None, problems
        await save(conn, [entry], by=KEY_NAME, key_id=None, via="cli")
        key = await add_key(conn, KEY_NAME, "department")
    finally:
        await conn.close()
    return Served(settings, key, tmp / "logs", overlay)


@pytest.fixture
def served(postgres: object, tmp_path: Path) -> Served:
    _chromium()
    _playwright()
    return asyncio.run(_seed(postgres.address, tmp_path))  # type: ignore[attr-defined]


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_the_board_shows_indicators_and_who_is_late(served: Served) -> None:
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    with (
        running_api(served.settings, served.logs, IOC_INDICATORS_FILE=str(served.overlay)) as api,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080}, timezone_id="UTC")
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(api.url + "/")
            page.get_by_label("Khóa API").fill(served.key)
            page.get_by_role("button", name="Đăng nhập").click()
            expect(page.locator("[data-role=user-name]")).to_have_text(KEY_NAME)
            section = page.locator("#indicators")
            expect(section).to_contain_text("Chỉ tiêu định kỳ do sở, ngành báo cáo")
            work = section.locator("[data-indicator=work_files_online]")
            expect(work.locator("[data-role=value]")).to_have_text("92,5\u00a0%")
            expect(work).to_contain_text("mục tiêu 90,0\u00a0%")
            expect(work).to_contain_text("Đạt")
            late = section.locator("[data-indicator=documents_electronic]")
            expect(late).to_have_attribute("data-state", "late")
            expect(late.locator("[data-role=state]")).to_have_text("Chưa báo cáo")
            # Late reads red: the card's border is the critical colour.
            colour = late.evaluate("e => getComputedStyle(e).borderLeftColor")
            assert colour == "rgb(248, 113, 113)", colour
            shared = section.locator("[data-indicator=shared_databases_connected]")
            expect(shared).to_contain_text("(ước tính)")  # an estimated target says so
            # Hưng Yên's 60 % at the end of 2024 (seed 000): shown, never judged.
            expect(shared.locator("[data-role=published]")).to_have_text(
                "đã công bố 2024: 60,0\u00a0%"
            )
            # No text sets the shipped due days: the section says they are estimates.
            expect(section.locator("[data-role=due-note]")).to_contain_text("ước tính")
            _shot(page, "board")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            section.screenshot(path=str(ARTIFACTS / "section.png"))
            page.locator("#lang-switch").click()
            expect(
                page.locator("#indicators [data-indicator=documents_electronic]")
            ).to_contain_text("Not reported yet")
            page.locator("#indicators").screenshot(path=str(ARTIFACTS / "section-en.png"))
        finally:
            browser.close()
    assert not problems, problems
