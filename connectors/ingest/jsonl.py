"""`JsonLinesConnector`: JSON Lines files of a provincial system, mapped by a mapping file.

It reads a file, or every file of a folder in name order, line by line; each non-blank line
becomes an `Envelope` or a `Rejected` (see `ioc.connectors.ingest.mapping`), never nothing.
Like ``tail -F`` it keeps following: lines appended later, new files, a file replaced by log
rotation (the rest of the old file is read first) or truncated (read again from the start).

Read positions are saved in `commit()`, which the runner calls once everything yielded so far
is durable, so a restart resumes exactly there: nothing is read twice after a clean commit,
and after a crash only the lines since the last commit are read again — with the same event
ids, since mappings make ids from the record (see ``event_id``).

Example (one-shot import of a folder)::

    ioc connectors run jsonl-payments -o path=/data/bv -o mapping=bv.yaml -o follow=false
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Final

from ioc.connectors.base import (
    RECORD_LIMIT,
    Connector,
    ConnectorContext,
    ConnectorError,
    Item,
    too_large,
)
from ioc.connectors.ingest.mapping import EXAMPLES, Mapping, load_mapping

__all__ = ["JsonLinesConnector"]

log = logging.getLogger(__name__)

_CHUNK: Final = 1 << 20
# Lines mapped between two turns of the event loop (about 30 ms of work), so that a big file
# does not hold up the runner's sending or anything else in the process.
_LINES_PER_TURN: Final = 1000
# Enough of a file's first bytes to tell it from another file that got the same inode.
_HEAD_BYTES: Final = 1024
_STATE_VERSION: Final = 1
_BOOLEANS: Final = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}

_Line = tuple[int, int, bytes]  # line number, byte offset after it, its bytes


class _Tail:
    """One file being read: how far, and the bytes of a line whose newline has not come yet."""

    __slots__ = ("dropped", "fh", "head", "inode", "line", "offset", "path", "pending")

    def __init__(self, path: str, fh: BinaryIO) -> None:
        self.path = path
        self.fh = fh
        self.inode = os.fstat(fh.fileno()).st_ino
        self.offset = 0  # bytes consumed: the end of the last line handed out
        self.line = 0  # number of that line
        self.pending: list[bytes] = []
        # Bytes of the unfinished line not kept: a line over RECORD_LIMIT is a too_large
        # dead letter anyway, so memory holds at most RECORD_LIMIT + 1 bytes of it.
        self.dropped = 0
        self.head: str | None = None  # fingerprint of the first _HEAD_BYTES, once known

    def read(self) -> list[_Line] | None:
        """The complete lines of the next chunk; None at the end of the file."""
        chunk = self.fh.read(_CHUNK)
        if not chunk:
            return None
        cut = chunk.rfind(b"\n")
        if cut < 0:
            self._hold(chunk)
            return []
        data = b"".join([*self.pending, chunk[:cut]])
        self.pending = [chunk[cut + 1 :]] if cut + 1 < len(chunk) else []
        lines: list[_Line] = []
        end, number = self.offset + self.dropped, self.line
        self.dropped = 0
        for raw in data.split(b"\n"):
            end += len(raw) + 1
            number += 1
            # Slicing a shorter line returns it as is; a longer one is too_large anyway.
            lines.append((number, end, raw[: RECORD_LIMIT + 1]))
        return lines

    def _hold(self, chunk: bytes) -> None:
        room = RECORD_LIMIT + 1 - sum(len(part) for part in self.pending)
        if room > 0:
            self.pending.append(chunk[:room])
        self.dropped += max(len(chunk) - max(room, 0), 0)

    def flush(self) -> _Line | None:
        """The unfinished last line, for a file that will get no more bytes."""
        if not self.pending:
            return None
        raw = b"".join(self.pending)
        end = self.offset + len(raw) + self.dropped
        self.pending, self.dropped = [], 0
        return self.line + 1, end, raw

    def change(self) -> str | None:
        """Why the file at `path` is no longer the one being read, or None if it still is."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return "removed"
        if st.st_ino != self.inode:
            return "replaced (rotated)"
        if st.st_size < self.offset + sum(len(part) for part in self.pending) + self.dropped:
            return "truncated"
        return None

    def position(self) -> dict[str, Any]:
        """What `commit` saves for this file."""
        size = min(self.offset, _HEAD_BYTES)
        head = self.head
        if head is None:
            head = _fingerprint(os.pread(self.fh.fileno(), size, 0))
            # Once the whole head has been read it cannot change while this file is open.
            if size == _HEAD_BYTES:
                self.head = head
        return {
            "offset": self.offset,
            "line": self.line,
            "inode": self.inode,
            "head_bytes": size,
            "head_sha256": head,
        }


