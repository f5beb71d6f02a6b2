"""The daily digest: one message per leader summing up yesterday's alerts in their scope.

`daily_digest` reads the `alerts` table (one row per alert lifecycle, written by the alert
engine) for the alerts that were open at some time during the local day in the recipient's
area or below it, and writes: how many, by severity and by state, how many started, ended and
were still open at midnight, and the longest-open ones; given the KPI catalogue, where each KPI
with a target stands in the recipient's area from the 1st of the month to that day (value,
target, gap and the forecast of the day it is met, as `ioc kpis show` words it; values from
`ioc.kpis.periods.period_values`, so they are the API's `/kpis/periods`). `enqueue_digests`
puts one digest per recipient (with `digest: true`) into the outbox, keyed `alert_id = 0`,
`transition = "digest:YYYY-MM-DD"`, so it too is sent exactly once per recipient and channel.

KPI values are shown as percentages unless `units` says otherwise: every KPI of the
catalogue is a ratio.

`summarise_stale` is the other summary: after a bad day (the mail server down for hours, the
evaluator catching up on old windows), alert messages whose transition is older than
`IOC_NOTIFY__STALE_AFTER_MINUTES` are not sent one by one: each recipient gets one message
per channel listing them (`ioc.notify.summary`), newest state of each alert first.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import asyncpg

from ioc.alerts.model import AlertState, Severity
from ioc.areas import Area, AreaRegistry
from ioc.kpis import Kpi, KpiCatalogue
from ioc.kpis.periods import KpiPeriod, Period, period_values
from ioc.notify.outbox import OutboxRow, enqueue_rows
from ioc.notify.routing import SEVERITY_ORDER, Recipient
from ioc.notify.templates import (
    DEFAULT_TIMEZONE,
    PAYLOAD_TYPE,
    Message,
    format_duration,
    format_time,
)
from ioc.text import (
    SEVERITY_LABELS,
    STATE_LABELS,
    TRANSITION_LABELS,
    Language,
    check_language,
    forecast_text,
    format_number,
    format_value,
)

__all__ = ["DIGEST_TYPE", "SUMMARY_TYPE", "daily_digest", "enqueue_digests", "summarise_stale"]

log = logging.getLogger(__name__)

DIGEST_TYPE: Final = "ioc.digest"
SUMMARY_TYPE: Final = "ioc.notify.summary"
_TOP: Final = 5
_SUMMARY_LINES: Final = 30  # alerts named in a summary's text; its payload lists every item


@dataclass(frozen=True)
class _Alert:
    id: int
    rule_id: str
    area: str
    severity: str
    state: str
    started_at: datetime
    resolved_at: datetime | None
    kpi_id: str | None
    last_value: float | None
    target: float | None


def _scope(area: str, areas: AreaRegistry, day: date) -> tuple[str, list[str]]:
    """The area's name and the codes of it and everything below it on `day`."""
    try:
        name = areas.get(area, on=day).name_vi
        return name, [area, *(a.code for a in areas.descendants(area, on=day))]
    except KeyError:
        rows = areas.versions(area)
        return (rows[-1].name_vi if rows else area), [area]


async def _alerts(
    conn: asyncpg.Connection, codes: list[str], start: datetime, end: datetime
) -> list[_Alert]:
    rows = await conn.fetch(
        """SELECT id, rule_id, area, severity, state, started_at, resolved_at, kpi_id,
                  last_value, target
             FROM alerts
            WHERE area = ANY($1::text[]) AND started_at < $3
              AND (resolved_at IS NULL OR resolved_at >= $2)
            ORDER BY started_at, id""",
        codes,
        start,
        end,
    )
    return [
        _Alert(
            id=r["id"],
            rule_id=r["rule_id"],
            area=r["area"],
            severity=str(r["severity"]),
            state=str(r["state"]),
            started_at=r["started_at"],
            resolved_at=r["resolved_at"],
            kpi_id=r["kpi_id"],
            last_value=None if r["last_value"] is None else float(r["last_value"]),
            target=None if r["target"] is None else float(r["target"]),
        )
        for r in rows
    ]


