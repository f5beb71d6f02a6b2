"""KPIs: the catalogue, their values, the measures behind them, the forecast and drill-through.

The rooms, in the order a figure is made:

- :mod:`ioc.kpis.measures` — the window metrics each event adds (numerators and denominators);
- :mod:`ioc.kpis.catalogue` — the KPI catalogue a province edits (``ioc/data/kpis.yaml``), whose
  public names this package re-exports (``from ioc.kpis import Kpi, load_kpis``);
- :mod:`ioc.kpis.values` — KPI values per area and bucket, computed from the window rows and
  kept current (``kpi_values``);
- :mod:`ioc.kpis.periods` — every KPI over a day, month, quarter, year or the year to date;
- :mod:`ioc.kpis.forecast` — when a KPI will meet its target at its current trend;
- :mod:`ioc.kpis.drill` — the stored events behind one KPI value;
- :mod:`ioc.kpis.cli` — ``ioc kpis list|show|events``.
"""

from ioc.kpis.catalogue import (
    DISTINCT_ENTITY,
    PROVINCE_CATALOGUES,
    Direction,
    Kpi,
    KpiCatalogue,
    KpiFileError,
    Reported,
    Target,
    Unit,
    catalogue_file_for,
    load_kpis,
)

__all__ = [
    "DISTINCT_ENTITY",
    "PROVINCE_CATALOGUES",
    "Direction",
    "Kpi",
    "KpiCatalogue",
    "KpiFileError",
    "Reported",
    "Target",
    "Unit",
    "catalogue_file_for",
    "load_kpis",
]
