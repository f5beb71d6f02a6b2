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

With ``ack=committed`` (the default) the 202 waits until the runner has made every record of
the request durable: acknowledged by Kafka, or, while Kafka is away, written to the spool and
fsynced. A client that retries until it gets a 202 loses nothing, even on a power cut, as long
as the spool is on persistent storage; ids are stable, so a retried record is counted once. The
runner commits about once a second, so a 202 takes up to a second or two. With ``ack=queued``
the answer is sent once the records are in the connector's memory queue: faster, but records
still queued when the process dies are lost.

Limits, each refused with a problem document and nothing of the request queued: a body over
``max_body_bytes`` (413), more than ``max_records`` records (413), a body slower than
``body_timeout_seconds`` (408). A request is mapped whole before any record is queued; then each
record is judged alone (all records of a 202 are queued: accepted ones as events, rejected ones
as dead letters, the first 100 problems listed). A record over ``RECORD_LIMIT`` (256 KiB) is a
``too_large`` problem; a record the mapping fails on for any other reason is an ``internal`` one.
Headers must arrive within ``header_timeout_seconds`` (else the connection is closed), at most
``max_connections`` connections are served (more get uvicorn's plain-text 503), and at most
``max_parallel`` bodies are read and mapped at once (memory: about 70 MiB for each 10 MiB body).
Outside ``IOC_ENVIRONMENT=local`` every mapping needs a token (``token_env`` for all,
``mapping_tokens_env`` for one each).
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

import h11
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

from ioc.config import Environment
from ioc.connectors.base import (
    RECORD_LIMIT,
    Connector,
    ConnectorContext,
    ConnectorError,
    Item,
    Rejected,
    too_large,
)
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


class _Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for a request's headers.

    uvicorn only times out an idle kept-alive connection after a response; a client that
    sends half its headers, or nothing, would hold the connection for ever (slowloris).
    """

    header_timeout: ClassVar[float] = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        # IDLE: no complete request line and headers since the connection or the last
        # response; a request being read or answered is left to the body timeout.
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the runner that owns the process."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _TooMany(Exception):
    """A body with more records than a request may carry."""


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


_TOO_LARGE: Final = object()  # stands for a record over RECORD_LIMIT, not parsed


def _json_records(body: bytes, limit: int) -> list[tuple[Any, bytes]]:
    """Split an ``application/json`` body into (record, its exact bytes) pairs.

    A record over `RECORD_LIMIT` bytes comes as `_TOO_LARGE` (a single object is not parsed).

    Raises:
        _BadBody: the body is not UTF-8, not JSON, or neither an object nor an array.
        _TooMany: an array of more than `limit` records.
    """
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        raise _BadBody("not_utf8", f"the body is not UTF-8 (byte {err.start})") from None
    start = _skip_space(text, 0)
    try:
        if not text.startswith("[", start):
            if len(body) > RECORD_LIMIT:
                return [(_TOO_LARGE, body)]
            record = json.loads(text)
            if not isinstance(record, dict):
                raise _BadBody("not_object", "the body must be a JSON object or an array of them")
            return [(record, body)]
        return _array_records(text, start, limit)
    except json.JSONDecodeError as err:
        raise _BadBody("not_json", f"the body is not JSON: {err}") from None
    except RecursionError:
        raise _BadBody(
            "not_json", "the body is not JSON this server reads: nested too deeply"
        ) from None


def _array_records(text: str, start: int, limit: int) -> list[tuple[Any, bytes]]:
    """The elements of the JSON array at `start`, each with its exact bytes."""
    decoder = json.JSONDecoder()
    records: list[tuple[Any, bytes]] = []
    pos = _skip_space(text, start + 1)
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            if len(records) == limit:
                raise _TooMany
            value, end = decoder.raw_decode(text, pos)
            raw = text[pos:end].encode("utf-8")
            records.append((_TOO_LARGE if len(raw) > RECORD_LIMIT else value, raw))
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
        "max_records": "most records in one request (default 10000); more is refused with 413",
        "max_connections": "connections served at once (default 200); more get 503",
        "max_parallel": "requests whose bodies are read and mapped at once (default 4); the "
        "others wait: memory stays within about max_parallel x 7 x max_body_bytes",
        "header_timeout_seconds": "a request's line and headers must arrive within this "
        "(default 10)",
        "body_timeout_seconds": "a request's body must arrive within this (default 30); "
        "slower is refused with 408",
        "queue": "records held for the runner (default 10000); when full, requests wait",
        "token_env": "environment variable holding a token that requests to any mapping may "
        "send as 'Authorization: Bearer <token>'",
        "mapping_tokens_env": "environment variable holding one token per mapping, as "
        "'<mapping>:<token>' separated by commas; a mapping's token opens only that mapping. "
        "Outside IOC_ENVIRONMENT=local every mapping needs a token (this or token_env)",
        "ack": "committed: answer once the runner has made the records durable (in Kafka, or "
        "fsynced in its spool); queued: once they are in memory (default committed)",
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
        self._max_records = 0
        self._body_timeout = 0.0
        self._token: str | None = None
        self._mapping_tokens: dict[str, str] = {}
        self._parallel = asyncio.Semaphore(4)
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
        ack = option("ack", "committed")
        if ack not in _ACKS:
            raise ConnectorError(f"connector {name!r}: ack={ack!r} must be one of {_ACKS}")
        self._wait_commit = ack == "committed"
        self._max_records = self._int_option("max_records", "10000")
        self._body_timeout = float(self._int_option("body_timeout_seconds", "30"))
        header_timeout = float(self._int_option("header_timeout_seconds", "10"))
        max_connections = self._int_option("max_connections", "200")
        self._parallel = asyncio.Semaphore(self._int_option("max_parallel", "4"))
        self._load_tokens()
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
            http=type("_Protocol", (_Protocol,), {"header_timeout": header_timeout}),
            limit_concurrency=max_connections,
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

    def _load_tokens(self) -> None:
        """Read the tokens; outside `local`, refuse to start with a mapping anyone may use."""
        name = self.context.name
        token_env = self.context.option("token_env", "")
        if token_env:
            self._token = os.environ.get(token_env)
            if not self._token:
                raise ConnectorError(
                    f"connector {name!r}: token_env={token_env} but that environment variable "
                    "is empty or not set"
                )
        tokens_env = self.context.option("mapping_tokens_env", "")
        if tokens_env:
            pairs = [p.strip() for p in os.environ.get(tokens_env, "").split(",") if p.strip()]
            for pair in pairs:
                mapping, _, token = pair.partition(":")
                if mapping.strip() not in self.mappings or not token.strip():
                    raise ConnectorError(
                        f"connector {name!r}: {tokens_env} must hold '<mapping>:<token>' pairs "
                        f"of known mappings ({', '.join(self.mappings)}); {mapping.strip()!r} "
                        "is not one, or has no token"
                    )
                self._mapping_tokens[mapping.strip()] = token.strip()
            if not pairs:
                raise ConnectorError(
                    f"connector {name!r}: mapping_tokens_env={tokens_env} but that environment "
                    "variable is empty or not set"
                )
        environment = self.context.settings.environment
        open_mappings = [m for m in self.mappings if self._tokens_for(m) == []]
        if environment is not Environment.LOCAL and open_mappings:
            raise ConnectorError(
                f"connector {name!r}: IOC_ENVIRONMENT={environment.value} but anyone could post "
                f"to {', '.join(open_mappings)}: set token_env or mapping_tokens_env"
            )

    def _tokens_for(self, mapping: str) -> list[str]:
        """The tokens that open `mapping`; none: it is open (only allowed in `local`)."""
        found = [self._token, self._mapping_tokens.get(mapping)]
        return [token for token in found if token]

    def _authorized(self, name: str, request: Request) -> bool:
        tokens = self._tokens_for(name) if name in self.mappings else self._all_tokens()
        if not tokens:
            return True
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        offered = given.strip().encode()
        # Every token is compared, so the time taken does not say which one nearly matched.
        matches = [hmac.compare_digest(offered, token.encode()) for token in tokens]
        return scheme.lower() == "bearer" and any(matches)

    def _all_tokens(self) -> list[str]:
        return [t for t in (self._token, *self._mapping_tokens.values()) if t]

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
        if not self._authorized(name, request):
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
        async with self._parallel:
            received = await self._receive(mapping, media, request)
        if isinstance(received, Response):
            return received
        request_id, items = received
        if isinstance(items, Rejected):  # the body as a whole is not usable: 400
            await self._enqueue(items)
            await self._until_durable()
            return _problem(400, "Bad Request", items.detail, request_id=request_id)
        problems: list[dict[str, Any]] = []
        rejected = 0
        for index, item in enumerate(items):
            if isinstance(item, Rejected):
                rejected += 1
                if len(problems) < _PROBLEMS_SHOWN:
                    problems.append({"index": index, "reason": item.reason, "detail": item.detail})
            await self._enqueue(item)
        await self._until_durable()
        return JSONResponse(
            {
                "accepted": len(items) - rejected,
                "rejected": rejected,
                "request_id": request_id,
                "problems": problems,
            },
            status_code=202,
            headers={"X-Request-ID": request_id},
        )

    async def _receive(
        self, mapping: Mapping, media: str, request: Request
    ) -> Response | tuple[str, list[Item] | Rejected]:
        """Read and map a body: a refusal, or its request id and items (or its rejection).

        At most `max_parallel` requests are here at once: their bodies and parsed records are
        what costs memory (about 7 times the body), so the process stays bounded.
        """
        try:
            async with asyncio.timeout(self._body_timeout):
                body = await self._read_body(request)
        except TimeoutError:
            late = _problem(
                408, "Request Timeout", f"the body did not arrive within {self._body_timeout:g} s"
            )
            late.headers["Connection"] = "close"  # the rest of the body is not waited for
            return late
        if body is None:
            return _problem(
                413, "Content Too Large", f"the body is over {self._max_body} bytes; send less"
            )
        if not body.strip():
            return _problem(400, "Bad Request", "the body is empty")
        given_id = request.headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.fullmatch(given_id) else uuid.uuid4().hex
        try:
            return request_id, await self._map(mapping, media, body, request_id)
        except _TooMany:
            return _problem(
                413,
                "Content Too Large",
                f"the body holds more than {self._max_records} records; send them in parts",
                request_id=request_id,
            )
        except _BadBody as bad:
            return request_id, Rejected(body, bad.reason, bad.detail, f"http:{request_id}")

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

    async def _map(self, mapping: Mapping, media: str, body: bytes, request_id: str) -> list[Item]:
        """Map every record of the body, before any is queued (a request is queued whole).

        Raises:
            _BadBody: an ``application/json`` body unusable as a whole.
            _TooMany: more than `max_records` records.
        """
        source = self.context.name
        where = f"http:{request_id}"
        make: Callable[[int], Item]
        if media in _LINES_TYPES:
            lines = [line for line in body.split(b"\n") if line.strip()]
            if len(lines) > self._max_records:
                raise _TooMany
            count = len(lines)

            def make(index: int) -> Item:
                raw = lines[index]
                if len(raw) > RECORD_LIMIT:
                    return too_large(raw, f"{where}#{index}")
                return mapping.apply(raw, source=source, location=f"{where}#{index}")

        else:
            records = _json_records(body, self._max_records)
            count = len(records)

            def make(index: int) -> Item:
                record, raw = records[index]
                if record is _TOO_LARGE:
                    return too_large(raw, f"{where}#{index}")
                return mapping.apply_record(
                    record, original=raw, source=source, location=f"{where}#{index}"
                )

        items: list[Item] = []
        for index in range(count):
            try:
                items.append(make(index))
            except Exception as err:
                # A record the mapping cannot handle is that record's problem, never a 500
                # for the request (and never a request half queued).
                log.exception("%s: record %d of request %s", source, index, request_id)
                raw = lines[index] if media in _LINES_TYPES else records[index][1]
                detail = f"{type(err).__name__}: {err}"
                items.append(Rejected(raw, "internal", detail, f"{where}#{index}"))
            if index % _YIELD_EVERY == _YIELD_EVERY - 1:
                # Mapping a big body must not stall other requests and the runner.
                await asyncio.sleep(0)
        return items

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
