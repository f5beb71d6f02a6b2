"""`HttpIngestConnector`: provincial systems POST their records; mapping files map them.

Endpoints (one uvicorn server inside the connector, on ``host:port``):

- ``POST /ingest/<mapping>``: the body is one JSON object, a JSON array of objects
  (``application/json``) or JSON Lines (``application/x-ndjson``); ``<mapping>`` is the stem
  of a mapping file. Every record is mapped and handed to the runner; the answer is
  ``202 {"accepted": n, "rejected": m, "request_id": "…", "problems": [...]}``. Rejected
  records still go to the dead-letter topic, with location ``http:<request id>#<index>``.
- ``GET /healthz``: ``{"status": "ok", "queue": <records waiting for the runner>}``.

Errors are ``application/problem+json`` (RFC 9457): 401 without the bearer token (when
``token_env`` is set), 404 for an unknown mapping, 413 for a body over ``max_body_bytes``, 415
for another content type, 400 for an empty body. An ``application/json`` body that is not
JSON as a whole (or not UTF-8, or a bare number or string) is refused with 400 *and* sent to
the dead-letter topic as one `Rejected`, so that the attempt is counted and can be inspected;
nothing of such a body is accepted. A JSON Lines body is judged line by line instead.

With ``ack=queued`` (the default) the answer is sent once the records are in the connector's
queue; durability is then the runner's job (it spools while Kafka is away), but records still
queued when the connector is stopped are lost. With ``ack=committed`` the answer waits until
the runner has committed them (in Kafka or its spool), so a client that retries until it gets
a 202 loses nothing; ids are stable, so a retried record is counted once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Final

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from ioc.connectors.base import Connector, ConnectorContext, ConnectorError, Item, Rejected
from ioc.connectors.ingest.mapping import EXAMPLES, Mapping, MappingError, load_mapping

__all__ = ["HttpIngestConnector"]

log = logging.getLogger(__name__)

_JSON_TYPES: Final = frozenset({"application/json"})
_LINES_TYPES: Final = frozenset(
    {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines"}
)
_ACKS: Final = ("queued", "committed")
_PROBLEMS_SHOWN: Final = 100  # a response lists this many rejected records at most
_YIELD_EVERY: Final = 256  # records mapped between two turns of the event loop
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_WHITESPACE: Final = re.compile(r"[ \t\n\r]*")
# Seconds a stopping server lets requests finish; requests still waiting for room in the
# queue then are cancelled (their clients get no 202 and retry).
_GRACE_SECONDS: Final = 1


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner that owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _BadBody(Exception):
    """An ``application/json`` body that cannot be used as a whole."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


def _skip_space(text: str, pos: int) -> int:
    """The position of the first non-whitespace character at or after `pos`."""
    match = _WHITESPACE.match(text, pos)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def _json_records(body: bytes) -> list[tuple[Any, bytes]]:
    """Split an ``application/json`` body into (record, its exact bytes) pairs.

    Raises:
        _BadBody: the body is not UTF-8, not JSON, or neither an object nor an array.
    """
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise _BadBody("not_utf8", f"the body is not UTF-8 (byte {err.start})") from None
    start = _skip_space(text, 0)
    try:
        if not text.startswith("[", start):
            record = json.loads(text)
            if not isinstance(record, dict):
                raise _BadBody("not_object", "the body must be a JSON object or an array of them")
            return [(record, body)]
        return _array_records(text, start)
    except json.JSONDecodeError as err:
        raise _BadBody("not_json", f"the body is not JSON: {err}") from None


def _array_records(text: str, start: int) -> list[tuple[Any, bytes]]:
    """The elements of the JSON array at `start`, each with its exact bytes."""
    decoder = json.JSONDecoder()
    records: list[tuple[Any, bytes]] = []
    pos = _skip_space(text, start + 1)
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            value, end = decoder.raw_decode(text, pos)
            records.append((value, text[pos:end].encode("utf-8")))
            pos = _skip_space(text, end)
            if text.startswith(",", pos):
                pos = _skip_space(text, pos + 1)
            elif text.startswith("]", pos):
                pos += 1
                break
            else:
                raise json.JSONDecodeError("expected ',' or ']'", text, pos)
    if text[pos:].strip(" \t\n\r"):
        raise json.JSONDecodeError("extra data after the array", text, pos)
    return records


