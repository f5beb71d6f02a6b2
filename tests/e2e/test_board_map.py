"""The board's geographic map in a real browser, on a desktop and on a phone.

Debian's chromium, driven by Playwright (as tests/e2e/test_board_browser.py), opens the board
served by `ioc api` with the test areas file tests/e2e/areas-map.yaml (the 25 communes and
wards of the shipped Hưng Yên file with approximate, hand-placed coordinates; Xã Vũ Thư left
without) on a PostgreSQL where real camera and special-network states were recorded and the
shipped evaluator fired on Phường Phố Hiến's outage (tests/_entities.py).

The test checks that the communes are drawn where their coordinates put them, coloured by
status, that a commune opens with its cameras and network points (placed by id, the same on
every load, inside the commune's shape, marked as estimates) and closes again with Esc, the
breadcrumb and the back button, that the keyboard walks the map, that an area without
coordinates is listed, that a file without any coordinates keeps the grid, and that a
configured basemap is drawn and allowed by the Content-Security-Policy (and nothing is allowed
when none is configured). Screenshots at 1440x900 and 390x844 go to test-artifacts/board-map/.
"""

from __future__ import annotations

import re
import struct
import threading
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest

from ioc.config import Settings, load_settings
from tests._api import RunningApi, add_key, running_api
from tests._entities import OTHER_WARD, POINTS, WARD, seed_entities
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "board-map"
AREAS = Path(__file__).with_name("areas-map.yaml")
# The shipped recipients name pre-2025 districts, which the test areas file leaves out.
RECIPIENTS = Path(__file__).with_name("recipients-email-only.yaml")
WARD_NAME = "Phường Phố Hiến"
SOUTH_OF_WARD = "11980"  # Phường Hồng Châu, just south-west of Phố Hiến
NORTH_OF_WARD = "11983"  # Phường Sơn Nam, just north
NORTH = "12103"  # Phường Mỹ Hào, 30 km north
SOUTH_EAST = "13225"  # Phường Thái Bình, across the Luộc river
UNPLACED = "13192"  # Xã Vũ Thư: no coordinates in the test file
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
WALL = {"width": 1920, "height": 1080}  # the operations room's screen: one page, no scrolling


@dataclass
class Served:
    settings: Settings
    key: str
    logs: Path


async def _prepare(postgres_address: str) -> str:
    name = f"board_map_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"{postgres_address.rpartition('/')[0]}/{name}"


@pytest.fixture
def served(postgres: object, tmp_path: Path) -> Served:
    """A database with real entity states and the alerts fired on them, and an operator key."""
    import asyncio

    _chromium()
    _playwright()
    url = asyncio.run(_prepare(postgres.address))  # type: ignore[attr-defined]
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9",  # the board needs no broker here
        database_url=url,
        state_dir=tmp_path / "state",
    )

    async def seed() -> str:
        conn = await asyncpg.connect(url)
        try:
            await seed_entities(conn, settings)
            return await add_key(conn, "Trực ban bản đồ (kiểm thử)", "operator")
        finally:
            await conn.close()

    return Served(settings, asyncio.run(seed()), tmp_path / "logs")


def _png(size: int = 256) -> bytes:
    """A grey tile with a lighter border: enough to see the tiles line up in a screenshot."""
    rows = []
    for y in range(size):
        edge = y < 2 or y >= size - 2
        row = bytes(90 if edge or x < 2 or x >= size - 2 else 40 for x in range(size))
        rows.append(b"\x00" + row)
    raw = zlib.compress(b"".join(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


@pytest.fixture
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A tile server on another origin (another port): its URL template and the paths asked."""
    asked: list[str] = []
    tile = _png()

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png", asked
    finally:
        server.shutdown()
        server.server_close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


class Browsing:
    """Chromium with a page per viewport; script errors and CSP violations are collected."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.problems: list[str] = []

    def page(self, url: str, key: str, viewport: dict[str, int], **kwargs: Any) -> Page:
        from playwright.sync_api import expect

        context = self.browser.new_context(
            viewport=viewport, timezone_id="UTC", locale="en-US", **kwargs
        )
        page = context.new_page()
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on(
            "console",
            lambda msg: (
                self.problems.append(f"console {msg.type}: {msg.text}")
                if msg.type == "error"
                else None
            ),
        )
        page.goto(url)
        page.get_by_label("Khóa API").fill(key)
        page.get_by_role("button", name="Đăng nhập").click()
        expect(page.locator("[data-role=user-name]")).to_have_text("Trực ban bản đồ (kiểm thử)")
        return page


def _centre(page: Page, code: str) -> tuple[float, float]:
    # One evaluation: a live refresh may redraw the map between two calls.
    x, y = page.locator(f"[data-map-area='{code}'] .map-shape").evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2]; }"
    )
    return float(x), float(y)


