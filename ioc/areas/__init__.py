"""Administrative areas of a province: the hierarchy that KPIs roll up through.

Vietnam changed the shape of local government on 1 July 2025. Before that day a province had
districts (huyện, thị xã, thành phố) with communes (xã, phường, thị trấn) under them; since then
there are two tiers, communes hang directly from the province, and several provinces merged.
History before the date and live data after it must both keep working, so the hierarchy is
data (the national geography in ``ioc/data/areas/vn/``, generated from maintained packages,
with a province-edited overlay of figures in ``ioc/data/areas/overlays/``) and every area
carries the dates it is valid for. Nothing here knows any particular province.

Typical use::

    areas = load_areas()                     # IOC_PROVINCE, Hưng Yên when unset
    day = date(2024, 3, 1)
    areas.shape(on=day)                      # "three-tier"
    areas.weights("district", on=day)        # {"323": 0.093, "325": 0.1, ...}
    areas.find("van lam")[0].name_vi         # "Huyện Văn Lâm"

The package's rooms: ``_model`` (an area row and the file's header), ``_names`` (search by
name as people type it), ``_rules`` (the rules across areas), ``_registry`` (questions about
one day), ``_national`` (the generated national data) and ``_load`` (national data, overlay or
file, read with :mod:`ioc.datafile`). Import from ``ioc.areas``.
"""

from ioc.areas._load import Figures, chosen_province, load_areas
from ioc.areas._model import Area, AreaFileError, AreaFileMeta, AreaLevel, Shape, WeightBasis
from ioc.areas._national import (
    DEFAULT_PROVINCE,
    REFORM_DAY,
    province_codes,
    resolve_province,
)
from ioc.areas._registry import AreaRegistry

__all__ = [
    "DEFAULT_PROVINCE",
    "REFORM_DAY",
    "Area",
    "AreaFileError",
    "AreaFileMeta",
    "AreaLevel",
    "AreaRegistry",
    "Figures",
    "Shape",
    "WeightBasis",
    "chosen_province",
    "load_areas",
    "province_codes",
    "resolve_province",
]
