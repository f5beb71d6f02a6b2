"""Made-up methods and paths cannot grow the API's metrics: every label comes from a fixed set."""

from __future__ import annotations

import httpx

from ioc.api.app import create_app
from ioc.api.metrics import REQUEST_SECONDS
from ioc.config import load_settings


def _label_sets() -> set[tuple[str, ...]]:
    return {
        tuple(sorted(sample.labels.items()))
        for family in REQUEST_SECONDS.collect()
        for sample in family.samples
        if sample.name.endswith("_count")
    }


async def test_invented_methods_and_paths_add_no_label_sets() -> None:
    # No lifespan: /healthz and refusals need no database.
    app = create_app(load_settings())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ioc") as client:
        assert (await client.get("/healthz")).status_code == 200
        before = _label_sets()
        for i in range(300):
            await client.request(f"XABCD{i}", "/healthz")
            await client.get(f"/made-up/{i}")
            await client.request(f"Q{i}", f"/api/v1/alerts/{i}")
    grown = _label_sets() - before
    methods = {dict(labels)["method"] for labels in grown}
    routes = {dict(labels)["route"] for labels in grown}
    assert methods <= {"other", "GET"}
    assert routes <= {"/healthz", "unmatched", "/alerts/{alert_id}"}  # templates, not paths
    assert len(grown) <= 6
