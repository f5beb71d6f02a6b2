"""The on-disk spool: order, bounds, and surviving a crash."""

from __future__ import annotations

from pathlib import Path

from ioc.connectors.spool import Spool, SpoolRecord


def _record(n: int) -> SpoolRecord:
    return SpoolRecord(
        "ioc.events.dvc", f"k{n}".encode(), f"value {n} Hưng Yên".encode(), [("ioc-type", b"x")]
    )


def test_records_come_back_in_order_with_key_and_headers(tmp_path: Path) -> None:
    with Spool(tmp_path, 1 << 20) as spool:
        spool.append([_record(n).encode() for n in range(5)])
        spool.append([SpoolRecord("t", None, b"", []).encode()])

        records, upto = spool.peek(10)
        assert records == [*(_record(n) for n in range(5)), SpoolRecord("t", None, b"", [])]
        spool.consume(upto, len(records))
        assert spool.empty and spool.size_bytes == 0
        assert (tmp_path / "records").stat().st_size == 0


def test_partial_consume_survives_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    spool.append([_record(n).encode() for n in range(10)])
    _records, upto = spool.peek(4)
    spool.consume(upto, 4)
    spool.close()

    with Spool(tmp_path, 1 << 20) as again:
        assert len(again) == 6
        assert again.peek(100)[0] == [_record(n) for n in range(4, 10)]


def test_a_torn_last_record_is_cut_off_and_the_rest_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    spool.append([_record(n).encode() for n in range(3)])
    spool.close()
    with open(tmp_path / "records", "ab") as f:
        f.write(_record(3).encode()[:-5])  # a crash in the middle of a write

    with Spool(tmp_path, 1 << 20) as again:
        assert again.peek(100)[0] == [_record(n) for n in range(3)]
        again.append([_record(4).encode()])
        assert again.peek(100)[0] == [_record(n) for n in (0, 1, 2, 4)]


def test_head_past_the_end_after_a_crash_while_emptying(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    spool.append([_record(n).encode() for n in range(3)])
    spool.close()
    (tmp_path / "head").write_text("999999")
    (tmp_path / "records").write_bytes(b"")

    with Spool(tmp_path, 1 << 20) as again:
        assert again.empty
        again.append([_record(7).encode()])
        assert again.peek(10)[0] == [_record(7)]


def test_bound_refuses_a_record_that_does_not_fit_but_an_empty_spool_takes_one(
    tmp_path: Path,
) -> None:
    frame = _record(0).encode()
    with Spool(tmp_path, len(frame) * 2) as spool:
        assert spool.has_room(len(frame) * 10)  # empty: a huge record must still be accepted
        spool.append([frame, frame])
        assert not spool.has_room(len(frame))


def test_a_second_writer_under_the_same_name_is_refused(tmp_path: Path) -> None:
    import pytest

    from ioc.connectors import ConnectorError

    with Spool(tmp_path, 1 << 20), pytest.raises(ConnectorError, match="--as NAME"):
        Spool(tmp_path, 1 << 20)
    with Spool(tmp_path, 1 << 20):  # released on close
        pass
