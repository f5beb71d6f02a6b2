"""A stand-in for the few Grafana HTTP API endpoints `ioc dashboards push` calls.

This is NOT Grafana: it is a contract stand-in, so that the push can be tested where no
Grafana server can be installed. It implements only the requests the push makes, with the
behaviour and status codes Grafana documents for them (HTTP API reference: Folder,
Data source and Dashboard APIs; docs/sources/developers/http_api/*.md):

- every request needs ``Authorization: Bearer <token>`` or basic auth, else 401;
- ``GET /api/folders/:uid`` 200 / 404; ``POST /api/folders`` 200, 409 if the uid exists;
- ``GET /api/datasources/uid/:uid`` 200 / 404 (never the password: ``secureJsonFields``
  says one is set); ``POST /api/datasources`` 200, 409 if the name or uid exists;
  ``PUT /api/datasources/uid/:uid`` 200, 409 when the ``version`` sent is not the stored one,
  403 for a datasource provisioned from a file (``readOnly``);
- ``GET /api/dashboards/uid/:uid`` 200 ``{dashboard, meta}`` / 404;
  ``POST /api/dashboards/db`` 200, 400 without a title or for an unknown folder, 412
  ``version-mismatch`` when the board exists, ``overwrite`` is false and the ``version``
  sent is not the stored one. A stored board is the JSON posted with ``id``, ``uid`` and
  ``version`` set (as Grafana's ``SetID``/``SetUID``/``SetVersion`` do), version + 1 per save,
  and a uid generated when none is sent.

What it cannot show: that a real Grafana stores a board byte for byte as posted (apart from
those three fields), renders the panels, or accepts the datasource settings; the compose
path exercises that.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StandIn:
    """The stand-in's state; tests read and change it directly (as another user would)."""

    token: str = "glsa_test-token"
    basic: tuple[str, str] = ("admin", "admin-password")
    folders: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    messages: dict[str, list[str]] = field(default_factory=dict)
    edit_before_next_save: set[str] = field(default_factory=set)
    url: str = ""
    _next_id: int = 1

    def new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def writes(self) -> list[tuple[str, str]]:
        """The requests that changed something (or tried to)."""
        return [r for r in self.requests if r[0] != "GET"]

    def save_dashboard(
        self, board: dict[str, Any], folder_uid: str, user: str, message: str = ""
    ) -> dict[str, Any]:
        """Store a board as Grafana does (id, uid, version set); returns the stored JSON."""
        uid = board["uid"]
        existing = self.dashboards.get(uid)
        stored = copy.deepcopy(board)
        stored["id"] = existing["dashboard"]["id"] if existing else self.new_id()
        stored["version"] = existing["dashboard"]["version"] + 1 if existing else 1
        self.dashboards[uid] = {
            "dashboard": stored,
            "meta": {
                "folderUid": folder_uid,
                "version": stored["version"],
                "updatedBy": user,
                "updated": f"2026-11-23T08:{len(self.requests) % 60:02d}:00Z",
                "provisioned": False,
                "slug": uid,
                "url": f"/d/{uid}/{uid}",
            },
        }
        self.messages.setdefault(uid, []).append(message)
        return stored


