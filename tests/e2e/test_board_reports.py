"""The period report from the board: a leader picks a period and downloads the files.

Debian's chromium, driven by Playwright (as tests/e2e/test_board_browser.py), opens the board
served by `ioc api` on a PostgreSQL holding the 20 days of DVC events before today
(tests/integration/test_scorecard.py's), opens "Báo cáo", downloads last month's workbook (read
back with openpyxl: the province and the month in its header) and a quarter's PDF, and saves
screenshots to test-artifacts/board-reports/.
"""

from __future__ import annotations

import asyncio
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest
from openpyxl import load_workbook

from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.db import migrate, sync_areas
from ioc.localtime import local_today
from ioc.streams.sink import to_counted, write_batch
from tests._api import add_key, running_api
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright
from tests.integration.test_scorecard import _recent

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "board-reports"
KEY_NAME = "Lãnh đạo tỉnh (kiểm thử)"
MINUTE = timedelta(minutes=1)


@dataclass
class Served:
    settings: Settings
    key: str
    logs: Path


async def _seed(postgres_address: str, tmp: Path) -> Served:
    name = f"board_reports_{uuid.uuid4().hex[:10]}"
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
        batch = [to_counted(e, MINUTE, "ioc.events.dvc", 0) for e in _recent(local_today())]
        await write_batch(conn, "reports-board", batch, {})
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


def test_a_leader_downloads_the_report_from_the_board(served: Served, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    today = local_today()
    last = today.replace(day=1) - timedelta(days=1)
    problems: list[str] = []
    with running_api(served.settings, served.logs) as api, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, timezone_id="UTC", accept_downloads=True
            )
            page = context.new_page()
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(api.url + "/")
            page.get_by_label("Khóa API").fill(served.key)
            page.get_by_role("button", name="Đăng nhập").click()
            expect(page.locator("[data-role=user-name]")).to_have_text(KEY_NAME)

            page.get_by_role("button", name="Báo cáo", exact=True).click()
            dialog = page.locator("dialog#reports")
            expect(dialog).to_be_visible()
            expect(dialog).to_contain_text("Tỉnh Hưng Yên")
            expect(dialog.locator("#report-month")).to_have_value(f"{last:%Y-%m}")
            _shot(page, "reports-dialog")

            with page.expect_download() as got:
                dialog.get_by_role("button", name="Tải Excel").click()
            download = got.value
            assert download.suggested_filename == f"bao-cao-33-{last:%Y-%m}.xlsx"
            path = tmp_path / download.suggested_filename
            download.save_as(path)
            with closing(load_workbook(path, read_only=True)) as book:
                sheet = book.worksheets[0]
                assert sheet.cell(row=1, column=1).value == "TỈNH HƯNG YÊN"
                assert str(sheet.cell(row=2, column=1).value).endswith(
                    f"Tháng {last.month}/{last.year}"
                )

            dialog.locator("#report-kind").select_option("quarter")
            dialog.locator("#report-quarter").select_option("1")
            dialog.locator("#report-year").fill(str(today.year))
            dialog.locator("#report-year").dispatch_event("change")
            with page.expect_download() as got:
                dialog.get_by_role("button", name="Tải PDF").click()
            pdf = got.value
            assert pdf.suggested_filename == f"bao-cao-33-{today.year}-Q1.pdf"
            pdf_path = tmp_path / pdf.suggested_filename
            pdf.save_as(pdf_path)
            assert pdf_path.read_bytes().startswith(b"%PDF-")
            expect(dialog.locator("[role=alert]")).to_have_count(0)
            _shot(page, "reports-quarter")
        finally:
            browser.close()
    assert not problems, problems
