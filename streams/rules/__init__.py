"""Per-feed validation rules: what a record on a feed's topic must satisfy to be counted.

Every record is decoded and checked the same way first (`ioc.codec`: a valid envelope; then
the worker: the topic's feed, a known area, not from the future). A feed's rules add its own
consistency checks: facts the payload schema cannot check alone because they involve the event
time or several fields. A broken rule sends the record to `ioc.dlq` with the rule's reason.

A feed's rules are declared with it (``rules:`` in ``ioc/data/feeds/<feed>.yaml``, compiled by
`ioc.feeds`); a new feed's come with its declaration.
"""

from __future__ import annotations

from dataclasses import dataclass

from ioc.events import Envelope
from ioc.feeds import Rule, feeds

__all__ = ["FEED_RULES", "FeedRules", "Rule"]


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


FEED_RULES: dict[str, FeedRules] = {
    f.feed: FeedRules(f.feed, tuple(r for e in f.events.values() for r in e.rules)) for f in feeds()
}
