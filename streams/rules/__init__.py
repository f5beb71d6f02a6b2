"""Per-feed validation rules: what a record on a feed's topic must satisfy to be counted.

Every record is decoded and checked the same way first (`ioc.codec`: a valid envelope; then
the worker: the topic's feed, a known area, not from the future). A feed's rules add its own
consistency checks: facts the payload schema cannot check alone because they involve the event
time or several fields. A broken rule sends the record to `ioc.dlq` with the rule's reason.

Adding a feed: a module here with `RULES = FeedRules(feed=..., rules=(...))`, listed in
`FEED_RULES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ioc.events import Envelope

__all__ = ["FEED_RULES", "FeedRules", "Rule"]

# A rule returns None when the event is fine, else (reason, detail) for the dead letter. Rules
# test the payload with `type(p) is X`: payload classes have no subclasses, and `isinstance` on
# a pydantic model goes through ABCMeta, a measurable cost for every event read.
Rule = Callable[[Envelope], tuple[str, str] | None]


@dataclass(frozen=True)
class FeedRules:
    """The feed an events topic carries and the rules its events must pass."""

    feed: str
    rules: tuple[Rule, ...] = ()

    def reject(self, envelope: Envelope) -> tuple[str, str] | None:
        """(reason, detail) of the first rule the event breaks, or None."""
        for rule in self.rules:
            broken = rule(envelope)
            if broken is not None:
                return broken
        return None


def _feed_rules() -> dict[str, FeedRules]:
    from ioc.streams.rules import camera, dvc, network, payment

    return {m.RULES.feed: m.RULES for m in (camera, dvc, payment, network)}


FEED_RULES: dict[str, FeedRules] = _feed_rules()
