"""What a leader reads: one message per alert transition, in Vietnamese (default) or English.

`render(transition, language)` returns a `Message`: a subject line (severity, what, where), a
plain-text body (what broke, where, since when in local time, how far from the target, the
top contributors of a provincial gap) and `data`, the JSON payload webhooks receive.

Numbers follow the reader's language: Vietnamese writes `95,3 %` and `1.234,5`, English
`95.3%` and `1,234.5`. Times are shown in the province's time zone (Asia/Ho_Chi_Minh by
default) as `dd/mm/yyyy HH:MM`, and carried in the payload as ISO 8601 in UTC.

Webhook payload, schema version 1 (fields are only ever added, never renamed or removed):

| field | type | meaning |
|---|---|---|
| `type` | str | `"ioc.alert.transition"` (a digest: `"ioc.digest"`; late ones: see below) |
| `schema_version` | int | 1 |
| `delivery_id` | int | outbox row id, the same on every retry: the receiver's dedupe key |
| `alert_id` | int | the alert (one lifecycle of one rule in one area) |
| `transition` | str | `fired`, `acknowledged`, `escalated` or `resolved` |
| `level` | int | escalation level: 0 = the area's own leaders, 1 = the parent area's, … |
| `severity` | str | `info`, `warning` or `critical` |
| `rule_id` | str | the rule that fired |
| `area` | str | area code (GSO), e.g. `"325"` |
| `area_name` | str | Vietnamese name with diacritics, e.g. `"Huyện Văn Lâm"` |
| `area_level` | str | `province`, `district` or `commune` |
| `kpi` | str or null | KPI id (null for a no-data rule) |
| `kpi_name` | str | KPI name in `language` |
| `value` | float or null | the KPI value at the transition, in KPI units (0.953 for 95,3 %) |
| `target` | float or null | the target it is compared with, same units |
| `unit` | str | `"percent"` means ratio shown ×100 |
| `since` | str | ISO 8601 UTC: when the condition started to hold |
| `at` | str | ISO 8601 UTC: when this transition happened |
| `actor` | str or null | who acknowledged |
| `contributors` | list | `{area, name, value, gap, volume_effect, rate_effect}` (province) |
| `entities` | list | points down in the area when it fired (availability KPIs), longest first |
|  |  | `{feed, entity, kind, area, area_name, since, last_seen}`, times ISO 8601 UTC |
| `entities_down` | int | how many were down in all (`entities` may be cut short) |
| `language` | str | `vi` or `en`: the language of `subject` and `text` |
| `subject` | str | one line: severity, what, where |
| `text` | str | the full message as plain text (what an SMS/Zalo/Telegram gateway forwards) |

Messages that could not be sent on time are folded into one `"ioc.notify.summary"` per
recipient and channel (`ioc.notify.digest.summarise_stale`): `count`, `alerts`, `from`, `to`
and `items`, one `{outbox_id, alert_id, transition, level, severity, at, subject}` each.

Example:
    >>> from datetime import UTC, datetime
    >>> from ioc.alerts.model import Severity, Transition, TransitionKind
    >>> t = Transition(alert_id=7, kind=TransitionKind.FIRED, rule_id="dvc-online",
    ...     severity=Severity.WARNING, area="325", area_name_vi="Huyện Văn Lâm",
    ...     area_level="district", kpi_id="dvc.online_rate",
    ...     kpi_name_vi="Tỷ lệ hồ sơ trực tuyến", kpi_name_en="Online dossier rate",
    ...     value=0.725, target=0.8, unit="percent",
    ...     since=datetime(2024, 3, 1, 1, 0, tzinfo=UTC),
    ...     at=datetime(2024, 3, 1, 1, 30, tzinfo=UTC))
    >>> render(t).subject
    '[CẢNH BÁO] Tỷ lệ hồ sơ trực tuyến 72,5 % (mục tiêu 80 %) — Huyện Văn Lâm'
    >>> render(t, "en").subject
    '[WARNING] Online dossier rate 72.5% (target 80%) — Huyện Văn Lâm'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from ioc.alerts.model import Contributor, EntityAtFault, Transition, TransitionKind
from ioc.localtime import ZONE_NAME
from ioc.text import SEVERITY_LABELS, Language, check_language, format_number, format_value

__all__ = [
    "DEFAULT_TIMEZONE",
    "PAYLOAD_TYPE",
    "SCHEMA_VERSION",
    "Message",
    "format_duration",
    "format_time",
    "render",
]

DEFAULT_TIMEZONE: Final = ZONE_NAME
PAYLOAD_TYPE: Final = "ioc.alert.transition"
SCHEMA_VERSION: Final = 1
_MAX_CONTRIBUTORS: Final = 5
_MAX_ENTITIES: Final = 10  # named in a message's text; the webhook payload has all kept


@dataclass(frozen=True)
class Message:
    """A rendered message: what an email shows and what a webhook posts.

    Attributes:
        subject: one line, for the email subject and push titles.
        text: the body as plain text.
        data: the JSON payload (see the module docstring for its schema).
    """

    subject: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


# Words of each language, kept together so the two templates stay parallel.
_WORDS: Final[dict[str, dict[str, str]]] = {
    "vi": {
        "target": "mục tiêu",
        "kpi": "Chỉ tiêu",
        "area": "Địa bàn",
        "severity": "Mức độ",
        "since": "Bắt đầu từ",
        "value": "Giá trị",
        "below": "thấp hơn mục tiêu {amount}",
        "above": "cao hơn mục tiêu {amount}",
        "on_target": "bằng mục tiêu",
        "points": "điểm phần trăm",
        "acknowledged_by": "Tiếp nhận",
        "someone": "(không rõ)",
        "at": "lúc",
        "escalated": "Chuyển cấp",
        "escalated_line": "lần {level}, lúc {at}: chưa ai tiếp nhận cảnh báo trong thời hạn",
        "resolved": "Kết thúc",
        "lasted": "kéo dài",
        "contributors": "Địa bàn đóng góp nhiều nhất vào mức chênh lệch:",
        "entities": "Điểm đang ngừng hoạt động ({count}):",
        "entity_line": "  - {entity} ({area}): ngừng từ {since}, tín hiệu cuối {last}",
        "entities_more": "  … và {more} điểm khác",
        "gap": "chênh",
        "volume": "do quy mô",
        "rate": "do tỷ lệ",
        "reached": "đạt",
        "footer": "Mã cảnh báo #{alert_id} · quy tắc {rule_id}",
        "head_fired": "{severity}: {kpi} tại {area} cần xử lý.",
        "head_escalated": (
            "Cảnh báo chưa được tiếp nhận, đã chuyển cấp {level}: {kpi} tại {area}."
        ),
        "head_acknowledged": "{actor} đã tiếp nhận cảnh báo: {kpi} tại {area}.",
        "head_resolved": "Đã trở lại bình thường: {kpi} tại {area}.",
        "tag_escalated": "CHUYỂN CẤP {level}",
        "tag_acknowledged": "ĐÃ TIẾP NHẬN",
        "tag_resolved": "ĐÃ KHẮC PHỤC",
    },
    "en": {
        "target": "target",
        "kpi": "KPI",
        "area": "Area",
        "severity": "Severity",
        "since": "Since",
        "value": "Value",
        "below": "{amount} below target",
        "above": "{amount} above target",
        "on_target": "on target",
        "points": "percentage points",
        "acknowledged_by": "Acknowledged",
        "someone": "(unknown)",
        "at": "at",
        "escalated": "Escalated",
        "escalated_line": "level {level}, at {at}: nobody acknowledged the alert in time",
        "resolved": "Resolved",
        "lasted": "lasted",
        "contributors": "Areas contributing most to the gap:",
        "entities": "Points down ({count}):",
        "entity_line": "  - {entity} ({area}): down since {since}, last seen {last}",
        "entities_more": "  … and {more} more",
        "gap": "gap",
        "volume": "volume",
        "rate": "rate",
        "reached": "value",
        "footer": "Alert #{alert_id} · rule {rule_id} · times in {tz}",
        "head_fired": "{severity}: {kpi} in {area} needs attention.",
        "head_escalated": "Not acknowledged, escalated to level {level}: {kpi} in {area}.",
        "head_acknowledged": "{actor} acknowledged the alert: {kpi} in {area}.",
        "head_resolved": "Back to normal: {kpi} in {area}.",
        "tag_escalated": "ESCALATED L{level}",
        "tag_acknowledged": "ACKNOWLEDGED",
        "tag_resolved": "RESOLVED",
    },
}


def _gap(value: float, target: float, unit: str, language: Language) -> str:
    """How far from the target, e.g. "thấp hơn mục tiêu 7,5 điểm phần trăm"."""
    words = _WORDS[language]
    diff = value - target
    if abs(diff) < 1e-12:
        return words["on_target"]
    side = words["below"] if diff < 0 else words["above"]
    if unit == "percent":
        amount = f"{format_number(abs(diff) * 100, 1, language)} {words['points']}"
    else:
        amount = format_value(abs(diff), unit, language)
    return side.format(amount=amount)


def _aware(moment: datetime) -> datetime:
    # A naive time is taken as UTC: the project stores UTC everywhere.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def format_time(moment: datetime, tz: str = DEFAULT_TIMEZONE) -> str:
    """Local time as `dd/mm/yyyy HH:MM` (both languages); a naive time is taken as UTC."""
    return _aware(moment).astimezone(ZoneInfo(tz)).strftime("%d/%m/%Y %H:%M")


def format_duration(span: timedelta, language: Language = "vi") -> str:
    """A duration in words: "2 giờ 15 phút" (vi), "2 h 15 min" (en); under a minute says so."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    names = ("ngày", "giờ", "phút") if language == "vi" else ("d", "h", "min")
    parts = [f"{n} {name}" for n, name in zip((days, hours, mins), names, strict=True) if n]
    if not parts:
        return "dưới 1 phút" if language == "vi" else "under 1 min"
    return " ".join(parts[:2])


