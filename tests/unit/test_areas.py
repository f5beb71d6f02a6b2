"""Administrative areas: the shipped Hưng Yên file, both shapes, the checks clerks rely on."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from ioc.areas import Area, AreaFileError, AreaLevel, AreaRegistry, load_areas

OLD_DAY = date(2024, 1, 1)
NEW_DAY = date(2025, 8, 1)
MERGER = date(2025, 7, 1)

# The ten districts Hưng Yên had until 1/7/2025 (shared DOMAIN.md), without their unit type.
OLD_DISTRICTS = {
    "Hưng Yên",
    "Mỹ Hào",
    "Văn Lâm",
    "Văn Giang",
    "Yên Mỹ",
    "Khoái Châu",
    "Ân Thi",
    "Kim Động",
    "Tiên Lữ",
    "Phù Cừ",
}


@pytest.fixture(scope="module")
def shipped() -> AreaRegistry:
    return load_areas()


# --- the shipped file -------------------------------------------------------------------------


def test_shipped_file_loads(shipped: AreaRegistry) -> None:
    assert shipped.source.endswith("overlays/33.yaml")
    assert shipped.meta is not None
    assert shipped.meta.code == "33"
    assert len(shipped) > 60


def test_before_merger_is_three_tier_with_ten_districts(shipped: AreaRegistry) -> None:
    assert shipped.shape(on=OLD_DAY) == "three-tier"
    # Thái Bình's eight districts are there too, under Tỉnh Thái Bình (see below).
    districts = [d for d in shipped.by_level(AreaLevel.DISTRICT, on=OLD_DAY) if d.parent == "33"]
    assert len(districts) == 10
    assert {d.short_name_vi for d in districts} == OLD_DISTRICTS
    assert all(d.parent == "33" for d in districts)
    assert shipped.get("33", on=OLD_DAY).population == 1_252_731


def test_before_merger_every_commune_hangs_from_a_district(shipped: AreaRegistry) -> None:
    communes = shipped.by_level("commune", on=OLD_DAY)
    assert communes
    for commune in communes:
        assert commune.parent is not None
        assert shipped.get(commune.parent, on=OLD_DAY).level is AreaLevel.DISTRICT
    for district in shipped.by_level("district", on=OLD_DAY):
        assert len(shipped.children(district.code, on=OLD_DAY)) >= 3


def test_after_merger_is_two_tier_under_code_33(shipped: AreaRegistry) -> None:
    assert shipped.shape(on=NEW_DAY) == "two-tier"
    assert shipped.by_level("district", on=NEW_DAY) == []
    communes = shipped.by_level("commune", on=NEW_DAY)
    assert len(communes) >= 12
    assert {c.parent for c in communes} == {"33"}
    assert shipped.leaves(on=NEW_DAY) == communes
    # The merged province keeps its code but not its population.
    old, new = shipped.versions("33")
    assert (old.valid_to, new.valid_from) == (MERGER, MERGER)
    assert new.population is not None and old.population is not None
    assert new.population > 2 * old.population


def test_merger_day_is_exclusive_for_the_old_shape(shipped: AreaRegistry) -> None:
    assert shipped.shape(on=date(2025, 6, 30)) == "three-tier"
    assert shipped.shape(on=MERGER) == "two-tier"
    van_lam = shipped.get("325", on=date(2025, 6, 30))
    assert van_lam.valid_on(date(2025, 6, 30))
    assert not van_lam.valid_on(MERGER)


def test_a_code_reused_after_the_merger_resolves_by_date(shipped: AreaRegistry) -> None:
    assert shipped.get("12103", on=OLD_DAY).name_vi == "Phường Bần Yên Nhân"
    assert shipped.get("12103", on=OLD_DAY).parent == "328"
    assert shipped.get("12103", on=NEW_DAY).name_vi == "Phường Mỹ Hào"
    assert shipped.get("12103", on=NEW_DAY).parent == "33"


def test_diacritics_survive_loading(shipped: AreaRegistry) -> None:
    an_thi = shipped.get("329", on=OLD_DAY)
    khoai_chau = shipped.get("330", on=OLD_DAY)
    assert an_thi.name_vi == "Huyện Ân Thi"
    assert an_thi.short_name_vi == "Ân Thi"
    assert khoai_chau.short_name_vi == "Khoái Châu"
    assert shipped.get("12061", on=OLD_DAY).name_vi == "Xã Đồng Than"
    assert shipped.get("12142", on=NEW_DAY).name_vi == "Xã Ân Thi"
    assert khoai_chau.name_vi == unicodedata.normalize("NFC", khoai_chau.name_vi)
    assert khoai_chau.name_en == "Khoai Chau District"


def test_hierarchy_navigation(shipped: AreaRegistry) -> None:
    assert [a.code for a in shipped.ancestors("12061", on=OLD_DAY)] == ["327", "33"]
    assert shipped.ancestors("33", on=OLD_DAY) == []
    below = shipped.descendants("33", on=OLD_DAY)
    assert [a.level for a in below[:10]] == [AreaLevel.DISTRICT] * 10
    # ... then Tỉnh Thái Bình (merged in on 1/7/2025) with its 8 districts, and every commune.
    assert below[10].code == "34"
    assert len(below) == 10 + 1 + 8 + len(shipped.by_level("commune", on=OLD_DAY))
    assert shipped.children("12061", on=OLD_DAY) == []
    assert shipped.leaves(on=OLD_DAY) == shipped.by_level("commune", on=OLD_DAY)


def test_get_explains_an_area_that_no_longer_exists(shipped: AreaRegistry) -> None:
    with pytest.raises(KeyError, match="until 2025-07-01"):
        shipped.get("329", on=NEW_DAY)
    with pytest.raises(KeyError, match="no area with code '99999'"):
        shipped.get("99999")


def test_as_of_gives_a_registry_of_that_day(shipped: AreaRegistry) -> None:
    old = shipped.as_of(OLD_DAY)
    assert old.day == OLD_DAY
    assert old.shape() == "three-tier"
    assert old.province.population == 1_252_731
    assert all(a.valid_on(OLD_DAY) for a in old)
    assert len(old.by_level("district")) == 10 + 8  # Hưng Yên's and Thái Bình's
    assert shipped.as_of(NEW_DAY).province.population == shipped.versions("33")[1].population


def test_weights_sum_to_one_and_follow_population(shipped: AreaRegistry) -> None:
    weights = shipped.weights("district", on=OLD_DAY)
    assert set(weights) == {d.code for d in shipped.by_level("district", on=OLD_DAY)}
    assert sum(weights.values()) == pytest.approx(1.0)
    khoai_chau, phu_cu = shipped.get("330", on=OLD_DAY), shipped.get("333", on=OLD_DAY)
    assert khoai_chau.population is not None and phu_cu.population is not None
    assert weights["330"] > weights["333"]
    assert weights["330"] / weights["333"] == pytest.approx(
        khoai_chau.population / phu_cu.population
    )
    by_households = shipped.weights("commune", by="households", on=NEW_DAY)
    assert sum(by_households.values()) == pytest.approx(1.0)
    assert len(by_households) == len(shipped.by_level("commune", on=NEW_DAY))


def test_weights_reject_an_unknown_basis(shipped: AreaRegistry) -> None:
    with pytest.raises(ValueError, match="population"):
        shipped.weights("district", by="area_km2", on=OLD_DAY)  # type: ignore[arg-type]


def test_find_ignores_case_and_diacritics(shipped: AreaRegistry) -> None:
    for query in ("van lam", "Van Lam", "VĂN LÂM", "Huyện Văn Lâm", "huyen van lam", "325"):
        found = shipped.find(query)
        assert [a.code for a in found] == ["325"], query
        assert found[0].name_vi == "Huyện Văn Lâm"
    assert [a.code for a in shipped.find("TX. Mỹ Hào")] == ["328"]
    assert [a.code for a in shipped.find("TP Hưng Yên")] == ["323"]
    assert [a.code for a in shipped.find("Van Lam District")] == ["325"]
    assert shipped.find("no such place") == []


def test_find_returns_every_match_for_an_ambiguous_short_name(shipped: AreaRegistry) -> None:
    assert [a.name_vi for a in shipped.find("Ân Thi")] == [
        "Huyện Ân Thi",
        "Thị trấn Ân Thi",
        "Xã Ân Thi",
    ]
    assert [a.name_vi for a in shipped.find("an thi", on=NEW_DAY)] == ["Xã Ân Thi"]
    assert [a.level for a in shipped.find("Hưng Yên", on=OLD_DAY)] == [
        AreaLevel.PROVINCE,
        AreaLevel.DISTRICT,
    ]


# --- small files a clerk might write ---------------------------------------------------------

HEADER = """\
province:
  code: "33"
  name_vi: "Tỉnh Hưng Yên"
