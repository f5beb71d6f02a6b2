"""The monthly report by email: on 1 November, October's report reaches who asked for it, once.

October 2026 of DVC events (test_reports' month) is in the database; the notifier runs with its
clock on 1 November after `digest_at`, against a real SMTP server on loopback. The recipient
with `reports: monthly` gets one email with the workbook and the PDF attached, and the
workbook's figures are the API's; the one without gets none; a restarted notifier does not
send it again; with the mail server down it waits in the outbox and arrives once it is up.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from email.message import EmailMessage
from io import BytesIO
from typing import Any

import asyncpg
from openpyxl import load_workbook

from ioc.areas import load_areas
from ioc.kpis import load_kpis
from ioc.notify.channels import SmtpChannel
from ioc.notify.notifier import Notifier
from ioc.notify.routing import Recipient
from ioc.reports.xlsx import SHEETS, SUMMARY_COLUMNS
from tests._notify import MailServer
from tests.integration.test_api import Stack, stack  # noqa: F401 (module fixture)
from tests.integration.test_reports import (  # noqa: F401 (module fixture)
    PERIOD,
    PROVINCE,
    Month,
    _api,
    _same,
    month,
)

# 1 November 2026, 08:00 in Vietnam: after digest_at (07:00) on the 1st.
FIRST_OF_NOVEMBER = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
BEFORE_DIGEST_AT = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 06:00 local on the 1st

RECIPIENTS = [
    Recipient.model_validate(
        {
            "id": "chu-tich",
            "name": "Chủ tịch UBND tỉnh",
            "area": PROVINCE,
            "reports": "monthly",
            "digest": False,
            "channels": [{"type": "email", "address": "chutich@hungyen.gov.vn"}],
        }
    ),
    Recipient.model_validate(
        {
            "id": "van-phong",
            "name": "Văn phòng UBND tỉnh",
            "area": PROVINCE,
            "digest": False,
            "channels": [{"type": "email", "address": "vanphong@hungyen.gov.vn"}],
        }
    ),
]


def _notifier(stack: Stack, pool: asyncpg.Pool, mail: MailServer, at: datetime) -> Notifier:  # noqa: F811
    return Notifier(
        pool,
        [SmtpChannel("127.0.0.1", mail.port, "IOC Hưng Yên <ioc@hungyen.gov.vn>", timeout=5)],
        recipients=RECIPIENTS,
        areas=load_areas(stack.settings.areas_file),
        catalogue=load_kpis(stack.settings.alerts.kpis_file),
        digest_at=time(7, 0),
        clock=lambda: at,
    )


def _files(message: EmailMessage) -> dict[str, tuple[str, bytes]]:
    out: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_attachments():
        content = part.get_content()
        assert isinstance(content, bytes)
        out[str(part.get_filename())] = (part.get_content_type(), content)
    return out


async def _pending(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT recipient, attempts, delivered_at FROM notification_outbox WHERE transition = $1",
        f"report:{PERIOD}",
    )
    return [dict(r) for r in rows]


async def test_the_monthly_report_is_mailed_once_and_never_lost(
    stack: Stack,  # noqa: F811
    month: Month,  # noqa: F811
) -> None:
    mail = MailServer()
    pool = await asyncpg.create_pool(stack.database_url, min_size=1, max_size=2)
    try:
        # Before digest_at on the 1st: nothing yet.
        await _notifier(stack, pool, mail, BEFORE_DIGEST_AT).run_once()
        assert await _pending(pool) == []

        # The mail server is down on the 1st: the report waits in the outbox.
        down = await _notifier(stack, pool, mail, FIRST_OF_NOVEMBER).run_once()
        assert (down.claimed, down.delivered, down.failed) == (1, 0, 1)
        [row] = await _pending(pool)
        assert row["recipient"] == "chu-tich" and row["delivered_at"] is None

        # It comes back; the notifier was restarted meanwhile: the row is sent, not re-made.
        await mail.start()
        await pool.execute(
            "UPDATE notification_outbox SET next_attempt_at = now() WHERE transition = $1",
            f"report:{PERIOD}",
        )
        up = await _notifier(stack, pool, mail, FIRST_OF_NOVEMBER).run_once()
        assert (up.delivered, up.failed) == (1, 0)
        # Another restart later that day, and the next day: nothing more.
        again = await _notifier(stack, pool, mail, FIRST_OF_NOVEMBER).run_once()
        later = await _notifier(stack, pool, mail, FIRST_OF_NOVEMBER.replace(day=2)).run_once()
        assert again.claimed == later.claimed == 0
        [row] = await _pending(pool)
        assert row["attempts"] == 2 and row["delivered_at"] is not None
        # The files were made once, stored once: the row names them.
        stored = await pool.fetch("SELECT area, period, format FROM report_files ORDER BY 3")
        assert [tuple(r) for r in stored] == [(PROVINCE, PERIOD, "pdf"), (PROVINCE, PERIOD, "xlsx")]
    finally:
        await pool.close()
        await mail.stop()

    assert [m["To"] for m in mail.received] == ["chutich@hungyen.gov.vn"]
    [message] = mail.received
    assert message["Subject"] == "[Báo cáo tháng 10/2026] Tỉnh Hưng Yên"
    files = _files(message)
    stem = f"bao-cao-{PROVINCE}-{PERIOD}"
    assert sorted(files) == [f"{stem}.pdf", f"{stem}.xlsx"]
    assert files[f"{stem}.pdf"][0] == "application/pdf"
    assert files[f"{stem}.pdf"][1].startswith(b"%PDF-")

    # The workbook's figures are the API's for the same month and area.
    body = await _api(stack, stack.leader, period=PERIOD, area=PROVINCE)
    items = {i["kpi"]: i for i in body["items"]}
    book = load_workbook(BytesIO(files[f"{stem}.xlsx"][1]), read_only=True)
    assert book.sheetnames == list(SHEETS)
    col = {name: i for i, name in enumerate(SUMMARY_COLUMNS)}
    rows = [
        r for r in book[SHEETS[0]].iter_rows(min_row=7, values_only=True) if r and r[0] is not None
    ]
    assert [r[0] for r in rows] == list(items)
    online = items["dvc_online_dossier_rate"]
    assert online["denominator"] > 0
    for r in rows:
        assert _same(r[col["Giá trị"]], items[r[0]]["value"])
        assert _same(r[col["Mẫu số"]], items[r[0]]["denominator"])
