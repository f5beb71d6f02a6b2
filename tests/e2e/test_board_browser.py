"""The live board in a real browser, against a running `ioc up`.

Debian's chromium, driven by Playwright through `executable_path` (Playwright's own browser
download cannot work here), opens the board served by `ioc api` on a stack with Kafka,
PostgreSQL, the four simulated feeds, a stream worker, the alert evaluator and the API. The
network feed runs with an outage in Phường Phố Hiến, and a one-window rule fires on it.

The test signs in with an operator key made by `ioc api keys create`, checks the Vietnamese
screens (with diacritics, and the bundled font that draws them), sees all four feeds live
within a minute of start and values change without a reload, drills down into a ward on the
map and back, opens the events behind a tile's value, a map cell and the alert (rows,
paging, the other part, the CSV download with its BOM and Vietnamese headers), acknowledges
the alert with its button (the API then names the key's holder), switches to English and
back, signs out, and saves screenshots to test-artifacts/board/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests._notify import free_port
from tests.e2e.test_ioc_up import IOC, Stack, _env, _run

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "board"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WARD, WARD_NAME = "11953", "Phường Phố Hiến"
KEY_NAME = "Trực ban ca 1 (kiểm thử)"
# Feeds whose simulated sources send events at every hour; DVC receives dossiers in office hours.
ROUND_THE_CLOCK = ("camera", "payment", "network")
RUNNING = ("camera", "dvc", "payment", "network")  # the simulators this test starts
# The shipped rule waits 3 windows; one window keeps the test short. The same kind, KPI and
# threshold as ioc/data/alert_rules.yaml.
RULES = """rules:
  - id: network_special_down
    description_vi: "Điểm kết nối mạng truyền số liệu chuyên dùng mất kết nối"
    description_en: "Special data network connection points are down"
    kind: threshold
    kpi: network_special_availability
    below: 0.98
    hysteresis: 0.01
    for_windows: 1
    clear_windows: 30
    severity: critical
    levels: [province, commune]