class HttpIngestConnector(Connector):
    """Accepts events over HTTP POST, mapped by mapping files.

    The feed of each event is its mapping's, so `feed` is None; the runner routes each
    envelope by its own feed.

    Attributes:
        bound_port: The TCP port listened on, once `events()` has started (useful with port=0).
        mappings: Mapping name (file stem) → compiled mapping, once started.
    """

    feed = None  # each event's feed is its mapping's
    options_help: ClassVar[dict[str, str]] = {
        "mappings": "directory of mapping files (*.yaml, *.yml), or one mapping file; "
        "POST /ingest/<file stem> (required)",
        "host": "address to listen on (default 127.0.0.1)",
        "port": "TCP port (default 8088; 0 picks a free one, which is logged)",
        "max_body_bytes": "largest request body accepted (default 10485760, i.e. 10 MiB)",
        "queue": "records held for the runner (default 10000); when full, requests wait",
        "token_env": "environment variable holding a token that requests must send as "
        "'Authorization: Bearer <token>' (default: no token needed)",
        "ack": "queued: answer once records are queued; committed: once the runner has made "
        "them durable (default queued)",
    }

    waits_for_input = True

    @classmethod
    def example_options(cls, workdir: Path) -> dict[str, str]:
        """Serve the shipped example mappings on a free port."""
        return {"mappings": str(EXAMPLES), "port": "0"}

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.bound_port: int | None = None
        self.mappings: dict[str, Mapping] = {}
        self._queue: asyncio.Queue[Item | None] = asyncio.Queue()  # None: stopped, all yielded
        self._max_body = 0
        self._token: str | None = None
        self._wait_commit = False
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        # Records are numbered in queue order, which is the order they are yielded in.
        self._queued = 0
        self._handed = 0
        self._durable = 0
        self._committed = asyncio.Condition()
        self._closing: asyncio.Task[None] | None = None

    async def events(self) -> AsyncIterator[Item]:
        """Start the server, then yield records as requests bring them, until closed."""
        queue = await self._start()
        try:
            while (item := await queue.get()) is not None:
                self._handed += 1
                yield item
        finally:
            await self._stop()

    async def commit(self) -> None:
        """Everything yielded so far is durable: release requests waiting for that."""
        self._durable = self._handed
        async with self._committed:
            self._committed.notify_all()

    def request_stop(self) -> bool:
        """Stop accepting requests; `events()` ends once everything accepted is yielded."""
        if self._server is None:
            return False
        self._closing = asyncio.get_running_loop().create_task(self._stop_then_end())
        return True

    async def _stop_then_end(self) -> None:
        await self._stop()  # requests in progress finish (and queue); no new ones
        await self._queue.put(None)

    async def aclose(self) -> None:
        """Stop the server."""
        await self._stop()

    # --- internals -------------------------------------------------------------------------
    async def _start(self) -> asyncio.Queue[Item | None]:
        option = self.context.option
        name = self.context.name
        self.mappings = self._load_mappings(Path(option("mappings")))
        self._max_body = self._int_option("max_body_bytes", "10485760")
        self._queue = asyncio.Queue(self._int_option("queue", "10000"))
        ack = option("ack", "queued")
        if ack not in _ACKS:
            raise ConnectorError(f"connector {name!r}: ack={ack!r} must be one of {_ACKS}")
        self._wait_commit = ack == "committed"
        token_env = option("token_env", "")
        if token_env:
            self._token = os.environ.get(token_env)
            if not self._token:
                raise ConnectorError(
                    f"connector {name!r}: token_env={token_env} but that environment variable "
                    "is empty or not set"
                )
        host = option("host", "127.0.0.1")
        port = self._int_option("port", "8088", minimum=0)
        # Binding here rather than in uvicorn turns a busy port into an error we can report
        # (uvicorn would exit the process) and tells us the port chosen for port=0.
        try:
            sock = socket.create_server(
                (host, port), family=socket.AF_INET6 if ":" in host else socket.AF_INET
            )
        except OSError as err:
            raise ConnectorError(
                f"connector {name!r}: cannot listen on {host}:{port}: {err}"
            ) from err
        self.bound_port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self._app(),
            host=host,
            port=self.bound_port,
            log_level="warning",
            log_config=None,  # the project configures logging; uvicorn must not replace it
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=_GRACE_SECONDS,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started and not self._task.done():  # noqa: ASYNC110 - uvicorn
            await asyncio.sleep(0.01)  # offers a flag, not an event
        if self._task.done():
            sock.close()
            self._task.result()  # raises what stopped it
        log.info(
            "%s: listening on http://%s:%d/ingest/{%s}",
            name,
            host,
            self.bound_port,
            ",".join(self.mappings),
        )
        return self._queue

    async def _stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        await task

    def _int_option(self, key: str, default: str, *, minimum: int = 1) -> int:
        text = self.context.option(key, default)
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ConnectorError(
                f"connector {self.context.name!r}: {key}={text!r} must be a whole number "
                f"of at least {minimum}"
            )
        return value

    def _load_mappings(self, where: Path) -> dict[str, Mapping]:
        if where.is_dir():
            files = sorted([*where.glob("*.yaml"), *where.glob("*.yml")])
            if not files:
                raise ConnectorError(f"no mapping files (*.yaml, *.yml) in {where}")
        elif where.is_file():
            files = [where]
        else:
            raise ConnectorError(f"mappings={where} is neither a mapping file nor a directory")
        mappings: dict[str, Mapping] = {}
        problems: list[str] = []
        for path in files:
            if path.stem in mappings:
                problems.append(f"{path}: another mapping is also called {path.stem!r}")
                continue
            try:
                mappings[path.stem] = load_mapping(path, areas=self.context.areas)
            except MappingError as err:
                problems.extend(err.problems)
        if problems:
            raise MappingError(str(where), problems)
        return mappings

    def _app(self) -> FastAPI:
        app = FastAPI(title="ioc-monitor ingest", docs_url=None, redoc_url=None, openapi_url=None)

        @app.get("/healthz")
        async def healthz() -> dict[str, Any]:
            return {"status": "ok", "queue": self._queue.qsize()}

        @app.post("/ingest/{name}")
        async def ingest(name: str, request: Request) -> Response:
            return await self._ingest(name, request)

        return app

    async def _ingest(self, name: str, request: Request) -> Response:
        if self._token is not None:
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), self._token.encode()
            ):
                return _problem(401, "Unauthorized", "send 'Authorization: Bearer <token>'")
        mapping = self.mappings.get(name)
        if mapping is None:
            known = ", ".join(self.mappings)
            return _problem(404, "Not Found", f"no mapping called {name!r} (known: {known})")
        media, _, params = request.headers.get("content-type", "").partition(";")
        media = media.strip().lower()
        charset = re.search(r"charset\s*=\s*\"?([\w-]+)", params, re.IGNORECASE)
        if (media not in _JSON_TYPES and media not in _LINES_TYPES) or (
            charset is not None and charset[1].lower() not in ("utf-8", "utf8")
        ):
            return _problem(
                415,
                "Unsupported Media Type",
                "send application/json (an object or an array of objects) or "
                "application/x-ndjson (one object a line), in UTF-8",
            )
        body = await self._read_body(request)
        if body is None:
            return _problem(
                413, "Content Too Large", f"the body is over {self._max_body} bytes; send less"
            )
        if not body.strip():
            return _problem(400, "Bad Request", "the body is empty")
        given_id = request.headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.fullmatch(given_id) else uuid.uuid4().hex
        try:
            problems, total = await self._deliver(mapping, media, body, request_id)
        except _BadBody as bad:
            await self._enqueue(Rejected(body, bad.reason, bad.detail, f"http:{request_id}"))
            await self._until_durable()
            return _problem(400, "Bad Request", bad.detail, request_id=request_id)
        await self._until_durable()
        return JSONResponse(
            {
                "accepted": total - len(problems),
                "rejected": len(problems),
                "request_id": request_id,
                "problems": problems[:_PROBLEMS_SHOWN],
            },
            status_code=202,
            headers={"X-Request-ID": request_id},
        )

    async def _read_body(self, request: Request) -> bytes | None:
        """The body, or None as soon as it is known to be too large."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            return None
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self._max_body:
                return None
            parts.append(chunk)
        return b"".join(parts)

    async def _deliver(
        self, mapping: Mapping, media: str, body: bytes, request_id: str
    ) -> tuple[list[dict[str, Any]], int]:
        """Map every record of the body and queue it; return the problems and the count.

        Raises:
            _BadBody: an ``application/json`` body unusable as a whole (nothing is queued).
        """
        source = self.context.name
        where = f"http:{request_id}"
        make: Callable[[int], Item]
        if media in _LINES_TYPES:
            lines = [line for line in body.split(b"\n") if line.strip()]
            count = len(lines)

            def make(index: int) -> Item:
                return mapping.apply(lines[index], source=source, location=f"{where}#{index}")

        else:
            records = _json_records(body)
            count = len(records)

            def make(index: int) -> Item:
                record, raw = records[index]
                return mapping.apply_record(
                    record, original=raw, source=source, location=f"{where}#{index}"
                )

        problems: list[dict[str, Any]] = []
        for index in range(count):
            item = make(index)
            if isinstance(item, Rejected):
                problems.append({"index": index, "reason": item.reason, "detail": item.detail})
            await self._enqueue(item)
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                # Mapping a big body must not stall other requests and the runner.
                await asyncio.sleep(0)
        return problems, count

    async def _enqueue(self, item: Item) -> None:
        """Hand an item to `events()`, waiting while the queue is full (back-pressure)."""
        await self._queue.put(item)
        self._queued += 1

    async def _until_durable(self) -> None:
        """With ack=committed, wait until the runner has committed everything queued so far."""
        if not self._wait_commit:
            return
        last = self._queued
        async with self._committed:
            await self._committed.wait_for(lambda: self._durable >= last)