def _gap_text(item: KpiPeriod, lang: Language) -> str:
    """Met or short of the target, and by how much (percentage points for a percent KPI)."""
    gap, unit = item.gap, item.kpi.unit
    if gap is None:
        return ""
    amount = (
        f"{format_number(abs(gap) * 100, 1, lang)} {'điểm' if lang == 'vi' else 'points'}"
        if unit == "percent"
        else format_value(abs(gap), unit, lang)
    )
    if gap > 0:
        return f"chưa đạt, thiếu {amount}" if lang == "vi" else f"behind by {amount}"
    if gap < 0:
        return f"đạt, vượt {amount}" if lang == "vi" else f"met, ahead by {amount}"
    return "đạt" if lang == "vi" else "met"


async def _kpi_section(
    conn: asyncpg.Connection,
    catalogue: KpiCatalogue | list[Kpi],
    area: Area,
    day: date,
    end: datetime,
    lang: Language,
) -> tuple[list[str], dict[str, Any]]:
    """Each KPI with a target in the area, from the 1st of the month to `day`: text and data."""
    period = Period("month", day.replace(day=1), day)
    with_target = [k for k in catalogue if k.target_for(area.level) is not None]
    values = await period_values(conn, with_target, area, period, now=end)
    span = f"{period.first:%d/%m}–{day:%d/%m/%Y}"
    lines = [
        "",
        f"Chỉ tiêu so với mục tiêu (lũy kế tháng, {span}):"
        if lang == "vi"
        else f"KPIs against their targets (month to date, {span}):",
    ]
    items: list[dict[str, Any]] = []
    for item in values.items:
        kpi = item.kpi
        name = kpi.name_vi if lang == "vi" or not kpi.name_en else kpi.name_en
        deadline = kpi.target.deadline if kpi.target is not None else None
        forecast = item.forecast
        said = forecast_text(
            forecast.status if forecast else None,
            forecast.reach_date if forecast else None,
            deadline,
            lang,
        )
        target_word = "mục tiêu" if lang == "vi" else "target"
        gap = _gap_text(item, lang)
        lines.append(
            f"  - {name}: {format_value(item.value, kpi.unit, lang)} / {target_word} "
            f"{format_value(item.target, kpi.unit, lang)}"
            + (f" — {gap}" if gap else "")
            + f"; {'dự báo' if lang == 'vi' else 'forecast'}: {said}"
        )
        items.append(
            {
                "kpi": kpi.id,
                "name": name,
                "unit": kpi.unit,
                "value": item.value,
                "target": item.target,
                "gap": item.gap,
                "meets": item.meets,
                "deadline": deadline.isoformat() if deadline else None,
                "forecast": None
                if forecast is None
                else {
                    "status": forecast.status,
                    "reach_date": forecast.reach_date.isoformat() if forecast.reach_date else None,
                    "mae": forecast.mae,
                },
                "forecast_text": said,
            }
        )
    if not items:
        lines.append("  (không có chỉ tiêu nào có mục tiêu)" if lang == "vi" else "  (none)")
    return lines, {
        "first_day": period.first.isoformat(),
        "last_day": day.isoformat(),
        "items": items,
    }


