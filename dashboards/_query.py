"""The PostgreSQL query of a panel: the one dataquery type grafana-foundation-sdk lacks.

The SDK ships typed queries for Prometheus, Loki, Elasticsearch and others, but none for
Grafana's PostgreSQL datasource. This class implements the SDK's ``Dataquery`` interface with
the fields that datasource reads from a panel target (``rawSql``, ``format``, ``refId``,
``datasource``; ``editorMode: code`` and ``rawQuery: true`` keep Grafana's query editor in
its SQL text mode instead of rebuilding the query with its visual builder). Field names
follow Grafana's ``SQLQuery`` type (packages/grafana-sql/src/types.ts) and the backend's
``QueryJson`` (pkg/tsdb/grafana-postgresql-datasource/sqleng/sql_engine.go).
"""

from __future__ import annotations

from typing import Any, Literal, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard

__all__ = ["Format", "PostgresQuery", "PostgresQueryBuilder"]

Format = Literal["table", "time_series"]
"""``time_series`` needs a column named ``time``; ``table`` returns rows as they are."""


class PostgresQuery(cogvariants.Dataquery):
    """A raw-SQL target of Grafana's PostgreSQL (``grafana-postgresql-datasource``) plugin.

    Attributes:
        raw_sql: The SQL, with Grafana macros (``$__timeFilter(col)``) and variables.
        format: How Grafana reads the rows.
        ref_id: The target's id within its panel (A, B, ...).
        datasource: Which datasource runs it.
    """

    def __init__(
        self,
        raw_sql: str = "",
        format: Format = "table",
        ref_id: str = "A",
        datasource: dashboard.DataSourceRef | None = None,
    ) -> None:
        self.raw_sql = raw_sql
        self.format = format
        self.ref_id = ref_id
        self.datasource = datasource

    def to_json(self) -> dict[str, object]:
        """Return the target as Grafana stores it in the dashboard JSON."""
        payload: dict[str, object] = {
            "editorMode": "code",
            "format": self.format,
            "rawQuery": True,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }
        if self.datasource is not None:
            payload["datasource"] = self.datasource.to_json()
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Read a target back from dashboard JSON (the inverse of :meth:`to_json`)."""
        source = data.get("datasource")
        return cls(
            raw_sql=str(data.get("rawSql", "")),
            format="time_series" if data.get("format") == "time_series" else "table",
            ref_id=str(data.get("refId", "A")),
            datasource=dashboard.DataSourceRef.from_json(source)
            if isinstance(source, dict)
            else None,
        )


class PostgresQueryBuilder(cogbuilder.Builder[PostgresQuery]):
    """Builder of :class:`PostgresQuery`, in the SDK's fluent style.

    Example:
        >>> query = PostgresQueryBuilder().raw_sql("SELECT 1 AS value").ref_id("B").build()
        >>> (query.raw_sql, query.format, query.ref_id)
        ('SELECT 1 AS value', 'table', 'B')
    """

    def __init__(self) -> None:
        self._internal = PostgresQuery()

    def build(self) -> PostgresQuery:
        """Return the query."""
        return self._internal

    def raw_sql(self, raw_sql: str) -> Self:
        """Set the SQL text."""
        self._internal.raw_sql = raw_sql
        return self

    def format(self, format: Format) -> Self:
        """Set how Grafana reads the rows."""
        self._internal.format = format
        return self

    def ref_id(self, ref_id: str) -> Self:
        """Set the target's id within its panel."""
        self._internal.ref_id = ref_id
        return self

    def datasource(self, datasource: dashboard.DataSourceRef) -> Self:
        """Set the datasource that runs the query."""
        self._internal.datasource = datasource
        return self
