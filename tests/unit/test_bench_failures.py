"""The bench's tables say why a step failed: its error, not the warning its process printed last.

The first text is what a quick run on a fresh clone recorded for bytewax (issue 22): its table
showed only librdkafka's warning about `group.id`.
"""

from __future__ import annotations

from bench._failure import describe, excerpt, reason
from bench.report import _cell, _failed

FRESH_CLONE = (
    "peer-bytewax exited with code 0; last lines of /tmp/ioc-bench-59lvp25o/logs/peer-bytewax.log:"
    "\n\n--- 2026-12-06 02:45:02 starting peer-bytewax\n%4|1796525103.127|CONFWARN|rdkafka#"
    "producer-1| [thrd:app]: Configuration property group.id is a consumer property and will be "
    "ignored by this producer instance"
)

TRACEBACK = """peer-quixstreams exited with code 1; last lines of /tmp/b/logs/peer-quixstreams.log:
--- 2026-12-06 07:06:53 starting peer-quixstreams
/v/authlib/client.py:5: AuthlibDeprecationWarning: The httpx module is deprecated
  from ._compat import httpx2
[2026-12-06 07:06:55,101] [INFO] [quixstreams] : Starting the Application
Traceback (most recent call last):
  File "<frozen runpy>", line 198, in _run_module_as_main
  File "/w/bench/peers/quix.py", line 109, in <module>
    main(sys.argv[1])
    ~~~~^^^^^^^^^^^^^
quixstreams.exceptions.QuixException: topic 'x.events.camera' has 6 partitions,
the repartition topic 3
%4|1796525103.127|CONFWARN|rdkafka#producer-1| [thrd:app]: group.id is a consumer property
[2026-12-06 07:06:56,000] [WARNING] [quixstreams] : closing"""


def test_the_reason_is_not_the_last_warning() -> None:
    assert reason(FRESH_CLONE) == "exited with code 0: nothing in its log but warnings"
    cell = _failed({"error": FRESH_CLONE})
    assert "group.id" not in cell and "CONFWARN" not in cell


def test_the_reason_is_the_exception_a_traceback_ends_with() -> None:
    assert reason(TRACEBACK) == (
        "exited with code 1: quixstreams.exceptions.QuixException: topic 'x.events.camera' "
        "has 6 partitions, the repartition topic 3"
    )


def test_the_excerpt_keeps_what_says_something() -> None:
    kept = excerpt(TRACEBACK.split("\n", 1)[1]).splitlines()
    assert kept[0] == "Traceback (most recent call last):"
    assert kept[-1] == "the repartition topic 3"
    assert not [line for line in kept if "Warning" in line or "WARNING" in line or "INFO" in line]


def test_a_failure_without_a_message_names_its_type() -> None:
    assert describe(TimeoutError()) == "TimeoutError"
    assert describe(KeyError("first")) == "KeyError: 'first'"
    long = RuntimeError("worker exited with code 1; last lines of x.log:\n" + "y" * 10_000)
    text = describe(long)
    assert text.startswith("worker exited with code 1") and text.endswith("y") and len(text) < 4100


def test_a_cell_is_one_line_that_cannot_break_the_table() -> None:
    assert _cell("a | b\nc") == "a \\| b c"
    assert len(_cell("x" * 500)) == 160