async def daily_digest(
    conn: asyncpg.Connection,
    day: date,
    language: str = "vi",
    recipient_area: str | None = None,
    *,
    areas: AreaRegistry,
    tz: str = DEFAULT_TIMEZONE,
    units: Mapping[str, str] | None = None,
    catalogue: KpiCatalogue | list[Kpi] | None = None,
) -> Message:
    """Summarise one local day's alerts in an area and below it.

    Args:
        conn: a connection.
        day: the local day (00:00–24:00 in `tz`).
        language: `vi` or `en`.
        recipient_area: the recipient's area code; None = the province.
        areas: the areas file (scope and names, as valid on `day`).
        tz: the province's time zone.
        units: KPI id → unit for values (default `percent`).
        catalogue: the KPIs; given, the digest adds where each KPI with a target stands in
            the area from the 1st of the month to `day` (and the units come from it).

    Returns:
        The digest: subject, text and a `ioc.digest` payload.

    Raises:
        asyncpg.UndefinedTableError: the `alerts` table does not exist yet.
    """
    lang: Language = "en" if language == "en" else "vi"
    if recipient_area is None:
        provinces = areas.by_level("province", on=day)
        recipient_area = provinces[0].code if provinces else ""
    area = recipient_area
    area_name, codes = _scope(area, areas, day)
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    alerts = await _alerts(conn, codes, start, end)
    now = datetime.now(UTC)
    if catalogue is not None and units is None:
        units = {k.id: k.unit for k in catalogue}

    by_severity = Counter(a.severity for a in alerts)
    by_state = Counter(a.state for a in alerts)
    started = sum(a.started_at >= start for a in alerts)
    ended = sum(a.resolved_at is not None and a.resolved_at < end for a in alerts)
    still_open = len(alerts) - ended

    def open_for(a: _Alert) -> timedelta:
        return min(a.resolved_at or end, end, now) - a.started_at

    longest = sorted(alerts, key=open_for, reverse=True)[:_TOP]
    names = {a.area: _scope(a.area, areas, day)[0] for a in longest}
    critical = by_severity.get(Severity.CRITICAL.value, 0)
    when = day.strftime("%d/%m/%Y")
    sev_order = sorted(SEVERITY_ORDER, key=SEVERITY_ORDER.__getitem__, reverse=True)
    severities = " · ".join(
        f"{SEVERITY_LABELS[lang][s.value]} {by_severity.get(s.value, 0)}" for s in sev_order
    )
    states = " · ".join(
        f"{STATE_LABELS[lang][s.value].lower()} {by_state.get(s.value, 0)}" for s in AlertState
    )

    def num(n: int) -> str:
        return format_number(n, 0, lang)

    lines: list[str]
    if lang == "vi":
        subject = f"[Tổng hợp ngày {when}] {area_name}: {num(len(alerts))} cảnh báo" + (
            f" ({num(critical)} nghiêm trọng)" if critical else ""
        )
        lines = [f"Tổng hợp cảnh báo ngày {when} — {area_name} (gồm các địa bàn trực thuộc)", ""]
        if not alerts:
            lines.append("Không có cảnh báo nào trong ngày.")
        else:
            lines += [
                f"Trong ngày có {num(len(alerts))} cảnh báo: {num(started)} mới, "
                f"{num(ended)} đã kết thúc, {num(still_open)} còn mở lúc 24:00.",
                f"Theo mức độ: {severities}",
                f"Theo trạng thái hiện tại: {states}",
                "",
                "Kéo dài nhất:",
            ]
    else:
        subject = f"[Daily digest {when}] {area_name}: {num(len(alerts))} alert(s)" + (
            f" ({num(critical)} critical)" if critical else ""
        )
        lines = [f"Alert digest for {when} — {area_name} (and the areas below it)", ""]
        if not alerts:
            lines.append("No alerts that day.")
        else:
            lines += [
                f"{num(len(alerts))} alert(s) that day: {num(started)} new, {num(ended)} "
                f"ended, {num(still_open)} still open at midnight.",
                f"By severity: {severities}",
                f"By current state: {states}",
                "",
                "Longest open:",
            ]
    longest_data: list[dict[str, Any]] = []
    for rank, a in enumerate(longest, start=1):
        unit = (units or {}).get(a.kpi_id or "", "percent")
        what = a.kpi_id or a.rule_id
        value = format_value(a.last_value, unit, lang)
        if a.target is not None:
            target_word = "mục tiêu" if lang == "vi" else "target"
            value += f" / {target_word} {format_value(a.target, unit, lang)}"
        since = "từ" if lang == "vi" else "since"
        state = STATE_LABELS[lang].get(a.state, a.state).lower()
        lines.append(
            f"  {rank}. [{SEVERITY_LABELS[lang].get(a.severity, a.severity)}] {what} — "
            f"{names[a.area]}: {since} {format_time(a.started_at, tz)}, "
            f"{format_duration(open_for(a), lang)} ({state}); "
            f"{value}"
        )
        longest_data.append(
            {
                "alert_id": a.id,
                "rule_id": a.rule_id,
                "kpi": a.kpi_id,
                "area": a.area,
                "area_name": names[a.area],
                "severity": a.severity,
                "state": a.state,
                "since": a.started_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                "open_seconds": int(open_for(a).total_seconds()),
                "value": a.last_value,
                "target": a.target,
            }
        )
    kpis: dict[str, Any] | None = None
    if catalogue is not None:
        try:
            place = areas.get(area, on=day)
        except KeyError:
            place = None  # an area gone from the file: its alerts only
        if place is not None:
            section, kpis = await _kpi_section(conn, catalogue, place, day, end, lang)
            lines += section
    text = "\n".join(lines)
    data: dict[str, Any] = {
        "type": DIGEST_TYPE,
        "schema_version": 1,
        "day": day.isoformat(),
        "area": area,
        "area_name": area_name,
        "total": len(alerts),
        "started": started,
        "ended": ended,
        "still_open": still_open,
        "by_severity": {s.value: by_severity.get(s.value, 0) for s in Severity},
        "by_state": {s.value: by_state.get(s.value, 0) for s in AlertState},
        "longest": longest_data,
        "kpis": kpis,
        "language": lang,
        "subject": subject,
        "text": text,
    }
    return Message(subject=subject, text=text, data=data)


