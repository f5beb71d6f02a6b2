"""The broker a benchmark runs against: `IOC_KAFKA_BOOTSTRAP`, else the embedded Apache Kafka
that `ioc up` provisions, started in a temporary state directory and stopped afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ioc.config import load_settings
from ioc.embedded.kafka import KafkaNode
from ioc.embedded.process import ManagedProcess


@contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """Yield a broker address (loopback only for the embedded one)."""
    external = os.environ.get("IOC_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="ioc-bench-") as tmp:
        node = KafkaNode(Path(tmp), settings.cache_dir, port=0)
        process = ManagedProcess(node.prepare(heap="1g"), Path(tmp))
        process.start()
        try:
            process.wait_ready(settings.embedded.start_timeout_seconds)
            yield node.bootstrap
        finally:
            process.stop(settings.embedded.stop_grace_seconds)
