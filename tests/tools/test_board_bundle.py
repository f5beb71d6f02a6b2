"""The committed live board (`ioc/api/board/dist/`) is exactly what its sources build.

`make up` needs no npm because `dist/` is checked in; this test keeps it honest. It installs the
pinned packages (`npm ci`, from package-lock.json) once per lock file into
`~/.cache/ioc-monitor/board-npm/<lock digest>/`, copies the sources beside them, builds into a
temporary folder and compares every file byte for byte. Without npm it skips, except under
`CI=true`, where it fails.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

BOARD = Path(__file__).resolve().parents[2] / "ioc" / "api" / "board"
SOURCES = ("package.json", "package-lock.json", "build.mjs", "tsconfig.json", "src")
FIX = "run `npm run build` in ioc/api/board and commit dist/"


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None:
        message = "npm is not installed: the board's dist/ cannot be rebuilt and compared"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: install Node.js and npm)")
        pytest.skip(message)
    return npm


def _run(argv: list[str], cwd: Path, timeout: float = 240) -> None:
    result = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, (
        f"{' '.join(argv)} failed in {cwd} (exit {result.returncode}):\n"
        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    """The board's sources next to a `node_modules` installed from its lock file."""
    npm = _npm()
    lock = (BOARD / "package-lock.json").read_bytes()
    cache = Path.home() / ".cache" / "ioc-monitor" / "board-npm"
    work = cache / hashlib.sha256(lock).hexdigest()[:16]
    if not (work / "node_modules" / ".package-lock.json").is_file():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        shutil.copy2(BOARD / "package.json", work)
        shutil.copy2(BOARD / "package-lock.json", work)
        # No install scripts: esbuild's binary comes in its platform package.
        _run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], work)
    for name in SOURCES:
        target = work / name
        if target.is_dir():
            shutil.rmtree(target)
        source = BOARD / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    yield work


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_committed_dist_is_what_the_sources_build(workdir: Path, tmp_path: Path) -> None:
    node = shutil.which("node")
    assert node is not None, "npm is installed but node is not on PATH"
    built = tmp_path / "dist"
    _run([node, "build.mjs", str(built)], workdir)
    fresh, committed = _files(built), _files(BOARD / "dist")
    missing = sorted(set(fresh) - set(committed))
    extra = sorted(set(committed) - set(fresh))
    differ = sorted(n for n in set(fresh) & set(committed) if fresh[n] != committed[n])
    assert not (missing or extra or differ), (
        f"ioc/api/board/dist/ is not what its sources build: missing {missing}, "
        f"left over {extra}, different {differ}; {FIX}"
    )
    # What the API serves and the CSP expects: one script, one stylesheet, fonts from npm.
    assert {"index.html", "app.js", "app.css"} <= set(committed)
    html = committed["index.html"].decode()
    assert "<script src=" in html and "<script>" not in html and "style=" not in html


def test_sources_type_check(workdir: Path) -> None:
    node = shutil.which("node")
    assert node is not None
    _run([node, "node_modules/typescript/bin/tsc", "--noEmit", "-p", "tsconfig.json"], workdir)


def test_dist_loads_nothing_from_elsewhere() -> None:
    """No CDN at run time: the bundle names no http(s) URL it would fetch."""
    for name in ("index.html", "app.css"):
        text = (BOARD / "dist" / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, name
    js = (BOARD / "dist" / "app.js").read_text(encoding="utf-8")
    assert "//cdn" not in js and "fonts.googleapis" not in js