areas:
"""

PROVINCE = """\
  - code: "33"
    name_vi: "Tỉnh Hưng Yên"
    level: province
"""

VAN_LAM = """\
  - code: "325"
    name_vi: "Huyện Văn Lâm"
    level: district
    parent: "33"
    population: 300
"""


def write(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    return path


def load_error(path: Path) -> AreaFileError:
    with pytest.raises(AreaFileError) as caught:
        load_areas(path)
    return caught.value


def test_a_small_file_loads_with_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, "ok.yaml", PROVINCE, VAN_LAM)
    registry = load_areas(str(path))
    assert registry.get("325").name_vi == "Huyện Văn Lâm"
    assert registry.shape() == "three-tier"


def test_duplicate_code_with_overlapping_periods(tmp_path: Path) -> None:
    later = """\
  - code: "325"
    name_vi: "Huyện Văn Lâm"
    level: district
    parent: "33"
    valid_from: 2020-01-01
"""
    error = load_error(write(tmp_path, "dup.yaml", PROVINCE, VAN_LAM, later))
    assert "dup.yaml" in str(error)
    assert "325" in str(error)
    assert "overlap" in str(error)
    # The second row starts at line 13: 4 header lines, then 3 + 5 lines of rows before it.
    assert "dup.yaml:13: areas[2] (code 325)" in str(error)


def test_same_code_in_periods_that_do_not_overlap_is_fine(tmp_path: Path) -> None:
    before = VAN_LAM + "    valid_to: 2025-07-01\n"
    after = """\
  - code: "325"
    name_vi: "Huyện Văn Lâm"
    level: district
    parent: "33"
    valid_from: 2025-07-01
