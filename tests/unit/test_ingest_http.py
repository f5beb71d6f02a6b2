"""HTTP ingest connector: a real server on 127.0.0.1, spoken to with raw HTTP/1.1."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from ioc.areas import load_areas
from ioc.config import load_settings
from ioc.connectors.base import RECORD_LIMIT, ConnectorContext, ConnectorError, Item, Rejected
from ioc.connectors.ingest.http import HttpIngestConnector
from ioc.connectors.ingest.mapping import MappingError
from ioc.events import Envelope, PaymentTransaction

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "ingest" / "examples"
AREAS = load_areas()
RECORDS = (EXAMPLES / "hospital-payments.jsonl").read_bytes().splitlines()


def make(tmp_path: Path, **options: str) -> HttpIngestConnector:
    context = ConnectorContext(
        name="bv-http",
        settings=load_settings(state_dir=tmp_path / "state"),
        areas=AREAS,
        options={"mappings": str(EXAMPLES), "port": "0", **options},
    )
    return HttpIngestConnector(context)


class Response:
    def __init__(self, raw: bytes) -> None:
        head, _, body = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split()[1])
        self.headers = {
            name.lower(): value
            for name, _, value in (line.partition(": ") for line in header_lines)
        }
        is_json = "json" in self.headers.get("content-type", "")
        self.json: Any = json.loads(body) if body and is_json else None


async def request(
    port: int,
    path: str,
    body: bytes = b"",
    *,
    method: str = "POST",
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """One HTTP/1.1 request on a fresh connection (httpx is not a dependency)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    writer.write("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    raw = await reader.read()
    writer.close()
    await writer.wait_closed()
    return Response(raw)


class Server:
    """A started connector with a background consumer, as the runner would drain it."""

    def __init__(
        self, connector: HttpIngestConnector, *, consume: bool = True, commit: bool = True
    ) -> None:
        self.connector = connector
        self.commit = commit  # as the runner does once items are durable (ack=committed)
        self.items: list[Item] = []
        self._grew = asyncio.Event()
        self._events = connector.events()
        self._task = asyncio.create_task(self._run() if consume else self._first())

    @property
    def port(self) -> int:
        assert self.connector.bound_port is not None
        return self.connector.bound_port

    async def started(self) -> Server:
        for _ in range(500):
            if self.connector.bound_port is not None or self._task.done():
                break
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()
        return self

    async def _run(self) -> None:
        async for item in self._events:
            self.items.append(item)
            if self.commit:
                await self.connector.commit()
            self._grew.set()

    async def _first(self) -> None:
        # Starts the server and takes one item; the rest stay queued until `take`.
        self.items.append(await anext(self._events))
        if self.commit:
            await self.connector.commit()

    async def take(self, count: int) -> None:
        for _ in range(count):
            self.items.append(await anext(self._events))
            if self.commit:
                await self.connector.commit()

    async def until(self, count: int) -> list[Item]:
        async with asyncio.timeout(5):
            while len(self.items) < count:
                self._grew.clear()
                await self._grew.wait()
        return self.items

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._events.aclose()
        await self.connector.aclose()


@pytest.fixture(scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    server = Server(make(tmp_path_factory.mktemp("http"), max_body_bytes="4096"))
    yield await server.started()
    await server.stop()


@pytest.fixture
async def server(shared: Server) -> Server:
    # Records of an earlier test may still be on their way to the consumer.
    for _ in range(100):
        health = await request(shared.port, "/healthz", method="GET", content_type=None)
        if health.json["queue"] == 0:
            break
    shared.items.clear()
    return shared


# --- posting records ---------------------------------------------------------------------------
async def test_a_json_array(server: Server) -> None:
    bad = b'{"ma_giao_dich": "X-1", "so_tien": "abc"}'
    body = b"[ " + RECORDS[0] + b" ,\n " + RECORDS[1] + b", " + bad + b" ]"
    response = await request(server.port, "/ingest/hospital-payments", body)
    assert response.status == 202
    answer = response.json
    assert (answer["accepted"], answer["rejected"]) == (2, 1)
    assert answer["problems"][0]["index"] == 2
    assert answer["problems"][0]["reason"] == "missing_field"
    assert response.headers["x-request-id"] == answer["request_id"]

    first, second, third = await server.until(3)
    assert isinstance(first, Envelope) and isinstance(first.payload, PaymentTransaction)
    assert first.payload.transaction_id == "BV-20250601-0001"
    assert first.source == "bv-http"
    assert isinstance(second, Envelope)
    assert isinstance(third, Rejected)
    assert third.original == bad  # exactly the element's bytes
    assert third.location == f"http:{answer['request_id']}#2"


async def test_json_lines(server: Server) -> None:
    body = RECORDS[0] + b"\n\n" + RECORDS[4] + b"\nnot json\n"
    response = await request(
        server.port, "/ingest/hospital-payments", body, content_type="application/x-ndjson"
    )
    assert response.status == 202
    assert (response.json["accepted"], response.json["rejected"]) == (2, 1)
    assert response.json["problems"][0]["reason"] == "not_json"
    items = await server.until(3)
    assert isinstance(items[2], Rejected) and items[2].original == b"not json"


async def test_one_object_and_a_request_id(server: Server) -> None:
    response = await request(
        server.port,
        "/ingest/hospital-payments",
        RECORDS[2],
        content_type="application/json; charset=utf-8",
        headers={"X-Request-ID": "gateway-42"},
    )
    assert response.status == 202
    assert response.json == {
        "accepted": 1,
        "rejected": 0,
        "request_id": "gateway-42",
        "problems": [],
    }
    (event,) = await server.until(1)
    assert isinstance(event, Envelope) and event.area == "33"


async def test_a_body_that_is_not_json_is_refused_and_kept(server: Server) -> None:
    body = b'[{"ma_giao_dich": "X"}, {oops'
    response = await request(server.port, "/ingest/hospital-payments", body)
    assert response.status == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "not JSON" in response.json["detail"]
    (kept,) = await server.until(1)
    assert isinstance(kept, Rejected)
    assert (kept.reason, kept.original) == ("not_json", body)
    assert kept.location == f"http:{response.json['request_id']}"


@pytest.mark.parametrize(
    ("path", "body", "content_type", "status", "fragment"),
    [
        ("/ingest/no-such", b"{}", "application/json", 404, "known: dvc-dossiers, hospital"),
        ("/ingest/hospital-payments", b"{}" * 3000, "application/json", 413, "over 4096 bytes"),
        ("/ingest/hospital-payments", b"{}", "text/plain", 415, "application/x-ndjson"),
        ("/ingest/hospital-payments", b"{}", None, 415, "application/json"),
        ("/ingest/hospital-payments", b"{}", "application/json; charset=latin-1", 415, "UTF-8"),
        ("/ingest/hospital-payments", b" \n", "application/json", 400, "empty"),
        ("/ingest/hospital-payments", b"42", "application/json", 400, "JSON object or an array"),
    ],
)
async def test_refusals_are_problem_documents(
    server: Server,
    path: str,
    body: bytes,
    content_type: str | None,
    status: int,
    fragment: str,
) -> None:
    response = await request(server.port, path, body, content_type=content_type)
    assert response.status == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json["status"] == status
    assert {"type", "title", "detail"} <= set(response.json)
    assert fragment in response.json["detail"]


async def test_health(server: Server) -> None:
    response = await request(server.port, "/healthz", method="GET", content_type=None)
    assert (response.status, response.json) == (200, {"status": "ok", "queue": 0})


# --- options -----------------------------------------------------------------------------------
async def test_bearer_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_TEST_INGEST_TOKEN", "s3cret")
    server = await Server(make(tmp_path, token_env="IOC_TEST_INGEST_TOKEN")).started()
    try:
        path, body = "/ingest/hospital-payments", RECORDS[0]
        assert (await request(server.port, path, body)).status == 401
        wrong = {"Authorization": "Bearer guess"}
        assert (await request(server.port, path, body, headers=wrong)).status == 401
        right = {"Authorization": "Bearer s3cret"}
        assert (await request(server.port, path, body, headers=right)).status == 202
    finally:
        await server.stop()


async def test_a_full_queue_makes_requests_wait(tmp_path: Path) -> None:
    server = await Server(make(tmp_path, queue="1"), consume=False).started()
    try:
        body = b"\n".join(RECORDS[:3])
        posting = asyncio.create_task(
            request(
                server.port, "/ingest/hospital-payments", body, content_type="application/x-ndjson"
            )
        )
        await asyncio.sleep(0.2)
        assert not posting.done()  # one record taken, one queued, one waiting for room
        await server.take(2)
        response = await asyncio.wait_for(posting, 5)
        assert response.json["accepted"] == 3
        assert len(server.items) == 3
    finally:
        await server.stop()


async def test_ack_after_commit(tmp_path: Path) -> None:
    server = await Server(make(tmp_path, ack="committed"), commit=False).started()
    try:
        posting = asyncio.create_task(request(server.port, "/ingest/hospital-payments", RECORDS[0]))
        await server.until(1)
        await asyncio.sleep(0.1)
        assert not posting.done()  # handed to the runner, not yet durable
        await server.connector.commit()
        assert (await asyncio.wait_for(posting, 5)).status == 202
    finally:
        await server.stop()


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"token_env": "IOC_TEST_UNSET_TOKEN"}, ConnectorError, "IOC_TEST_UNSET_TOKEN"),
        ({"ack": "never"}, ConnectorError, "ack='never'"),
        ({"queue": "0"}, ConnectorError, "queue='0' must be a whole number of at least 1"),
        ({"mappings": "/nowhere"}, ConnectorError, "neither a mapping file nor a directory"),
    ],
)
async def test_bad_options(
    tmp_path: Path, options: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        await anext(make(tmp_path, **options).events())


async def test_every_broken_mapping_is_reported_at_start(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: payment.txn\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("kind: dvc.dossier\nfoo: 1\n", encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        await anext(make(tmp_path, mappings=str(tmp_path)).events())
    text = str(caught.value)
    assert "a.yaml:1: kind: unknown kind" in text
    assert "b.yml:2: foo: unknown key" in text


async def test_a_busy_port_is_a_connector_error(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        with pytest.raises(ConnectorError, match=f"cannot listen on 127.0.0.1:{port}"):
            await anext(make(tmp_path, port=str(port)).events())


def test_describes_itself() -> None:
    assert HttpIngestConnector.description().startswith("Accepts events over HTTP POST")
    assert {"host", "port", "mappings", "max_body_bytes", "queue", "token_env"} <= set(
        HttpIngestConnector.options_help
    )


# --- under abuse (issue 17) --------------------------------------------------------------------
@pytest.fixture
async def big(tmp_path: Path) -> AsyncIterator[Server]:
    """A server with the default limits (10 MiB bodies, 10 000 records) and short timeouts."""
    server = Server(
        make(tmp_path, header_timeout_seconds="1", body_timeout_seconds="1", max_connections="4")
    )
    yield await server.started()
    await server.stop()


async def test_too_many_records_are_refused_whole_and_quickly(big: Server) -> None:
    """Was: 202 after 20 s of event loop, 2.5 GB of memory and 3.5 million dead letters."""
    body = b"[" + b"{}," * (3_495_000) + b"{}]"  # just under 10 MiB
    started = asyncio.get_running_loop().time()
    response = await request(big.port, "/ingest/hospital-payments", body)
    assert response.status == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "more than 10000 records" in response.json["detail"]
    assert asyncio.get_running_loop().time() - started < 5
    lines = b"{}\n" * 10_001
    response = await request(
        big.port, "/ingest/hospital-payments", lines, content_type="application/x-ndjson"
    )
    assert response.status == 413
    await asyncio.sleep(0.1)
    assert big.items == []  # nothing of either was queued


@pytest.mark.parametrize("body", [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1"])
async def test_deeply_nested_json_is_refused_and_kept(big: Server, body: bytes) -> None:
    """Was: 500 and nothing dead-lettered."""
    response = await request(big.port, "/ingest/hospital-payments", body)
    assert response.status == 400
    assert response.headers["content-type"] == "application/problem+json"
    (kept,) = await big.until(1)
    assert isinstance(kept, Rejected)
    assert (kept.reason, kept.original) == ("not_json", body)


async def test_a_record_over_the_record_limit_is_a_too_large_problem(big: Server) -> None:
    huge = b'{"ma_giao_dich": "' + b"x" * RECORD_LIMIT + b'"}'
    response = await request(big.port, "/ingest/hospital-payments", b"[" + huge + b"]")
    assert response.status == 202
    assert response.json["problems"][0]["reason"] == "too_large"
    response = await request(big.port, "/ingest/hospital-payments", huge)
    assert response.json["problems"][0]["reason"] == "too_large"
    first, second = await big.until(2)
    assert isinstance(first, Rejected) and first.original == huge
    assert isinstance(second, Rejected) and second.original == huge


async def test_an_impossible_time_is_one_rejected_record(big: Server) -> None:
    """Was: 500 after the first record had been queued (a partial accept)."""
    bad = json.loads(RECORDS[1])
    bad["thoi_gian"] = "01/01/0001 00:00:00"
    body = b"[" + RECORDS[0] + b"," + json.dumps(bad).encode() + b"]"
    response = await request(big.port, "/ingest/hospital-payments", body)
    assert response.status == 202
    assert (response.json["accepted"], response.json["rejected"]) == (1, 1)
    assert response.json["problems"][0]["reason"] == "bad_time"


async def test_a_record_the_mapping_fails_on_is_rejected_not_a_half_accepted_request(
    big: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = big.connector.mappings["hospital-payments"]
    apply_record = mapping.apply_record

    def failing(record: Any, **kwargs: Any) -> Item:
        if record.get("ma_giao_dich") == "boom":
            raise OverflowError("date value out of range")
        return apply_record(record, **kwargs)

    monkeypatch.setattr(mapping, "apply_record", failing)
    body = b"[" + RECORDS[0] + b', {"ma_giao_dich": "boom"}, ' + RECORDS[1] + b"]"
    response = await request(big.port, "/ingest/hospital-payments", body)
    assert response.status == 202
    assert (response.json["accepted"], response.json["rejected"]) == (2, 1)
    assert response.json["problems"] == [
        {"index": 1, "reason": "internal", "detail": "OverflowError: date value out of range"}
    ]
    assert len(await big.until(3)) == 3


async def _closed_within(reader: asyncio.StreamReader, seconds: float) -> bytes:
    async with asyncio.timeout(seconds):
        return await reader.read()


async def test_half_sent_headers_are_cut_off(big: Server) -> None:
    """Was: held open indefinitely (slowloris)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", big.port)
    writer.write(b"POST /ingest/hospital-payments HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    await writer.drain()
    assert await _closed_within(reader, 5) == b""
    writer.close()


async def test_a_slow_body_is_refused_with_408(big: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", big.port)
    writer.write(
        b"POST /ingest/hospital-payments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    await writer.drain()
    response = Response(await _closed_within(reader, 5))
    assert response.status == 408
    assert response.headers["content-type"] == "application/problem+json"
    writer.close()


async def test_connections_beyond_the_limit_get_503(big: Server) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", big.port) for _ in range(4)]
    try:
        response = await request(big.port, "/ingest/hospital-payments", RECORDS[0])
        assert response.status == 503
    finally:
        for _, writer in idle:
            writer.close()
    await asyncio.sleep(0.1)
    assert (await request(big.port, "/ingest/hospital-payments", RECORDS[0])).status == 202


async def test_a_token_per_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOC_TEST_MAPPING_TOKENS", "hospital-payments:tok-a, dvc-dossiers:tok-b")
    server = await Server(make(tmp_path, mapping_tokens_env="IOC_TEST_MAPPING_TOKENS")).started()
    try:
        a = {"Authorization": "Bearer tok-a"}
        post = "/ingest/hospital-payments"
        assert (await request(server.port, post, RECORDS[0], headers=a)).status == 202
        assert (await request(server.port, post, RECORDS[0])).status == 401
        b = {"Authorization": "Bearer tok-b"}
        assert (await request(server.port, post, RECORDS[0], headers=b)).status == 401
        assert (await request(server.port, "/ingest/dvc-dossiers", b"{}", headers=a)).status == 401
        unknown = await request(server.port, "/ingest/no-such", b"{}")
        assert unknown.status == 401  # the mapping names are not told to anyone
    finally:
        await server.stop()


async def test_outside_local_a_mapping_without_a_token_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IOC_TEST_MAPPING_TOKENS", "hospital-payments:tok-a")
    context = ConnectorContext(
        name="bv-http",
        settings=load_settings(
            state_dir=tmp_path / "state",
            environment="production",
            kafka_bootstrap="kafka:9092",
            database_url="postgresql://ioc@db/ioc",
        ),
        areas=AREAS,
        options={
            "mappings": str(EXAMPLES),
            "port": "0",
            "mapping_tokens_env": "IOC_TEST_MAPPING_TOKENS",
        },
    )
    with pytest.raises(ConnectorError, match="anyone could post to dvc-dossiers"):
        await anext(HttpIngestConnector(context).events())


async def test_bodies_are_read_and_mapped_a_few_at_a_time(tmp_path: Path) -> None:
    """Memory is bounded by max_parallel bodies, not by max_connections of them."""
    # 3 s for the slow body: the 0.6 s of waiting below ends well before it, even on a busy machine.
    server = await Server(make(tmp_path, body_timeout_seconds="3", max_parallel="1")).started()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            b"POST /ingest/hospital-payments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        )
        await writer.drain()
        await asyncio.sleep(0.2)  # the slow body holds the only place
        posting = asyncio.create_task(request(server.port, "/ingest/hospital-payments", RECORDS[0]))
        await asyncio.sleep(0.4)
        assert not posting.done()
        assert Response(await _closed_within(reader, 5)).status == 408
        assert (await asyncio.wait_for(posting, 5)).status == 202
        writer.close()
    finally:
        await server.stop()