def _markers(page: Page) -> dict[str, tuple[str, str]]:
    """Each marker's entity → (its state, its drawing), as the page has them."""
    found: dict[str, list[str]] = page.eval_on_selector_all(
        "[data-role=map-points] .ent",
        "els => Object.fromEntries(els.map(e => [e.dataset.entity,"
        " [e.dataset.state, e.querySelector('.ent-shape').outerHTML]]))",
    )
    return {k: (v[0], v[1]) for k, v in found.items()}


def test_map_desktop_phone_keyboard_fallback_and_basemap(
    served: Served, tmp_path: Path, tile_server: tuple[str, list[str]]
) -> None:
    from playwright.sync_api import sync_playwright

    tiles_url, tiles_asked = tile_server
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        browsing = Browsing(browser)
        try:
            with running_api(
                served.settings,
                served.logs,
                IOC_AREAS_FILE=str(AREAS),
                IOC_ALERTS__RECIPIENTS_FILE=str(RECIPIENTS),
                IOC_API__LIVE_EVERY_SECONDS="1",
            ) as api:
                _no_basemap_allowed(api, served.key)
                _desktop(browsing.page(api.url, served.key, DESKTOP))
                _phone(browsing.page(api.url, served.key, PHONE, is_mobile=True, has_touch=True))
                _wall(browsing.page(api.url, served.key, WALL))
            _grid_without_coordinates(browsing, served, tmp_path)
            with running_api(
                served.settings,
                served.logs,
                IOC_AREAS_FILE=str(AREAS),
                IOC_ALERTS__RECIPIENTS_FILE=str(RECIPIENTS),
                IOC_API__BASEMAP_URL=tiles_url,
                IOC_API__BASEMAP_ATTRIBUTION="Nền thử nghiệm © ioc-monitor",
            ) as api:
                _basemap(browsing.page(api.url, served.key, DESKTOP), api, tiles_url, tiles_asked)
        finally:
            browser.close()
    assert not browsing.problems, browsing.problems  # CSP violations and script errors


