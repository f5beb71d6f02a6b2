r"""The upload template (XLSX or CSV) and reading a department's filled-in file.

A department downloads the template (one row per indicator and area, for the period due now),
fills in the ``value`` column and uploads it. The file is read whole before anything is stored:
every bad row is named (row number as the spreadsheet shows it, column, reason) and nothing is
imported unless every row is good (:func:`ioc.indicators.store.check_entry` checks each row).

Columns are found by the header's first word (``indicator (mã chỉ tiêu)`` reads as
``indicator``), so a clerk may reorder them or add their own; ``indicator``, ``area``,
``period`` and ``value`` are required, ``note`` is kept, the rest are for people. Values of a
percent indicator are written as people write them, in percent: ``60``, ``60%``, ``60,5`` (a
cell formatted as a percentage in Excel holds 0.6 and reads as 60 %). A row whose value is
empty is skipped (the template's rows nobody filled in) and counted.

Example:
    >>> rows, skipped = read_rows(b"indicator,area,period,value\nx,33,2025,12\n")
    >>> rows[0].line, rows[0].cells["value"], skipped
    (2, '12', 0)
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill

from ioc.areas import Area, AreaRegistry
from ioc.indicators.catalogue import Indicator, IndicatorCatalogue
from ioc.indicators.store import Entry, check_entry
from ioc.kpis.periods import Period

__all__ = [
    "COLUMNS",
    "MAX_BYTES",
    "MAX_ROWS",
    "MEDIA_TYPES",
    "REQUIRED",
    "FileProblem",
    "Format",
    "Row",
    "UploadError",
    "entries_of",
    "parse_value",
    "read_rows",
    "template",
]

Format = Literal["xlsx", "csv"]
MEDIA_TYPES: Final[dict[Format, str]] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
MAX_BYTES: Final = 2_000_000
"""The largest upload read (2 MB: tens of thousands of rows of CSV)."""
MAX_ROWS: Final = 5_000
"""The most rows one upload may hold (every commune, every indicator, several periods)."""

COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("indicator", "mã chỉ tiêu"),
    ("name", "tên chỉ tiêu"),
    ("area", "mã địa bàn"),
    ("area_name", "tên địa bàn"),
    ("period", "kỳ báo cáo"),
    ("value", "giá trị"),
    ("unit", "đơn vị"),
    ("due", "hạn báo cáo"),
    ("note", "ghi chú"),
)
"""The template's columns: the key read on upload, and its Vietnamese label."""
REQUIRED: Final = ("indicator", "area", "period", "value")
_ZIP: Final = b"PK\x03\x04"
_UNIT_VI: Final = {"percent": "%", "number": "số", "rank": "thứ hạng"}


@dataclass(frozen=True)
class FileProblem:
    """One bad row (or the whole file, row 0): where, which column, why."""

    row: int
    column: str
    reason: str

    def text(self) -> str:
        """``row 3: value: …`` as a person reads it."""
        where = "file" if self.row == 0 else f"row {self.row}"
        return (
            f"{where}: {self.column}: {self.reason}" if self.column else f"{where}: {self.reason}"
        )


