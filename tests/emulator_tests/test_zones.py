"""Zones: list with the name filter and paging limits, details."""

from __future__ import annotations

import pytest

from .conftest import codes

SEED = {
    "zones": [{"name": "example.com", "id": "a" * 32}, {"name": "example.org", "id": "b" * 32, "account": {"id": "c" * 32, "name": "Other"}}]
    + [{"name": "z%02d.test" % i} for i in range(10)]
}


@pytest.mark.emulator(seed=SEED)
def test_name_filter_and_operators(api):
    assert [z["id"] for z in api.get("zones", name="example.org")["result"]] == ["b" * 32]
    assert [z["name"] for z in api.get("zones", name="EXAMPLE.COM")["result"]] == ["example.com"]
    assert {z["name"] for z in api.get("zones", name="starts_with:example")["result"]} == {"example.com", "example.org"}
    assert {z["name"] for z in api.get("zones", name="ends_with:.org")["result"]} == {"example.org"}
    assert api.get("zones", name="nothing.test")["result"] == []
    assert [z["name"] for z in api.get("zones", **{"account.name": "Other"})["result"]] == ["example.org"]


@pytest.mark.emulator(seed=SEED)
def test_paging_and_per_page_limits(api):
    first = api.get("zones", per_page=5)
    assert first["result_info"] == {"page": 1, "per_page": 5, "count": 5, "total_count": 12, "total_pages": 3}
    last = api.get("zones", per_page=5, page=3)
    assert last["result_info"]["count"] == 2
    assert codes(api.get("zones", per_page=4, expect=400)) == [1004]
    assert codes(api.get("zones", per_page=51, expect=400)) == [1004]
    assert codes(api.get("zones", page=0, expect=400)) == [1004]
    assert codes(api.get("zones", status="bogus", expect=400)) == [1004]


def test_zone_details_have_the_documented_fields(api):
    zone = api.get(api.zone())["result"]
    for key in (
        "id",
        "name",
        "development_mode",
        "owner",
        "account",
        "meta",
        "name_servers",
        "original_name_servers",
        "original_registrar",
        "original_dnshost",
        "created_on",
        "modified_on",
        "activated_on",
    ):
        assert key in zone
    assert zone["id"] == "023e105f4ecef8ad9ca31a8372d0c353"
