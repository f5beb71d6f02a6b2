"""What the event store keeps of an event: its entity, its reported state, its fields.

The store is the ``events`` table (migration 0008): every valid event, keyed by
(event_id, occurred_at), written by the stream workers in the same transaction that adds the
event to its windows (``ioc.streams.sink``). An event is counted exactly when it is first
stored, so a repeat at any age within the store's retention changes nothing.

This module says, for any envelope, what the store's generic columns hold (each feed's
declaration says it for its kinds: ``entity:`` and ``status:`` in ``ioc/data/feeds/*.yaml``):

- :func:`entity_of`: the thing the event is about (a camera, a network point, a dossier, an
  offering of a procedure by an agency, a payment, an area's counters);
- :func:`status_of`: the up/down state the event reports for its entity, if any (kept current
  in ``entity_status``);
- :func:`fields_of`: the payload's fields as JSON, for drill-through lists and distinct counts.

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.events import CameraHeartbeat, Envelope
    >>> env = Envelope.create(source="camera-sim", area="11950", key="cam-001",
    ...     occurred_at=datetime(2025, 1, 6, 8, 0, tzinfo=UTC),
    ...     payload=CameraHeartbeat(camera_id="cam-001", online=False))
    >>> entity_of(env), status_of(env)
    ('cam-001', ('camera', False))
"""

from __future__ import annotations

from ioc.events import Envelope
from ioc.feeds import event_kinds

__all__ = ["entity_of", "fields_of", "status_of"]

_ENTITY = {model: kind.entity for model, kind in event_kinds().items() if kind.entity}
_STATUS = {model: kind.status for model, kind in event_kinds().items() if kind.status}


def entity_of(envelope: Envelope) -> str:
    """What the event is about; an event whose kind declares no entity is about its area."""
    pick = _ENTITY.get(type(envelope.payload))
    return envelope.area if pick is None else pick(envelope.payload)


def status_of(envelope: Envelope) -> tuple[str, bool] | None:
    """(entity kind, up) when the event reports its entity's state, else None.

    A camera heartbeat says online or not; a network sample says its point is up or down; a
    catalogue entry says whether the offering is available online.
    """
    pick = _STATUS.get(type(envelope.payload))
    return None if pick is None else pick(envelope.payload)


def fields_of(envelope: Envelope) -> str:
    """The payload's fields as a JSON object (its ``kind`` is a column of its own)."""
    return envelope.payload.model_dump_json(exclude={"kind"}, exclude_none=True)