def _no_basemap_allowed(api: RunningApi, key: str) -> None:
    """Off by default: the map answer has no basemap and the CSP allows no other origin."""
    answer = httpx.get(f"{api.url}/api/v1/map", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["basemap"] is None
    ward = next(c for c in answer.json()["children"] if c["code"] == WARD)
    assert (ward["lat"], ward["lon"]) == (20.652, 106.051)
    csp = httpx.get(f"{api.url}/").headers["content-security-policy"]
    assert "img-src 'self' data:;" in csp, csp


def _desktop(page: Page) -> None:
    from playwright.sync_api import expect

    svg = page.locator("[data-role=map-svg]")
    expect(svg).to_be_visible()
    page.locator("#panel-map").scroll_into_view_if_needed()
    items = page.locator("[data-map-area]")
    expect(items).to_have_count(24)  # 25 communes and wards, one without coordinates
    expect(page.locator(f"[data-map-area='{UNPLACED}']")).to_have_count(0)
    expect(page.locator(f"button.cell[data-area='{UNPLACED}']")).to_contain_text("chưa có tọa độ")
    expect(page.get_by_text("1 địa bàn chưa có tọa độ", exact=False)).to_be_visible()
    expect(page.locator("[data-role=shapes-estimate]")).to_contain_text("gần đúng")

    # Where the coordinates put them: Mỹ Hào north of Phố Hiến, Thái Bình south-east of it.
    ward_x, ward_y = _centre(page, WARD)
    _, north_y = _centre(page, NORTH)
    se_x, se_y = _centre(page, SOUTH_EAST)
    assert north_y < ward_y - 100, (north_y, ward_y)
    assert se_x > ward_x + 100 and se_y > ward_y + 50, ((se_x, se_y), (ward_x, ward_y))

    # Coloured by status: the ward's outage is critical, a commune without events has no data.
    ward = page.locator(f"[data-map-area='{WARD}']")
    expect(ward).to_have_class(re.compile(r"\bstatus-critical\b"))
    expect(page.locator(f"[data-map-area='{NORTH}']")).to_have_class(re.compile(r"status-no_data"))
    fills = {
        code: page.locator(f"[data-map-area='{code}'] .map-shape").evaluate(
            "e => getComputedStyle(e).fill"
        )
        for code in (WARD, NORTH)
    }
    assert fills[WARD] != fills[NORTH], fills
    expect(ward).to_have_attribute("aria-label", re.compile(f"^{WARD_NAME}, Nghiêm trọng"))
    page.wait_for_timeout(300)  # let the bundled font settle before the picture
    _shot(page, "01-desktop-province")

    # The keyboard: one tab stop on the map, arrows walk to the nearest commune that way.
    ward.focus()
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.dataset.mapArea") == SOUTH_OF_WARD
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.dataset.mapArea") == WARD
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.dataset.mapArea") == NORTH_OF_WARD
    expect(page.locator("[data-map-area][tabindex='0']")).to_have_count(1)
    page.keyboard.press("ArrowDown")

    # Enter opens the ward: the map zooms in and draws its cameras and network points.
    page.keyboard.press("Enter")
    expect(page.locator("#title-kpis")).to_have_text(f"Tổng quan: {WARD_NAME}")
    expect(svg).to_have_class(re.compile(r"\bmap-zoomed\b"))
    expect(page.locator(".crumbs [aria-current=page]")).to_have_text(WARD_NAME)
    markers = page.locator("[data-role=map-points] .ent")
    expect(markers).to_have_count(5)  # four special-network points and a camera
    shown = _markers(page)
    assert set(shown) == {*POINTS[WARD], "CAM-11953-07"}, shown
    assert {state for state, _ in shown.values()} == {"down"}
    expect(page.locator("[data-role=map-points-summary]")).to_have_text(
        f"{WARD_NAME}: 1 camera, 4 điểm kết nối mạng; 5 đang ngừng hoạt động, 0 mất tín hiệu."
    )
    expect(page.locator("[data-role=points-estimate]")).to_contain_text("ước tính")
    # Inside the ward's drawn shape.
    outside = page.evaluate(
        """code => {
          const shape = document.querySelector(`[data-map-area="${code}"] .map-shape`);
          const toUser = shape.getScreenCTM().inverse();
          return [...document.querySelectorAll("[data-role=map-points] .ent")].filter(m => {
            const r = m.getBoundingClientRect();
            const p = new DOMPoint(r.x + r.width / 2, r.y + r.height / 2).matrixTransform(toUser);
            return !shape.isPointInFill(p);
          }).map(m => m.dataset.entity);
        }""",
        WARD,
    )
    assert outside == [], f"markers outside {WARD_NAME}: {outside}"
    # Apart from each other, not piled on one spot.
    centres = markers.evaluate_all(
        "ms => ms.map(m => { const r = m.getBoundingClientRect();"
        " return [r.x + r.width / 2, r.y + r.height / 2, r.width]; })"
    )
    for i, (x1, y1, w) in enumerate(centres):
        for x2, y2, _ in centres[i + 1 :]:
            assert ((x1 - x2) ** 2 + (y1 - y2) ** 2) ** 0.5 > w, centres
    assert page.evaluate("document.activeElement.dataset.mapArea") == WARD  # focus kept
    _shot(page, "02-desktop-ward-points")

    # The same places on every load (placed by id, not at random).
    page.reload()
    expect(page.locator("[data-role=map-points] .ent")).to_have_count(5)
    assert _markers(page) == shown

    # Esc zooms back out to the province.
    page.locator(f"[data-map-area='{WARD}']").focus()
    page.keyboard.press("Escape")
    expect(page.locator("#title-kpis")).to_have_text("Tổng quan tỉnh · Tỉnh Hưng Yên")
    expect(svg).not_to_have_class(re.compile(r"\bmap-zoomed\b"))
    expect(page.locator("[data-role=map-points]")).to_have_count(0)

    # A click on another ward: its points, one camera silent; back with the breadcrumb.
    page.locator(f"[data-map-area='{OTHER_WARD}'] .map-shape").click()
    expect(page.locator("[data-role=map-points] .ent")).to_have_count(6)
    expect(page.locator("[data-role=map-points] .ent-silent")).to_have_count(1)
    expect(page.locator("[data-role=map-points] .ent-down")).to_have_count(0)
    expect(page.locator("[data-role=map-points-summary]")).to_contain_text("1 mất tín hiệu")
    _shot(page, "03-desktop-other-ward")
    page.locator("[data-role=map-points-list]").click()
    dialog = page.locator("#entities-dialog")
    expect(dialog.locator("[data-role=entities-area]")).to_have_text("Phường Sơn Nam")
    expect(dialog.locator("tr.entity")).to_have_count(6)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Tỉnh Hưng Yên", exact=True).click()
    expect(svg).not_to_have_class(re.compile(r"\bmap-zoomed\b"))

    # A list cell does what the shape does, and the back button on the map returns.
    page.locator(f"button.cell[data-area='{WARD}']").click()
    expect(svg).to_have_class(re.compile(r"\bmap-zoomed\b"))
    page.locator("[data-role=map-back]").click()
    expect(svg).not_to_have_class(re.compile(r"\bmap-zoomed\b"))

    # English.
    page.get_by_role("button", name="Switch the board to English").click()
    expect(page.locator("[data-role=shapes-estimate]")).to_contain_text("approximate")
    expect(page.locator(f"[data-map-area='{WARD}']")).to_have_attribute(
        "aria-label", re.compile(r"^Pho Hien Ward, Critical")
    )
    page.get_by_role("button", name="Chuyển bảng giám sát sang tiếng Việt").click()
    page.context.close()


def _phone(page: Page) -> None:
    from playwright.sync_api import expect

    svg = page.locator("[data-role=map-svg]")
    expect(svg).to_be_visible()
    page.locator("#panel-map").scroll_into_view_if_needed()
    width = svg.evaluate("e => e.getBoundingClientRect().width")
    assert PHONE["width"] * 0.75 < width <= PHONE["width"], width  # the map uses the width
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways
    page.wait_for_timeout(300)
    _shot(page, "04-phone-province")
    page.locator(f"[data-map-area='{WARD}'] .map-shape").tap()
    expect(page.locator("[data-role=map-points] .ent")).to_have_count(5)
    page.locator("#panel-map").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    _shot(page, "05-phone-ward")
    page.locator("[data-role=map-back]").tap()
    expect(svg).not_to_have_class(re.compile(r"\bmap-zoomed\b"))
    page.context.close()


def _wall(page: Page) -> None:
    """On the wall screen the whole map fits in its panel, with the list beside it."""
    from playwright.sync_api import expect

    expect(page.locator("[data-map-area]")).to_have_count(24)
    svg, panel = (
        page.locator(sel).evaluate(
            "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }"
        )
        for sel in ("[data-role=map-svg]", "#panel-map")
    )
    assert panel[0] <= svg[0] and svg[1] <= panel[1] <= WALL["height"], (svg, panel)
    assert svg[1] - svg[0] > 150, svg  # a map, not a strip
    page.wait_for_timeout(300)
    _shot(page, "08-wall-province")
    page.locator(f"[data-map-area='{WARD}'] .map-shape").click()
    expect(page.locator("[data-role=map-points] .ent")).to_have_count(5)
    _shot(page, "09-wall-ward")
    page.context.close()


def _grid_without_coordinates(browsing: Browsing, served: Served, tmp_path: Path) -> None:
    """The same areas without any coordinates: the schematic grid, as before the map."""
    from playwright.sync_api import expect

    text = AREAS.read_text(encoding="utf-8")
    bare = re.sub(r",\n\s+lat: [^}]*\}", "}", text)
    bare = re.sub(r"\n    lat: .*\n    lon: .*\n    bounds: .*", "", bare)
    assert "lat:" not in bare and "bounds:" not in bare
    areas = tmp_path / "areas-no-coordinates.yaml"
    areas.write_text(bare, encoding="utf-8")
    with running_api(
        served.settings,
        served.logs,
        IOC_AREAS_FILE=str(areas),
        IOC_ALERTS__RECIPIENTS_FILE=str(RECIPIENTS),
    ) as api:
        page = browsing.page(api.url, served.key, DESKTOP)
        expect(page.locator(f"button.cell[data-area='{WARD}'] .cell-name")).to_have_text(WARD_NAME)
        expect(page.locator("button.cell")).to_have_count(25)
        expect(page.locator("[data-role=map-svg]")).to_have_count(0)
        page.locator(f"button.cell[data-area='{WARD}']").click()
        expect(page.locator("#title-kpis")).to_have_text(f"Tổng quan: {WARD_NAME}")
        _shot(page, "06-grid-without-coordinates")
        page.context.close()


def _basemap(page: Page, api: RunningApi, tiles_url: str, asked: list[str]) -> None:
    from playwright.sync_api import expect

    origin = tiles_url.split("/{z}")[0]
    csp = httpx.get(f"{api.url}/").headers["content-security-policy"]
    assert f"img-src 'self' data: {origin};" in csp, csp
    tiles = page.locator("[data-role=map-svg] image.map-tile")
    expect(tiles.first).to_be_attached()
    assert 1 <= tiles.count() <= 48
    expect(page.get_by_text("Nền bản đồ: Nền thử nghiệm © ioc-monitor")).to_be_visible()
    page.locator("#panel-map").scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    assert asked and all(re.fullmatch(r"/\d+/\d+/\d+\.png", p) for p in asked), asked
    zoom = {int(p.split("/")[1]) for p in asked}
    assert zoom <= set(range(7, 13)), zoom  # a province a few hundred pixels wide
    _shot(page, "07-desktop-basemap")
    page.context.close()
