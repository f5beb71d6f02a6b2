-- Distinct-count KPIs (issue 15, item 6): a KPI such as "services with at least one online
-- dossier ÷ services offered online" counts distinct procedures, which do not add up over days
-- or communes. Its value over any range and area is counted from the event store, by the API
-- and by the Grafana boards alike (ioc.kpi_values, ioc.dashboards._sql.distinct_counts), so
-- the boards' read-only role needs to read the store. 0006's rule: a table is unreadable to
-- Grafana until a migration grants it.
GRANT SELECT ON events TO ioc_grafana;
