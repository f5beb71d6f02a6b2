"""Why a step of the bench failed, in the words of what failed: not a warning before it.

A failed process's log ends with whatever it wrote last, and that is often not the error: a
peer's librdkafka prints configuration warnings and notices, a run marker closes every log.
`excerpt` keeps the lines that say something; `reason` finds, in a failure's text, the
exception a traceback ends with (or else the last line that says something), for a table's
cell.

>>> text = '''peer-bytewax exited with code 1; last lines of /tmp/x/peer-bytewax.log:
... --- 2026-12-06 02:45:02 starting peer-bytewax
... %4|1796525103.127|CONFWARN|rdkafka#producer-1| [thrd:app]: group.id is a consumer property
... Traceback (most recent call last):
...   File "bench/peers/bytewax_flow.py", line 97, in <module>
...     main(sys.argv[1])
... RuntimeError: error listing partitions for Kafka topic `'t.events.camera'`
... %5|1796525104.001|PARTCNT|rdkafka#consumer-2| [thrd:main]: topic gone
... /v/authlib/client.py:5: AuthlibDeprecationWarning: The httpx module is deprecated
...   from ._compat import httpx2
... [2026-12-06 07:09:31,411] [6724] [WARNING] producer buffer full size 101'''
>>> reason(text)
"exited with code 1: RuntimeError: error listing partitions for Kafka topic `'t.events.camera'`"
>>> reason('peer-faust exited with code 0; last lines of /tmp/x/peer-faust.log:\\n')
'exited with code 0: nothing in its log but warnings'
"""

from __future__ import annotations

import re

__all__ = ["describe", "excerpt", "reason"]

# librdkafka's own log lines, `%LEVEL|time|FACILITY|client| text`: levels 0-3 are errors and
# kept, 4-7 (warning, notice, info, debug) are not the reason anything failed.
_RDKAFKA_CHATTER = re.compile(r"^%[4-7]\|\d")
# What `ManagedProcess` writes around a run, and Python's `warnings` output (PYTHONWARNINGS):
# `file:line: SomeWarning: text`, then the source line, indented.
_MARKER = re.compile(r"^--- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ")
_WARNING = re.compile(r"^\S+:\d+: \w*Warning: ")
# A log record below ERROR near the start of its line, as the peers and our processes write
# them: `[WARNING]` (faust, quixstreams), `07:09:38 INFO    name: …` (ours), `WARNING:name:`.
_BELOW_ERROR = re.compile(r"^.{0,40}?(?<![\w.])\[?(?:DEBUG|INFO|NOTICE|WARNING|WARN)\]?[ :]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_HEADER = re.compile(
    r"^(?:\S+ )?(exited with code -?\d+|failed)\b[^:\n]*?(?:; last lines of \S+)?:?$"
)
_LIMIT = 4000


def _meaningful(lines: list[str]) -> list[str]:
    """The lines that say something: no warnings, notices, markers or terminal codes."""
    kept = []
    source_next = False
    for raw in lines:
        line = _ANSI.sub("", raw).rstrip()
        if source_next and line.startswith("  "):
            source_next = False
            continue
        source_next = bool(_WARNING.match(line))
        if not (
            not line.strip()
            or source_next
            or _RDKAFKA_CHATTER.match(line)
            or _MARKER.match(line)
            or _BELOW_ERROR.match(line)
        ):
            kept.append(line)
    return kept


def excerpt(log: str, lines: int = 40) -> str:
    """The last `lines` lines of a log that say something (no warnings, notices, markers)."""
    return "\n".join(_meaningful(log.splitlines())[-lines:])


def describe(err: BaseException) -> str:
    """A failure's text for the results: the message, or the exception's type if it has none.

    A long message keeps its first line (which process, which exit code) and its end (where
    the error is).
    """
    text = str(err) if isinstance(err, RuntimeError) else f"{type(err).__name__}: {err}"
    text = text.strip().removesuffix(":") or type(err).__name__
    if len(text) <= _LIMIT:
        return text
    head, _, rest = text.partition("\n")
    return f"{head}\n…\n{rest[-(_LIMIT - len(head)) :]}"


def reason(error: str) -> str:
    """One line: how it failed and the error that says why (see the module's example)."""
    lines = error.splitlines()
    how = ""
    if lines and (found := _HEADER.match(lines[0].strip())):
        how, lines = found.group(1), lines[1:]
    said = _meaningful(lines)
    starts = [n for n, line in enumerate(said) if line.startswith("Traceback (most recent call")]
    why = ""
    if starts:
        # The exception is what follows the last frame (`  File …` and its indented source).
        block = said[starts[-1] + 1 :]
        frames = [n for n, line in enumerate(block) if line.startswith('  File "')]
        n = frames[-1] + 1 if frames else 0
        while n < len(block) and block[n].startswith("    "):
            n += 1
        why = " ".join(line.strip() for line in block[n:])
    elif said:
        why = said[-1].strip()
    if not why:
        why = "nothing in its log but warnings" if how else "no message"
    return f"{how}: {why}" if how else why