async def enqueue_digests(
    conn: asyncpg.Connection,
    day: date,
    recipients: Iterable[Recipient],
    areas: AreaRegistry,
    tz: str = DEFAULT_TIMEZONE,
    catalogue: KpiCatalogue | list[Kpi] | None = None,
) -> int:
    """Put one digest of `day` per recipient (with `digest: true`) and channel in the outbox.

    With the KPI catalogue, each digest has its KPI-against-target section.

    Idempotent: a second call for the same day adds nothing.

    Returns:
        How many rows were new.
    """
    rendered: dict[tuple[str, str], Message] = {}
    rows: list[OutboxRow] = []
    for r in recipients:
        if not r.digest:
            continue
        key = (r.area, r.language)
        if key not in rendered:
            rendered[key] = await daily_digest(
                conn, day, r.language, r.area, areas=areas, tz=tz, catalogue=catalogue
            )
        rows.extend(
            OutboxRow(r.id, c.type, c.target, r.language, rendered[key]) for c in r.channels
        )
    return await enqueue_rows(conn, 0, f"digest:{day.isoformat()}", 0, rows)


def _summary(items: list[dict[str, Any]], language: Language, tz: str) -> Message:
    """One message listing stale alert messages: the newest transition of each alert first."""
    items = sorted(items, key=lambda i: (i["at"], i["outbox_id"]), reverse=True)
    newest: dict[int, dict[str, Any]] = {}
    for item in items:
        newest.setdefault(item["alert_id"], item)
    first, last = items[-1]["at"], items[0]["at"]
    span = f"{format_time(datetime.fromisoformat(first), tz)} – "
    span += format_time(datetime.fromisoformat(last), tz)
    n, alerts = format_number(len(items), 0, language), format_number(len(newest), 0, language)
    if language == "vi":
        subject = f"[Tổng hợp tin chậm] {n} thông báo về {alerts} cảnh báo ({span})"
        head = [
            f"{n} thông báo về {alerts} cảnh báo không gửi được đúng lúc ({span}).",
            "Để tránh gửi dồn từng tin cũ, chúng được gộp vào tin này; "
            "trạng thái mới nhất của mỗi cảnh báo:",
            "",
        ]
        more = "… và {} cảnh báo khác (danh sách đầy đủ trong dữ liệu kèm theo)."
    else:
        subject = f"[Delayed summary] {n} notifications about {alerts} alerts ({span})"
        head = [
            f"{n} notifications about {alerts} alerts could not be sent on time ({span}).",
            "Rather than a burst of old messages, they are gathered here; the newest state "
            "of each alert:",
            "",
        ]
        more = "… and {} more alerts (the attached data lists them all)."
    lines = list(head)
    for item in list(newest.values())[:_SUMMARY_LINES]:
        label = TRANSITION_LABELS[language].get(item["transition"], item["transition"])
        when = format_time(datetime.fromisoformat(item["at"]), tz)
        lines.append(f"- {when} {label}: {item['subject']}")
    if len(newest) > _SUMMARY_LINES:
        lines.append(more.format(format_number(len(newest) - _SUMMARY_LINES, 0, language)))
    text = "\n".join(lines)
    data: dict[str, Any] = {
        "type": SUMMARY_TYPE,
        "schema_version": 1,
        "count": len(items),
        "alerts": len(newest),
        "from": first,
        "to": last,
        "items": items,
        "language": language,
        "subject": subject,
        "text": text,
    }
    return Message(subject=subject, text=text, data=data)