def _iso(moment: datetime) -> str:
    return _aware(moment).astimezone(UTC).isoformat().replace("+00:00", "Z")


def _contributor_line(rank: int, c: Contributor, unit: str, language: Language) -> str:
    words = _WORDS[language]
    scale, decimals = (100.0, 1) if unit == "percent" else (1.0, 3)
    suffix = f" {words['points']}" if unit == "percent" else ""

    def num(x: float) -> str:
        return format_number(x * scale, decimals, language)

    return (
        f"  {rank}. {c.name_vi}: {words['gap']} {num(c.gap)}{suffix} "
        f"({words['volume']} {num(c.volume_effect)}; {words['rate']} {num(c.rate_effect)}); "
        f"{words['reached']} {format_value(c.value, unit, language)}"
    )


def _entity_line(e: EntityAtFault, language: Language, tz: str) -> str:
    return _WORDS[language]["entity_line"].format(
        entity=e.entity,
        area=e.area_name_vi,
        since=format_time(e.since, tz),
        last=format_time(e.last_seen, tz),
    )


def _subject(t: Transition, language: Language) -> str:
    words = _WORDS[language]
    tag = SEVERITY_LABELS[language][t.severity.value].upper()
    if t.kind is not TransitionKind.FIRED:
        tag += " · " + words[f"tag_{t.kind.value}"].format(level=t.level)
    kpi = t.kpi_name_vi if language == "vi" else t.kpi_name_en
    what = kpi
    if t.value is not None:
        what += " " + format_value(t.value, t.unit, language)
        if t.target is not None:
            what += f" ({words['target']} {format_value(t.target, t.unit, language)})"
    return f"[{tag}] {what} — {t.area_name_vi}"


