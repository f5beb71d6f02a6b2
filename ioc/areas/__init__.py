"""Administrative areas of a province: the hierarchy that KPIs roll up through.

Vietnam changed the shape of local government on 1 July 2025. Before that day a province had
districts (huyện, thị xã, thành phố) with communes (xã, phường, thị trấn) under them; since then
there are two tiers, communes hang directly from the province, and several provinces merged.
History before the date and live data after it must both keep working, so the hierarchy is
data that a province edits (a YAML file, see ``ioc/data/areas/hung-yen.yaml``) and every area
carries the dates it is valid for. Nothing here knows any particular province.

Typical use::

    areas = load_areas()                     # the shipped Hưng Yên file
    day = date(2024, 3, 1)
    areas.shape(on=day)                      # "three-tier"
    areas.weights("district", on=day)        # {"323": 0.093, "325": 0.1, ...}
    areas.find("van lam")[0].name_vi         # "Huyện Văn Lâm"

The package's rooms: ``_model`` (an area row and the file's header), ``_names`` (search by
name as people type it), ``_rules`` (the rules across areas), ``_registry`` (questions about
one day) and ``_load`` (the file, read with :mod:`ioc.datafile`). Import from ``ioc.areas``.
"""

from ioc.areas._load import load_areas
from ioc.areas._model import Area, AreaFileError, AreaFileMeta, AreaLevel, Shape, WeightBasis
from ioc.areas._registry import AreaRegistry

__all__ = [
    "Area",
    "AreaFileError",
    "AreaFileMeta",
    "AreaLevel",
    "AreaRegistry",
    "Shape",
    "WeightBasis",
    "load_areas",
]
