"""The report as a PDF (fpdf2), with the font it needs inside the package.

Vietnamese needs a font with its stacked diacritics (ệ, ờ, ữ): the PDF core fonts have none.
The font is Noto Sans (``ioc/reports/fonts``, SIL Open Font License 1.1, licence text beside
it), embedded and subset in every file, so the PDF reads the same everywhere and the product
needs no system font.

Layout (A4 landscape): every page is headed by the province, the period and the area; then
the KPIs against target, deadline and forecast; each KPI's trend as a small chart with its
target line; the worst child areas and agencies; the alerts of the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from importlib import resources
from typing import Final

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from ioc.kpis.periods import KpiPeriod
from ioc.localtime import to_local
from ioc.reports import Report, forecast_text
from ioc.text import SEVERITY_LABELS, STATE_LABELS, format_number, format_value

__all__ = ["FONT_FAMILY", "pdf_bytes"]

FONT_FAMILY: Final = "NotoSans"
_FONTS = resources.files("ioc.reports") / "fonts"
_INK = (30, 30, 30)
_GREY = (120, 120, 120)
_HEAD = (221, 230, 240)
_GOOD = (34, 120, 60)
_BAD = (180, 40, 40)


def _gap_text(item: KpiPeriod) -> str:
    if item.gap is None:
        return "—"
    if abs(item.gap) < 1e-12:
        return "đạt đúng mục tiêu"
    word = "thiếu" if item.gap > 0 else "vượt"
    if item.kpi.unit == "percent":
        return f"{word} {format_number(abs(item.gap) * 100, 1)} điểm %"
    return f"{word} {format_number(abs(item.gap), 3)}"


def _when(at: datetime | None) -> str:
    return f"{to_local(at):%H:%M %d/%m/%Y}" if at is not None else "—"


class _Report(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report = report
        with resources.as_file(_FONTS / "NotoSans-Regular.ttf") as regular:
            self.add_font(FONT_FAMILY, "", str(regular))
        with resources.as_file(_FONTS / "NotoSans-Bold.ttf") as bold:
            self.add_font(FONT_FAMILY, "B", str(bold))
        self.set_auto_page_break(auto=True, margin=14)
        self.set_title(f"{report.province} — {report.values.period.label_vi}")
        self.set_creator("ioc-monitor")
        self.set_lang("vi")

    def header(self) -> None:
        v = self.report.values
        self.set_text_color(*_INK)
        self.set_font(FONT_FAMILY, "B", 13)
        self.cell(0, 7, self.report.province.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT_FAMILY, "B", 11)
        self.cell(
            0,
            6,
            f"Báo cáo chỉ tiêu chuyển đổi số — {v.period.label_vi}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.set_font(FONT_FAMILY, "", 8)
        self.set_text_color(*_GREY)
        self.cell(
            0,
            5,
            f"Địa bàn: {v.area.name_vi} ({v.area.code}) · lập lúc "
            f"{_when(self.report.made_at)} (giờ Việt Nam) · dự báo tính đến {_when(v.as_of)}",
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        self.line(self.l_margin, self.get_y() + 1, self.w - self.r_margin, self.get_y() + 1)
        self.ln(3)
        self.set_text_color(*_INK)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT_FAMILY, "", 7)
        self.set_text_color(*_GREY)
        self.cell(0, 4, f"Trang {self.page_no()}/{{nb}} · ioc-monitor", align="R")

    def section(self, title: str) -> None:
        self.ln(2)
        self.set_font(FONT_FAMILY, "B", 10)
        self.cell(0, 6, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT_FAMILY, "", 7.5)

    def rows(
        self, widths: tuple[float, ...], head: tuple[str, ...], body: Sequence[tuple[str, ...]]
    ) -> None:
        """A table with a shaded heading row repeated on every page it runs over."""
        self.set_font(FONT_FAMILY, "", 7.5)
        # The table fills its body cells with the current fill colour: a chart's bar colour
        # would leak into it.
        self.set_fill_color(255, 255, 255)
        self.set_draw_color(*_INK)
        with self.table(
            align="LEFT",
            col_widths=widths,
            width=sum(widths),
            headings_style=FontFace(emphasis="BOLD", fill_color=_HEAD),
            line_height=3.9,
            text_align="LEFT",
            padding=0.8,
            first_row_as_headings=True,
        ) as table:
            for values in (head, *body):
                row = table.row()
                for value in values:
                    row.cell(value)


def _summary(pdf: _Report) -> None:
    pdf.section("1. Các chỉ tiêu so với mục tiêu và thời hạn")
    body = []
    for item in pdf.report.values.items:
        kpi = item.kpi
        target = kpi.target
        body.append(
            (
                kpi.name_vi,
                format_value(item.value, kpi.unit),
                f"{format_number(item.numerator, 0)} / {format_number(item.denominator, 0)}",
                format_value(item.target, kpi.unit) if item.target is not None else "chưa đặt",
                _gap_text(item),
                f"{target.deadline:%d/%m/%Y}" if target and target.deadline else "—",
                target.source if target else "—",
                forecast_text(kpi, item.forecast),
            )
        )
    pdf.rows(
        (58, 22, 24, 16, 27, 17, 54, 59),
        (
            "Chỉ tiêu",
            "Giá trị",
            "Tử số / mẫu số",
            "Mục tiêu",
            "Chênh lệch",
            "Hạn",
            "Căn cứ",
            "Dự báo (xu hướng 30 ngày)",
        ),
        body,
    )


def _chart(pdf: _Report, item: KpiPeriod, x: float, y: float, w: float, h: float) -> None:
    """One KPI's trend as bars (one per part of the period) with its target as a line."""
    kpi = item.kpi
    pdf.set_font(FONT_FAMILY, "B", 7)
    pdf.set_xy(x, y)
    title = kpi.name_vi
    while pdf.get_string_width(title) > w and len(title) > 10:
        title = title[:-2].rstrip() + "…"
    pdf.cell(w, 4, title)
    pdf.set_font(FONT_FAMILY, "", 6.5)
    pdf.set_xy(x, y + 4)
    pdf.set_text_color(*_GREY)
    pdf.cell(w, 3.5, f"Cả kỳ: {format_value(item.value, kpi.unit)}")
    pdf.set_text_color(*_INK)
    top, bottom = y + 8.5, y + h - 4
    values = [p.value for p in item.trend if p.value is not None]
    if item.target is not None:
        values.append(item.target)
    high = max(values, default=1.0)
    low = min(0.0, *values) if values else 0.0
    if kpi.unit == "percent":
        low, high = 0.0, max(high, 1.0)
    span = (high - low) or 1.0
    pdf.set_draw_color(*_GREY)
    pdf.line(x, bottom, x + w, bottom)
    if item.trend:
        step = w / len(item.trend)
        for i, point in enumerate(item.trend):
            if point.value is None:
                continue
            bar = (point.value - low) / span * (bottom - top)
            good = item.target is None or kpi.meets(point.value, pdf.report.values.area.level)
            pdf.set_fill_color(*(_GOOD if good else _BAD))
            pdf.rect(x + i * step + step * 0.15, bottom - bar, step * 0.7, bar, style="F")
        pdf.set_font(FONT_FAMILY, "", 5.5)
        pdf.set_text_color(*_GREY)
        pdf.set_xy(x, bottom + 0.3)
        pdf.cell(w / 2, 3, item.trend[0].label)
        pdf.set_xy(x + w / 2, bottom + 0.3)
        pdf.cell(w / 2, 3, item.trend[-1].label, align="R")
        pdf.set_text_color(*_INK)
    if item.target is not None:
        level = bottom - (item.target - low) / span * (bottom - top)
        pdf.set_draw_color(*_BAD)
        pdf.set_dash_pattern(dash=1, gap=0.8)
        pdf.line(x, level, x + w, level)
        pdf.set_dash_pattern()
    pdf.set_draw_color(*_INK)