def _body(t: Transition, language: Language, tz: str) -> str:
    words = _WORDS[language]
    kpi = t.kpi_name_vi if language == "vi" else t.kpi_name_en
    severity = SEVERITY_LABELS[language][t.severity.value]
    head = words[f"head_{t.kind.value}"].format(
        severity=severity.upper(),
        kpi=kpi,
        area=t.area_name_vi,
        level=t.level,
        actor=t.actor or words["someone"],
    )
    lines = [head]
    summary = t.summary_vi if language == "vi" else t.summary_en
    if summary.strip():
        lines += ["", summary.strip()]

    value = format_value(t.value, t.unit, language)
    if t.value is not None and t.target is not None:
        target = format_value(t.target, t.unit, language)
        value += f" — {words['target']}: {target} ({_gap(t.value, t.target, t.unit, language)})"
    lines += [
        "",
        f"{words['kpi']}: {kpi}",
        f"{words['area']}: {t.area_name_vi}",
        f"{words['severity']}: {severity}",
        f"{words['since']}: {format_time(t.since, tz)}",
        f"{words['value']}: {value}",
    ]
    if t.kind is TransitionKind.ACKNOWLEDGED:
        who = t.actor or words["someone"]
        lines.append(f"{words['acknowledged_by']}: {who} {words['at']} {format_time(t.at, tz)}")
    elif t.kind is TransitionKind.ESCALATED:
        detail = words["escalated_line"].format(level=t.level, at=format_time(t.at, tz))
        lines.append(f"{words['escalated']}: {detail}")
    elif t.kind is TransitionKind.RESOLVED:
        lasted = format_duration(_aware(t.at) - _aware(t.since), language)
        lines.append(f"{words['resolved']}: {format_time(t.at, tz)} ({words['lasted']} {lasted})")

    if t.contributors:
        lines += ["", words["contributors"]]
        lines += [
            _contributor_line(rank, c, t.unit, language)
            for rank, c in enumerate(t.contributors[:_MAX_CONTRIBUTORS], start=1)
        ]
    if t.entities:
        lines += ["", words["entities"].format(count=max(t.entities_down, len(t.entities)))]
        lines += [_entity_line(e, language, tz) for e in t.entities[:_MAX_ENTITIES]]
        more = max(t.entities_down, len(t.entities)) - min(len(t.entities), _MAX_ENTITIES)
        if more > 0:
            lines.append(words["entities_more"].format(more=more))
    lines += ["", words["footer"].format(alert_id=t.alert_id, rule_id=t.rule_id, tz=tz)]
    return "\n".join(lines)


