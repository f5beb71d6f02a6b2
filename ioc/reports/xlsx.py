"""The report as an Excel workbook (openpyxl): figures as numbers, not text.

Sheets: ``Tổng hợp`` (each KPI against its target and deadline, with the forecast),
``Xu hướng`` (each KPI per part of the period), ``Địa bàn`` (the worst child areas),
``Cơ quan`` (DVC agencies), ``Cảnh báo`` (the alerts of the period). Every value cell holds
the number itself (a fraction for percent KPIs, formatted as a percentage), so a reader can
compute with it and a test can compare it with the API's figure exactly.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from ioc.kpis import Kpi
from ioc.localtime import to_local
from ioc.reports import Report, forecast_text
from ioc.text import SEVERITY_LABELS, STATE_LABELS

__all__ = ["SHEETS", "SUMMARY_COLUMNS", "workbook_bytes"]

SHEETS: Final = ("Tổng hợp", "Xu hướng", "Địa bàn", "Cơ quan", "Cảnh báo")
SUMMARY_COLUMNS: Final = (
    "Mã chỉ tiêu",
    "Chỉ tiêu",
    "Tử số",
    "Mẫu số",
    "Giá trị",
    "Mục tiêu",
    "Thiếu so với mục tiêu",
    "Đạt",
    "Hạn",
    "Căn cứ",
    "Xu hướng mỗi ngày",
    "Dự báo",
    "Ngày dự báo đạt",
    "Sai số dự báo 1 ngày (MAE)",
)
_Value = str | float | date | None
_HEADER_ROWS: Final = 5  # title lines above each sheet's table
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDE6F0")


def _fmt(kpi: Kpi) -> str:
    return "0.00%" if kpi.unit == "percent" else "0.000"


def _local(at: datetime | None) -> datetime | None:
    # Excel has no time zones: write the Vietnamese wall time, without an offset.
    return to_local(at).replace(tzinfo=None) if at is not None else None


def _title(sheet: Worksheet, report: Report, subtitle: str) -> None:
    v = report.values
    sheet["A1"] = report.province.upper()
    sheet["A1"].font = Font(bold=True, size=13)
    sheet["A2"] = f"Báo cáo chỉ tiêu chuyển đổi số — {v.period.label_vi}"
    sheet["A2"].font = _BOLD
    sheet["A3"] = f"Địa bàn: {v.area.name_vi} ({v.area.code}) — {subtitle}"
    sheet["A4"] = (
        f"Lập lúc {to_local(report.made_at):%H:%M %d/%m/%Y} (giờ Việt Nam); dự báo tính đến "
        f"{to_local(v.as_of):%H:%M %d/%m/%Y}"
    )


def _table(sheet: Worksheet, columns: Sequence[str], widths: Sequence[int]) -> None:
    row = _HEADER_ROWS + 1
    for i, (name, width) in enumerate(zip(columns, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=i, value=name)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = f"A{row + 1}"


def _summary(sheet: Worksheet, report: Report) -> None:
    _title(sheet, report, "tổng hợp")
    _table(sheet, SUMMARY_COLUMNS, (30, 48, 12, 12, 11, 11, 12, 8, 12, 30, 12, 44, 14, 12))
    for row, item in enumerate(report.values.items, start=_HEADER_ROWS + 2):
        kpi, fmt = item.kpi, _fmt(item.kpi)
        forecast = item.forecast
        cells: list[tuple[_Value, str | None]] = [
            (kpi.id, None),
            (kpi.name_vi, None),
            (item.numerator, "#,##0"),
            (item.denominator, "#,##0"),
            (item.value, fmt),
            (item.target, fmt),
            (item.gap, fmt),
            (None if item.meets is None else ("Đạt" if item.meets else "Chưa đạt"), None),
            (kpi.target.deadline if kpi.target and kpi.target.deadline else None, "dd/mm/yyyy"),
            (kpi.target.source if kpi.target else "chưa đặt mục tiêu", None),
            (item.trend_per_day, fmt),
            (forecast_text(kpi, forecast), None),
            (forecast.reach_date if forecast else None, "dd/mm/yyyy"),
            (forecast.mae if forecast else None, fmt),
        ]
        for column, (value, number_format) in enumerate(cells, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            if number_format:
                cell.number_format = number_format


def _trend(sheet: Worksheet, report: Report) -> None:
    _title(sheet, report, "xu hướng trong kỳ")
    _table(sheet, ("Mã chỉ tiêu", "Kỳ", "Tử số", "Mẫu số", "Giá trị"), (30, 14, 12, 12, 11))
    row = _HEADER_ROWS + 2
    for item in report.values.items:
        for point in item.trend:
            for column, value in enumerate(
                (item.kpi.id, point.label, point.numerator, point.denominator, point.value), 1
            ):
                cell = sheet.cell(row=row, column=column, value=value)
                if column == 5:
                    cell.number_format = _fmt(item.kpi)
            row += 1


def _children(sheet: Worksheet, report: Report) -> None:
    _title(sheet, report, "các địa bàn xa mục tiêu nhất")
    _table(
        sheet,
        ("Mã chỉ tiêu", "Mã địa bàn", "Địa bàn", "Tử số", "Mẫu số", "Giá trị", "Thiếu"),
        (30, 11, 30, 12, 12, 11, 11),
    )
    row = _HEADER_ROWS + 2
    for item in report.values.items:
        for c in item.worst_children:
            values = (item.kpi.id, c.area, c.name_vi, c.numerator, c.denominator, c.value, c.gap)
            for column, value in enumerate(values, 1):
                cell = sheet.cell(row=row, column=column, value=value)
                if column >= 6:
                    cell.number_format = _fmt(item.kpi)
            row += 1


def _agencies(sheet: Worksheet, report: Report) -> None:
    _title(sheet, report, "các cơ quan xa mục tiêu nhất (dịch vụ công)")
    _table(
        sheet,
        ("Mã chỉ tiêu", "Cơ quan", "Tử số", "Mẫu số", "Giá trị", "Thiếu"),
        (30, 24, 12, 12, 11, 11),
    )
    row = _HEADER_ROWS + 2
    for item in report.values.items:
        for a in item.agencies:
            values = (item.kpi.id, a.agency, a.numerator, a.denominator, a.value, a.gap)
            for column, value in enumerate(values, 1):
                cell = sheet.cell(row=row, column=column, value=value)
                if column >= 5:
                    cell.number_format = _fmt(item.kpi)
            row += 1


def _alerts(sheet: Worksheet, report: Report) -> None:
    more = f"; {report.more_alerts} cảnh báo cũ hơn không liệt kê" if report.more_alerts else ""
    _title(sheet, report, f"cảnh báo trong kỳ ({len(report.alerts)}{more})")
    _table(
        sheet,
        (
            "Mã",
            "Quy tắc",
            "Chỉ tiêu",
            "Địa bàn",
            "Mức độ",
            "Trạng thái",
            "Bắt đầu",
            "Kết thúc",
            "Giá trị",
            "Mục tiêu",
        ),
        (8, 26, 30, 28, 12, 22, 17, 17, 11, 11),
    )
    for row, a in enumerate(report.alerts, start=_HEADER_ROWS + 2):
        values = (
            a.id,
            a.rule_id,
            a.kpi_id,
            f"{a.area_name or ''} ({a.area})",
            SEVERITY_LABELS["vi"].get(a.severity, a.severity),
            STATE_LABELS["vi"].get(a.state, a.state),
            _local(a.started_at),
            _local(a.resolved_at),
            a.last_value,
            a.target,
        )
        for column, value in enumerate(values, 1):
            cell = sheet.cell(row=row, column=column, value=value)
            if column in (7, 8):
                cell.number_format = "hh:mm dd/mm/yyyy"


def workbook_bytes(report: Report) -> bytes:
    """The report as an ``.xlsx`` file's bytes."""
    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has one sheet
    first.title = SHEETS[0]
    _summary(first, report)
    for name, fill in zip(SHEETS[1:], (_trend, _children, _agencies, _alerts), strict=True):
        fill(book.create_sheet(name), report)
    book.properties.title = f"{report.province} — {report.values.period.label_vi}"
    book.properties.creator = "ioc-monitor"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
