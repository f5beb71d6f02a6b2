"""The seeds' three provinces on the board, each started as the README says: `IOC_PROVINCE` alone.

For Hưng Yên (33), Cần Thơ (92) and Hải Phòng (31), the test sets `IOC_PROVINCE` and nothing else
province-related (no areas, KPI or recipients file: the README's section "The seeds' three
provinces" says that one setting chooses them all), writes 20 minutes of DVC and payment windows
for three of the province's communes and evaluates them as `ioc up` would, starts `ioc api run`
and opens the board in Debian's chromium. It sees the province's name in the overview, every one
of its communes on the map (the three with data coloured, the rest without data), a KPI tile's
target and its source and deadline from that province's catalogue (Hải Phòng's satisfaction
target is Hải Dương's NQ 06-NQ/TU, 95 % by 2025, not the national QĐ 1565 by 2026), the results
the province reported beside the live value (Cần Thơ's, from Hậu Giang, marked as an estimate),
and the map's population marked as an estimate. Screenshots go to test-artifacts/seed-provinces/.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
import pytest

from ioc.areas import load_areas
from ioc.config import Settings, load_settings
from ioc.db import migrate, sync_areas
from ioc.kpis.values import keep_current
from ioc.localtime import local_today
from ioc.services import build_evaluator
from tests._api import add_key, running_api
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "seed-provinces"
KEY_NAME = "Trực ban tỉnh (kiểm thử)"
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Seed:
    code: str
    slug: str
    kpi: str  # a tile whose target, source and deadline come from the province's catalogue
    target_text: str
    source_text: str
    reported_kpi: str | None  # a KPI the province reported a result for
    reported_text: str | None
    reported_estimate: bool


SEEDS = [
    Seed(
        "33",
        "hung-yen",
        "dvc_satisfaction_rate",
        "95,0\u00a0%",
        "QĐ 1565/QĐ-TTg · hạn 31/12/2026",
        "dvc_services_with_online_dossiers",
        "88,2\u00a0% · 2024",
        False,
    ),
    Seed(
        "92",
        "can-tho",
        "dvc_satisfaction_rate",
        "95,0\u00a0%",
        "QĐ 1565/QĐ-TTg · hạn 31/12/2026",
        "dvc_full_online_services",
        "100,0\u00a0% · 2022",
        True,
    ),
    Seed(
        "31",
        "hai-phong",
        "dvc_satisfaction_rate",
        "95,0\u00a0%",
        "NQ 06-NQ/TU Hải Dương",
        None,
        None,
        False,
    ),
]


async def _database(postgres_address: str) -> str:
    name = f"seed_province_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"{postgres_address.rpartition('/')[0]}/{name}"


async def _seed(url: str, settings: Settings, communes: list[str], minutes: int = 20) -> str:
    """Windows for `communes`, evaluated as `ioc up` does; returns an operator key."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await sync_areas(conn, load_areas())
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        first = now - minutes * MINUTE
        rows = []
        for i in range(minutes + 1):
            start = first + i * MINUTE
            for area in communes:
                rows += [
                    (start, "dvc.events", area, 6, 6.0, 1.0, 1.0),
                    (start, "dvc.ratings", area, 5, 5.0, 1.0, 1.0),
                    (start, "dvc.satisfied", area, 4, 4.0, 1.0, 1.0),
                    (start, "payment.events", area, 10, 10.0, 1.0, 1.0),
                    (start, "payment.attempts", area, 10, 10.0, 1.0, 1.0),
                    (start, "payment.succeeded", area, 9, 9.0, 1.0, 1.0),
                ]
        await conn.executemany(
            "INSERT INTO window_metrics (window_start, metric, area, count, sum, min, max) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            rows,
        )
        evaluator = build_evaluator(settings)
        for i in range(1, minutes + 1):
            await evaluator.run_once(conn, first + i * MINUTE + timedelta(seconds=16))
        await keep_current(conn, evaluator.catalogue)
        return await add_key(conn, KEY_NAME, "operator")
    finally:
        await conn.close()


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("seed", SEEDS, ids=[s.slug for s in SEEDS])
def test_seed_province_starts_with_its_communes_and_targets(
    seed: Seed, postgres: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playwright.sync_api import expect, sync_playwright

    _chromium()
    _playwright()
    # As the README says: the one setting; this process reads it too (catalogue, areas).
    monkeypatch.setenv("IOC_PROVINCE", seed.code)
    url = asyncio.run(_database(postgres.address))  # type: ignore[attr-defined]
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9",  # the board needs no broker here
        database_url=url,
        state_dir=tmp_path / "state",
    )
    registry = load_areas()
    today = local_today()
    province = registry.as_of(today).province
    assert province.code == seed.code
    communes = registry.children(seed.code, today)
    with_data = [c.code for c in communes[:3]]
    key = asyncio.run(_seed(url, settings, with_data))

    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            with running_api(settings, tmp_path / "logs", IOC_PROVINCE=seed.code) as api:
                context = browser.new_context(
                    viewport={"width": 1440, "height": 900}, timezone_id="UTC", locale="vi-VN"
                )
                page = context.new_page()
                page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
                page.on(
                    "console",
                    lambda msg: (
                        problems.append(f"console {msg.type}: {msg.text}")
                        if msg.type == "error"
                        else None
                    ),
                )
                page.goto(api.url)
                page.get_by_label("Khóa API").fill(key)
                page.get_by_role("button", name="Đăng nhập").click()
                expect(page.locator("[data-role=user-name]")).to_have_text(KEY_NAME)

                # The province's name heads the overview.
                expect(page.locator("[data-role=heading]").first).to_contain_text(province.name_vi)

                # Every commune of the province on the map; those with data are not "no data".
                expect(page.locator("[data-role=map-svg]")).to_be_visible()
                expect(page.locator("[data-map-area]")).to_have_count(len(communes))
                drawn = set(
                    page.eval_on_selector_all(
                        "[data-map-area]", "els => els.map(e => e.dataset.mapArea)"
                    )
                )
                assert drawn == {c.code for c in communes}
                for code in with_data:
                    item = page.locator(f"[data-map-area='{code}']")
                    expect(item).not_to_have_class("status-no_data")
                # The overlay's population (Hưng Yên has one) is marked as an estimate.
                estimated = [c for c in communes if c.population is not None and c.estimated]
                if estimated:
                    label = page.locator(f"[data-map-area='{estimated[0].code}']")
                    expect(label).to_have_attribute("aria-label", re.compile(".*ước tính.*"))

                # The tile's target, its source and deadline from the province's catalogue.
                tile = page.locator(f"article.tile[data-kpi='{seed.kpi}']")
                expect(tile).to_be_visible()
                expect(tile.locator("[data-role=value]")).to_have_text("80,0\u00a0%")
                expect(tile.locator(".tile-facts")).to_contain_text(seed.target_text)
                expect(tile.locator(".tile-source")).to_contain_text(seed.source_text)

                # A reported result beside the live value, marked when it is an estimate.
                if seed.reported_kpi is not None:
                    reported = page.locator(
                        f"article.tile[data-kpi='{seed.reported_kpi}'] [data-role=reported]"
                    )
                    expect(reported).to_contain_text("Đã báo cáo")
                    expect(reported).to_contain_text(seed.reported_text or "")
                    mark = reported.locator(".estimate-mark")
                    expect(mark).to_have_count(1 if seed.reported_estimate else 0)
                    if seed.reported_estimate:
                        expect(mark).to_have_text("ước tính")
                    reported.scroll_into_view_if_needed()
                else:
                    expect(page.locator("[data-role=reported]")).to_have_count(0)
                page.locator("#panel-map").scroll_into_view_if_needed()
                _shot(page, f"{seed.slug}-vi")
                page.get_by_role("button", name="Switch the board to English").click()
                if seed.reported_estimate:
                    expect(page.locator(".estimate-mark").first).to_have_text("estimate")
                _shot(page, f"{seed.slug}-en")
        finally:
            browser.close()
    assert not problems, problems