def _payload(t: Transition, language: Language, subject: str, text: str) -> dict[str, Any]:
    return {
        "type": PAYLOAD_TYPE,
        "schema_version": SCHEMA_VERSION,
        "alert_id": t.alert_id,
        "transition": t.kind.value,
        "level": t.level,
        "severity": t.severity.value,
        "rule_id": t.rule_id,
        "area": t.area,
        "area_name": t.area_name_vi,
        "area_level": t.area_level,
        "kpi": t.kpi_id,
        "kpi_name": t.kpi_name_vi if language == "vi" else t.kpi_name_en,
        "value": t.value,
        "target": t.target,
        "unit": t.unit,
        "since": _iso(t.since),
        "at": _iso(t.at),
        "actor": t.actor,
        "contributors": [
            {
                "area": c.area,
                "name": c.name_vi,
                "value": c.value,
                "gap": c.gap,
                "volume_effect": c.volume_effect,
                "rate_effect": c.rate_effect,
            }
            for c in t.contributors
        ],
        "entities": [
            {
                "feed": e.feed,
                "entity": e.entity,
                "kind": e.kind,
                "area": e.area,
                "area_name": e.area_name_vi,
                "since": _iso(e.since),
                "last_seen": _iso(e.last_seen),
            }
            for e in t.entities
        ],
        "entities_down": max(t.entities_down, len(t.entities)),
        "language": language,
        "subject": subject,
        "text": text,
    }


def render(transition: Transition, language: str = "vi", tz: str = DEFAULT_TIMEZONE) -> Message:
    """Write the message a recipient receives for one transition.

    Args:
        transition: what happened (see `ioc.alerts.model.Transition`).
        language: `vi` (default) or `en`. Area names stay Vietnamese in both.
        tz: the time zone times are shown in.

    Returns:
        Subject, plain-text body and the webhook payload.

    Raises:
        ValueError: `language` is neither `vi` nor `en`.
    """
    lang = check_language(language)
    subject = _subject(transition, lang)
    text = _body(transition, lang, tz)
    return Message(subject=subject, text=text, data=_payload(transition, lang, subject, text))
