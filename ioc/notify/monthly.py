"""The monthly report by email: last month's period report to each recipient who asks for it.

A recipient with `reports: monthly` in the recipients file gets, on the 1st of each month
after `IOC_NOTIFY__DIGEST_AT`, one email with the previous month's report of their scope
attached: the workbook and the PDF that `ioc reports build` makes (:mod:`ioc.reports`, the
period's values recomputed first), so its figures are those of `GET /api/v1/kpis/periods` and
`GET /api/v1/reports/{period}.xlsx|.pdf?area=…` for the same month and area.

Through the outbox, so it is never lost and sent once: each report file is made once per
area, month and format and stored in `report_files`; the outbox row (keyed `alert_id = 0`,
`transition = "report:YYYY-MM"`) names its files in `payload.attachments`, and its unique key
makes a second enqueue (a restart, a second notifier) a no-op. A mail server that is down
only delays the email: the row is retried until accepted, with the bytes first made.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, Final

import asyncpg

from ioc.areas import AreaRegistry
from ioc.kpis import Kpi, KpiCatalogue
from ioc.kpis.periods import Period
from ioc.notify.outbox import OutboxRow, enqueue_rows
from ioc.notify.routing import Recipient
from ioc.notify.templates import Message
from ioc.reports import gather

__all__ = ["REPORT_TYPE", "enqueue_monthly_reports", "previous_month"]

log = logging.getLogger(__name__)

REPORT_TYPE: Final = "ioc.report"
_MEDIA: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def previous_month(today: date) -> Period:
    """The calendar month before the one `today` is in."""
    last = today.replace(day=1) - timedelta(days=1)
    return Period.parse(f"{last:%Y-%m}")


async def _store_files(
    conn: asyncpg.Connection,
    catalogue: KpiCatalogue | list[Kpi],
    areas: AreaRegistry,
    area_code: str,
    period: Period,
    now: datetime,
) -> tuple[str, list[dict[str, str]]]:
    """Make the area's report for the period once (both formats); its name and file refs."""
    from ioc.reports.pdf import pdf_bytes
    from ioc.reports.xlsx import workbook_bytes

    area = areas.get(area_code, on=period.last)
    province = areas.as_of(period.last).province.name_vi
    refs = [{"area": area_code, "period": period.label, "format": f} for f in _MEDIA]
    stored = await conn.fetchval(
        "SELECT count(*) FROM report_files WHERE area = $1 AND period = $2",
        area_code,
        period.label,
    )
    if stored == len(_MEDIA):
        return area.name_vi, refs
    # Recomputed from the window rows first, as `ioc reports build` does: the month's stored
    # values then include every event counted so far, and the API serves the same figures.
    report = await gather(conn, catalogue, area, period, province=province, now=now, recompute=True)
    for fmt, render in (("xlsx", workbook_bytes), ("pdf", pdf_bytes)):
        # Rendering is CPU work (the PDF subsets its font): off the event loop.
        content = await asyncio.to_thread(render, report)
        await conn.execute(
            """INSERT INTO report_files (area, period, format, filename, media_type, content)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
            area_code,
            period.label,
            fmt,
            f"{report.file_stem}.{fmt}",
            _MEDIA[fmt],
            content,
        )
    return area.name_vi, refs


def _message(name: str, period: Period, refs: list[dict[str, str]], lang: str) -> Message:
    month = f"{period.first.month}/{period.first.year}"
    files = ", ".join(f"bao-cao-{r['area']}-{r['period']}.{r['format']}" for r in refs)
    if lang == "vi":
        subject = f"[Báo cáo tháng {month}] {name}"
        text = (
            f"Báo cáo chỉ tiêu {period.label_vi.lower()} của {name} được đính kèm "
            f"(Excel và PDF: {files}).\n"
            "Mỗi chỉ tiêu so với mục tiêu và hạn, xu hướng trong tháng, dự báo, các xã/phường "
            "và cơ quan thấp nhất, các cảnh báo trong tháng.\n"
            "Cùng số liệu có trên bảng điều hành (nút «Báo cáo») và API."
        )
    else:
        subject = f"[Monthly report {month}] {name}"
        text = (
            f"The KPI report of {name} for {period.first:%B %Y} is attached "
            f"(Excel and PDF: {files}).\n"
            "Each KPI against its target and deadline, the month's trend, the forecast, the "
            "worst communes and agencies, and the month's alerts.\n"
            "The same figures are on the board (the “Báo cáo” button) and in the API."
        )
    data: dict[str, Any] = {
        "type": REPORT_TYPE,
        "schema_version": 1,
        "period": period.label,
        "area": refs[0]["area"],
        "attachments": refs,
        "language": lang,
        "subject": subject,
        "text": text,
    }
    return Message(subject=subject, text=text, data=data)


async def enqueue_monthly_reports(
    conn: asyncpg.Connection,
    period: Period,
    recipients: Iterable[Recipient],
    areas: AreaRegistry,
    catalogue: KpiCatalogue | list[Kpi],
    now: datetime,
) -> int:
    """Put the period's report for each recipient with `reports: monthly` into the outbox.

    Email channels only (the files travel as attachments). Idempotent: recipients that
    already have their row are skipped before any report is made, and the outbox's unique
    key drops a repeat made by a concurrent notifier.

    Returns:
        How many rows were new.
    """
    transition = f"report:{period.label}"
    wanted: Sequence[Recipient] = [
        r
        for r in recipients
        if r.reports == "monthly" and any(c.type == "email" for c in r.channels)
    ]
    if not wanted:
        return 0
    done = {
        row["recipient"]
        for row in await conn.fetch(
            "SELECT recipient FROM notification_outbox "
            "WHERE alert_id = 0 AND transition = $1 AND channel = 'email'",
            transition,
        )
    }
    made: dict[str, tuple[str, list[dict[str, str]]]] = {}
    rows: list[OutboxRow] = []
    for r in wanted:
        if r.id in done:
            continue
        if r.area not in made:
            try:
                made[r.area] = await _store_files(conn, catalogue, areas, r.area, period, now)
            except KeyError:
                log.warning("recipient %s: no area %s in %s; no report", r.id, r.area, period)
                continue
        name, refs = made[r.area]
        message = _message(name, period, refs, r.language)
        rows.extend(
            OutboxRow(r.id, c.type, c.target, r.language, message)
            for c in r.channels
            if c.type == "email"
        )
    return await enqueue_rows(conn, 0, transition, 0, rows)
