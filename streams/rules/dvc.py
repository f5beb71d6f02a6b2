"""DVC rules: dossiers, ratings and the service catalogue of online public services."""

from __future__ import annotations

from ioc.events import DossierEvent, DossierStage, Envelope
from ioc.streams.rules import FeedRules


def on_time_matches_deadline(envelope: Envelope) -> tuple[str, str] | None:
    """A resolved dossier's `on_time` must agree with its deadline and resolution time.

    The on-time resolution KPI counts `on_time`; a source that sets it against its own
    deadline would skew the KPI silently, so such a record is dead-lettered instead.
    """
    p = envelope.payload
    if type(p) is not DossierEvent or p.stage is not DossierStage.RESOLVED or p.due_at is None:
        return None
    actually = envelope.occurred_at <= p.due_at
    if p.on_time is actually:
        return None
    return (
        "inconsistent",
        f"dossier {p.dossier_id} resolved at {envelope.occurred_at.isoformat()} with deadline "
        f"{p.due_at.isoformat()} says on_time={p.on_time}",
    )


RULES = FeedRules(feed="dvc", rules=(on_time_matches_deadline,))
