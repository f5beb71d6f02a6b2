"""Mapping files: how a provincial system's JSON records become envelopes, without Python.

An engineer describes once, in YAML, where each envelope and payload field comes from in the
records their system exports; `load_mapping` checks the whole file at once (every problem with
its file, line and field) and compiles it, and `Mapping.apply` turns one record into an
`Envelope`, or into a `Rejected` saying exactly which field and value could not be used.

A mapping file::

    # Payments exported by the hospital's gateway
    kind: payment.transaction          # a payload kind of ioc.events
    event_id: $.txn_id                 # optional: a stable id, so re-reads give the same ids
    key: $.txn_id                      # optional: Kafka key; default the area code
    occurred_at:
      path: $.thoi_gian
      format: "%d/%m/%Y %H:%M:%S"      # strptime, or iso (default), epoch_s, epoch_ms
      timezone: Asia/Ho_Chi_Minh       # for times without an offset (the default)
    area:
      path: $.benh_vien.huyen
      lookup: name                     # code (default) | name: ignores case and diacritics
      default: "33"                    # when the record has no area
    payload:
      transaction_id: $.txn_id
      amount_vnd: {path: $.so_tien, type: vnd}
      channel: {path: $.hinh_thuc, map: {VNPAY-QR: qr, TIEN_MAT: cash}, otherwise: card}
      sector: {value: hospital}
      success: {path: $.trang_thai, map: {"00": true}, otherwise: false}
      failure_reason: {path: $.ly_do, optional: true}

A field is a bare path (``$.so_tien``), a constant (``{value: hospital}``) or
``{path, type, map, otherwise, default, optional}``; a datetime field (``type: datetime``, and
``occurred_at`` always) also takes ``format`` and ``timezone``. Types: ``str``, ``int``,
``float``, ``bool`` (true/false, 1/0, yes/no, có/không, any case), ``vnd`` (whole đồng, with
"." or "," between thousands: "1.250.000"), ``datetime``; without a type the JSON value is
used as it is. ``area`` takes ``path`` or ``value``, ``lookup``, ``map``, ``otherwise`` and
``default``; ``event_id`` and ``key`` take ``path`` and ``optional`` (absent: the default id or
key is used).

Rules a mapping author should know:

- Paths are a small JSONPath subset: ``$.a.b``, ``$.a[0].b``, ``$["key with spaces"]``.
  Inside ``{…}`` quote a path that has brackets: ``{path: "$.a[0].b", type: int}``.
- A path that is missing from the record, or holds JSON ``null``, is "absent": the field's
  ``default`` is used, or with ``optional: true`` the field is left out (the payload model's
  own default applies); otherwise the record is rejected as ``missing_field``.
- A present value is converted by ``type`` (str, int, float, bool, vnd, datetime; no type =
  as is), then looked up in ``map``. Map keys are compared as text, exactly as written in the
  YAML (``"00"``, ``ON`` and ``Trực tuyến`` stay text), against the value as JSON writes it
  (``true``, ``12``, or the string with surrounding spaces removed).
- ``default``, ``otherwise``, ``value`` and map values are final field values: they are
  checked against the payload model when the file is loaded.
- Areas are looked up on the event's local day (in the ``occurred_at`` time zone), so names
  and codes of districts abolished on 1 July 2025 still resolve for earlier events.
- ``event_id`` and the default id (a hash of the whole line) are UUIDv5 of the mapping's name
  (its file's stem), the kind and the id: re-reading a file gives the same ids, under any
  connector name (``--as``) and through the HTTP gateway alike, so a record imported twice is
  counted once; two systems that reuse the same transaction numbers need two mapping files.

The package's rooms: ``_paths`` (the path subset), ``_convert`` (the types), ``_runtime``
(`Mapping.apply`) and ``_compile`` (`load_mapping`, reading the file with :mod:`ioc.datafile`).
Import from ``ioc.connectors.ingest.mapping``.
"""

from ioc.connectors.ingest.mapping._compile import EXAMPLES, TYPES, MappingError, load_mapping
from ioc.connectors.ingest.mapping._runtime import (
    ID_NAMESPACE,
    PAYLOAD_MODELS,
    REJECTION_REASONS,
    Mapping,
)

__all__ = [
    "EXAMPLES",
    "ID_NAMESPACE",
    "PAYLOAD_MODELS",
    "REJECTION_REASONS",
    "TYPES",
    "Mapping",
    "MappingError",
    "load_mapping",
]
