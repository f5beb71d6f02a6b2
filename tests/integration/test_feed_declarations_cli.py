"""A feed declaration with mistakes stops `ioc` at its start, every problem listed, no traceback.

The commands run as a user runs them (the installed `ioc`, in a child process) with
IOC_FEEDS_DIR pointing at a folder of the province's own declarations.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.unit.test_feed_plugin_declarations import BAD

IOC = shutil.which("ioc") or str(Path(sys.executable).parent / "ioc")

# A feed right in itself; the KPIs and rules added below are wrong against its metrics and the
# catalogue.
FEED = """\
feed: odour
name: {vi: Mùi, en: Odour}
events:
  odour.report:
    class: OdourReport
    doc: A citizen reports a smell.
    fields:
      strong: {type: bool}
    metrics:
      - {metric: odour.reports, doc: reports}
      - {metric: odour.strong, when: {strong: true}, doc: strong ones}
"""
ODOUR = (
    FEED
    + """\
kpis:
  - id: odour_strong_share
    name_vi: Tỷ lệ mùi nặng
    name_en: Share of strong odours
    numerator: odour.strongest
    denominator: odour.reports
    unit: percent
    direction: lower
    target: {value: 30, slo: true, source: Ví dụ}
  - id: payment_success_rate
    name_vi: Tỷ lệ phản ánh mùi
    name_en: Odour reports
    numerator: odour.strong
    denominator: odour.reports
    unit: percent
    direction: lower
"""
)
ODOUR_RULES = (
    FEED
    + """\
kpis:
  - {id: odour_share, name_vi: Tỷ lệ mùi nặng, name_en: Strong share, numerator: odour.strong,
     denominator: odour.reports, unit: percent, direction: lower}
alert_rules:
  - {id: odour_high, kind: threshold, kpi: odour_shares, above: 0.3, severity: warning}
  - {id: odour_silent, kind: no_data, feed: odor, severity: info}
"""
)


def _ioc(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOC_")}
    env |= {
        "IOC_FEEDS_DIR": str(folder),
        "IOC_STATE_DIR": str(folder / "state"),
        # Nothing listens here: a command that got past its start would fail differently.
        "IOC_DATABASE_URL": "postgresql://ioc@127.0.0.1:9/ioc",
        "IOC_KAFKA_BOOTSTRAP": "127.0.0.1:9",
    }
    return subprocess.run(
        [IOC, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def _folder(tmp_path: Path, name: str, text: str) -> tuple[Path, Path]:
    folder = tmp_path / "feeds"
    folder.mkdir()
    (folder / name).write_text(text, encoding="utf-8")
    return folder, folder / name


def test_every_command_refuses_a_declaration_with_mistakes_listing_each(tmp_path: Path) -> None:
    folder, path = _folder(tmp_path, "noise.yaml", BAD)
    for args in (["status"], ["kpis", "list"], ["connectors", "list"], ["up"]):
        result = _ioc(folder, *args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        out = " ".join(result.stderr.split())  # rich wraps long lines on narrow terminals
        assert "Feed declarations refused." in out
        for where in (
            f"{path}:16: events.noise.sample.fields.level_db.type: unknown type 'decibel'",
            f"{path}:17: events.noise.sample.fields.zone: written twice",
            f"{path}:20: events.noise.sample.metrics[1].when.zone: 'residential' is not a value",
            f"{path}:21: events.noise.sample.metrics[2].value: no field 'level'",
        ):
            assert where in out, (args, result.stderr)


def test_a_declarations_kpis_with_mistakes_are_refused_at_their_lines(tmp_path: Path) -> None:
    folder, path = _folder(tmp_path, "odour.yaml", ODOUR)
    result = _ioc(folder, "kpis", "list")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    out = " ".join(result.stderr.split())
    assert f"{path}:16: kpis[0].numerator (id odour_strong_share): unknown metric" in out
    assert f"{path}:20: kpis[0].target.value (id odour_strong_share): 30 is outside 0–1" in out
    assert (
        f"{path}:21: kpis[1].id (id payment_success_rate): id 'payment_success_rate' is used in "
        in out
    )
    assert "ioc/data/kpis.yaml too; every KPI needs its own id" in out


def test_the_alert_service_refuses_a_declarations_rules_at_their_lines(tmp_path: Path) -> None:
    folder, path = _folder(tmp_path, "odour.yaml", ODOUR_RULES)
    result = _ioc(folder, "alerts", "run")
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    out = " ".join(result.stderr.split())
    assert f"{path}:16: alert_rules[0].kpi (id odour_high): unknown KPI 'odour_shares'" in out
    assert f"{path}:17: alert_rules[1] (id odour_silent): a no_data rule needs feed:" in out
