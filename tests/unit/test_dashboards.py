"""The boards as built: reproducible, committed, stable, in Vietnamese, driven by the catalogue."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from ioc.config import load_settings
from ioc.dashboards import (
    BOARDS,
    DATASOURCE_UID,
    BoardContext,
    build_all,
    context_from_settings,
    render,
)
from ioc.dashboards.cli import app
from ioc.dashboards.push import STAMP_KEY, content_hash, datasource_model
from ioc.dashboards.role import scram_sha256_verifier
from ioc.kpis import load_kpis
from ioc.kpis.catalogue import catalogue_file_for
from ioc.localtime import ZONE_NAME

REPO = Path(__file__).resolve().parents[2]
SHIPPED = BoardContext(load_kpis(), 60)
VIETNAMESE = re.compile(
    r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]", re.I
)


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_building_twice_gives_the_committed_bytes() -> None:
    first = {uid: render(b) for uid, b in build_all(SHIPPED).items()}
    second = {uid: render(b) for uid, b in build_all(SHIPPED).items()}
    assert first == second
    # The committed boards are the shipped feeds' alone; this venv also has the test plug-ins'
    # feeds (air), so they are compared in a process that reads no plug-in's feeds.
    checked = subprocess.run(
        [sys.executable, "-m", "ioc", "dashboards", "build", "--check"],
        env=os.environ | {"IOC_FEEDS_PLUGINS": "none"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, (
        "dashboards/json/ differs from the boards the code and the shipped KPI catalogue give: "
        "run `IOC_FEEDS_PLUGINS=none ioc dashboards build` and commit the result\n"
        + checked.stdout
        + checked.stderr
    )


def test_every_board_is_stable_local_vietnamese_and_described_in_english() -> None:
    boards = build_all(SHIPPED)
    assert list(boards) == list(BOARDS)
    for uid, board in boards.items():
        assert board["uid"] == uid and uid.startswith("ioc-")
        assert board["timezone"] == ZONE_NAME
        assert "ioc" in board["tags"] and board["editable"] is False
        ids = [p["id"] for p in board["panels"]]
        assert ids == list(range(1, len(ids) + 1)), f"{uid}: panel ids must be 1..n in order"
        for item in [board, *board["panels"]]:
            assert VIETNAMESE.search(item["title"]), f"{uid}: title not Vietnamese: {item['title']}"
        for item in [board, *_panels(board)]:
            text = item.get("description", "")
            # A KPI's legal source is quoted as published (e.g. "QĐ 942/QĐ-TTg"), in Vietnamese.
            letters = [c for c in text.split("source:")[0] if c.isalpha()]
            english = sum(c.isascii() for c in letters) / max(len(letters), 1)
            assert text and english > 0.97, f"{uid}: description not in English: {text!r}"
        for panel in _panels(board):
            assert panel["datasource"]["uid"] == DATASOURCE_UID
            (target,) = panel["targets"]
            assert target["datasource"]["uid"] == DATASOURCE_UID and target["rawSql"].strip()
            expected = "time_series" if panel["type"] == "timeseries" else "table"
            assert target["format"] == expected, f"{uid}: {panel['title']}"
            assert panel["maxDataPoints"] and panel["interval"] == "1m"
        (link,) = board["links"]
        assert (link["type"], link["tags"], link["includeVars"], link["keepTime"]) == (
            "dashboards",
            ["ioc"],
            True,
            True,
        )


def test_links_between_boards_point_at_boards_that_exist() -> None:
    boards = build_all(SHIPPED)
    text = json.dumps(boards)
    targets = set(re.findall(r"/d/(ioc-[\w$\{\}.]+)\?", text))
    feeds = {f"ioc-{feed}" for feed in SHIPPED.feeds()}
    for target in targets:
        if target == "ioc-${__data.fields.feed}":
            assert feeds <= set(boards)  # the KPI table links to the board of each KPI's feed
        else:
            assert target in boards, f"a link points at a board that does not exist: {target}"
    assert "ioc-alerts" in targets and "ioc-dvc" in targets


def test_area_variables_drill_from_province_to_commune_in_both_shapes() -> None:
    for board in build_all(SHIPPED).values():
        names = [v["name"] for v in board["templating"]["list"]]
        assert names[:3] == ["province", "district", "area"]
        province, district, area = board["templating"]["list"][:3]
        assert "'$province'" in district["query"] and "'$district'" in area["query"]
        for variable in (province, district, area):
            assert variable["refresh"] == 2  # options follow the time range (valid_from/to)
            assert variable["multi"] is False and variable["includeAll"] is False
        for panel in _panels(board):
            sql = panel["targets"][0]["rawSql"]
            if "areas" not in sql and "area_ancestors" not in sql:
                assert "'$area'" in sql, f"{panel['title']} ignores the chosen area"


def _stat(boards: dict[str, Any], uid: str, kpi: str) -> dict[str, Any]:
    return next(
        p
        for p in boards[uid]["panels"]
        if p["type"] == "stat" and f"'{kpi}'" in p["targets"][0]["rawSql"]
    )


def test_targets_and_thresholds_come_from_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = build_all(SHIPPED)
    steps = _stat(shipped, "ioc-dvc", "dvc_full_online_dossier_rate")["fieldConfig"]["defaults"][
        "thresholds"
    ]["steps"]
    assert [(s["color"], s["value"]) for s in steps] == [
        ("red", None),
        ("orange", 0.75),
        ("green", 0.8),
    ]
    untargeted = _stat(shipped, "ioc-payment", "payment_cashless_share")
    assert [s["color"] for s in untargeted["fieldConfig"]["defaults"]["thresholds"]["steps"]] == [
        "blue"
    ]

    catalogue = yaml.safe_load((REPO / "ioc/data/kpis.yaml").read_text(encoding="utf-8"))
    for kpi in catalogue["kpis"]:
        if kpi["id"] == "dvc_full_online_dossier_rate":
            kpi["target"]["value"] = 0.85
    path = tmp_path / "kpis.yaml"
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("IOC_ALERTS__KPIS_FILE", str(path))
    changed = build_all(context_from_settings(load_settings()))
    green = _stat(changed, "ioc-dvc", "dvc_full_online_dossier_rate")["fieldConfig"]["defaults"][
        "thresholds"
    ]["steps"][-1]
    assert green == {"color": "green", "value": 0.85}
    overview = json.dumps(changed["ioc-overview"])
    assert "0.85::float8" in overview and "Target: 85 % by 2025-12-31" in overview
    # Against the boards of the unchanged national catalogue (the shipped default is Hưng Yên's,
    # which adds its reported results to the national one).
    national = build_all(BoardContext(load_kpis(catalogue_file_for(None)), 60))
    assert {uid for uid in changed if render(changed[uid]) != render(national[uid])} == {
        "ioc-overview",
        "ioc-dvc",
    }

    result = CliRunner().invoke(app, ["build", "--check"])
    assert result.exit_code == 1
    assert "ioc-dvc.json" in result.output and "ioc dashboards build" in result.output


def test_build_writes_stable_files_and_removes_stale_ones(tmp_path: Path) -> None:
    (tmp_path / "old-board.json").write_text("{}", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["build", "--out", str(tmp_path)]).exit_code == 0
    first = {p.name: p.read_bytes() for p in tmp_path.glob("*.json")}
    assert set(first) == {f"{uid}.json" for uid in BOARDS}
    again = runner.invoke(app, ["build", "--out", str(tmp_path)])
    assert again.exit_code == 0 and "0 changed, 0 removed" in again.output
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.json")} == first
    assert runner.invoke(app, ["build", "--check", "--out", str(tmp_path)]).exit_code == 0
    assert json.loads(first["ioc-overview.json"])["uid"] == "ioc-overview"


def test_catalogue_text_grafana_would_read_as_a_variable_is_refused(tmp_path: Path) -> None:
    catalogue = yaml.safe_load((REPO / "ioc/data/kpis.yaml").read_text(encoding="utf-8"))
    catalogue["kpis"][0]["name_vi"] = "Tỷ lệ $area"
    path = tmp_path / "kpis.yaml"
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="Grafana reads as a variable"):
        build_all(BoardContext(load_kpis(path), 60))


def test_a_kpi_of_a_feed_without_a_board_is_refused(tmp_path: Path) -> None:
    catalogue = yaml.safe_load((REPO / "ioc/data/kpis.yaml").read_text(encoding="utf-8"))
    kpis = load_kpis()
    odd = kpis.get("camera_online_rate").model_copy(update={"feed": "parking", "id": "parking_x"})
    from ioc.kpis import KpiCatalogue

    with pytest.raises(ValueError, match="has no board"):
        build_all(BoardContext(KpiCatalogue([*kpis, odd]), 60))
    assert catalogue  # the shipped file itself is untouched


def test_the_provisioned_datasource_is_the_one_push_creates() -> None:
    provisioned = yaml.safe_load(
        (REPO / "deploy/grafana/provisioning/datasources/ioc.yaml").read_text(encoding="utf-8")
    )["datasources"][0]
    settings = load_settings(
        database={"sslmode": "disable"}, grafana={"database_host": "timescaledb:5432"}
    )
    model = datasource_model(settings, "postgresql://ioc:x@db.internal:5432/ioc")
    for key in ("uid", "name", "type", "access", "url", "user", "isDefault"):
        assert provisioned[key] == model[key], key
    assert provisioned["jsonData"] == model["jsonData"]
    assert provisioned["secureJsonData"] == {"password": "$IOC_GRAFANA_DB_PASSWORD"}
    default_host = datasource_model(load_settings(), "postgresql://ioc:x@db.internal:6543/ioc")
    assert default_host["url"] == "db.internal:6543"


def test_content_hash_ignores_what_grafana_sets_and_the_stamp() -> None:
    board = build_all(SHIPPED)["ioc-camera"]
    stored = {**board, "id": 42, "version": 7, STAMP_KEY: {"sha256": "x"}}
    assert content_hash(stored) == content_hash(board)
    assert content_hash({**board, "title": "Khác"}) != content_hash(board)


def test_scram_verifier_matches_the_rfc_7677_example() -> None:
    # RFC 7677, section 3: user "user", password "pencil".
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    verifier = scram_sha256_verifier("pencil", salt)
    head, keys = verifier.rsplit("$", 1)
    assert head == "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=="
    stored_key, server_key = (base64.b64decode(k) for k in keys.split(":"))
    auth_message = (
        b"n=user,r=rOprNGfwEbeRWgbNEkqO,"
        b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    server_signature = hmac.new(server_key, auth_message, hashlib.sha256).digest()
    assert (
        base64.b64encode(server_signature).decode()
        == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
    )
    # The server's check of the client's proof: SHA-256(proof XOR signature) == StoredKey.
    proof = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    signature = hmac.new(stored_key, auth_message, hashlib.sha256).digest()
    client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
    assert hashlib.sha256(client_key).digest() == stored_key
    with pytest.raises(ValueError, match="ASCII"):
        scram_sha256_verifier("mật khẩu")
