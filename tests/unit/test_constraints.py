"""constraints.txt pins every dependency pyproject.toml declares, inside its range.

CI (Makefile) and the image (Dockerfile) install with `-c constraints.txt`, so a new
dependency, or a range moved past its pin, must come with a regenerated file (its header
says how). The benchmark's venv (`make bench`) installs with `-c bench/constraints.txt`, held
to the same rule for the `bench` extra, and to the product's versions except where a peer
forbids them.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


# What the peers forbid in the benchmark's venv (quixstreams: pydantic < 2.14; faust-streaming:
# click < 8.4): the only packages whose bench pin may differ from the product's.
BENCH_OWN_VERSIONS = {"pydantic", "pydantic-core", "pydantic-settings", "click"}


def _pins(file: str = "constraints.txt") -> dict[str, str]:
    pins = {}
    for line in (ROOT / file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{file}: {line!r} is not NAME==VERSION"
            pins[canonicalize_name(name)] = version
    return pins


def _outside(pins: dict[str, str], extras: tuple[str, ...]) -> list[str]:
    """Every dependency of the project and `extras` that `pins` misses or holds out of range."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"]]
    for extra in extras:
        declared += project["optional-dependencies"][extra]
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
    return wrong


def test_every_declared_dependency_is_pinned_within_its_range() -> None:
    wrong = _outside(_pins(), ("embedded", "grafana", "dev"))  # what CI and the image install
    assert not wrong, "regenerate constraints.txt (see its header):\n" + "\n".join(wrong)


def test_the_bench_venv_is_pinned_within_range_and_to_the_products_versions() -> None:
    bench = _pins("bench/constraints.txt")
    wrong = _outside(bench, ("embedded", "bench"))  # what `make bench` installs
    product = _pins()
    wrong += [
        f"{name}: {bench[name]} in bench/constraints.txt, {product[name]} in constraints.txt"
        for name in sorted((bench.keys() & product.keys()) - BENCH_OWN_VERSIONS)
        if bench[name] != product[name]
    ]
    assert not wrong, "regenerate bench/constraints.txt (see its header):\n" + "\n".join(wrong)


def test_ci_and_the_image_install_with_the_constraints() -> None:
    makefile = (ROOT / "Makefile").read_text()
    # The product's venv; the benchmark's own (.venv-bench) needs an older pydantic.
    installs = [
        line for line in makefile.splitlines() if "$(BIN)/pip install" in line and " -e " in line
    ]
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    bench = [line for line in makefile.splitlines() if "$(BENCH_VENV)/bin/pip install" in line]
    bench = [line for line in bench if " -e " in line]
    assert bench and all("-c bench/constraints.txt" in line for line in bench), bench
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "-c constraints.txt" in dockerfile