"""
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def _missing(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true: .ci/run installs it)")
    pytest.skip(message)


def _chromium() -> str:
    path = shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )
    if path is None:
        _missing("Debian chromium is missing: apt-get install -y chromium fonts-noto-core")
    assert path is not None
    return path


def _playwright() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _missing("the playwright package is missing: pip install -e '.[dev]'")


class NetworkFeed:
    """`ioc connectors run network-sim` with an outage, against the stack's broker."""

    def __init__(self, stack: Stack) -> None:
        bootstrap = str(stack.run_state()["kafka_bootstrap"])
        env = stack.env | {"IOC_KAFKA_BOOTSTRAP": bootstrap}
        log = stack.state.parent / "network-sim.log"
        scenario = f"network_outage:area={WARD},start=-8m,duration=60m"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [
                    *IOC,
                    "connectors",
                    "run",
                    "network-sim",
                    "--history=10m",
                    f"--scenario={scenario}",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


@dataclass
class Board:
    url: str
    key: str
    healthy: float  # time.monotonic() when `ioc up` reported every part healthy


@pytest.fixture
def board(tmp_path: Path) -> Iterator[Board]:
    """A running stack with its API, and an operator key."""
    _chromium()
    _playwright()
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")
    state = tmp_path / "state"
    port = free_port()
    env = _env(
        state,
        # camera, dvc and payment from `ioc up`; network with an outage from NetworkFeed.
        IOC_CONNECTORS__RUN=json.dumps(["camera-sim", "dvc-sim", "payment-sim"]),
        IOC_CONNECTORS__HISTORY_HOURS="0.2",
        IOC_API_PORT=str(port),
        IOC_API__LIVE_EVERY_SECONDS="1",
        IOC_ALERTS__RULES_FILE=str(rules),
        IOC_ALERTS__GRACE_SECONDS="3",
        IOC_ALERTS__EVALUATE_EVERY_SECONDS="2",
    )
    stack = Stack(state, env)
    feed: NetworkFeed | None = None
    try:
        stack.start()  # on a fresh machine this includes fetching the Kafka jars
        healthy = time.monotonic()
        feed = NetworkFeed(stack)
        key_file = tmp_path / "operator.key"
        created = _run(
            env,
            *("api", "keys", "create", "--name", KEY_NAME, "--role", "operator"),
            *("--output", str(key_file)),
        )
        assert created.returncode == 0, created.stderr
        yield Board(f"http://127.0.0.1:{port}", key_file.read_text().strip(), healthy)
    finally:
        if feed is not None:
            feed.stop()
        stack.ensure_stopped()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _events_5m(page: Page) -> dict[str, int]:
    values: dict[str, str] = page.eval_on_selector_all(
        "figure.chart",
        "els => Object.fromEntries(els.map(e => [e.dataset.feed,"
        " e.querySelector('[data-role=events-5m]')?.dataset.value ?? '']))",
    )
    return {feed: int(v) if v else 0 for feed, v in values.items()}


def _feeds_live(page: Page) -> bool:
    states: dict[str, str] = page.eval_on_selector_all(
        "figure.chart",
        "els => Object.fromEntries(els.map(e => [e.dataset.feed,"
        " [...(e.querySelector('.chip-state')?.classList ?? [])].join(' ')]))",
    )
    events = _events_5m(page)
    # The four feeds this test runs; the board also lists the declared ones nobody runs here
    # (feedback, and the test plug-in's air), which are rightly not live.
    live = {
        feed: ("state-ok" in state and events.get(feed, 0) > 0)
        or (feed not in ROUND_THE_CLOCK and ("state-idle" in state or "state-quiet" in state))
        for feed, state in states.items()
        if feed in RUNNING
    }
    return len(live) == len(RUNNING) and all(live.values())


def _wait(what: str, check: Any, timeout: float, every: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(every)


def test_board_live_in_vietnamese_ack_and_english(board: Board) -> None:
    from playwright.sync_api import sync_playwright

    url, key, started = board.url, board.key, board.healthy
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
            _run_board(page, url, key, started)
        finally:
            _shot(page, "99-last")
            context.close()
            browser.close()
    assert not problems, problems  # CSP violations and script errors end up here

    # The acknowledgement went through the API under the key's holder.
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        acked = client.get("/api/v1/alerts", params={"state": "acknowledged"}).json()["items"]
    assert any(a["acknowledged_by"] == KEY_NAME and a["area"] == WARD for a in acked), acked
    print(f"\nboard e2e: {time.monotonic() - started:.0f} s from a healthy stack to signed out")


def _run_board(page: Page, url: str, key: str, started: float) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_role("heading", name="Đăng nhập bảng giám sát")).to_be_visible()
    _shot(page, "01-login")
    page.get_by_label("Khóa API").fill(key)
    page.get_by_role("button", name="Đăng nhập").click()

    # Who is signed in, in Vietnamese.
    expect(page.locator("[data-role=user-name]")).to_have_text(KEY_NAME)
    expect(page.locator(".user-meta")).to_have_text("Trực ban · Toàn tỉnh")
    for text in ("Tổng quan tỉnh · Tỉnh Hưng Yên", "Tình trạng nguồn dữ liệu", "Sơ đồ địa bàn"):
        expect(page.get_by_text(text, exact=True)).to_be_visible()
    expect(page.locator("#title-alerts")).to_contain_text("Cảnh báo")
    expect(page.locator(".tile").first).to_be_visible()
    expect(page.locator(".tile-facts dt", has_text="Mục tiêu").first).to_be_visible()
    expect(page.locator(".tile-facts dt", has_text="Chênh lệch").first).to_be_visible()
    expect(page.locator(f"button.cell[data-area='{WARD}'] .cell-name")).to_have_text(WARD_NAME)
    # Percentages the Vietnamese way (95,3 %), and the bundled font draws the diacritics.
    values = page.locator(".tile-number").all_inner_texts()
    assert any(re.fullmatch(r"\d{1,3},\d\u00a0%", v) for v in values), values
    assert page.evaluate(
        "document.fonts.ready.then(() => document.fonts.check("
        "'16px \"Be Vietnam Pro\"', 'Tổng quan tỉnh Hưng Yên ệ ữ ỡ đ'))"
    ), "Be Vietnam Pro (bundled) is not loaded for Vietnamese text"

    # All four feeds live within a minute of `ioc up` being up, and numbers move without a reload.
    # DVC receives dossiers in office hours only: out of hours its feed is idle (quiet), not down.
    _wait(
        "all four feeds live, with events where the source has them at this hour",
        lambda: _feeds_live(page),
        timeout=max(5.0, 60 - (time.monotonic() - started)),
    )
    expect(page.locator("[data-role=live-state]")).to_have_text("Trực tiếp")
    _check_local_time(page.locator("[data-role=last-update]").inner_text())
    first, before = _events_5m(page), page.locator("[data-role=last-update]").inner_text()
    _wait("an events counter changes", lambda: _events_5m(page) != first, timeout=45)
    _wait(
        "the last-update time changes",
        lambda: page.locator("[data-role=last-update]").inner_text() != before,
        timeout=15,
    )
    _shot(page, "02-overview-vi")
    _drill_through(page)

    # Drill down into the ward on the map, and back up with the breadcrumb.
    page.locator(f"button.cell[data-area='{WARD}']").click()
    expect(page.locator("#title-kpis")).to_have_text(f"Tổng quan: {WARD_NAME}")
    expect(page.locator(".crumbs .crumb")).to_have_text(["Tỉnh Hưng Yên"])
    expect(page.locator(".crumbs [aria-current=page]")).to_have_text(WARD_NAME)
    expect(page.locator(f"button.cell[data-area='{WARD}']")).to_have_attribute(
        "aria-pressed", "true"
    )
    _wait("the ward's tiles", lambda: page.locator(".tile").count() > 0, timeout=15)
    assert f"#area={WARD}" in page.url
    _shot(page, "03-drilldown-ward")

    # The outage alert arrives live; acknowledge it with the button.
    alert = page.locator(f"li.alert[data-area='{WARD}']")
    expect(alert.first).to_be_visible(timeout=150_000)
    _shot(page, "04-alert-firing")
    # The alert card opens the events behind it: the ward's samples, the down points among them.
    alert.first.locator("[data-drill-alert]").click()
    drawer = page.locator("dialog#drill")
    expect(drawer).to_be_visible()
    expect(drawer.locator(".drill-span")).to_contain_text(WARD_NAME)
    expect(drawer.locator("[data-part=denominator]")).to_have_attribute("aria-pressed", "true")
    expect(drawer.locator("tbody tr").first).to_be_visible(timeout=15_000)
    expect(drawer.locator("tbody td.drill-details", has_text="up: ").first).to_be_visible()
    _shot(page, "04b-alert-events")
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)
    alert.first.get_by_role("button", name=re.compile("^Tiếp nhận")).click()
    expect(alert.first.locator(".acked")).to_contain_text(f"Đã tiếp nhận bởi {KEY_NAME}")
    expect(alert.first.locator(".alert-state")).to_have_text("Đã tiếp nhận")
    page.get_by_role("button", name="Tỉnh Hưng Yên", exact=True).click()
    expect(page.locator("#title-kpis")).to_have_text("Tổng quan tỉnh · Tỉnh Hưng Yên")
    expect(page.locator(f"button.cell[data-area='{WARD}']")).to_contain_text("Nghiêm trọng")
    _shot(page, "05-alert-acknowledged")

    # English, remembered across a reload (the key stays for the tab's session).
    page.get_by_role("button", name="Switch the board to English").click()
    expect(page.get_by_text("Province overview · Hung Yen Province", exact=True)).to_be_visible()
    expect(page.get_by_text("Data feed health", exact=True)).to_be_visible()
    expect(alert.first.locator(".acked")).to_contain_text(f"Acknowledged by {KEY_NAME}")
    page.reload()
    expect(page.locator("#title-kpis")).to_have_text("Province overview · Hung Yen Province")
    _wait(  # the tiles come a moment after the frame
        "a percentage the English way (95.3%)",
        lambda: any(
            re.fullmatch(r"\d{1,3}\.\d%", v) for v in page.locator(".tile-number").all_inner_texts()
        ),
        timeout=15,
    )
    _shot(page, "06-overview-en")
    page.get_by_role("button", name="Chuyển bảng giám sát sang tiếng Việt").click()
    expect(page.get_by_text("Tổng quan tỉnh · Tỉnh Hưng Yên", exact=True)).to_be_visible()

    # Signing out forgets the key.
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập bảng giám sát")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('ioc-board-key')") is None


