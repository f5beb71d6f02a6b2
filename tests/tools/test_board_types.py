"""The board's API types (`ioc/api/board/src/api.gen.ts`) are what the server's schema gives.

They are generated from the OpenAPI document by `gen-types.mjs` (openapi-typescript, pinned in
the board's package-lock.json). This test asks the app for the document it serves at
`/openapi.json`, regenerates the file with the pinned generator and compares it byte for byte
with the committed one; `tsc` (tests/tools/test_board_bundle.py) then checks the board uses
them right. A response model changed without regenerating fails here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ioc.api.app import create_app
from ioc.config import Settings
from tests.tools.test_board_bundle import BOARD, _run, workdir

__all__ = ["workdir"]  # the fixture: the board's sources beside its pinned node_modules

FIX = (
    "regenerate: python -c 'from ioc.api.openapi import print_document; print_document()' "
    "> /tmp/openapi.json && (cd ioc/api/board && node gen-types.mjs /tmp/openapi.json), "
    "then commit src/api.gen.ts"
)


def test_committed_types_are_generated_from_the_served_schema(
    workdir: Path, tmp_path: Path
) -> None:
    document = create_app(Settings()).openapi()  # what GET /openapi.json answers
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    shutil.copy2(BOARD / "gen-types.mjs", workdir)
    out = tmp_path / "api.gen.ts"
    _run(["node", "gen-types.mjs", str(schema), str(out)], workdir)
    committed = (BOARD / "src" / "api.gen.ts").read_text(encoding="utf-8")
    assert out.read_text(encoding="utf-8") == committed, FIX


def test_every_answer_and_error_has_a_schema() -> None:
    """Every 2xx answer and every declared error of /openapi.json has a schema or a media type."""
    document = create_app(Settings()).openapi()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                where = f"{method.upper()} {path} {status}"
                if status == "204":
                    assert "content" not in response, where
                    continue
                content = response.get("content")
                assert content, where
                if status.startswith(("4", "5")):
                    assert list(content) == ["application/problem+json"], where
                for media, body in content.items():
                    assert "schema" in body or "itemSchema" in body, f"{where} {media}"
                    if media == "application/json":
                        # A named model, not an open object: a client can type it.
                        assert "$ref" in body["schema"], where
