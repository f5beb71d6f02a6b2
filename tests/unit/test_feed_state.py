"""A feed without new windows is idle only when its connector runs and nothing waits to be counted.

Out of office hours the DVC feed has no events at all; the board must not call it down then,
but it must when the connector died, the broker is away or the worker fell behind.
"""

from __future__ import annotations

import os

import pytest

from ioc.api.queries.feeds import _idle
from ioc.telemetry import AgentMetrics, ConnectorMetrics, StreamMetrics

DEAD_PID = 2**22 + 1  # above Linux's pid_max default: no such process


def _connector(state: str = "running", pid: int | None = None) -> ConnectorMetrics:
    return ConnectorMetrics(name="dvc-sim", feed="dvc", pid=pid or os.getpid(), state=state)


def _worker(lag: int = 0, state: str = "running") -> StreamMetrics:
    return StreamMetrics(name="w", group="g", state=state, agents={"dvc": AgentMetrics(lag=lag)})


def test_a_running_connector_and_a_caught_up_worker_make_a_quiet_feed_idle() -> None:
    assert _idle("dvc", [_connector()], [_worker()])


@pytest.mark.parametrize(
    ("connectors", "workers"),
    [
        ([], [_worker()]),  # no connector for the feed
        ([_connector(pid=DEAD_PID)], [_worker()]),  # its process is gone
        ([_connector("spooling")], [_worker()]),  # the broker is away
        ([_connector("stopped")], [_worker()]),
        ([_connector()], []),  # no worker counts it
        ([_connector()], [_worker(lag=120)]),  # events wait to be counted
        ([_connector()], [_worker(state="recovering")]),  # the database is away
    ],
)
def test_anything_broken_is_not_idle(
    connectors: list[ConnectorMetrics], workers: list[StreamMetrics]
) -> None:
    assert not _idle("dvc", connectors, workers)


def test_another_feeds_connector_does_not_count() -> None:
    camera = ConnectorMetrics(name="camera-sim", feed="camera", pid=os.getpid(), state="running")
    assert not _idle("dvc", [camera], [_worker()])