def _trends(pdf: _Report) -> None:
    period = pdf.report.values.period
    unit = {"day": "giờ", "month": "ngày"}.get(period.kind, "tháng")
    pdf.add_page()
    pdf.section(f"2. Diễn biến trong kỳ theo {unit} (cột đỏ: chưa đạt; nét đứt: mục tiêu)")
    columns, width, height = 4, (pdf.w - pdf.l_margin - pdf.r_margin) / 4, 34.0
    y = pdf.get_y()
    for i, item in enumerate(pdf.report.values.items):
        if i and i % columns == 0:
            y += height + 2
            if y + height > pdf.h - 14:
                pdf.add_page()
                y = pdf.get_y()
        _chart(pdf, item, pdf.l_margin + (i % columns) * width, y, width - 5, height)
    pdf.set_xy(pdf.l_margin, y + height + 2)


def _worst(pdf: _Report) -> None:
    pdf.add_page()
    pdf.section("3. Các địa bàn xa mục tiêu nhất")
    body = []
    for item in pdf.report.values.items:
        for c in item.worst_children[:3]:
            body.append(
                (
                    item.kpi.name_vi,
                    f"{c.name_vi} ({c.area})",
                    format_value(c.value, item.kpi.unit),
                    f"{format_number(c.numerator, 0)} / {format_number(c.denominator, 0)}",
                )
            )
    if body:
        pdf.rows((95, 85, 30, 40), ("Chỉ tiêu", "Địa bàn", "Giá trị", "Tử số / mẫu số"), body)
    else:
        pdf.cell(0, 5, "Không có địa bàn cấp dưới có dữ liệu.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    agencies = [
        (
            item.kpi.name_vi,
            a.agency,
            format_value(a.value, item.kpi.unit),
            f"{format_number(a.numerator, 0)} / {format_number(a.denominator, 0)}",
        )
        for item in pdf.report.values.items
        for a in item.agencies[:3]
    ]
    pdf.section("4. Các cơ quan xa mục tiêu nhất (dịch vụ công)")
    if agencies:
        pdf.rows((95, 85, 30, 40), ("Chỉ tiêu", "Cơ quan", "Giá trị", "Tử số / mẫu số"), agencies)
    else:
        pdf.cell(0, 5, "Không có dữ liệu theo cơ quan.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _alerts(pdf: _Report) -> None:
    report = pdf.report
    more = f" — {report.more_alerts} cảnh báo cũ hơn không liệt kê" if report.more_alerts else ""
    pdf.section(f"5. Cảnh báo trong kỳ: {len(report.alerts)}{more}")
    if not report.alerts:
        pdf.cell(0, 5, "Không có cảnh báo trong kỳ.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return
    units = {k.kpi.id: k.kpi.unit for k in report.values.items}
    body = [
        (
            _when(a.started_at),
            _when(a.resolved_at),
            SEVERITY_LABELS["vi"].get(a.severity, a.severity),
            a.kpi_id or a.rule_id,
            f"{a.area_name or ''} ({a.area})",
            format_value(a.last_value, units.get(a.kpi_id or "", "number")),
            STATE_LABELS["vi"].get(a.state, a.state),
        )
        for a in report.alerts
    ]
    pdf.rows(
        (30, 30, 22, 60, 60, 25, 40),
        ("Bắt đầu", "Kết thúc", "Mức độ", "Chỉ tiêu / quy tắc", "Địa bàn", "Giá trị", "Trạng thái"),
        body,
    )


def pdf_bytes(report: Report) -> bytes:
    """The report as a PDF file's bytes."""
    pdf = _Report(report)
    pdf.add_page()
    _summary(pdf)
    _trends(pdf)
    _worst(pdf)
    _alerts(pdf)
    return bytes(pdf.output())
