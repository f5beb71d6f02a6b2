"""bytewax: the windowed aggregation as a dataflow.

`KafkaSource` (confluent-kafka) over the four feed topics → `map` (our decode + measures) →
`key_on` the area → `fold_window` with an `EventClock` on the event time and a
`TumblingWindower` aligned on the epoch → a `DynamicSink` that upserts each closed window's
rows in one batch per `write_batch` call. A window is emitted once, when the clock's watermark
(newest event time minus the wait) passes its end, or at the end of the input; the wait is
wide enough that no event is dropped as late. `ordered=False`: the fold is commutative, so
bytewax need not buffer and sort events. One worker (`workers_per_process=1`), as the
comparison with one worker of ours. On a backlog the source stops at the end of the topics
(`tail=False`), which flushes every open window.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import bytewax.operators as op
from bytewax._bytewax import cli_main
from bytewax.connectors.kafka import KafkaSource
from bytewax.dataflow import Dataflow
from bytewax.operators.windowing import EventClock, TumblingWindower, fold_window
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from bench.peers._common import EPOCH, Report, RowWriter, State, fold, load_config, merge, parse


class _Partition(StatelessSinkPartition):  # type: ignore[misc]
    def __init__(self, url: str, width: timedelta) -> None:
        self.writer = RowWriter(url)
        self.width = width

    def write_batch(self, items: list[tuple[str, tuple[int, State]]]) -> None:
        rows = {}
        for area, (window_id, state) in items:
            start = EPOCH + window_id * self.width
            for metric, total in state.items():
                rows[(start, metric, area)] = total
        self.writer.write(rows)

    def close(self) -> None:
        self.writer.close()


class WindowSink(DynamicSink):  # type: ignore[misc]
    def __init__(self, url: str, width: timedelta) -> None:
        self.url = url
        self.width = width

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _Partition:
        return _Partition(self.url, self.width)


def build(config: dict[str, Any], report: Report) -> Dataflow:
    width = timedelta(seconds=config["window_seconds"])
    flow = Dataflow("ioc_windows")
    # No group.id: bytewax assigns the partitions itself and sets its own, and it passes
    # add_config to its admin client too, whose librdkafka warns about a consumer property.
    source = KafkaSource(
        [config["bootstrap"]],
        config["topics"],
        tail=config["mode"] == "live",
        batch_size=config.get("batch_size", 1000),
    )
    records = op.input("kafka", flow, source)

    def decode(message: Any) -> tuple[str, datetime, list[tuple[str, float]]]:
        report.add()
        return parse(message.value)

    events = op.map("decode", records, decode)
    keyed = op.key_on("area", events, lambda event: event[0])
    clock = EventClock(
        ts_getter=lambda event: event[1],
        wait_for_system_duration=timedelta(seconds=config["grace_seconds"]),
    )
    windows = fold_window(
        "windows",
        keyed,
        clock,
        TumblingWindower(length=width, align_to=datetime(1970, 1, 1, tzinfo=UTC)),
        builder=dict,
        folder=lambda state, event: fold(state, event[2]),
        merger=merge,
        ordered=False,
    )
    op.output("postgres", windows.down, WindowSink(config["database_url"], width))
    return flow


def main(config_path: str) -> None:
    config = load_config(config_path)
    report = Report(config["out"])
    cli_main(build(config, report), workers_per_process=1)
    report.write(done=True)


if __name__ == "__main__":
    main(sys.argv[1])
