"""The backfill's input, made once and replayed fast: simulated history cached on disk.

Generating 10 M events through the simulators takes longer than reading them, so the suite
generates each feed's history once (a subprocess per feed: the simulator, the envelope's
validation and `ioc.codec.encode`, exactly the bytes, keys and headers `ConnectorRunner`
sends) into an lz4 file under `~/.cache/ioc-monitor/bench/`, and replays it onto fresh topics
with a confluent-kafka producer (idempotent, acks=all, lz4, murmur2 partitioner as aiokafka).
Same seed, range and rate give the same events. Producing through the connectors is measured
separately, on the slice (`ioc connectors backfill`).

    python -m bench._history generate SIM START END RATE FILE
    python -m bench._history replay FILE TOPIC BOOTSTRAP
"""

from __future__ import annotations

import asyncio
import struct
import sys
from datetime import datetime
from pathlib import Path

import lz4.frame

FRAME = struct.Struct("<HHI")  # key, headers, value lengths
SEP = b"\x1f"


async def _generate(sim: str, start: datetime, end: datetime, rate: float, path: Path) -> int:
    from ioc.areas import load_areas
    from ioc.codec import encode, headers
    from ioc.config import load_settings
    from ioc.connectors import ConnectorContext, VirtualClock
    from ioc.connectors.registry import load_connector

    settings = load_settings()
    connector = load_connector(sim)(
        ConnectorContext(
            name=sim,
            settings=settings,
            areas=load_areas(settings.areas_file),
            clock=VirtualClock(start, end),
            seed=1,
            rate=rate,
        )
    )
    count = 0
    tmp = path.with_suffix(".tmp")
    with lz4.frame.open(tmp, "wb") as out:
        buffer = bytearray()
        async for envelope in connector.events():
            key = envelope.key.encode()
            value = encode(envelope)
            head = SEP.join(v for _, v in headers(envelope))
            buffer += FRAME.pack(len(key), len(head), len(value)) + key + head + value
            count += 1
            if len(buffer) > 1 << 20:
                out.write(bytes(buffer))
                buffer.clear()
        out.write(bytes(buffer))
    tmp.replace(path)
    path.with_suffix(".count").write_text(str(count), encoding="utf-8")
    return count


def _replay(path: Path, topic: str, bootstrap: str) -> int:
    from confluent_kafka import Producer

    names = ("ioc-type", "ioc-version", "ioc-source")
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "enable.idempotence": True,
            "acks": "all",
            "compression.type": "lz4",
            "linger.ms": 20,
            "batch.size": 1 << 20,
            "partitioner": "murmur2_random",
            "queue.buffering.max.messages": 500_000,
        }
    )
    count = 0
    with lz4.frame.open(path, "rb") as source:
        data = source.read()
    view = memoryview(data)
    at, end = 0, len(data)
    while at < end:
        key_len, head_len, value_len = FRAME.unpack_from(view, at)
        at += FRAME.size
        key = bytes(view[at : at + key_len])
        at += key_len
        head = bytes(view[at : at + head_len]).split(SEP)
        at += head_len
        value = bytes(view[at : at + value_len])
        at += value_len
        while True:
            try:
                producer.produce(topic, value, key, headers=list(zip(names, head, strict=True)))
                break
            except BufferError:
                producer.poll(0.05)
        count += 1
        if count % 10_000 == 0:
            producer.poll(0)
    if producer.flush(120) != 0:
        raise RuntimeError(f"{topic}: not every record was acknowledged")
    return count


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "generate":
        sim, start, end, rate, file = rest
        asyncio.run(
            _generate(
                sim,
                datetime.fromisoformat(start),
                datetime.fromisoformat(end),
                float(rate),
                Path(file),
            )
        )
    elif command == "replay":
        file, topic, bootstrap = rest
        print(_replay(Path(file), topic, bootstrap))
    else:
        raise SystemExit(__doc__)
