"""Push the boards, their folder and the datasource to a Grafana server, idempotently.

Uses Grafana's HTTP API through grafana-client:

- folder: ``GET /api/folders/:uid``, created with ``POST /api/folders`` when missing;
- datasource: ``GET /api/datasources/uid/:uid``, ``POST /api/datasources`` when missing,
  ``PUT /api/datasources/uid/:uid`` (with its ``version``) when its settings differ; one
  provisioned from a file is read-only in Grafana and left as it is;
- boards: ``GET /api/dashboards/uid/:uid`` and ``POST /api/dashboards/db``.

A pushed board carries a stamp, ``iocBuild.sha256``: the hash of its own content (without
the ``id`` and ``version`` Grafana sets when it stores a board). On the
next push the live board is hashed again. Equal to its stamp: nobody changed it since, and it
is replaced only when the new build differs (posting the live ``version``, so an edit made in
between is refused by Grafana with 412 rather than lost). Different, or no stamp (a save from
Grafana's editor rebuilds the JSON without it): the board was changed by hand, and it is left
as it is unless ``force`` is given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from ioc.config import Settings
from ioc.dashboards._common import (
    DATASOURCE_NAME,
    DATASOURCE_TYPE,
    DATASOURCE_UID,
    FOLDER_TITLE,
    FOLDER_UID,
    READER_ROLE,
)

__all__ = [
    "STAMP_KEY",
    "Change",
    "PushError",
    "connect",
    "content_hash",
    "datasource_model",
    "push",
]

STAMP_KEY: Final = "iocBuild"
# Set by Grafana when it stores a board (pkg/services/dashboards: SetID, SetVersion; the uid
# is ours and kept, which is what makes a push update the same board).
_SET_BY_GRAFANA: Final = ("id", "version")
# Grafana's PostgreSQL datasource knows these TLS modes only (no allow/prefer).
_GRAFANA_SSLMODES: Final = ("disable", "require", "verify-ca", "verify-full")

Action = Literal["created", "updated", "unchanged", "replaced", "refused", "kept"]


class PushError(RuntimeError):
    """Grafana cannot be used (unreachable, credentials refused); the message says what to do."""


@dataclass(frozen=True)
class Change:
    """What a push did to one object.

    Attributes:
        kind: ``folder``, ``datasource`` or ``dashboard``.
        uid: The object's uid.
        action: ``created``, ``updated``, ``unchanged``; ``replaced`` (a hand-edited board
            overwritten with ``force``); ``refused`` (a hand-edited board left alone);
            ``kept`` (a datasource provisioned from a file, which the API may not change).
        detail: Why, for ``refused`` and ``kept``.
    """

    kind: Literal["folder", "datasource", "dashboard"]
    uid: str
    action: Action
    detail: str = ""


def content_hash(board: Mapping[str, Any]) -> str:
    """SHA-256 of a board's content, without Grafana's ``id`` and ``version`` and the stamp."""
    body = {k: v for k, v in board.items() if k not in (*_SET_BY_GRAFANA, STAMP_KEY)}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _stamped(board: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in board.items() if k not in _SET_BY_GRAFANA}
    out[STAMP_KEY] = {"sha256": content_hash(board), "by": "ioc dashboards push"}
    return out


def datasource_model(settings: Settings, database_url: str) -> dict[str, Any]:
    """The datasource as the push creates it; the same as the provisioning file's.

    Args:
        settings: The settings (``IOC_GRAFANA__*``, ``IOC_DATABASE__*``).
        database_url: The product's database; its database name, and its host and port
            unless ``IOC_GRAFANA__DATABASE_HOST`` says where Grafana reaches it.
    """
    parts = urlsplit(database_url)
    host = settings.grafana.database_host or (
        f"{parts.hostname}:{parts.port or 5432}" if parts.hostname else "127.0.0.1:5432"
    )
    sslmode = settings.database.sslmode
    return {
        "uid": DATASOURCE_UID,
        "name": DATASOURCE_NAME,
        "type": DATASOURCE_TYPE,
        "access": "proxy",
        "url": host,
        "user": READER_ROLE,
        "isDefault": True,
        "jsonData": {
            "database": parts.path.strip("/") or "ioc",
            # Grafana has no "prefer": without a stated need for TLS, connect without it.
            "sslmode": sslmode if sslmode in _GRAFANA_SSLMODES else "disable",
            "postgresVersion": 1700,
            "timescaledb": settings.grafana.timescaledb,
            "maxOpenConns": 10,
            "maxIdleConns": 10,
            "connMaxLifetime": 14400,
        },
    }


def connect(settings: Settings, url: str | None = None) -> Any:
    """A grafana-client API object for ``url`` (default ``IOC_GRAFANA__URL``).

    Raises:
        PushError: If no credentials are configured, or grafana-client (the ``grafana``
            extra) is not installed.
    """
    try:
        from grafana_client.api import GrafanaApi
    except ImportError:
        raise PushError(
            "grafana-client is not installed; `ioc dashboards push` needs the grafana extra: "
            "pip install 'ioc-monitor[grafana]'"
        ) from None

    address = (url or settings.grafana.url).rstrip("/") + "/"
    credential: str | tuple[str, str] | None
    if settings.grafana.token is not None:
        credential = settings.grafana.token.get_secret_value()
    elif settings.grafana.username and settings.grafana.password is not None:
        credential = (settings.grafana.username, settings.grafana.password.get_secret_value())
    elif urlsplit(address).password:
        credential = None  # grafana-client reads user:password@host from the URL
    else:
        raise PushError(
            "No Grafana credentials: set IOC_GRAFANA__TOKEN to a service account token (Editor "
            "role or higher), or IOC_GRAFANA__USERNAME and IOC_GRAFANA__PASSWORD"
        )
    # grafana-client joins the path and "api" without a slash: keep the trailing one.
    return GrafanaApi.from_url(
        address, credential=credential, timeout=settings.grafana.timeout_seconds
    )


def _status(err: Exception) -> int | None:
    status = getattr(err, "status_code", None)
    return status if isinstance(status, int) and status > 0 else None


def _explain(err: Exception) -> PushError:
    status = _status(err)
    if status == 401:
        return PushError(
            "Grafana refused the credentials (401): check IOC_GRAFANA__TOKEN, or "
            "IOC_GRAFANA__USERNAME and IOC_GRAFANA__PASSWORD"
        )
    if status == 403:
        return PushError(
            "Grafana denied access (403): the token's service account needs the Editor role "
            "(Admin to create the datasource)"
        )
    if status is None:
        # Timeouts and refused connections (grafana-client lets niquests' OSErrors through).
        return PushError(f"cannot reach Grafana: {err}. Is it running at IOC_GRAFANA__URL?")
    return PushError(f"Grafana answered {status}: {getattr(err, 'message', err)}")


def _call(call: Any, *args: Any, missing_ok: bool = False) -> Any:
    """Make one request; None for a 404 when ``missing_ok``; PushError when the push must stop."""
    from grafana_client.client import GrafanaException

    try:
        return call(*args)
    except GrafanaException as err:
        if missing_ok and _status(err) == 404:
            return None
        raise _explain(err) from err
    except OSError as err:
        raise _explain(err) from err


def _get(call: Any, *args: Any) -> Any:
    return _call(call, *args, missing_ok=True)


def _push_folder(api: Any) -> Change:
    if _get(api.folder.get_folder, FOLDER_UID) is not None:
        return Change("folder", FOLDER_UID, "unchanged")
    _call(api.folder.create_folder, FOLDER_TITLE, FOLDER_UID)
    return Change("folder", FOLDER_UID, "created")


def _datasource_differs(live: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    for key, value in wanted.items():
        if key == "jsonData":
            live_json = live.get("jsonData") or {}
            if any(live_json.get(k) != v for k, v in value.items()):
                return True
        elif live.get(key) != value:
            return True
    return False


def _push_datasource(api: Any, wanted: dict[str, Any], password: str | None, force: bool) -> Change:
    live = _get(api.datasource.get_datasource_by_uid, DATASOURCE_UID)
    secure = {"secureJsonData": {"password": password}} if password is not None else {}
    if live is None:
        _call(api.datasource.create_datasource, {**wanted, **secure})
        return Change("datasource", DATASOURCE_UID, "created")
    has_password = bool((live.get("secureJsonFields") or {}).get("password"))
    # Grafana never returns a stored password, so it is sent only when the datasource has
    # none, or with --force (to rotate it).
    send_password = password is not None and (force or not has_password)
    if not _datasource_differs(live, wanted) and not send_password:
        return Change("datasource", DATASOURCE_UID, "unchanged")
    if live.get("readOnly"):
        return Change(
            "datasource",
            DATASOURCE_UID,
            "kept",
            "provisioned from a file, which Grafana does not let the API change; edit "
            "deploy/grafana/provisioning/datasources/ioc.yaml instead",
        )
    body = {**wanted, "version": live.get("version"), **(secure if send_password else {})}
    _call(api.datasource.update_datasource_by_uid, DATASOURCE_UID, body)
    return Change("datasource", DATASOURCE_UID, "updated")


def _post_board(api: Any, board: dict[str, Any], *, overwrite: bool) -> None:
    _call(
        api.dashboard.update_dashboard,
        {
            "dashboard": board,
            "folderUid": FOLDER_UID,
            "overwrite": overwrite,
            "message": f"ioc dashboards push: build {content_hash(board)[:12]}",
        },
    )


def _push_board(api: Any, uid: str, board: dict[str, Any], force: bool) -> Change:
    from grafana_client.client import GrafanaException

    wanted = content_hash(board)
    live = _get(api.dashboard.get_dashboard, uid)
    if live is None:
        _post_board(api, _stamped(board), overwrite=False)
        return Change("dashboard", uid, "created")
    current = live.get("dashboard") or {}
    meta = live.get("meta") or {}
    if meta.get("provisioned"):
        # Loaded from files by Grafana's provisioning (docker compose mounts dashboards/json):
        # Grafana refuses API saves of such a board, and the files are the source anyway.
        return Change(
            "dashboard",
            uid,
            "kept",
            "provisioned from files; run `ioc dashboards build` and let provisioning reload it",
        )
    stamp = (current.get(STAMP_KEY) or {}).get("sha256")
    intact = stamp is not None and stamp == content_hash(current)
    if intact and stamp == wanted and meta.get("folderUid") == FOLDER_UID:
        return Change("dashboard", uid, "unchanged")
    if not intact and not force:
        who = meta.get("updatedBy") or "someone"
        when = meta.get("updated") or "an unknown time"
        return Change(
            "dashboard",
            uid,
            "refused",
            f"changed in Grafana since it was pushed (version {current.get('version')}, by "
            f"{who} at {when}); its changes would be lost. Copy them into dashboards/, run "
            "`ioc dashboards build`, and push again; or push with --force to replace it",
        )
    payload = {**_stamped(board), "version": current.get("version")}
    try:
        api.dashboard.update_dashboard(
            {
                "dashboard": payload,
                "folderUid": FOLDER_UID,
                "overwrite": not intact,
                "message": f"ioc dashboards push: build {wanted[:12]}",
            }
        )
    except GrafanaException as err:
        if _status(err) != 412:
            raise _explain(err) from err
        # Saved by someone between our GET and our POST: Grafana refused to lose that edit.
        return Change(
            "dashboard", uid, "refused", "changed in Grafana while pushing (412); push again"
        )
    except OSError as err:
        raise _explain(err) from err
    return Change("dashboard", uid, "updated" if intact else "replaced")


def push(
    api: Any,
    boards: Mapping[str, dict[str, Any]],
    datasource: dict[str, Any] | None,
    *,
    password: str | None = None,
    force: bool = False,
) -> list[Change]:
    """Create or update the folder, the datasource and every board; a second run changes nothing.

    Args:
        api: A grafana-client ``GrafanaApi`` (see :func:`connect`).
        boards: Board JSON by uid (:func:`ioc.dashboards.build_all`).
        datasource: The datasource (:func:`datasource_model`); None leaves it alone.
        password: The read-only role's password, sent when the datasource is created, when it
            has none, or with ``force``.
        force: Replace boards changed by hand in Grafana, and send the password again.

    Returns:
        One change per object, folder first.

    Raises:
        PushError: If Grafana cannot be reached or refuses the credentials or a request.
    """
    changes = [_push_folder(api)]
    if datasource is not None:
        changes.append(_push_datasource(api, datasource, password, force))
    for uid, board in boards.items():
        changes.append(_push_board(api, uid, board, force))
    return changes