def _fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _size_of(path: str) -> int:
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0  # removed since it was listed: nothing of it will be read


class JsonLinesConnector(Connector):
    """Reads JSON Lines from a file or a directory, following new lines, mapped by a mapping file.

    The feed of the events is the mapping's (``mapping.feed``), so `feed` is None; the
    runner routes each envelope by its own feed.

    Attributes:
        mapping: The compiled mapping, once `events()` has started.
    """

    feed = None  # each event's feed is its mapping's
    options_help: ClassVar[dict[str, str]] = {
        "path": "file or directory of JSON Lines files (required)",
        "mapping": "mapping file (YAML) turning each line into an event (required)",
        "pattern": "glob of the files to read inside a directory (default *.jsonl)",
        "follow": "true: keep waiting for new lines and files, like tail -F; "
        "false: stop at the end of the files (default true)",
        "poll_seconds": "how often to look for new lines and files when following (default 0.5)",
        "state": "file where read positions are saved "
        "(default <IOC_STATE_DIR>/ingest/<connector name>.json)",
    }

    @classmethod
    def example_options(cls, workdir: Path) -> dict[str, str]:
        """Import the shipped DVC portal export once (a sample of a real feed's shape)."""
        return {
            "path": str(EXAMPLES / "dvc-dossiers.jsonl"),
            "mapping": str(EXAMPLES / "dvc-dossiers.yaml"),
            "follow": "false",
            "state": str(workdir / "jsonl-positions.json"),
        }

    def __init__(self, context: ConnectorContext) -> None:
        super().__init__(context)
        self.mapping: Mapping | None = None
        self._tails: dict[str, _Tail] = {}
        self._saved: dict[str, dict[str, Any]] = {}  # positions of files not opened yet
        self._written: dict[str, dict[str, Any]] | None = None
        self._root = Path()
        self._pattern = "*.jsonl"
        self._follow = True
        self._poll = 0.5
        self._state = Path()
        self._size = 0  # bytes of the files a one-shot import reads, once listed

    async def events(self) -> AsyncIterator[Item]:
        """Yield one item per non-blank line, file after file, then follow them if asked."""
        mapping = self._start()
        source = self.context.name
        while True:
            for tail, last in self._plan():
                for entry in self._lines(tail, final=last):
                    if entry is None:
                        await asyncio.sleep(0)  # see _LINES_PER_TURN
                        continue
                    number, end, raw = entry
                    size = end - tail.offset - 1  # of the whole line, however much was kept
                    tail.offset, tail.line = end, number
                    if raw.strip():
                        where = f"{tail.path}:{number}"
                        if len(raw) > RECORD_LIMIT:
                            yield too_large(raw, where, size=size)
                        else:
                            yield mapping.apply(raw, source=source, location=where)
            if not self._follow:
                return
            # Files live in real time, whatever the connector's clock says.
            await asyncio.sleep(self._poll)

    async def commit(self) -> None:
        """Save the position after the last yielded line of every file (atomically)."""
        if self.mapping is None:
            return  # not started: no position to save
        files = {path: tail.position() for path, tail in self._tails.items()}
        # Files not reached yet keep the positions they had.
        files.update({p: pos for p, pos in self._saved.items() if p not in files})
        if files == self._written:
            return
        self._state.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._state.with_name(self._state.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            json.dump({"version": _STATE_VERSION, "files": files}, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self._state)
        self._written = files

    def progress(self) -> tuple[int, int] | None:
        """How far a one-shot import (follow=false) is, for its progress bar.

        Returns:
            (bytes read, bytes of its files when it started; 0 until it has listed them),
            positions saved by an earlier run counting as read; None when it follows its files
            (it has no end).
        """
        if _BOOLEANS.get(self.context.option("follow", "true").strip().lower(), True):
            return None
        read = sum(t.offset for t in self._tails.values())
        read += sum(int(saved["offset"]) for saved in self._saved.values())
        return min(read, self._size), self._size

    async def aclose(self) -> None:
        """Close every open file, keeping the positions for a last `commit()`."""
        for path, tail in self._tails.items():
            self._saved[path] = tail.position()
            tail.fh.close()
        self._tails.clear()

    # --- internals -------------------------------------------------------------------------
    def _start(self) -> Mapping:
        option = self.context.option
        name = self.context.name
        self._root = Path(option("path"))
        if not self._root.exists():
            raise ConnectorError(
                f"connector {name!r}: path={self._root} does not exist "
                "(give a JSON Lines file or a directory of them)"
            )
        self._pattern = option("pattern", "*.jsonl")
        follow = option("follow", "true")
        if follow.strip().lower() not in _BOOLEANS:
            raise ConnectorError(f"connector {name!r}: follow={follow!r} must be true or false")
        self._follow = _BOOLEANS[follow.strip().lower()]
        poll = option("poll_seconds", "0.5")
        try:
            self._poll = float(poll)
        except ValueError:
            self._poll = -1.0
        if not self._poll > 0:
            raise ConnectorError(f"connector {name!r}: poll_seconds={poll!r} must be above 0")
        default_state = self.context.settings.state_dir / "ingest" / f"{name}.json"
        self._state = Path(option("state", str(default_state)))
        self._saved = self._load_state()
        self.mapping = load_mapping(option("mapping"), areas=self.context.areas)
        if not self._follow:
            self._size = sum(_size_of(path) for path in self._paths())
        log.info(
            "%s: reading %s (%s) as %s, follow=%s",
            name,
            self._root,
            self._pattern if self._root.is_dir() else "one file",
            self.mapping.kind,
            self._follow,
        )
        return self.mapping

    def _load_state(self) -> dict[str, dict[str, Any]]:
        try:
            text = self._state.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as err:
            raise ConnectorError(f"cannot read the read positions in {self._state}: {err}") from err
        try:
            data = json.loads(text)
            files = data["files"]
            if data["version"] != _STATE_VERSION or not isinstance(files, dict):
                raise ValueError("unexpected layout")
            for position in files.values():
                for field in ("offset", "line", "inode", "head_bytes"):
                    if not isinstance(position[field], int):
                        raise ValueError(f"{field} is not a number")
        except (ValueError, KeyError, TypeError) as err:
            raise ConnectorError(
                f"the read positions in {self._state} are damaged ({err}); delete the file to "
                "read every file again from the start (events keep their ids, so duplicates "
                "are counted once)"
            ) from err
        return dict(files)

    def _paths(self) -> list[str]:
        """The files to read, in name order."""
        if self._root.is_dir():
            found = (p for p in self._root.glob(self._pattern) if p.is_file())
            return sorted(os.path.abspath(p) for p in found)
        return [os.path.abspath(self._root)] if self._root.is_file() else []

    def _plan(self) -> Iterator[tuple[_Tail, bool]]:
        """The files to read in this pass, each with whether it gets no more lines after it.

        A file that was removed, rotated away or truncated is read to its end first (its
        handle still works), so nothing written before the change is lost.
        """
        paths = self._paths()
        # A saved file that is gone (or no longer matches) has nothing left to resume.
        for path in [p for p in self._saved if p not in paths]:
            del self._saved[path]
        for path in [p for p in self._tails if p not in paths]:
            gone = self._tails.pop(path)
            yield gone, True
            gone.fh.close()
        for path in paths:
            tail = self._tails.get(path)
            if tail is not None and (change := tail.change()) is not None:
                (log.warning if change == "truncated" else log.info)(
                    "%s: %s was %s; reading it again from the start",
                    self.context.name,
                    path,
                    change,
                )
                del self._tails[path]
                yield tail, True
                tail.fh.close()
                tail = None
            if tail is None:
                tail = self._open(path)
            if tail is not None:
                yield tail, not self._follow

    def _open(self, path: str) -> _Tail | None:
        """Open a file at its saved position (if it is still the same file) or at the start."""
        try:
            fh = Path(path).open("rb")  # noqa: SIM115 - kept open while it is followed
        except FileNotFoundError:
            return None  # removed between the listing and now
        except OSError as err:
            raise ConnectorError(f"{self.context.name}: cannot read {path}: {err}") from err
        tail = _Tail(path, fh)
        saved = self._saved.pop(path, None)
        if saved is not None:
            problem = self._not_resumable(tail, saved)
            if problem is None:
                fh.seek(saved["offset"])
                tail.offset, tail.line = saved["offset"], saved["line"]
            else:
                log.warning(
                    "%s: %s %s since its position was saved; reading it from the start",
                    self.context.name,
                    path,
                    problem,
                )
        self._tails[path] = tail
        return tail

    @staticmethod
    def _not_resumable(tail: _Tail, saved: dict[str, Any]) -> str | None:
        if saved["inode"] != tail.inode:
            return "was replaced"
        fd = tail.fh.fileno()
        if os.fstat(fd).st_size < saved["offset"]:
            return "was truncated"
        if _fingerprint(os.pread(fd, saved["head_bytes"], 0)) != saved["head_sha256"]:
            return "was replaced (its first bytes differ)"
        return None

    @staticmethod
    def _lines(tail: _Tail, *, final: bool) -> Iterator[_Line | None]:
        """Every complete line up to the end of the file, with a None every few lines."""
        while (lines := tail.read()) is not None:
            for start in range(0, len(lines), _LINES_PER_TURN):
                yield from lines[start : start + _LINES_PER_TURN]
                yield None
        if final and (last := tail.flush()) is not None:
            yield last