"""
    registry = load_areas(write(tmp_path, "split.yaml", PROVINCE, before, after))
    assert len(registry.versions("325")) == 2


def test_unknown_parent(tmp_path: Path) -> None:
    orphan = """\
  - code: "11989"
    name_vi: "Xã Lạc Đạo"
    level: commune
    parent: "999"
"""
    error = load_error(write(tmp_path, "orphan.yaml", PROVINCE, VAN_LAM, orphan))
    assert "orphan.yaml" in str(error)
    assert "11989" in str(error)
    assert "unknown parent '999'" in str(error)


def test_parent_of_the_wrong_level(tmp_path: Path) -> None:
    district_under_district = """\
  - code: "326"
    name_vi: "Huyện Văn Giang"
    level: district
    parent: "325"
"""
    error = load_error(write(tmp_path, "level.yaml", PROVINCE, VAN_LAM, district_under_district))
    assert "level.yaml" in str(error)
    assert "326" in str(error)
    assert "parent must be the province" in str(error)


def test_commune_under_a_commune(tmp_path: Path) -> None:
    rows = """\
  - code: "11986"
    name_vi: "Thị trấn Như Quỳnh"
    level: commune
    parent: "325"
  - code: "11989"
    name_vi: "Xã Lạc Đạo"
    level: commune
    parent: "11986"
