"""The board's "which are down now" list and an alert's causes, in a real browser.

Debian's chromium, driven by Playwright (as tests/e2e/test_board_browser.py), opens the board
served by `ioc api` on a PostgreSQL where the stream workers' sink recorded real camera and
special-network states and the shipped evaluator fired on them (tests/_entities.py): the four
special-network points of Phường Phố Hiến are down for 12 minutes, one camera for 20, one
camera is silent. The test checks the strip's counts, the dialog's rows, filters, area names
and Vietnamese times, the alert cards' points at fault and contributing areas, English, and
saves screenshots to test-artifacts/board-entities/.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

from ioc.config import load_settings
from tests._api import add_key, running_api
from tests._entities import CAMERA_DOWN, CAMERA_SILENT, POINTS, WARD, seed_entities
from tests.e2e.test_board_browser import CHROMIUM_ARGS, ZONE, _chromium, _playwright

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "board-entities"
WARD_NAME = "Phường Phố Hiến"


@dataclass
class Served:
    url: str
    key: str


async def _prepare(postgres_address: str) -> tuple[str, str]:
    name = f"board_entities_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"{postgres_address.rpartition('/')[0]}/{name}", name


@pytest.fixture
def served(postgres: object, tmp_path: Path) -> Iterator[Served]:
    """`ioc api` on a database with real entity states and the alerts fired on them."""
    import asyncio

    _chromium()
    _playwright()
    url, _ = asyncio.run(_prepare(postgres.address))  # type: ignore[attr-defined]
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9",  # the board needs no broker here
        database_url=url,
        state_dir=tmp_path / "state",
    )

    async def seed() -> str:
        conn = await asyncpg.connect(url)
        try:
            await seed_entities(conn, settings)
            return await add_key(conn, "Trực ban ca 2 (kiểm thử)", "operator")
        finally:
            await conn.close()

    key = asyncio.run(seed())
    with running_api(settings, tmp_path / "logs", IOC_API__LIVE_EVERY_SECONDS="1") as api:
        yield Served(api.url, key)


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_points_down_now_and_alert_causes_in_the_browser(served: Served) -> None:
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        # The browser's own zone is UTC: the board must still show Vietnamese time.
        context = browser.new_context(
            viewport={"width": 1920, "height": 1080}, timezone_id="UTC", locale="en-US"
        )
        page = context.new_page()
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
            ),
        )
        try:
            _run(page, served)
        finally:
            _shot(page, "99-last")
            context.close()
            browser.close()
    assert not problems, problems  # CSP violations and script errors end up here


def _local(iso: str) -> str:
    """An API time as the board writes it: dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    return datetime.fromisoformat(iso).astimezone(ZONE).strftime("%d/%m/%Y %H:%M")


