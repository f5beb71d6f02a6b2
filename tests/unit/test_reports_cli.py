"""`ioc reports build` refuses what it cannot read before it touches the database."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ioc.cli import app


@pytest.mark.parametrize("period", ["2025-13", "Q3-2025", "9999"])
def test_a_period_it_cannot_read_is_refused_with_the_forms_it_can(period: str) -> None:
    result = CliRunner().invoke(app, ["reports", "build", "--period", period])
    assert result.exit_code == 2
    assert "2025-Q3" in result.output or "year" in result.output


def test_the_command_says_what_it_writes() -> None:
    result = CliRunner().invoke(app, ["reports", "build", "--help"])
    assert result.exit_code == 0
    assert "bao-cao-" in result.output and "--period" in result.output
