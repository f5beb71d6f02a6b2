"""`ioc dashboards push` without the `grafana` extra: one clear message, nothing else breaks."""

from __future__ import annotations

import sys

import pytest
from typer.testing import CliRunner

from ioc.dashboards.cli import app


def test_push_without_grafana_client_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # None in sys.modules makes `import grafana_client…` raise ImportError, as when not installed.
    for name in [m for m in sys.modules if m.startswith("grafana_client")] + [
        "grafana_client",
        "grafana_client.api",
        "grafana_client.client",
    ]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setenv("IOC_GRAFANA__TOKEN", "glsa_test")
    result = CliRunner().invoke(app, ["push", "--no-datasource"], env={"COLUMNS": "200"})
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "grafana-client is not installed" in text
    assert "pip install 'ioc-monitor[grafana]'" in text
    assert "Traceback" not in result.output


def test_nothing_but_push_imports_grafana_client() -> None:
    import subprocess

    code = (
        "import sys, ioc.cli, ioc.api.app, ioc.dashboards, ioc.dashboards.cli, "
        "ioc.dashboards.push, ioc.streams.cli, ioc.connectors.cli; "
        "print(any(m.startswith(('grafana_client', 'niquests')) for m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
