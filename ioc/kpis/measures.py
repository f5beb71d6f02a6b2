"""What each event adds to its window: the metrics that KPIs are ratios of.

A window row is (window start, metric, area) with the count, sum, min and max of the values
its events contributed. A counting metric contributes 1, so its sum is its count; a measured
one (latency, amount) contributes the measurement. KPIs are ratios of sums of these rows
(numerator and denominator metrics, never precomputed ratios), so they roll up from commune to
province and from minutes to days exactly.

Numerators are only contributed when true (`dvc.received_online` only for online dossiers);
denominators always. Metric names are stable: KPI catalogues and boards refer to them.

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.events import Envelope, PaymentTransaction
    >>> env = Envelope.create(source="sim", area="12142", occurred_at=datetime.now(UTC),
    ...     payload=PaymentTransaction(transaction_id="t1", amount_vnd=50_000,
    ...         channel="qr", sector="school", success=True))
    >>> measures(env)  # doctest: +NORMALIZE_WHITESPACE
    [('payment.events', 1), ('payment.attempts', 1), ('payment.attempts.qr', 1),
     ('payment.succeeded', 1), ('payment.succeeded.qr', 1), ('payment.cashless', 1),
     ('payment.amount_vnd', 50000)]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ioc.events import (
    CameraDetection,
    CameraHeartbeat,
    DetectionKind,
    DossierChannel,
    DossierEvent,
    DossierStage,
    DvcService,
    Envelope,
    NetworkPointKind,
    NetworkSample,
    NetworkSubscriptions,
    PaymentChannel,
    PaymentTransaction,
    SatisfactionRating,
    ServiceLevel,
)

__all__ = ["METRICS", "Measure", "measures"]

Measure = tuple[str, float]

_DETECTION_METRIC = {
    DetectionKind.VEHICLE_COUNT: "camera.vehicles",
    DetectionKind.CONGESTION: "camera.congestion",
    DetectionKind.VIOLATION: "camera.violations",
    DetectionKind.CROWDING: "camera.crowding",
    DetectionKind.FIRE_SMOKE: "camera.fire_smoke",
}


def _camera_heartbeat(p: CameraHeartbeat) -> list[Measure]:
    out: list[Measure] = [("camera.heartbeats", 1)]
    if p.online:
        out.append(("camera.online", 1))
    return out


def _camera_detection(p: CameraDetection) -> list[Measure]:
    metric = _DETECTION_METRIC[p.detection]
    # Counts (vehicles, violations) add the count; incidents (congestion, fire) add 1.
    counted = p.detection in (DetectionKind.VEHICLE_COUNT, DetectionKind.VIOLATION)
    return [(metric, p.count if counted else 1)]


def _dossier(p: DossierEvent) -> list[Measure]:
    out: list[Measure] = []
    if p.stage is DossierStage.RECEIVED:
        out.append(("dvc.received", 1))
        if p.channel is DossierChannel.ONLINE:
            out.append(("dvc.received_online", 1))
            if p.service_level is ServiceLevel.FULL:
                out.append(("dvc.received_full_online", 1))
    elif p.stage is DossierStage.RESOLVED:
        out.append(("dvc.resolved", 1))
        if p.on_time:
            out.append(("dvc.resolved_on_time", 1))
        if p.fee_bearing:
            out.append(("dvc.fee_resolved", 1))
            if p.fee_paid_online:
                out.append(("dvc.fee_paid_online", 1))
    elif p.stage is DossierStage.RETURNED:
        out.append(("dvc.returned", 1))
    return out


def _rating(p: SatisfactionRating) -> list[Measure]:
    out: list[Measure] = [("dvc.ratings", 1), ("dvc.rating_score", p.score)]
    if p.satisfied:
        out.append(("dvc.satisfied", 1))
    return out


def _service(p: DvcService) -> list[Measure]:
    out: list[Measure] = [("dvc.services", 1)]
    if p.service_level is not ServiceLevel.NONE:
        out.append(("dvc.services_online", 1))
    if p.eligible_full:
        out.append(("dvc.services_eligible_full", 1))
        if p.service_level is ServiceLevel.FULL:
            out.append(("dvc.services_full", 1))
    if p.fee_bearing:
        out.append(("dvc.services_fee", 1))
        if p.online_payment:
            out.append(("dvc.services_fee_online_payment", 1))
    return out


# Metric names built once, not with f-strings per event (this runs for every event read).
_PAYMENT_NAMES = {
    channel: (f"payment.attempts.{channel.value}", f"payment.succeeded.{channel.value}")
    for channel in PaymentChannel
}
_SAMPLE_NAMES = {
    kind: tuple(
        f"network.{kind.value}.{part}"
        for part in ("samples", "up", "latency_ms", "packet_loss", "throughput_mbps")
    )
    for kind in NetworkPointKind
}


def _payment(p: PaymentTransaction) -> list[Measure]:
    attempts, succeeded = _PAYMENT_NAMES[p.channel]
    out: list[Measure] = [("payment.attempts", 1), (attempts, 1)]
    if p.success:
        out += [("payment.succeeded", 1), (succeeded, 1)]
        if p.cashless:
            out.append(("payment.cashless", 1))
        out.append(("payment.amount_vnd", p.amount_vnd))
    return out


def _sample(p: NetworkSample) -> list[Measure]:
    samples, up, latency, loss, throughput = _SAMPLE_NAMES[p.point_kind]
    out: list[Measure] = [(samples, 1)]
    if p.up:
        out.append((up, 1))
    if p.latency_ms is not None:
        out.append((latency, p.latency_ms))
    if p.packet_loss is not None:
        out.append((loss, p.packet_loss))
    if p.throughput_mbps is not None:
        out.append((throughput, p.throughput_mbps))
    return out


def _subscriptions(p: NetworkSubscriptions) -> list[Measure]:
    return [
        ("network.households", p.households),
        ("network.broadband_households", p.fixed_broadband_households),
        ("network.fibre_households", p.fibre_households),
        ("network.population", p.population),
        ("network.covered_4g", p.population_covered_4g),
        ("network.covered_5g", p.population_covered_5g),
    ]


_BY_PAYLOAD: dict[type[Any], Callable[[Any], list[Measure]]] = {
    CameraHeartbeat: _camera_heartbeat,
    CameraDetection: _camera_detection,
    DossierEvent: _dossier,
    SatisfactionRating: _rating,
    DvcService: _service,
    PaymentTransaction: _payment,
    NetworkSample: _sample,
    NetworkSubscriptions: _subscriptions,
}


_EVENTS = {feed: (f"{feed}.events", 1) for feed in ("camera", "dvc", "payment", "network")}


def measures(envelope: Envelope) -> list[Measure]:
    """The (metric, value) pairs one event adds to its window (area = the event's area).

    The first is always ``<feed>.events``: every valid event counted once, so boards can show
    each feed's volume without knowing its payloads.
    """
    return [_EVENTS[envelope.feed], *_BY_PAYLOAD[type(envelope.payload)](envelope.payload)]


def _catalogue() -> dict[str, str]:
    metrics = {f"{feed}.events": f"valid {feed} events, each counted once" for feed in _EVENTS}
    metrics |= {
        "camera.heartbeats": "camera heartbeats (denominator of the camera online rate)",
        "camera.online": "heartbeats saying online",
        "camera.vehicles": "vehicles counted",
        "camera.congestion": "congestion detections",
        "camera.violations": "traffic violations detected",
        "camera.crowding": "crowding detections",
        "camera.fire_smoke": "fire or smoke detections",
        "dvc.received": "dossiers received (any channel)",
        "dvc.received_online": "dossiers received online",
        "dvc.received_full_online": "dossiers received online for full-process procedures",
        "dvc.resolved": "dossiers resolved",
        "dvc.resolved_on_time": "dossiers resolved by their deadline",
        "dvc.fee_resolved": "fee-bearing dossiers resolved",
        "dvc.fee_paid_online": "fee-bearing dossiers whose fee was paid online",
        "dvc.returned": "dossiers returned to the citizen",
        "dvc.ratings": "satisfaction ratings",
        "dvc.satisfied": "ratings saying satisfied",
        "dvc.rating_score": "rating scores 1-5 (sum / count = mean)",
        "dvc.services": "catalogue: procedure offerings (daily snapshot)",
        "dvc.services_online": "catalogue: offerings available online",
        "dvc.services_eligible_full": "catalogue: offerings eligible for full-process online",
        "dvc.services_full": "catalogue: eligible offerings provided full-process online",
        "dvc.services_fee": "catalogue: fee-bearing offerings",
        "dvc.services_fee_online_payment": "catalogue: fee-bearing offerings payable online",
        "payment.attempts": "payment attempts",
        "payment.succeeded": "successful payments",
        "payment.cashless": "successful cashless payments",
        "payment.amount_vnd": "amount of successful payments, VND",
        "network.households": "households (daily subscription counters)",
        "network.broadband_households": "households with fixed broadband",
        "network.fibre_households": "households with fibre",
        "network.population": "population",
        "network.covered_4g": "population covered by 4G",
        "network.covered_5g": "population covered by 5G",
    }
    for channel in PaymentChannel:
        metrics[f"payment.attempts.{channel.value}"] = f"payment attempts by {channel.value}"
        metrics[f"payment.succeeded.{channel.value}"] = f"successful payments by {channel.value}"
    for kind in NetworkPointKind:
        k = kind.value
        metrics[f"network.{k}.samples"] = f"{k} samples (denominator of availability)"
        metrics[f"network.{k}.up"] = f"{k} samples reporting up"
        metrics[f"network.{k}.latency_ms"] = f"{k} latency, ms (sum / count = mean)"
        metrics[f"network.{k}.packet_loss"] = f"{k} packet loss ratio (sum / count = mean)"
        metrics[f"network.{k}.throughput_mbps"] = f"{k} throughput, Mbit/s"
    return metrics


METRICS: dict[str, str] = _catalogue()
"""Every metric name an event can contribute, with what it counts or measures."""
