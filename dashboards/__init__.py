"""Grafana boards as code (imported as ``ioc.dashboards``).

One module per board, each with a ``build(ctx)`` returning a grafana-foundation-sdk
dashboard; :func:`build_all` turns them into the JSON Grafana loads, with sorted keys and
stable uids and panel ids, so building twice gives the same bytes. The KPI tiles, targets and
colours come from the KPI catalogue (``IOC_ALERTS__KPIS_FILE``): change a target, run
``ioc dashboards build``, and the boards change with it.

Example:
    >>> from ioc.config import get_settings
    >>> from ioc.dashboards import build_all, context_from_settings
    >>> boards = build_all(context_from_settings(get_settings()))  # uid -> dashboard JSON
    >>> boards["ioc-overview"]["title"]
    'Tổng quan chuyển đổi số tỉnh'
"""

from __future__ import annotations

# The folder is importable from the repository root under its bare name too, and that would
# load a second copy of every module (a second `BoardContext` class, a second board registry).
if __name__ != "ioc.dashboards":
    raise ImportError(
        f"import ioc.dashboards, not {__name__}: the folder dashboards/ is the package "
        'ioc.dashboards (README, "Folders and import names")'
    )

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, Final

from grafana_foundation_sdk.builders import dashboard as builders
from grafana_foundation_sdk.cog.encoder import JSONEncoder

from ioc.config import Settings
from ioc.dashboards import alerts, camera, dvc, feedback, network, overview, payment
from ioc.dashboards._common import (
    DATASOURCE_NAME,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    FEED_BOARDS,
    FOLDER_TITLE,
    FOLDER_UID,
    READER_ROLE,
    BoardContext,
)
from ioc.dashboards._feed import declared_board
from ioc.dashboards._query import PostgresQuery, PostgresQueryBuilder
from ioc.feeds import feeds
from ioc.kpis import load_kpis

__all__ = [
    "BOARDS",
    "DATASOURCE_NAME",
    "DATASOURCE_TYPE",
    "DATASOURCE_UID",
    "FOLDER_TITLE",
    "FOLDER_UID",
    "JSON_DIR",
    "READER_ROLE",
    "BoardContext",
    "PostgresQuery",
    "PostgresQueryBuilder",
    "build_all",
    "context_from_settings",
    "render",
    "write_json",
]

Builder = Callable[[BoardContext], builders.Dashboard]

_DRAWN: Final[dict[str, Builder]] = {
    dvc.UID: dvc.build,
    payment.UID: payment.build,
    network.UID: network.build,
    camera.UID: camera.build,
    feedback.UID: feedback.build,
}
# The hand-made feed boards; every other declared feed gets the board its declaration draws.

BOARDS: Final[dict[str, Builder]] = {
    overview.UID: overview.build,
    **_DRAWN,
    **{
        FEED_BOARDS[f.feed]: partial(declared_board, declared=f, uid=FEED_BOARDS[f.feed])
        for f in feeds()
        if FEED_BOARDS[f.feed] not in _DRAWN
    },
    alerts.UID: alerts.build,
}
"""Every board by uid, in the order they are listed; the uid is what links and bookmarks use.
Each declared feed (`ioc.feeds`) has one: hand-made in dashboards/<feed>.py, or drawn from its
declaration."""

JSON_DIR: Final = Path(__file__).resolve().parent / "json"
"""Where ``ioc dashboards build`` writes the boards, and what Grafana's provisioning loads."""


def context_from_settings(settings: Settings) -> BoardContext:
    """The catalogue (``IOC_ALERTS__KPIS_FILE``) and window width the boards are built from."""
    return BoardContext(
        catalogue=load_kpis(settings.alerts.kpis_file),
        window_seconds=settings.streams.window_seconds,
    )


def _number_panels(board: dict[str, Any]) -> None:
    # Grafana keys panel state (links, viewPanel=) on the id: number in reading order, so a
    # board's ids only change when its panels do.
    next_id = 1
    for panel in board.get("panels", []):
        panel["id"] = next_id
        next_id += 1
        for inner in panel.get("panels", []):
            inner["id"] = next_id
            next_id += 1


def build_all(ctx: BoardContext) -> dict[str, dict[str, Any]]:
    """Build every board.

    Returns:
        Dashboard JSON (as Grafana stores it) by uid.

    Raises:
        ValueError: If the catalogue cannot be drawn (a KPI of a feed without a board, text
            Grafana would read as a variable); the message says what to change.
    """
    out: dict[str, dict[str, Any]] = {}
    for uid, build in BOARDS.items():
        board: dict[str, Any] = json.loads(json.dumps(build(ctx).build(), cls=JSONEncoder))
        if board.get("uid") != uid:
            raise ValueError(f"board {uid!r} was built with uid {board.get('uid')!r}")
        _number_panels(board)
        # Grafana's schema has a list here; Grafana adds its built-in annotations on load.
        board["annotations"] = board.get("annotations") or {"list": []}
        out[uid] = board
    return out


def render(board: dict[str, Any]) -> bytes:
    """Board JSON as committed and provisioned: sorted keys, 2-space indent, UTF-8, newline."""
    return (json.dumps(board, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write_json(boards: dict[str, dict[str, Any]], folder: Path) -> tuple[list[Path], list[Path]]:
    """Write ``<uid>.json`` per board and remove JSON files of boards that no longer exist.

    Returns:
        (files written or rewritten because they changed, stale files removed).
    """
    folder.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    for uid, board in boards.items():
        path = folder / f"{uid}.json"
        data = render(board)
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            changed.append(path)
    removed = [p for p in sorted(folder.glob("*.json")) if p.stem not in boards]
    for path in removed:
        path.unlink()
    return changed, removed