"""
    error = load_error(write(tmp_path, "nested.yaml", PROVINCE, VAN_LAM, rows))
    assert "nested.yaml" in str(error)
    assert "11989" in str(error)
    assert "parent 11986 is a commune" in str(error)


def test_valid_to_not_after_valid_from(tmp_path: Path) -> None:
    backwards = """\
  - code: "11986"
    name_vi: "Thị trấn Như Quỳnh"
    level: commune
    parent: "325"
    valid_from: 2025-07-01
    valid_to: 2025-07-01
"""
    error = load_error(write(tmp_path, "dates.yaml", PROVINCE, VAN_LAM, backwards))
    assert "dates.yaml" in str(error)
    assert "11986" in str(error)
    assert "valid_to (2025-07-01) must be after valid_from (2025-07-01)" in str(error)


def test_two_provinces_at_once(tmp_path: Path) -> None:
    thai_binh = """\
  - code: "34"
    name_vi: "Tỉnh Thái Bình"
    level: province
"""
    error = load_error(write(tmp_path, "two.yaml", PROVINCE, thai_binh))
    assert "two.yaml" in str(error)
    assert "34" in str(error)
    assert "second province" in str(error)


def test_parent_must_exist_for_the_whole_period(tmp_path: Path) -> None:
    ended = VAN_LAM + "    valid_to: 2025-07-01\n"
    late = """\
  - code: "11986"
    name_vi: "Xã Như Quỳnh"
    level: commune
    parent: "325"
    valid_from: 2024-01-01
"""
    error = load_error(write(tmp_path, "gap.yaml", PROVINCE, ended, late))
    assert "11986" in str(error)
    assert "parent 325 does not exist on 2025-07-01" in str(error)


def test_commune_under_the_province_while_districts_exist(tmp_path: Path) -> None:
    direct = """\
  - code: "11986"
    name_vi: "Thị trấn Như Quỳnh"
    level: commune
    parent: "33"
"""
    error = load_error(write(tmp_path, "mixed.yaml", PROVINCE, VAN_LAM, direct))
    assert "mixed.yaml" in str(error)
    assert "11986" in str(error)
    assert "325" in str(error)


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    rows = """\
  - code: "11989"
    name_vi: "Xã Lạc Đạo"
    level: commune
    parent: "999"
  - code: "326"
    name_vi: "Huyện Văn Giang"
    level: district
    parent: "325"
  - code: "12019"
    name_vi: "Thị trấn Văn Giang"
    level: commune
    parent: "326"
    population: -5
"""
    error = load_error(write(tmp_path, "many.yaml", PROVINCE, VAN_LAM, rows))
    assert len(error.problems) == 3
    assert all(p.startswith(str(tmp_path / "many.yaml")) for p in error.problems)
    text = str(error)
    assert "11989" in text and "326" in text and "12019" in text
    assert "areas[4].population" in text


def test_unquoted_code_is_refused_with_a_hint(tmp_path: Path) -> None:
    unquoted = """\
  - code: 326
    name_vi: "Huyện Văn Giang"
    level: district
    parent: "33"
