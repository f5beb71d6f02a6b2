"""`ioc dashboards push` against a contract stand-in of Grafana's HTTP API — not Grafana.

No Grafana server can be installed on these machines, so the push runs through the real
grafana-client over HTTP against tests/_grafana_standin.py, which implements only the
endpoints the push calls, with the status codes Grafana documents (401 bad credentials,
404 not found, 409 datasource conflicts, 412 dashboard version mismatch). This proves the
push's own logic — created once, unchanged on a second push, a hand-edited board refused
without --force — and its requests; that a real Grafana accepts and renders what is pushed
is left to the docker compose path (README, "Grafana boards").
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from ioc.config import Settings, get_settings, load_settings
from ioc.dashboards import FOLDER_UID, build_all, context_from_settings
from ioc.dashboards.cli import app
from ioc.dashboards.push import (
    STAMP_KEY,
    Change,
    PushError,
    connect,
    content_hash,
    datasource_model,
    push,
)
from tests._grafana_standin import StandIn, running

DATABASE_URL = "postgresql://ioc:secret@timescaledb:5432/ioc"
PASSWORD = "grafana-reader-password"


@pytest.fixture
def grafana() -> Iterator[StandIn]:
    with running() as state:
        yield state


def _settings(grafana: StandIn, **grafana_settings: object) -> Settings:
    return load_settings(
        database_url=DATABASE_URL,
        database={"grafana_password": PASSWORD},
        grafana={"url": grafana.url, "token": grafana.token, **grafana_settings},
    )


def _push(grafana: StandIn, settings: Settings | None = None, force: bool = False) -> list[Change]:
    settings = settings or _settings(grafana)
    return push(
        connect(settings),
        build_all(context_from_settings(settings)),
        datasource_model(settings, DATABASE_URL),
        password=PASSWORD,
        force=force,
    )


def _actions(changes: list[Change]) -> dict[str, str]:
    return {c.uid: c.action for c in changes}


def test_first_push_creates_everything_and_a_second_changes_nothing(grafana: StandIn) -> None:
    boards = build_all(context_from_settings(_settings(grafana)))
    first = _push(grafana)
    assert _actions(first) == {"ioc": "created", "ioc-timescaledb": "created"} | {
        uid: "created" for uid in boards
    }
    assert grafana.folders[FOLDER_UID]["title"] == "IOC"
    source = grafana.datasources["ioc-timescaledb"]
    assert (source["type"], source["user"], source["url"]) == (
        "grafana-postgresql-datasource",
        "ioc_grafana",
        "timescaledb:5432",
    )
    assert source["jsonData"]["database"] == "ioc" and source["jsonData"]["timescaledb"] is True
    assert grafana.passwords["ioc-timescaledb"] == PASSWORD
    for uid, board in boards.items():
        stored = grafana.dashboards[uid]
        assert stored["meta"]["folderUid"] == FOLDER_UID
        assert content_hash(stored["dashboard"]) == content_hash(board)
        assert stored["dashboard"][STAMP_KEY]["sha256"] == content_hash(board)

    grafana.requests.clear()
    second = _push(grafana)
    assert set(_actions(second).values()) == {"unchanged"}
    assert grafana.writes() == []  # only GETs: nothing was saved again
    assert all(v == 1 for v in (d["dashboard"]["version"] for d in grafana.dashboards.values()))


def test_a_board_changed_by_hand_is_kept_unless_forced(grafana: StandIn) -> None:
    _push(grafana)
    # An operator edits the DVC board in Grafana's editor and saves it (version 1 → 2).
    edited = copy.deepcopy(grafana.dashboards["ioc-dvc"]["dashboard"])
    edited["panels"][1]["title"] = "Tiêu đề sửa tay"
    grafana.save_dashboard(edited, FOLDER_UID, "operator", "sửa tay")

    changes = _push(grafana)
    refused = [c for c in changes if c.action == "refused"]
    assert [c.uid for c in refused] == ["ioc-dvc"]
    assert "version 2, by operator" in refused[0].detail and "--force" in refused[0].detail
    assert grafana.dashboards["ioc-dvc"]["dashboard"]["panels"][1]["title"] == "Tiêu đề sửa tay"
    assert {c.action for c in changes if c.uid != "ioc-dvc"} == {"unchanged"}

    # A save from the editor that drops the stamp is a hand edit too.
    bare = copy.deepcopy(grafana.dashboards["ioc-camera"]["dashboard"])
    del bare[STAMP_KEY]
    grafana.save_dashboard(bare, FOLDER_UID, "operator")
    assert _actions(_push(grafana))["ioc-camera"] == "refused"

    forced = _actions(_push(grafana, force=True))
    assert (forced["ioc-dvc"], forced["ioc-camera"]) == ("replaced", "replaced")
    boards = build_all(context_from_settings(_settings(grafana)))
    assert content_hash(grafana.dashboards["ioc-dvc"]["dashboard"]) == content_hash(
        boards["ioc-dvc"]
    )
    assert set(_actions(_push(grafana)).values()) == {"unchanged"}


def test_a_new_target_updates_only_the_boards_that_show_it(
    grafana: StandIn, tmp_path: Path
) -> None:
    _push(grafana)
    catalogue = yaml.safe_load((Path("ioc/data/kpis.yaml")).read_text(encoding="utf-8"))
    for kpi in catalogue["kpis"]:
        if kpi["id"] == "camera_online_rate":
            kpi["target"]["value"] = 0.97
    (tmp_path / "kpis.yaml").write_text(yaml.safe_dump(catalogue, allow_unicode=True), "utf-8")
    # The shipped boards are the default province's (Hưng Yên: the national catalogue plus its
    # reported results): the same overlay over the changed national file.
    province = Path("ioc/data/provinces/hung-yen/kpis.yaml").read_text(encoding="utf-8")
    path = tmp_path / "hung-yen.yaml"
    path.write_text(province.replace("extends: national", "extends: kpis.yaml"), "utf-8")
    settings = _settings(grafana).model_copy(
        update={"alerts": load_settings(alerts={"kpis_file": path}).alerts}
    )
    grafana.requests.clear()
    changes = _actions(_push(grafana, settings))
    assert {uid for uid, action in changes.items() if action == "updated"} == {
        "ioc-overview",
        "ioc-camera",
    }
    assert {a for uid, a in changes.items() if uid not in ("ioc-overview", "ioc-camera")} == {
        "unchanged"
    }
    # Updated in place: the live version was sent, so Grafana could refuse a concurrent edit.
    assert grafana.dashboards["ioc-camera"]["dashboard"]["version"] == 2
    assert grafana.messages["ioc-camera"][-1].startswith("ioc dashboards push: build ")


def test_an_edit_made_while_pushing_is_refused_by_grafana_with_412(grafana: StandIn) -> None:
    _push(grafana)
    for uid in ("ioc-alerts",):
        stored = grafana.dashboards[uid]["dashboard"]
        stored["refresh"] = "5m"  # a stale build on the live side: the push wants to update
        stored[STAMP_KEY]["sha256"] = content_hash(stored)
    grafana.edit_before_next_save.add("ioc-alerts")
    changes = _actions(_push(grafana))
    assert changes["ioc-alerts"] == "refused"
    assert grafana.dashboards["ioc-alerts"]["dashboard"]["title"].endswith("(sửa tay)")


def test_datasource_password_and_provisioned_datasources(grafana: StandIn) -> None:
    _push(grafana)
    grafana.passwords.clear()  # e.g. created by hand without a password
    assert _actions(_push(grafana))["ioc-timescaledb"] == "updated"
    assert grafana.passwords["ioc-timescaledb"] == PASSWORD
    assert _actions(_push(grafana))["ioc-timescaledb"] == "unchanged"
    assert _actions(_push(grafana, force=True))["ioc-timescaledb"] == "updated"  # rotation
    grafana.datasources["ioc-timescaledb"]["readOnly"] = True
    grafana.datasources["ioc-timescaledb"]["url"] = "elsewhere:5432"
    kept = [c for c in _push(grafana) if c.kind == "datasource"]
    assert kept[0].action == "kept" and "provisioning" in kept[0].detail
    assert grafana.datasources["ioc-timescaledb"]["url"] == "elsewhere:5432"


def test_bad_credentials_stop_the_push_with_what_to_do(grafana: StandIn) -> None:
    settings = _settings(grafana).model_copy(
        update={"grafana": _settings(grafana, token="wrong-token").grafana}
    )
    with pytest.raises(PushError, match=r"refused the credentials \(401\).*IOC_GRAFANA__TOKEN"):
        _push(grafana, settings)
    basic = load_settings(
        database_url=DATABASE_URL,
        grafana={"url": grafana.url, "username": "admin", "password": "admin-password"},
    )
    changes = push(connect(basic), {}, None)
    assert _actions(changes) == {"ioc": "created"}
    with pytest.raises(PushError, match="No Grafana credentials"):
        connect(load_settings(grafana={"url": grafana.url}))
    nowhere = load_settings(grafana={"url": "http://127.0.0.1:1", "token": grafana.token})
    with pytest.raises(PushError, match=r"cannot reach Grafana.*IOC_GRAFANA__URL"):
        push(connect(nowhere), {}, None)


def test_the_command_reports_and_exits_1_on_a_refused_board(
    grafana: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "IOC_GRAFANA__URL": grafana.url,
        "IOC_GRAFANA__TOKEN": grafana.token,
        "IOC_DATABASE_URL": DATABASE_URL,
        "IOC_DATABASE__GRAFANA_PASSWORD": PASSWORD,
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    first = runner.invoke(app, ["push"])
    assert first.exit_code == 0, first.output
    assert "created" in first.output and grafana.token not in first.output
    assert PASSWORD not in first.output
    edited = copy.deepcopy(grafana.dashboards["ioc-overview"]["dashboard"])
    edited["title"] = "Tổng quan (sửa tay)"
    grafana.save_dashboard(edited, FOLDER_UID, "operator")
    refused = runner.invoke(app, ["push"])
    assert refused.exit_code == 1 and "refused" in refused.output
    forced = runner.invoke(app, ["push", "--force"])
    assert forced.exit_code == 0 and "replaced" in forced.output
    monkeypatch.setenv("IOC_GRAFANA__TOKEN", "wrong")
    get_settings.cache_clear()  # the command reads the settings once per process
    denied = runner.invoke(app, ["push"])
    assert denied.exit_code == 1 and "401" in denied.output