class UploadError(ValueError):
    """A file that cannot be imported, with every problem found."""

    def __init__(self, problems: Sequence[FileProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(p.text() for p in self.problems))


@dataclass(frozen=True)
class Row:
    """One filled-in row: its line (as the spreadsheet numbers it) and its cells as text.

    ``percent_cell`` is True when the value cell is formatted as a percentage in Excel (it
    holds the fraction: 0.6 for 60 %).
    """

    line: int
    cells: dict[str, str]
    raw_value: Any = None
    percent_cell: bool = False


def _key(header: object) -> str:
    text = str(header or "").strip().lower()
    return re.split(r"[\s(/]", text, maxsplit=1)[0] if text else ""


def _text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def read_rows(data: bytes) -> tuple[list[Row], int]:
    """The filled-in rows of a CSV or XLSX file, and how many rows had no value.

    Raises:
        UploadError: the file is too large, not UTF-8 CSV or XLSX, lacks a required column or
            has too many rows.
    """
    if len(data) > MAX_BYTES:
        raise UploadError([FileProblem(0, "", f"larger than {MAX_BYTES:,} bytes")])
    table = _xlsx_table(data) if data.startswith(_ZIP) else _csv_table(data)
    if not table:
        raise UploadError([FileProblem(0, "", "the file is empty: fill in the template")])
    header = [_key(h) for h, _ in table[0]]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise UploadError(
            [
                FileProblem(
                    1,
                    "",
                    f"missing column(s) {', '.join(missing)}: the first row names the columns "
                    f"({', '.join(REQUIRED)}, note); download the template",
                )
            ]
        )
    if len(table) - 1 > MAX_ROWS:
        raise UploadError([FileProblem(0, "", f"{len(table) - 1} rows; at most {MAX_ROWS}")])
    at: dict[str, int] = {
        name: header.index(name) for name in (*REQUIRED, "note") if name in header
    }
    rows: list[Row] = []
    skipped = 0
    for line, cells in enumerate(table[1:], start=2):
        texts = {name: _text(cells[i][0]) if i < len(cells) else "" for name, i in at.items()}
        if not any(_text(c) for c, _ in cells):
            continue  # a blank line between blocks
        if texts["value"] == "":
            skipped += 1
            continue
        raw, percent = cells[at["value"]] if at["value"] < len(cells) else (None, False)
        rows.append(Row(line, texts, raw, percent))
    return rows, skipped


def _xlsx_table(data: bytes) -> list[list[tuple[Any, bool]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # openpyxl raises many kinds for a damaged file
        raise UploadError([FileProblem(0, "", f"not a readable XLSX workbook: {err}")]) from None
    try:
        sheet = book.worksheets[0]
        table: list[list[tuple[Any, bool]]] = []
        for count, row in enumerate(sheet.iter_rows()):
            if count > MAX_ROWS + 1:
                raise UploadError([FileProblem(0, "", f"more than {MAX_ROWS} rows")])
            table.append(
                [(cell.value, "%" in str(getattr(cell, "number_format", "") or "")) for cell in row]
            )
    finally:
        book.close()
    while table and not any(_text(c) for c, _ in table[-1]):
        table.pop()
    return table


def _csv_table(data: bytes) -> list[list[tuple[Any, bool]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise UploadError(
            [FileProblem(0, "", f"not UTF-8 text (byte {err.start}): save the CSV as UTF-8")]
        ) from None
    first = text.split("\n", 1)[0]
    # Excel in Vietnamese writes ';' between cells (the comma is the decimal mark there).
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return [[(c, False) for c in row] for row in reader]
    except csv.Error as err:
        raise UploadError([FileProblem(reader.line_num, "", f"not CSV: {err}")]) from None


def parse_value(unit: str, row: Row) -> float:
    """The row's value in the indicator's unit (a fraction for percent).

    Raises:
        ValueError: not a number, with what was written.
    """
    raw = row.raw_value
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is not a number")
    if isinstance(raw, int | float):
        number = float(raw)
        if unit == "percent":
            return number if row.percent_cell else number / 100
        return number
    text = row.cells["value"].replace("\u00a0", "").replace(" ", "")
    percent_sign = text.endswith("%")
    text = text.removesuffix("%")
    if "," in text and "." in text:
        # 1.234,5 (Vietnamese) or 1,234.5 (English): the last mark is the decimal one.
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else text.replace(",", "")
        )
    else:
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"{row.cells['value']!r} is not a number") from None
    if unit == "percent":
        return number / 100
    if percent_sign:
        raise ValueError(f"{row.cells['value']!r}: a {unit} indicator takes no '%'")
    return number


def entries_of(
    data: bytes,
    catalogue: IndicatorCatalogue,
    areas: AreaRegistry,
    today: date,
    scope: frozenset[str] | None = None,
    department: str | None = None,
) -> tuple[list[Entry], int]:
    """Every filled-in row of an upload as an entry, and how many rows had no value.

    Raises:
        UploadError: the file cannot be read, or any row is bad: every bad row is listed, so
            the department fixes the file in one pass; nothing is to be stored then.
    """
    rows, skipped = read_rows(data)
    problems: list[FileProblem] = []
    entries: list[Entry] = []
    for row in rows:
        unit = (
            catalogue.get(row.cells["indicator"]).unit
            if row.cells["indicator"] in catalogue
            else "number"
        )
        try:
            value = parse_value(unit, row)
        except ValueError as err:
            problems.append(FileProblem(row.line, "value", str(err)))
            value = None
        entry, found = check_entry(
            catalogue,
            areas,
            indicator=row.cells["indicator"],
            area=row.cells["area"],
            period=row.cells["period"],
            value=0.0 if value is None else value,
            today=today,
            note=row.cells.get("note") or None,
            scope=scope,
            department=department,
        )
        problems += [
            FileProblem(row.line, column, reason)
            for column, reason in found
            if not (value is None and column == "value")
        ]
        if entry is not None and value is not None:
            entries.append(entry)
    if problems:
        raise UploadError(problems)
    if not entries:
        raise UploadError([FileProblem(0, "value", "no row has a value: fill in the value column")])
    return entries, skipped


def template(
    catalogue: IndicatorCatalogue,
    rows: Sequence[tuple[Indicator, Area, Period, date]],
    fmt: Format,
) -> bytes:
    """The template: one row per (indicator, area, period, due day), the value left empty."""
    header = [f"{key} ({label})" for key, label in COLUMNS]
    body = [
        [
            indicator.id,
            indicator.name_vi,
            area.code,
            area.name_vi,
            period.label,
            None,
            _UNIT_VI[indicator.unit],
            f"{due:%d/%m/%Y}",
            None,
        ]
        for indicator, area, period, due in rows
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in line] for line in body])
        return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel then reads UTF-8
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Nhập liệu"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append(line)
    fill = PatternFill("solid", fgColor="FFF2CC")  # the column to fill in stands out
    for (cell,) in sheet.iter_rows(min_row=2, min_col=6, max_col=6):
        cell.fill = fill
    for column, width in zip("ABCDEFGHI", (28, 60, 10, 30, 12, 12, 10, 14, 30), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    guide = book.create_sheet("Hướng dẫn")
    guide.append(["Điền cột 'value (giá trị)'; chỉ tiêu %: ghi 60 hoặc 60% cho 60 %."])
    guide.append(["Fill in the 'value' column; percent indicators: write 60 or 60% for 60 %."])
    guide.append([])
    guide.append(["indicator", "tên chỉ tiêu", "name", "đơn vị", "kỳ", "sở, ngành", "mục tiêu"])
    for indicator in catalogue:
        target = indicator.target
        guide.append(
            [
                indicator.id,
                indicator.name_vi,
                indicator.name_en,
                _UNIT_VI[indicator.unit],
                indicator.period,
                catalogue.department(indicator).name_vi,
                "" if target is None else target.source,
            ]
        )
    out_bytes = io.BytesIO()
    book.save(out_bytes)
    return out_bytes.getvalue()