"""
    error = load_error(write(tmp_path, "quotes.yaml", PROVINCE, unquoted))
    assert "areas[1].code" in str(error)
    assert "quotes" in str(error)


def test_vietnamese_thousands_separator_is_refused(tmp_path: Path) -> None:
    dotted = VAN_LAM.replace("population: 300", "population: 125.000")
    error = load_error(write(tmp_path, "dots.yaml", PROVINCE, dotted))
    assert "areas[1].population" in str(error)
    assert "125_000" in str(error)


def test_misspelt_field_is_refused(tmp_path: Path) -> None:
    typo = VAN_LAM.replace("population:", "populaton:")
    error = load_error(write(tmp_path, "typo.yaml", PROVINCE, typo))
    assert "areas[1].populaton" in str(error)
    assert "unknown field" in str(error)


def test_key_written_twice_is_refused(tmp_path: Path) -> None:
    twice = VAN_LAM + "    population: 400\n"
    error = load_error(write(tmp_path, "twice.yaml", PROVINCE, twice))
    assert "areas[1].population (code 325): written twice" in str(error)
    assert "325" in str(error)


def test_file_not_in_utf8(tmp_path: Path) -> None:
    path = tmp_path / "legacy.yaml"
    # Windows-1258, still found in offices; "ư" and "ê" exist precomposed in it.
    path.write_bytes('province:\n  code: "33"\n  name_vi: "Hưng Yên"\n'.encode("cp1258"))
    error = load_error(path)
    assert "legacy.yaml" in str(error)
    assert "UTF-8" in str(error)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(HEADER + PROVINCE + '  - code: "325\n', encoding="utf-8")
    error = load_error(path)
    assert "broken.yaml:" in str(error)
    assert "not valid YAML" in str(error)


def test_missing_file(tmp_path: Path) -> None:
    error = load_error(tmp_path / "absent.yaml")
    assert "absent.yaml" in str(error)


# --- the model in memory -------------------------------------------------------------------------


def make(code: str, level: AreaLevel, parent: str | None, **extra: object) -> Area:
    return Area.model_validate(
        {"code": code, "name_vi": f"Vùng {code}", "level": level, "parent": parent, **extra}
    )


def test_missing_figure_gets_the_average_of_the_others() -> None:
    registry = AreaRegistry(
        [
            make("33", AreaLevel.PROVINCE, None),
            make("323", AreaLevel.DISTRICT, "33", population=100),
            make("325", AreaLevel.DISTRICT, "33", population=300),
            make("326", AreaLevel.DISTRICT, "33"),
        ]
    )
    weights = registry.weights("district")
    assert weights == pytest.approx({"323": 100 / 600, "325": 300 / 600, "326": 200 / 600})


def test_no_figures_at_all_weigh_equally() -> None:
    registry = AreaRegistry(
        [
            make("33", AreaLevel.PROVINCE, None),
            make("323", AreaLevel.DISTRICT, "33"),
            make("325", AreaLevel.DISTRICT, "33"),
        ]
    )
    assert registry.weights("district", by="households") == {"323": 0.5, "325": 0.5}


def test_registry_in_memory_reports_problems_too() -> None:
    with pytest.raises(AreaFileError, match=r"<areas>: areas\[1\] \(code 325\): unknown parent"):
        AreaRegistry([make("33", AreaLevel.PROVINCE, None), make("325", AreaLevel.DISTRICT, "9")])


def test_decomposed_names_are_normalised() -> None:
    area = make("12142", AreaLevel.COMMUNE, "33", name_vi=unicodedata.normalize("NFD", "Xã Ân Thi"))
    assert area.name_vi == "Xã Ân Thi"
    assert area.name_vi == unicodedata.normalize("NFC", "Xã Ân Thi")


def test_area_is_frozen() -> None:
    area = make("33", AreaLevel.PROVINCE, None)
    with pytest.raises(ValueError, match="frozen"):
        area.code = "34"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("code", "level", "parent"),
    [
        ("3", AreaLevel.PROVINCE, None),
        ("1209", AreaLevel.COMMUNE, "325"),
        ("325", AreaLevel.DISTRICT, None),
        ("33", AreaLevel.PROVINCE, "01"),
    ],
)
def test_row_level_rules(code: str, level: AreaLevel, parent: str | None) -> None:
    with pytest.raises(ValueError, match=code):
        make(code, level, parent)