class _Handler(BaseHTTPRequestHandler):
    state: StandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # --- plumbing ----------------------------------------------------------------------

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _user(self) -> str | None:
        header = self.headers.get("Authorization", "")
        if header == f"Bearer {self.state.token}":
            return "sa-ioc"
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            if (user, password) == self.state.basic:
                return user
        return None

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null")

    def _route(self, method: str) -> None:
        self.state.requests.append((method, self.path))
        user = self._user()
        if user is None:
            self._send(401, {"message": "Unauthorized"})
            return
        parts = self.path.split("?", 1)[0].strip("/").split("/")
        handler = {
            ("GET", 3, "folders"): self._get_folder,
            ("POST", 2, "folders"): self._create_folder,
            ("GET", 4, "datasources"): self._get_datasource,
            ("POST", 2, "datasources"): self._create_datasource,
            ("PUT", 4, "datasources"): self._update_datasource,
            ("GET", 4, "dashboards"): self._get_dashboard,
            ("POST", 3, "dashboards"): self._save_dashboard,
        }.get((method, len(parts), parts[1] if len(parts) > 1 else ""))
        if parts[0] != "api" or handler is None:
            self._send(404, {"message": "Not found"})
            return
        try:
            handler(parts, user)
        except Exception as err:  # a bug here must reach the test as a 500, not a hang
            self._send(500, {"message": f"stand-in error: {err!r}"})

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PUT(self) -> None:
        self._route("PUT")

    # --- folders ----------------------------------------------------------------------

    def _get_folder(self, parts: list[str], user: str) -> None:
        folder = self.state.folders.get(parts[2])
        if folder is None:
            self._send(404, {"message": "folder not found", "status": "not-found"})
        else:
            self._send(200, folder)

    def _create_folder(self, parts: list[str], user: str) -> None:
        body = self._body()
        uid = body.get("uid")
        if not body.get("title"):
            self._send(400, {"message": "folder title cannot be empty"})
        elif uid in self.state.folders:
            self._send(409, {"message": "a folder with the same uid already exists"})
        else:
            folder = {"id": self.state.new_id(), "uid": uid, "title": body["title"], "version": 1}
            self.state.folders[uid] = folder
            self._send(200, folder)

    # --- datasources ------------------------------------------------------------------

    def _public(self, uid: str) -> dict[str, Any]:
        source = copy.deepcopy(self.state.datasources[uid])
        source["secureJsonFields"] = {"password": uid in self.state.passwords}
        return source

    def _get_datasource(self, parts: list[str], user: str) -> None:
        if parts[3] not in self.state.datasources:
            self._send(404, {"message": "Data source not found"})
        else:
            self._send(200, self._public(parts[3]))

    def _create_datasource(self, parts: list[str], user: str) -> None:
        body = self._body()
        uid = body["uid"]
        names = {d["name"] for d in self.state.datasources.values()}
        if uid in self.state.datasources or body["name"] in names:
            self._send(409, {"message": "data source with the same name already exists"})
            return
        secure = body.pop("secureJsonData", None) or {}
        if "password" in secure:
            self.state.passwords[uid] = secure["password"]
        body.update(id=self.state.new_id(), version=1, readOnly=False)
        self.state.datasources[uid] = body
        self._send(
            200,
            {
                "datasource": self._public(uid),
                "id": body["id"],
                "message": "Datasource added",
                "name": body["name"],
            },
        )

    def _update_datasource(self, parts: list[str], user: str) -> None:
        uid = parts[3]
        stored = self.state.datasources.get(uid)
        body = self._body()
        if stored is None:
            self._send(404, {"message": "Data source not found"})
            return
        if stored.get("readOnly"):
            self._send(403, {"message": "Cannot update read-only data source"})
            return
        if body.get("version") is not None and body["version"] != stored["version"]:
            self._send(
                409,
                {
                    "message": "Datasource has already been updated by someone else. "
                    "Please reload and try again"
                },
            )
            return
        secure = body.pop("secureJsonData", None) or {}
        if "password" in secure:
            self.state.passwords[uid] = secure["password"]
        body.update(id=stored["id"], version=stored["version"] + 1, readOnly=False)
        self.state.datasources[uid] = body
        self._send(
            200,
            {
                "datasource": self._public(uid),
                "id": body["id"],
                "message": "Datasource updated",
                "name": body["name"],
            },
        )

    # --- dashboards -------------------------------------------------------------------

    def _get_dashboard(self, parts: list[str], user: str) -> None:
        found = self.state.dashboards.get(parts[3])
        if found is None:
            self._send(404, {"message": "Dashboard not found"})
        else:
            self._send(200, copy.deepcopy(found))

    def _save_dashboard(self, parts: list[str], user: str) -> None:
        if parts[2] != "db":
            self._send(404, {"message": "Not found"})
            return
        body = self._body()
        board = body.get("dashboard") or {}
        folder = body.get("folderUid") or ""
        if not board.get("title"):
            self._send(400, {"message": "Dashboard title cannot be empty"})
            return
        if folder and folder not in self.state.folders:
            self._send(400, {"message": "folder not found"})
            return
        uid = board.get("uid") or f"generated-{self.state.new_id()}"  # as Grafana does
        board["uid"] = uid
        if uid in self.state.edit_before_next_save:
            # Someone saves in the UI between the push's GET and its POST.
            self.state.edit_before_next_save.discard(uid)
            other = copy.deepcopy(self.state.dashboards[uid]["dashboard"])
            other["title"] += " (sửa tay)"
            self.state.save_dashboard(
                other, self.state.dashboards[uid]["meta"]["folderUid"], "operator"
            )
        existing = self.state.dashboards.get(uid)
        stale = existing is not None and board.get("version") != existing["dashboard"]["version"]
        if stale and not body.get("overwrite"):
            self._send(
                412,
                {
                    "message": "The dashboard has been changed by someone else",
                    "status": "version-mismatch",
                },
            )
            return
        stored = self.state.save_dashboard(board, folder, user, body.get("message", ""))
        self._send(
            200,
            {
                "id": stored["id"],
                "uid": uid,
                "url": f"/d/{uid}/{uid}",
                "status": "success",
                "version": stored["version"],
                "slug": uid,
            },
        )


@contextmanager
def running() -> Iterator[StandIn]:
    """Serve a fresh stand-in on a free loopback port for the duration of the block."""
    state = StandIn()
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