def _run(page: Page, served: Served) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    page.goto(served.url)
    page.get_by_label("Khóa API").fill(served.key)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator("[data-role=user-name]")).to_have_text("Trực ban ca 2 (kiểm thử)")

    # The strip counts what is down, in the key's scope, per feed.
    opener = page.locator("#entities-open")
    expect(opener).to_have_text("Điểm ngừng hoạt động: 5")
    expect(page.locator(".chip-feed[data-feed=network] .entities-badge")).to_have_text(
        "4 điểm ngừng"
    )
    expect(page.locator(".chip-feed[data-feed=camera] .entities-badge")).to_have_text(
        "1 điểm ngừng"
    )

    # The ward's alert card names its points; the province's names the ward as weighing most.
    ward_card = page.locator(f"li.alert[data-area='{WARD}']").first
    expect(ward_card.locator("[data-role=alert-entities] li .entity-id")).to_have_text(POINTS[WARD])
    expect(ward_card.locator(".causes-title").first).to_have_text("Điểm ngừng hoạt động (4):")
    expect(ward_card.locator(".causes-where").first).to_have_text(WARD_NAME)
    province_card = page.locator("li.alert[data-area='33']").first
    expect(province_card.locator("[data-role=alert-contributors] li").first).to_contain_text(
        WARD_NAME
    )
    expect(province_card.locator("[data-role=alert-contributors] li").first).to_contain_text(
        "kéo giảm"
    )
    _shot(page, "01-strip-and-alert-causes")

    # The network chip's badge opens the list: the ward's four points, down, longest first.
    page.locator(".chip-feed[data-feed=network] .entities-badge").click()
    dialog = page.locator("#entities-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Điểm đang ngừng hoạt động")).to_be_visible()
    rows = dialog.locator("tr.entity")
    expect(rows.locator(".entity-id")).to_have_text(POINTS[WARD])
    expect(rows.locator(".entity-state")).to_have_text(["Ngừng hoạt động"] * 4)
    expect(rows.locator(".entity-area")).to_have_text([WARD_NAME] * 4)
    expect(rows.first.locator("td").nth(2)).to_have_text("Điểm mạng chuyên dùng")
    # Since when and last seen, in Vietnamese time although the browser runs in UTC.
    since = rows.first.locator("time").first
    expect(since).to_have_text(_local(since.get_attribute("datetime") or ""))
    shown = since.inner_text()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", shown), shown
    began = datetime.strptime(shown, "%d/%m/%Y %H:%M").replace(tzinfo=ZONE)
    assert timedelta(minutes=10) <= datetime.now(UTC) - began <= timedelta(minutes=14), shown
    expect(dialog.locator("[data-role=entities-shown]")).to_contain_text("Đang hiện 4 / 4")
    _shot(page, "02-network-points-down")

    # Every feed, every state: down first, then the silent camera, then those up. The list
    # for the first change (every feed, down) is held back and answered after the second's:
    # the newer list stays.
    held: list[Route] = []

    def hold_every_feed_down(route: Route) -> None:
        url = route.request.url
        if "state=down" in url and "feed=" not in url:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v1/entities?*", hold_every_feed_down)
    dialog.get_by_label("Nguồn").select_option("")
    dialog.get_by_label("Trạng thái").select_option("")
    expect(rows).to_have_count(11)
    assert len(held) == 1
    with contextlib.suppress(PlaywrightError):  # the board may have aborted it already
        held[0].continue_()
    page.wait_for_timeout(500)
    page.unroute("**/api/v1/entities?*")
    expect(rows).to_have_count(11)
    expect(dialog.get_by_role("heading", name="Trạng thái các điểm")).to_be_visible()
    expect(rows.first.locator(".entity-id")).to_have_text(CAMERA_DOWN)
    expect(rows.nth(5).locator(".entity-id")).to_have_text(CAMERA_SILENT)
    expect(rows.nth(5).locator(".entity-state")).to_have_text("Mất tín hiệu")
    expect(rows.nth(6).locator(".entity-state")).to_have_text("Hoạt động")
    states = dialog.get_by_label("Trạng thái").locator("option").all_inner_texts()
    assert states == [
        "Tất cả trạng thái (11)",
        "Ngừng hoạt động (5)",
        "Mất tín hiệu (1)",
        "Hoạt động (5)",
    ], states
    _shot(page, "03-all-feeds-all-states")
    dialog.get_by_role("button", name="Đóng").click()
    expect(dialog).to_have_count(0)

    # From the alert card: the points down in the alert's area.
    ward_card.get_by_role("button", name=f"Xem các điểm ngừng hoạt động tại {WARD_NAME}").click()
    expect(dialog.locator("[data-role=entities-area]")).to_have_text(WARD_NAME)
    expect(rows.locator(".entity-id")).to_have_text(POINTS[WARD])
    dialog.get_by_role("button", name="Xem toàn bộ phạm vi").click()
    expect(dialog.locator("[data-role=entities-area]")).to_have_text("Toàn bộ phạm vi")
    dialog.get_by_role("button", name="Đóng").click()

    # English.
    page.get_by_role("button", name="Switch the board to English").click()
    expect(page.locator("#entities-open")).to_have_text("Points down: 5")
    expect(ward_card.locator(".causes-title").first).to_have_text("Points down (4):")
    page.locator("#entities-open").click()
    expect(dialog.get_by_role("heading", name="Points down now")).to_be_visible()
    expect(dialog.get_by_label("Feed")).to_have_value("camera,network")  # devices, not services
    expect(rows).to_have_count(5)
    expect(rows.locator(".entity-state")).to_have_text(["Down"] * 5)
    expect(rows.locator(".entity-area")).to_have_text(["Pho Hien Ward"] * 5)  # as the map names it
    _shot(page, "04-english")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
