"""constraints.txt pins every dependency pyproject.toml declares, inside its range.

CI (Makefile) and the image (Dockerfile) install with `-c constraints.txt`, so a new
dependency, or a range moved past its pin, must come with a regenerated file (its header
says how).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not NAME==VERSION"
            pins[canonicalize_name(name)] = version
    return pins


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"]]
    for extra in ("embedded", "grafana", "dev"):  # what CI and the image install
        declared += extras[extra]
    pins = _pins()
    wrong = []
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name == "ioc-monitor":
            continue  # an extra of our own (dev includes grafana)
        if name not in pins:
            wrong.append(f"{req.name}: not pinned")
        elif not req.specifier.contains(pins[name], prereleases=True):
            wrong.append(f"{req.name}: pinned {pins[name]}, outside {req.specifier}")
    assert not wrong, "regenerate constraints.txt (see its header):\n" + "\n".join(wrong)


def test_ci_and_the_image_install_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    # The product's venv; the benchmark's own (.venv-bench) needs an older pydantic.
    installs = [
        line for line in makefile.splitlines() if "$(BIN)/pip install" in line and " -e " in line
    ]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-c constraints.txt" in dockerfile
