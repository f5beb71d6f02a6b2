"""The one place events are turned into bytes and back.

Wire format: UTF-8 JSON of the `Envelope` (diacritics kept as characters, not escapes), with
Kafka headers `ioc-type`, `ioc-version` and `ioc-source` so that routers and the DLQ browser
can read what a record is without decoding it.

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.events import Envelope, PaymentTransaction
    >>> env = Envelope.create(source="sim", area="33", occurred_at=datetime.now(UTC),
    ...     payload=PaymentTransaction(transaction_id="t1", amount_vnd=50_000,
    ...         channel="qr", sector="school", success=True))
    >>> decode(encode(env)) == env
    True
"""

from __future__ import annotations

from pydantic import ValidationError

from ioc.events import Envelope

__all__ = ["DecodeError", "decode", "encode", "headers"]

HEADER_TYPE = "ioc-type"
HEADER_VERSION = "ioc-version"
HEADER_SOURCE = "ioc-source"


class DecodeError(ValueError):
    """A record is not a valid envelope. `reason` is a short code, `detail` says exactly why.

    Reasons: `empty`, `not_utf8`, `invalid` (JSON or schema), so DLQ counts can be grouped.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope to the wire format."""
    return envelope.model_dump_json().encode("utf-8")


def decode(data: bytes | None) -> Envelope:
    """Parse and validate one record value.

    Raises:
        DecodeError: the value is empty, not UTF-8, not JSON or not a valid envelope.
    """
    if not data:
        raise DecodeError("empty", "the record has no value")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DecodeError("not_utf8", str(err)) from None
    try:
        return Envelope.model_validate_json(text)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in err.errors()
        )
        raise DecodeError("invalid", problems) from None


def headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    """Kafka headers describing the record (type, schema version, source)."""
    return [
        (HEADER_TYPE, envelope.event_type.encode()),
        (HEADER_VERSION, str(envelope.schema_version).encode()),
        (HEADER_SOURCE, envelope.source.encode()),
    ]