def _drill_through(page: Page) -> None:
    """A tile and a map cell open the events behind their number: rows, pages, parts, CSV."""
    from playwright.sync_api import expect

    page.locator(".tile[data-kpi=network_special_availability] .tile-name").click()
    drawer = page.locator("dialog#drill")
    expect(drawer).to_be_visible()
    expect(drawer.locator("#drill-title")).to_have_text(
        "Tỷ lệ điểm kết nối mạng truyền số liệu chuyên dùng hoạt động"
    )
    expect(drawer.locator(".drill-span")).to_contain_text("Tỉnh Hưng Yên")
    expect(drawer.locator("thead th")).to_have_text(
        ["Thời điểm", "Địa bàn", "Đối tượng", "Loại", "Nguồn", "Chi tiết"]
    )
    rows = drawer.locator("tbody tr")
    expect(rows.first).to_be_visible(timeout=15_000)
    expect(drawer.locator("[data-role=drill-count]")).to_contain_text(
        re.compile(r"Sự kiện 1–\d+ / ")
    )
    expect(rows.first.locator("td").nth(3)).to_have_text("network.sample")
    _check_recent_local_time(rows.first.locator("td.drill-time").inner_text())
    shown = rows.count()
    assert 0 < shown <= 50, shown
    _shot(page, "02b-tile-events")
    next_page = drawer.locator("[data-role=drill-next]")
    if next_page.is_enabled():  # more than one page: the second starts where the first ended
        first_ids = set(
            drawer.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.event)")
        )
        next_page.click()
        expect(drawer.locator("[data-role=drill-count]")).to_contain_text("Sự kiện 51–")
        later = set(drawer.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.event)"))
        assert later and not later & first_ids
        drawer.locator("[data-role=drill-prev]").click()
        expect(drawer.locator("[data-role=drill-count]")).to_contain_text("Sự kiện 1–")
    drawer.locator("[data-part=denominator]").click()
    expect(drawer.locator("[data-part=denominator]")).to_have_attribute("aria-pressed", "true")
    expect(drawer.locator(".drill-metric")).to_have_text("network.special_network.samples")
    expect(rows.first).to_be_visible()
    with page.expect_download() as download:
        drawer.locator("[data-role=drill-csv]").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith("\ufeffMã sự kiện,Thời điểm (giờ Việt Nam)".encode()), data[:80]
    assert download.value.suggested_filename.startswith("su-kien-network_special_availability-")
    drawer.locator("[data-role=drill-close]").click()
    expect(drawer).to_have_count(0)

    # A map cell's button: the same list for that ward.
    page.locator(f"[data-drill-area='{WARD}']").click()
    expect(drawer).to_be_visible()
    expect(drawer.locator(".drill-span")).to_contain_text(WARD_NAME)
    expect(drawer.locator(".drill-span, tbody tr, .empty").first).to_be_visible(timeout=15_000)
    page.keyboard.press("Escape")
    expect(drawer).to_have_count(0)


def _check_recent_local_time(text: str) -> None:
    """`23/11/2026 08:01:05` of an event of the last hours, in Vietnamese time (not UTC)."""
    shown = datetime.strptime(text, "%d/%m/%Y %H:%M:%S").replace(tzinfo=ZONE)
    age = datetime.now(UTC) - shown
    assert timedelta(minutes=-2) < age < timedelta(hours=3), f"{text!r} is not a recent local time"


def _check_local_time(text: str) -> None:
    """`Cập nhật lúc 15:04:05` is Vietnamese time (UTC+7), whatever the browser's zone."""
    found = re.search(r"(\d{2}):(\d{2}):(\d{2})", text)
    assert found, text
    now = datetime.now(UTC).astimezone(ZONE)
    shown = now.replace(hour=int(found[1]), minute=int(found[2]), second=int(found[3]))
    day = timedelta(days=1)
    gap = min(abs(shown - now), abs(shown - now + day), abs(shown - now - day))
    assert gap < timedelta(minutes=2), f"{text!r} is not the time in Asia/Ho_Chi_Minh ({now:%H:%M})"
