"""The board map's basemap setting: off by default, checked, and the only origin the CSP adds."""

from __future__ import annotations

import re

import pytest

from ioc.api.app import _security_headers
from ioc.api.queries.areas import basemap
from ioc.config import ConfigError, load_settings

TILES = "https://tiles.example.gov.vn/{z}/{x}/{y}.png"


def test_off_by_default_nothing_from_elsewhere() -> None:
    settings = load_settings(api={})
    assert basemap(settings) is None
    csp = _security_headers(settings)["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp
    assert "example" not in csp


def test_a_tile_server_is_allowed_for_images_only() -> None:
    settings = load_settings(api={"basemap_url": TILES, "basemap_attribution": "© Sở TT&TT"})
    assert basemap(settings) == {"url": TILES, "attribution": "© Sở TT&TT"}
    csp = _security_headers(settings)["Content-Security-Policy"]
    assert "img-src 'self' data: https://tiles.example.gov.vn;" in csp
    assert csp.count("tiles.example.gov.vn") == 1  # not for scripts, styles or connections


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("tiles.example.gov.vn/{z}/{x}/{y}.png", "http(s) URL"),
        ("javascript:alert(1)//{z}{x}{y}", "http(s) URL"),
        ("https://tiles.example.gov.vn/{z}/{x}.png", "{y}"),
    ],
)
def test_a_bad_template_is_refused(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_settings(api={"basemap_url": url})
