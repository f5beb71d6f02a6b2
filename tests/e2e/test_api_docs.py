"""`/docs`, the API's reference page, in Chromium under the API's Content-Security-Policy.

The page is ours (ioc/api/docs/): it reads `/openapi.json` and writes every operation and
schema out. Checks: it loads nothing from elsewhere and breaks no CSP rule (no console
error, no page error), shows every operation of the document, and a problem's `type` link
opens its explanation page. The screenshot lands in test-artifacts/api-docs/.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import httpx

from ioc.config import load_settings
from tests._api import running_api
from tests.e2e.test_board_browser import CHROMIUM_ARGS, _chromium, _playwright

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "api-docs"


async def _database(address: str) -> str:
    name = f"api_docs_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(address)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return f"{address.rpartition('/')[0]}/{name}"


def test_docs_render_every_operation_under_the_csp(postgres: object, tmp_path: Path) -> None:
    chromium = _chromium()
    _playwright()
    from playwright.sync_api import expect, sync_playwright

    url = asyncio.run(_database(postgres.address))  # type: ignore[attr-defined]
    settings = load_settings(
        kafka_bootstrap="127.0.0.1:9", database_url=url, state_dir=tmp_path / "state"
    )
    with running_api(settings, tmp_path / "logs") as api:
        document = httpx.get(api.url + "/openapi.json").json()
        operations = [
            op["operationId"] for item in document["paths"].values() for op in item.values()
        ]
        problems: list[str] = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
            page.on(
                "console",
                lambda msg: problems.append(msg.text) if msg.type == "error" else None,
            )
            outside: list[str] = []
            page.on(
                "request",
                lambda r: outside.append(r.url) if not r.url.startswith(api.url) else None,
            )
            response = page.goto(api.url + "/docs")
            assert (
                response is not None
                and "script-src 'self'" in response.headers["content-security-policy"]
            )
            expect(page.locator("details.op")).to_have_count(len(operations))
            for operation in ("kpis_current", "stream", "acknowledge"):
                expect(page.locator(f"#op-{operation}")).to_be_visible()
            page.locator("#op-kpis_current > summary").click()
            expect(page.locator("#op-kpis_current")).to_contain_text("KpisCurrent")
            expect(page.locator("#schema-Problem")).to_contain_text("detail")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "docs.png"))
            # A problem's type is a link that opens: here an unknown area's.
            problem = httpx.get(
                api.url + "/api/v1/me", headers={"Authorization": "Bearer nope"}
            ).json()
            page.goto(
                api.url + problem["type"] if problem["type"].startswith("/") else problem["type"]
            )
            expect(page.locator("h1")).to_have_text("unauthorized")
            expect(page.locator("body")).to_contain_text("Thiếu khóa API")
            page.screenshot(path=str(ARTIFACTS / "problem.png"))
            browser.close()
        assert problems == [] and outside == [], (problems, outside)
