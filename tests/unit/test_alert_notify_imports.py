"""The alert and notify runtime has no import cycle, lazy imports included.

A cycle hidden behind a function-local import (as `digest` ↔ `outbox` once was) works until
someone moves the import; so the graph is read from the source, every `import` statement
counted wherever it stands, and each module is also imported first in a fresh interpreter.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import ioc

pytestmark = pytest.mark.unit

ROOT = Path(ioc.__file__).parent
WATCHED = ("ioc.alerts", "ioc.notify", "ioc.services")


def _modules() -> dict[str, Path]:
    """Module name → file, for every module of the watched packages."""
    out: dict[str, Path] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = ("ioc", *path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(parts)
        if name.startswith(WATCHED):
            out[name] = path
    return out


def _imports(path: Path, known: set[str]) -> set[str]:
    """The watched modules `path` imports, at module level or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from ioc.alerts import store` imports the module ioc.alerts.store.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            names = [n for n in names if n in known] or [node.module]
            if len(names) > 1 and node.module in names:
                names.remove(node.module)  # the package itself only as the way there
        else:
            continue
        found |= {n for n in names if n in known}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` (its modules in order), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph[node]):
            if found := visit(nxt, [*path, node]):
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        if found := visit(start, []):
            return found
    return None


def test_the_alert_and_notify_modules_import_each_other_without_a_cycle() -> None:
    modules = _modules()
    assert {"ioc.notify.notifier", "ioc.alerts.judge", "ioc.services"} <= set(modules)
    graph = {name: _imports(path, set(modules)) - {name} for name, path in modules.items()}
    # A package's __init__ re-exports its modules; a module reaching its package is the cycle.
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_the_cycle_this_test_guards_against() -> None:
    graph = {"digest": {"outbox"}, "outbox": {"digest", "channels"}, "channels": set()}
    assert _cycle(graph) == ["digest", "outbox", "digest"]
    del graph["outbox"]
    graph["digest"] = {"channels"}
    assert _cycle(graph) is None


@pytest.mark.parametrize("module", sorted(_modules()))
def test_each_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
