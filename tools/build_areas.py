r"""Build ``ioc/data/areas/vn/<code>.json``: the country's geography, one file per province.

Run by hand when a data package publishes a correction; the output is committed, so the
product needs neither package (nor shapely, which ``vietnamadminunits`` pulls in) at run time::

    python3.11 -m venv /tmp/geo && /tmp/geo/bin/pip install \\
        vietnam-provinces==2025.10.1 vietnamadminunits==1.0.4
    /tmp/geo/bin/python tools/build_areas.py > tools/build_areas.report.txt

Sources, and what each gives:

- ``vietnam-provinces`` 2025.10.1 (MIT; the newest release that runs on Python 3.11): the 34
  provinces and 3,321 communes valid from 1 July 2025, with their GSO codes and official names
  (Nghị quyết 202/2025/QH15 for the provinces; the Standing Committee's resolutions of June
  2025 for the communes). It is the authority for codes and names after the reform.
- ``vietnamadminunits`` 1.0.4 (MIT): its bundled SQLite (``data/dataset.db``) gives the 63
  former provinces with their districts and communes as they stood just before the reform
  (GSO codes, centre point and bounding box of every unit), the centre point and area in km²
  of every new commune, and ``data/converter_2025.json``, the correspondence from every former
  commune to the new commune(s) its territory went to. The points come from geocoding (the
  package's own build), so they are approximate: good for a map, not for surveying.

Where the two packages disagree about a new commune (same code, another name; or the same
name under another code) the names and codes of ``vietnam-provinces`` win and the point is
matched by name within the province; every disagreement is printed at the end.

Bounding boxes of the new communes are not in either package: a new commune's box is the
union of the boxes of the former communes wholly merged into it (a former commune split
between several new ones is left out, since most of its box lies elsewhere), widened to
contain its point; with no such former commune it is the square of its area in km² around
the point. Such boxes are marked ``"box": "area"`` in the file.
"""

from __future__ import annotations

import json
import math
import sqlite3
import sys
import unicodedata
from collections import defaultdict
from importlib import metadata
from pathlib import Path
from typing import Any

import vietnamadminunits  # type: ignore[import-not-found]
from vietnam_provinces import Province, Ward  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent.parent / "ioc" / "data" / "areas" / "vn"
REFORM = "2025-07-01"
# Old-style and new-style tone placement ("Hoà" / "Hòa") name the same commune.
_TONES = {
    "oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa",
    "oè": "òe", "oé": "óe", "oẻ": "ỏe", "oẽ": "õe", "oẹ": "ọe",
    "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy",
}  # fmt: skip


def _key(name: str) -> str:
    text = unicodedata.normalize("NFC", name).casefold()
    for old, new in _TONES.items():
        text = text.replace(old, new)
    text = text.replace("\u2019", "'").replace("\u2013", "-").replace(" - ", "-")
    return " ".join(text.split())


_TYPE_CASE = {"Thị Xã ": "Thị xã ", "Thành Phố ": "Thành phố ", "Thị Trấn ": "Thị trấn "}


def _typed(name: str, report: list[str]) -> str:
    """Write the unit type as the official lists do ("Thị xã", not "Thị Xã")."""
    for wrong, right in _TYPE_CASE.items():
        if name.startswith(wrong):
            report.append(f"former unit {name!r}: unit type written {wrong.strip()!r}; fixed")
            return right + name[len(wrong) :]
    return name


def _province_name(p: Any) -> str:
    """vietnam-provinces names a tỉnh without its type ("Cao Bằng"): add it back."""
    if p.division_type.value == "tỉnh" and not p.name.startswith("Tỉnh "):
        return f"Tỉnh {p.name}"
    return str(p.name)


def _ascii(name: str) -> str:
    text = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in text if not unicodedata.combining(c))


def _box(text: str | None) -> list[float] | None:
    """Turn the package's "south,west – north,east" into [west, south, east, north]."""
    if not text:
        return None
    low, high = (part.strip() for part in text.split("–"))
    south, west = (float(v) for v in low.split(","))
    north, east = (float(v) for v in high.split(","))
    return [round(west, 5), round(south, 5), round(east, 5), round(north, 5)]


def _union(boxes: list[list[float]]) -> list[float]:
    return [
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    ]


def _around(lat: float, lon: float, km2: float | None) -> list[float]:
    side = math.sqrt(km2) if km2 else 5.0
    dlat = side / 2 / 111.0
    dlon = side / 2 / (111.0 * math.cos(math.radians(lat)))
    return [round(lon - dlon, 5), round(lat - dlat, 5), round(lon + dlon, 5), round(lat + dlat, 5)]


