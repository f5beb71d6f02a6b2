"""The outer folders import only under their package names (README, "Folders and import names")."""

import importlib
import sys
from pathlib import Path

import pytest

import ioc.connectors.base

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("module", ["connectors.base", "streams.worker", "dashboards"])
def test_a_bare_folder_name_is_refused_naming_the_right_import(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From the repository root the folders are importable as top-level packages: the guard in
    # each __init__ must stop that before a second copy of the modules loads.
    monkeypatch.syspath_prepend(str(REPO))
    folder = module.split(".")[0]
    with pytest.raises(ImportError, match=rf"^import ioc\.{folder}, not {folder}: "):
        importlib.import_module(module)
    assert module not in sys.modules
    assert folder not in sys.modules


def test_the_package_name_loads_the_one_connector_class() -> None:
    connectors = importlib.import_module("ioc.connectors")
    assert connectors.Connector is ioc.connectors.base.Connector
