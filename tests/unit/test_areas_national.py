"""The national geography: every province of the 2025 map loads, with its merged history."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ioc.areas import (
    REFORM_DAY,
    AreaFileError,
    AreaLevel,
    load_areas,
    province_codes,
    resolve_province,
)
from ioc.config import Settings

BEFORE, AFTER = date(2024, 6, 1), date(2026, 1, 1)
# Nghị quyết 202/2025/QH15: 34 provinces from 1/7/2025 out of 63; these 11 were not merged.
UNCHANGED = {"01", "04", "11", "12", "14", "20", "22", "38", "40", "42", "46"}


def test_thirty_four_provinces_with_three_thousand_three_hundred_twenty_one_communes() -> None:
    codes = province_codes()
    assert len(codes) == 34
    communes, former = 0, 0
    for code in codes:
        areas = load_areas(province=code)
        communes += len(areas.by_level("commune", on=AFTER))
        former += len(areas.by_level("province", on=BEFORE))
    assert (communes, former) == (3321, 63)


@pytest.mark.parametrize("code", province_codes())
def test_every_province_loads_with_both_shapes_and_a_map(code: str) -> None:
    areas = load_areas(province=code)
    today = areas.province
    assert (today.code, today.parent, today.valid_from) == (code, None, REFORM_DAY)
    assert areas.shape(on=AFTER) == "two-tier"
    assert areas.shape(on=BEFORE) == "three-tier"
    communes = areas.by_level(AreaLevel.COMMUNE, on=AFTER)
    assert communes and {c.parent for c in communes} == {code}
    # Every commune is on the map, its point inside its box and the box inside the province's.
    assert today.bounds is not None
    p_west, p_south, p_east, p_north = today.bounds
    for c in communes:
        assert c.lat is not None and c.lon is not None and c.bounds is not None, c.code
        west, south, east, north = c.bounds
        assert west <= c.lon <= east and south <= c.lat <= north, c.code
        assert p_west <= west and east <= p_east and p_south <= south and north <= p_north
    # Before the reform: the former provinces merged into it, one of which kept the code.
    former = areas.by_level(AreaLevel.PROVINCE, on=BEFORE)
    assert (len(former) == 1) == (code in UNCHANGED)
    assert [p.code for p in former if p.parent is None] == [code]
    assert all(p.parent == code for p in former if p.code != code)
    # Every former commune rolls up to today's province, and to a commune of today.
    for c in areas.by_level(AreaLevel.COMMUNE, on=BEFORE):
        assert areas.ancestors(c.code, on=BEFORE)[-1].code == code
        assert areas.current(c.code, on=AFTER).parent == code, c.code


def test_a_thai_binh_commune_of_2024_rolls_up_to_hung_yen() -> None:
    areas = load_areas(province="Hưng Yên")
    # Xã Vũ Hội (Huyện Vũ Thư, Tỉnh Thái Bình) in 2024 ...
    vu_hoi = areas.find("Xã Vũ Hội", on=BEFORE)[0]
    assert [a.name_vi for a in areas.ancestors(vu_hoi.code, on=BEFORE)] == [
        "Huyện Vũ Thư",
        "Tỉnh Thái Bình",
        "Tỉnh Hưng Yên",
    ]
    # ... is part of today's Xã Thư Vũ, a commune of Hưng Yên.
    now = areas.current(vu_hoi.code, on=AFTER)
    assert (now.name_vi, now.parent) == ("Xã Thư Vũ", "33")
    former = [c.code for c in areas.by_level("commune", on=BEFORE)]
    assert vu_hoi.code in [old for old in former if areas.successors(old)[:1] == [now.code]]


def test_a_split_commune_rolls_up_to_its_default_successor_only() -> None:
    areas = load_areas()
    # Xã Đình Dù (Văn Lâm) was split between Xã Như Quỳnh and Xã Đại Đồng; its records go to
    # the successor the national data marks as the default, Xã Như Quỳnh, and only there.
    assert areas.get("12004", on=BEFORE).name_vi == "Xã Đình Dù"
    assert areas.successors("12004") == ["11986", "11995"]
    assert areas.current("12004", on=AFTER).name_vi == "Xã Như Quỳnh"
    # A commune still valid is its own answer; a code unknown everywhere is refused.
    assert areas.current("11986", on=AFTER).code == "11986"
    with pytest.raises(KeyError):
        areas.current("99999", on=AFTER)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("33", "33"),
        ("Hưng Yên", "33"),
        ("hung yen", "33"),
        ("Tỉnh Hưng Yên", "33"),
        ("Hung Yen Province", "33"),
        ("TP Hải Phòng", "31"),
        ("Cần Thơ", "92"),
        ("Thành phố Hồ Chí Minh", "79"),
    ],
)
def test_the_province_setting_takes_a_code_or_a_name(text: str, code: str) -> None:
    assert resolve_province(text) == code


def test_an_unknown_province_is_refused_with_the_list() -> None:
    with pytest.raises(AreaFileError, match="Hải Dương") as error:
        resolve_province("Hải Dương")  # merged into Hải Phòng on 1/7/2025
    assert "31 Thành phố Hải Phòng" in str(error.value)


def test_the_setting_chooses_the_province(monkeypatch: pytest.MonkeyPatch) -> None:
    from ioc.config import get_settings

    monkeypatch.setenv("IOC_PROVINCE", "Cần Thơ")
    get_settings.cache_clear()
    try:
        assert Settings().province == "Cần Thơ"
        assert load_areas().province.name_vi == "Thành phố Cần Thơ"
    finally:
        monkeypatch.delenv("IOC_PROVINCE")
        get_settings.cache_clear()
    assert load_areas().province.code == "33"  # unset: Hưng Yên


def test_the_shipped_overlay_marks_its_figures_estimated() -> None:
    areas = load_areas()
    with_figures = [a for a in areas if a.population is not None]
    assert len(with_figures) > 60
    assert all(a.estimated for a in with_figures)
    assert not any(a.estimated for a in areas if a.population is None)


def test_an_overlay_names_a_figure_it_cannot_place(tmp_path: Path) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(
        'province:\n  code: "31"\n  name_vi: "Thành phố Hải Phòng"\nfigures:\n'
        '  - code: "99999"\n    population: 10\n'
        '  - code: "31"\n    population: 20\n',
        encoding="utf-8",
    )
    with pytest.raises(AreaFileError) as error:
        load_areas(path)
    message = str(error.value)
    assert "no area 99999" in message
    assert "code 31 has several rows" in message and "valid_on" in message


def test_an_overlay_adds_figures_and_areas_to_the_national_data(tmp_path: Path) -> None:
    path = tmp_path / "overlay.yaml"
    path.write_text(
        'province:\n  code: "31"\n  name_vi: "Thành phố Hải Phòng"\nfigures:\n'
        '  - code: "31"\n    valid_on: 2026-01-01\n    population: 4_664_000\n'
        "    estimated: true\n"
        'areas:\n  - code: "99001"\n    name_vi: "Xã Mới"\n    level: commune\n'
        '    parent: "31"\n    valid_from: 2026-01-01\n',
        encoding="utf-8",
    )
    areas = load_areas(path)
    assert areas.get("31", on=AFTER).population == 4_664_000
    assert areas.get("31", on=AFTER).estimated
    assert areas.get("99001", on=AFTER).parent == "31"
    # Hải Dương's history came with it.
    assert areas.get("30", on=BEFORE).parent == "31"
