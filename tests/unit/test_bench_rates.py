"""The bench's rates: sustained from the first batch read, or from the start when one batch was all.

`python -m bench.streams_pipeline --events 10000` read its backlog in one batch and divided by
the zero seconds left after it.
"""

from __future__ import annotations

import pytest

from bench.harness import peer_rates, read_rates


def test_the_sustained_rate_is_timed_from_the_first_batch() -> None:
    # 1,000 events in the first batch at 2 s (1 s of CPU), 10,000 in all at 6 s (3 s of CPU).
    rates = read_rates(10_000, 0.0, 6.0, (2.0, 1_000, 1.0), 0.5, 3.0)
    assert rates["events_per_second_from_start"] == pytest.approx(10_000 / 6)
    assert rates["seconds"] == pytest.approx(4.0)
    assert rates["events_per_second"] == pytest.approx(9_000 / 4)
    assert rates["cpu_us_per_event"] == pytest.approx(1e6 * 2.0 / 9_000)
    assert rates["cpu_percent"] == pytest.approx(50.0)


@pytest.mark.parametrize("first", [(6.0, 10_000, 3.0), None], ids=["one batch", "no first"])
def test_a_backlog_read_in_one_batch_is_timed_from_the_start(
    first: tuple[float, int, float] | None,
) -> None:
    rates = read_rates(10_000, 0.0, 6.0, first, 0.5, 3.0)
    assert rates["events_per_second"] == rates["events_per_second_from_start"]
    assert rates["events_per_second"] == pytest.approx(10_000 / 6)
    assert rates["cpu_us_per_event"] == pytest.approx(1e6 * 2.5 / 10_000)


def test_a_peers_progress_file_gives_the_same_rates() -> None:
    state = {
        "count": 10_000,
        "at": 106.0,
        "cpu": 3.0,
        "first": {"at": 102.0, "count": 1_000, "cpu": 1.0},
    }
    assert peer_rates(state, 100.0) == read_rates(
        10_000, 100.0, 106.0, (102.0, 1_000, 1.0), 0.0, 3.0
    )
    assert peer_rates({**state, "first": None}, 100.0)["events_per_second"] == pytest.approx(
        10_000 / 6
    )
