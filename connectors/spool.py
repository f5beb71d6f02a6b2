"""A bounded, ordered, on-disk queue of Kafka records for while the broker is away.

Layout of a spool directory: `records` is an append-only file of framed records, `head`
holds the byte offset of the first record not yet delivered. Records are only removed
(`consume`) once the broker has acknowledged them, so a crash at any point loses nothing:
the next run delivers the spool first (records acknowledged just before a crash may be sent
again; consumers count an event id once). When everything is delivered, both files are
reset to empty.

An append reaches the OS page cache (it survives the process, not a power cut); `sync()`
forces it to disk. The runner syncs before it tells a connector that what it yielded is
committed, so an http-ingest 202 with ack=committed survives a power cut too, as long as the
spool directory is on persistent storage.

Frame: 4-byte length, 4-byte CRC32 of the body, then the body (topic, key, value and
headers, each length-prefixed). A torn frame at the end (a crash mid-write) is cut off on open.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ioc.connectors.base import ConnectorError

__all__ = ["Spool", "SpoolRecord"]

log = logging.getLogger(__name__)

_FRAME = struct.Struct(">II")  # body length, crc32
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_NONE = 0xFFFFFFFF  # length marker of a missing key


@dataclass(frozen=True)
class SpoolRecord:
    """One Kafka record as the runner would send it."""

    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)

    def encode(self) -> bytes:
        """The framed bytes of this record."""
        topic = self.topic.encode()
        parts = [_U16.pack(len(topic)), topic]
        if self.key is None:
            parts.append(_U32.pack(_NONE))
        else:
            parts += [_U32.pack(len(self.key)), self.key]
        parts += [_U32.pack(len(self.value)), self.value, _U16.pack(len(self.headers))]
        for name, value in self.headers:
            raw = name.encode()
            parts += [_U16.pack(len(raw)), raw, _U32.pack(len(value)), value]
        body = b"".join(parts)
        return _FRAME.pack(len(body), zlib.crc32(body)) + body

    @classmethod
    def decode(cls, body: bytes) -> SpoolRecord:
        """Parse a frame body (without the length and CRC prefix)."""
        pos = 0

        def take(size: int) -> bytes:
            nonlocal pos
            chunk = body[pos : pos + size]
            pos += size
            return chunk

        topic = take(_U16.unpack(take(2))[0]).decode()
        (key_len,) = _U32.unpack(take(4))
        key = None if key_len == _NONE else take(key_len)
        value = take(_U32.unpack(take(4))[0])
        headers = []
        for _ in range(_U16.unpack(take(2))[0]):
            name = take(_U16.unpack(take(2))[0]).decode()
            headers.append((name, take(_U32.unpack(take(4))[0])))
        return cls(topic, key, value, headers)


class Spool:
    """A FIFO of records on disk, bounded by `max_bytes` of file size.

    Not thread-safe; the runner uses it from one event loop.
    """

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        # One writer per spool: a second instance under the same name would interleave.
        self._lock = open(directory / "lock", "w")  # noqa: SIM115 - held while the spool lives
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise ConnectorError(
                f"another process is running under this name (its spool {directory} is "
                "locked): stop it, or give this one another name with --as NAME"
            ) from None
        self._records_path = directory / "records"
        self._head_path = directory / "head"
        # Unbuffered: a write the disk refuses must leave nothing behind in a buffer that a
        # later write would flush after other records (see `append`).
        self._file = open(  # noqa: SIM115 - lives as long as the spool
            self._records_path, "a+b", buffering=0
        )
        self._head = self._read_head()
        self._tail, self._count = self._recover()
        self._synced = self._tail  # bytes of the file known to be on disk

    def _read_head(self) -> int:
        try:
            return int(self._head_path.read_text().strip() or 0)
        except FileNotFoundError:
            return 0

    def _recover(self) -> tuple[int, int]:
        """Count the records after `head`, cutting off a torn last frame."""
        # A crash between emptying the file and rewriting `head` leaves head past the end.
        self._head = min(self._head, self._file.seek(0, os.SEEK_END))
        self._file.seek(self._head)
        pos, count = self._head, 0
        while True:
            prefix = self._file.read(_FRAME.size)
            if len(prefix) < _FRAME.size:
                break
            size, crc = _FRAME.unpack(prefix)
            body = self._file.read(size)
            if len(body) < size or zlib.crc32(body) != crc:
                break
            pos += _FRAME.size + size
            count += 1
        end = self._file.seek(0, os.SEEK_END)
        if end > pos:
            log.warning("spool %s: cut %d bytes of a torn record", self.directory, end - pos)
            self._file.truncate(pos)
        if count:
            log.info("spool %s: %d records from a previous run to deliver", self.directory, count)
        return pos, count

    def __len__(self) -> int:
        return self._count

    @property
    def empty(self) -> bool:
        """True when every spooled record has been delivered."""
        return self._count == 0

    @property
    def size_bytes(self) -> int:
        """Bytes the spool file takes on disk."""
        return self._tail

    @property
    def synced_bytes(self) -> int:
        """Bytes of the spool file forced to disk by `sync()` (all of it when in sync)."""
        return self._synced

    def has_room(self, frame_bytes: int) -> bool:
        """Whether a frame of this size fits (an empty spool always takes one record)."""
        return self._tail == 0 or self._tail + frame_bytes <= self.max_bytes

    def append(self, frames: list[bytes]) -> None:
        """Append encoded records (see `SpoolRecord.encode`); the caller checks `has_room`.

        All or nothing: when the disk refuses the write (full: ENOSPC, a quota: EDQUOT, a
        file-size limit: EFBIG), the part that was written is cut off again and the OSError
        is raised; the spool holds exactly what it held before, and the caller still has
        the records.
        """
        data = memoryview(b"".join(frames))
        written = 0
        try:
            while written < len(data):  # an unbuffered write may take only part of it
                # In the OS page cache once written: survives a process crash.
                written += self._file.write(data[written:]) or 0
        except OSError:
            with contextlib.suppress(OSError):
                self._file.truncate(self._tail)
            raise
        self._tail += len(data)
        self._count += len(frames)

    def peek(self, limit: int) -> tuple[list[SpoolRecord], int]:
        """Up to `limit` records from the head, and the offset just past the last of them."""
        self._file.seek(self._head)
        records: list[SpoolRecord] = []
        pos = self._head
        while len(records) < limit and pos < self._tail:
            size, _crc = _FRAME.unpack(self._file.read(_FRAME.size))
            records.append(SpoolRecord.decode(self._file.read(size)))
            pos += _FRAME.size + size
        return records, pos

    def consume(self, upto: int, records: int) -> None:
        """Mark the records before offset `upto` as delivered."""
        self._count -= records
        if self._count == 0:
            self._file.truncate(0)
            self._head = self._tail = self._synced = 0
        else:
            self._head = upto
        tmp = self._head_path.with_suffix(".tmp")
        tmp.write_text(str(self._head))
        os.replace(tmp, self._head_path)

    def sync(self) -> None:
        """Force the spool to disk (survives a power cut, not only a crash); cheap when in sync."""
        if self._synced == self._tail:
            return
        os.fsync(self._file.fileno())
        self._synced = self._tail

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Sync and close the file."""
        if not self._file.closed:
            self.sync()
            self._file.close()
            self._lock.close()