def _widen(box: list[float], lat: float, lon: float) -> list[float]:
    return [min(box[0], lon), min(box[1], lat), max(box[2], lon), max(box[3], lat)]


def main() -> int:
    """Write the 34 province files and print the disagreements found."""
    db = sqlite3.connect(Path(vietnamadminunits.__file__).parent / "data" / "dataset.db")
    db.row_factory = sqlite3.Row
    conv = json.loads(
        (Path(vietnamadminunits.__file__).parent / "data" / "converter_2025.json").read_text()
    )
    report: list[str] = []

    # --- after the reform -----------------------------------------------------------------
    provinces = {f"{int(p.code):02d}": p for p in Province.iter_all()}
    wards: dict[str, list[Any]] = defaultdict(list)
    for w in Ward.iter_all():
        wards[f"{int(w.province_code):02d}"].append(w)
    new_rows = list(db.execute("SELECT * FROM admin_units"))
    new_by_code = {r["wardCode"]: r for r in new_rows}
    new_by_name = {(r["provinceCode"], _key(r["ward"])): r for r in new_rows}
    province_row = {r["provinceCode"]: r for r in new_rows}
    for code, p in provinces.items():
        if code not in province_row:
            report.append(f"province {code} {p.name}: absent from vietnamadminunits")
        elif _key(province_row[code]["province"]) != _key(_province_name(p)):
            report.append(
                f"province {code}: {_province_name(p)!r} (vietnam-provinces) vs "
                f"{province_row[code]['province']!r} (vietnamadminunits)"
            )

    # --- before the reform ----------------------------------------------------------------
    legacy = list(db.execute("SELECT * FROM admin_units_legacy"))
    old_key_to_code: dict[str, str] = {}
    for r in legacy:
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        old_key_to_code[key] = r["wardCode"] or r["districtCode"]
    new_key_to_code: dict[tuple[str, str], str] = {}
    for r in new_rows:
        new_key_to_code[(r["provinceKey"], r["wardKey"])] = r["wardCode"]
    old_province_key = {r["provinceKey"]: r["provinceCode"] for r in legacy}
    new_province_key = {r["provinceCode"]: r["provinceKey"] for r in new_rows}

    index = []
    for code in sorted(provinces):
        p = provinces[code]
        name = _province_name(p)
        pkey = new_province_key[code]
        merged = sorted(old_province_key[k] for k in conv["DICT_PROVINCE"][pkey])
        # The package's new-commune codes, translated to vietnam-provinces' where they differ.
        code_fix: dict[str, str] = {}
        communes = []
        for w in sorted(wards[code], key=lambda w: int(w.code)):
            wcode = f"{int(w.code):05d}"
            row = new_by_code.get(wcode)
            if row is None or _key(row["ward"]) != _key(w.name):
                alt = new_by_name.get((code, _key(w.name)))
                report.append(
                    f"commune {wcode} {w.name!r} ({name}): vietnamadminunits has "
                    + (f"{row['ward']!r} under this code" if row is not None else "no such code")
                    + (f", and this name under {alt['wardCode']}" if alt is not None else "")
                )
                row = alt
            if row is None:
                report.append(f"commune {wcode} {w.name!r}: no point found; left without one")
            else:
                code_fix[row["wardCode"]] = wcode
            communes.append((wcode, w, row))

        # Correspondence: former commune code -> [[new code, 1 if default successor]].
        successors: dict[str, list[list[Any]]] = {}
        whole: dict[str, list[str]] = defaultdict(list)
        for new_key, old_keys in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].get(pkey, {}).items():
            new_code = code_fix.get(new_key_to_code.get((pkey, new_key), ""))
            for old_key in old_keys:
                old_code = old_key_to_code.get(old_key)
                if new_code is None or old_code is None:
                    report.append(f"correspondence {old_key} -> {new_key}: code not found")
                    continue
                successors.setdefault(old_code, []).append([new_code, 1])
                whole[new_code].append(old_code)
        for old_key, targets in conv["DICT_PROVINCE_WARD_DIVIDED"].get(pkey, {}).items():
            old_code = old_key_to_code.get(old_key)
            parts = []
            for t in targets:
                new_code = code_fix.get(new_key_to_code.get((pkey, t["newWardKey"]), ""))
                if new_code is None:
                    report.append(f"correspondence {old_key} -> {t['newWardKey']}: not found")
                    continue
                parts.append([new_code, 1 if t["isDefaultNewWard"] else 0])
            if old_code is None or not parts:
                report.append(f"correspondence {old_key}: former code not found")
                continue
            if sum(d for _, d in parts) != 1:
                report.append(f"correspondence {old_key}: {parts} has no single default")
            successors[old_code] = sorted(parts, key=lambda t: (-t[1], t[0]))

        rows_old = [r for r in legacy if r["provinceCode"] in merged]
        old_box = {r["wardCode"]: _box(r["wardBounds"]) for r in rows_old if r["wardCode"]}
        new_communes = []
        for wcode, w, row in communes:
            lat = lon = box = None
            how = "merged"
            if row is not None:
                lat, lon = round(row["wardLat"], 5), round(row["wardLon"], 5)
                boxes = [b for b in (old_box.get(c) for c in whole.get(wcode, [])) if b]
                if boxes:
                    box = _widen(_union(boxes), lat, lon)
                else:
                    box, how = _around(lat, lon, row["wardAreaKm2"]), "area"
            new_communes.append(
                {
                    "code": wcode,
                    "name_vi": w.name,
                    "lat": lat,
                    "lon": lon,
                    "bounds": box,
                    **({"box": how} if how == "area" else {}),
                    "area_km2": row["wardAreaKm2"] if row is not None else None,
                }
            )

        old_provinces: dict[str, dict[str, Any]] = {}
        old_districts: dict[str, dict[str, Any]] = {}
        old_communes: list[dict[str, Any]] = []
        for r in rows_old:
            old_provinces.setdefault(
                r["provinceCode"],
                {
                    "code": r["provinceCode"],
                    "name_vi": r["province"],
                    "lat": r["provinceLat"],
                    "lon": r["provinceLon"],
                    "bounds": _box(r["provinceBounds"]),
                },
            )
            old_districts.setdefault(
                r["districtCode"],
                {
                    "code": r["districtCode"],
                    "name_vi": _typed(r["district"], report),
                    "parent": r["provinceCode"],
                    "lat": r["districtLat"],
                    "lon": r["districtLon"],
                    "bounds": _box(r["districtBounds"]),
                },
            )
            if r["wardCode"]:
                old_communes.append(
                    {
                        "code": r["wardCode"],
                        "name_vi": _typed(r["ward"], report),
                        "parent": r["districtCode"],
                        "lat": r["wardLat"],
                        "lon": r["wardLon"],
                        "bounds": _box(r["wardBounds"]),
                    }
                )
        for unit in [*old_districts.values(), *old_communes]:
            box = unit["bounds"]
            if box and not (box[0] <= unit["lon"] <= box[2] and box[1] <= unit["lat"] <= box[3]):
                report.append(f"former unit {unit['code']} {unit['name_vi']}: point outside box")
        for c in old_communes:
            if c["code"] not in successors:
                report.append(f"former commune {c['code']} {c['name_vi']}: no successor")

        boxes = [c["bounds"] for c in new_communes if c["bounds"]]
        prov = province_row[code]
        doc = {
            "generated_by": "tools/build_areas.py",
            "packages": {
                "vietnam-provinces": metadata.version("vietnam-provinces"),
                "vietnamadminunits": metadata.version("vietnamadminunits"),
            },
            "reform": REFORM,
            "province": {
                "code": code,
                "name_vi": name,
                "name_en": _ascii(name.split(" ", 1)[1]) + " Province"
                if name.startswith("Tỉnh ")
                else _ascii(name.replace("Thành phố ", "")) + " City",
                "lat": prov["provinceLat"],
                "lon": prov["provinceLon"],
                "bounds": _union(boxes) if boxes else None,
            },
            "merged_from": merged,
            "communes": new_communes,
            "former": {
                "provinces": sorted(old_provinces.values(), key=lambda a: a["code"]),
                "districts": sorted(old_districts.values(), key=lambda a: a["code"]),
                "communes": sorted(old_communes, key=lambda a: a["code"]),
            },
            "successors": dict(sorted(successors.items())),
        }
        OUT.mkdir(parents=True, exist_ok=True)
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
        # One unit per line keeps diffs of a package update readable.
        text = text.replace("},{", "},\n{")
        (OUT / f"{code}.json").write_text(text + "\n", encoding="utf-8")
        index.append({k: doc["province"][k] for k in ("code", "name_vi", "name_en")})
        index[-1]["merged_from"] = merged

    text = json.dumps({"provinces": index}, ensure_ascii=False, indent=1)
    (OUT / "provinces.json").write_text(text + "\n", encoding="utf-8")

    print(f"wrote {len(provinces)} files to ioc/data/areas/vn")
    print(f"{len(dict.fromkeys(report))} disagreements:")
    for line in dict.fromkeys(report):
        print("  " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
