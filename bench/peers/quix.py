"""quixstreams: the windowed aggregation as a user would write it with `StreamingDataFrame`.

Per feed topic: deserialize (our decode + measures), `group_by` the area (quixstreams windows
are per message key, and our keys are entities; this goes through a repartition topic), a
tumbling event-time window with `reduce`, `.current()`, and a `BatchingSink` that upserts the
newest value of each (window, area) at every checkpoint (`commit_interval`, the same 0.5 s as
the worker's flush). `.final()` would write each window once, but only when a later event of
the same partition closes it, so the last windows of a backlog would never be written.
The grace period is wide enough that no event is dropped as late (our worker counts late
events too, as corrections).
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

from quixstreams import Application
from quixstreams.models.serializers import Deserializer
from quixstreams.sinks import BatchingSink, SinkBatch

from bench.peers._common import EPOCH, Report, RowWriter, fold, load_config, parse


class EnvelopeDeserializer(Deserializer):  # type: ignore[misc]
    """Record bytes → {area, event time (ms), measures} through the project's codec."""

    def __call__(self, value: bytes, ctx: Any) -> dict[str, Any]:
        area, at, event_measures = parse(value)
        return {"a": area, "t": int(at.timestamp() * 1000), "m": event_measures}


class WindowSink(BatchingSink):  # type: ignore[misc]
    """Upserts the latest state of every (window, area) in the checkpoint's batch."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.writer: RowWriter | None = None

    def setup(self) -> None:
        self.writer = RowWriter(self.url)

    def write(self, batch: SinkBatch) -> None:
        latest: dict[tuple[int, str], dict[str, list[float]]] = {}
        for item in batch:
            window = item.value
            latest[(window["start"], window["value"]["a"])] = window["value"]["m"]
        rows = {}
        for (start, area), state in latest.items():
            at = EPOCH + timedelta(milliseconds=start)
            for metric, total in state.items():
                rows[(at, metric, area)] = total
        assert self.writer is not None
        self.writer.write(rows)


def main(config_path: str) -> None:
    config = load_config(config_path)
    report = Report(config["out"])
    expected = config.get("expected")
    app = Application(
        broker_address=config["bootstrap"],
        consumer_group=config["group"],
        auto_offset_reset="earliest",
        commit_interval=config["flush_seconds"],
        state_dir=config["state_dir"],
        loglevel="WARNING",
    )

    def initializer(value: dict[str, Any]) -> dict[str, Any]:
        report.add()
        state = {"a": value["a"], "m": fold({}, value["m"])}
        if expected is not None and report.count >= expected:
            app.stop()  # the last checkpoint runs the sink once more
        return state

    def reducer(state: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
        report.add()
        fold(state["m"], value["m"])
        if expected is not None and report.count >= expected:
            app.stop()
        return state

    for n, name in enumerate(config["topics"]):
        topic = app.topic(
            name,
            value_deserializer=EnvelopeDeserializer(),
            timestamp_extractor=lambda value, headers, timestamp, kind: value["t"],
        )
        (
            app.dataframe(topic)
            .group_by(lambda value: value["a"], name=f"area{n}")
            .tumbling_window(
                timedelta(seconds=config["window_seconds"]),
                grace_ms=timedelta(seconds=config["grace_seconds"]),
                name=f"windows{n}",
            )
            .reduce(reducer, initializer)
            .current()
            .sink(WindowSink(config["database_url"]))
        )
    app.run()
    report.write(done=True)


if __name__ == "__main__":
    main(sys.argv[1])