async def summarise_stale(
    conn: asyncpg.Connection,
    now: datetime,
    stale_after: timedelta,
    tz: str = DEFAULT_TIMEZONE,
) -> int:
    """Fold alert messages older than `stale_after` into one summary per recipient and channel.

    A message is stale when its transition (`at`, not when it was queued) is older than
    `stale_after`: queued during a long channel outage, or by an evaluator catching up on old
    windows. Stale rows are marked delivered with `summarised_into` in their payload, and one
    summary row per (recipient, channel) takes their place; a summary not sent yet is
    replaced by one that also lists the new stale rows, so when the channel returns each
    recipient gets a single summary. Call it outside a transaction (it opens its own).

    Returns:
        How many stale messages were folded.
    """
    cutoff = now - stale_after
    async with conn.transaction():
        stale = await conn.fetch(
            """SELECT id, alert_id, transition, level, recipient, channel, address, language,
                      subject, payload->>'at' AS at, payload->>'severity' AS severity
                 FROM notification_outbox
                WHERE delivered_at IS NULL AND payload->>'type' = $1
                  AND (payload->>'at')::timestamptz < $2
                ORDER BY id
                  FOR UPDATE SKIP LOCKED""",
            PAYLOAD_TYPE,
            cutoff,
        )
        if not stale:
            return 0
        groups: dict[tuple[str, str], list[asyncpg.Record]] = {}
        for row in stale:
            groups.setdefault((row["recipient"], row["channel"]), []).append(row)
        for (recipient, channel), rows in groups.items():
            items = [
                {
                    "outbox_id": r["id"],
                    "alert_id": r["alert_id"],
                    "transition": r["transition"],
                    "level": r["level"],
                    "severity": r["severity"],
                    "at": datetime.fromisoformat(r["at"]).astimezone(UTC).isoformat(),
                    "subject": r["subject"],
                }
                for r in rows
            ]
            earlier = await conn.fetchrow(
                """SELECT id, payload FROM notification_outbox
                    WHERE delivered_at IS NULL AND payload->>'type' = $1
                      AND recipient = $2 AND channel = $3
                    ORDER BY id DESC LIMIT 1
                      FOR UPDATE SKIP LOCKED""",
                SUMMARY_TYPE,
                recipient,
                channel,
            )
            if earlier is not None:
                items += json.loads(earlier["payload"])["items"]
            newest = rows[-1]
            language = check_language(newest["language"])
            message = _summary(items, language, tz)
            # Keyed by the first row it folds: a repeat of this call folds nothing new.
            summary_id: int = await conn.fetchval(
                """INSERT INTO notification_outbox (alert_id, transition, level, recipient,
                          channel, address, language, subject, body, payload)
                   VALUES (0, $1, 0, $2, $3, $4, $5, $6, $7, $8::jsonb) RETURNING id""",
                f"summary:{rows[0]['id']}",
                recipient,
                channel,
                newest["address"],
                language,
                message.subject,
                message.text,
                json.dumps(message.data, ensure_ascii=False),
            )
            folded = [r["id"] for r in rows] + ([earlier["id"]] if earlier else [])
            await conn.execute(
                """UPDATE notification_outbox
                      SET delivered_at = clock_timestamp(),
                          payload = payload || jsonb_build_object('summarised_into', $2::bigint)
                    WHERE id = ANY($1::bigint[])""",
                folded,
                summary_id,
            )
    log.info("folded %d stale message(s) into %d summaries", len(stale), len(groups))
    return len(stale)
