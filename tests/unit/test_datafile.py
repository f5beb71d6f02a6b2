"""The one reader of province files: lines, keys written twice, pydantic errors, one error."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, field_validator

from ioc.areas import AreaFileError
from ioc.connectors.ingest.mapping import MappingError
from ioc.connectors.scenarios import ScenarioError
from ioc.datafile import DataFileError, item_label, load_document, parse, path_text, read_text
from ioc.kpis import KpiFileError


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    age: int
    channels: list[Channel] = []

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not value.islower():
            raise ValueError(f"{value!r} must be lower case")
        return value


class People(BaseModel):
    model_config = ConfigDict(extra="forbid")
    people: list[Person]


TEXT = """\
people:
  - id: an
    age: 30
    age: 31
  - id: Binh
    age: old
    channels:
      - adress: x@example.org
  - id: chi
"""


def test_every_problem_of_a_file_is_reported_at_once_with_its_line_and_item() -> None:
    with pytest.raises(DataFileError) as caught:
        load_document("people.yaml", TEXT, People, label=item_label("people", "id"))
    assert caught.value.problems == (
        "people.yaml:4: people[0].age (id an): written twice; YAML would keep only the last",
        "people.yaml:5: people[1].id (id Binh): 'Binh' must be lower case",
        "people.yaml:6: people[1].age (id Binh): Input should be a valid integer, unable to "
        "parse string as an integer (got 'old')",
        "people.yaml:8: people[1].channels[0].address (id Binh): required field is missing",
        "people.yaml:8: people[1].channels[0].adress (id Binh): unknown field (allowed: address)",
        "people.yaml:9: people[2].age (id chi): required field is missing",
    )
    assert str(caught.value).startswith("people.yaml: 6 problems:\n  - people.yaml:4: ")


def test_a_good_file_loads() -> None:
    people, doc = load_document("people.yaml", "people:\n  - {id: an, age: 30}\n", People)
    assert people.people[0].age == 30
    too_young = doc.problem(["people", 0, "age"], "too young")
    assert too_young == "people.yaml:2: people[0].age: too young"


def test_not_yaml_names_the_line() -> None:
    with pytest.raises(DataFileError, match=r"x\.yaml:2: not valid YAML: mapping values"):
        parse("x.yaml", "a: 1\n  b: 2\n")


def test_unreadable_files(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy.yaml"
    legacy.write_bytes("people: Nguy\u1ec5n".encode("utf-16"))
    with pytest.raises(DataFileError, match="not UTF-8 text"):
        read_text(legacy)
    with pytest.raises(KpiFileError, match="cannot read the file"):
        read_text(tmp_path / "absent.yaml", KpiFileError)


def test_paths_read_like_the_file() -> None:
    assert path_text(["kpis", 0, "target", "by_level", "district"]) == (
        "kpis[0].target.by_level.district"
    )
    assert path_text([]) == ""


@pytest.mark.parametrize("error", [AreaFileError, KpiFileError, MappingError, ScenarioError])
def test_every_loader_error_is_the_one_error_with_the_one_message(
    error: type[DataFileError],
) -> None:
    raised = error("f.yaml", ["f.yaml:1: a: b", "f.yaml:2: c: d"])
    assert isinstance(raised, DataFileError)
    assert str(raised) == str(DataFileError("f.yaml", raised.problems))
    assert error.__init__ is DataFileError.__init__
