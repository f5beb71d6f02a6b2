"""Periodic indicators: values a department enters once a month, quarter or year.

The rooms:

- :mod:`ioc.indicators.catalogue` — the catalogue a province edits (``ioc/data/indicators.yaml``);
- :mod:`ioc.indicators.periods` — which period is due now, and by when;
- :mod:`ioc.indicators.store` — the values, their history, and each indicator's state
  (reported, due, late = "Chưa báo cáo");
- :mod:`ioc.indicators.files` — the CSV/XLSX template and reading an upload, every bad row named;
- :mod:`ioc.indicators.cli` — ``ioc indicators list|template|import``.
"""

from ioc.indicators.catalogue import (
    Department,
    Indicator,
    IndicatorCatalogue,
    IndicatorFileError,
    IndicatorTarget,
    PeriodKind,
    Unit,
    catalogue_file_for,
    load_indicators,
    value_problem,
)

__all__ = [
    "Department",
    "Indicator",
    "IndicatorCatalogue",
    "IndicatorFileError",
    "IndicatorTarget",
    "PeriodKind",
    "Unit",
    "catalogue_file_for",
    "load_indicators",
    "value_problem",
]
