"""Faults for the hostile-input suite (tests/reliability/test_hostile.py): an answer that is not JSON, and endless paging."""

from __future__ import annotations

import pytest
import requests

HOSTNAMES = "custom_hostnames"


def raw(api, method, path, **kwargs):
    return api.session.request(method, "%s/%s" % (api.emu.url, path), timeout=5, **kwargs)


def test_unapplied_not_json_answers_an_html_page_with_200(emulator, api):
    rule = emulator.add_fault("unapplied", method="GET", answer="not_json")
    assert rule["answer"] == "not_json"
    response = raw(api, "GET", api.zone(HOSTNAMES))
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html" and "<html>" in response.text
    with pytest.raises(ValueError):
        response.json()
    entry = emulator.journal()[0]
    assert entry["fault"] == "unapplied" and entry["status"] == 200 and entry["response_body"] is None
    assert raw(api, "GET", api.zone(HOSTNAMES)).json()["success"] is True  # count=1: the next answer is normal


@pytest.mark.emulator(delay=0)
def test_endless_pages_repeat_the_first_page_and_always_claim_one_more(emulator, api):
    for name in ("a.example.com", "b.example.com"):
        api.post(api.zone(HOSTNAMES), {"hostname": name})
    emulator.add_fault("endless_pages", method="GET", path="/custom_hostnames$", count=3)
    for page in (1, 7, 30):
        body = raw(api, "GET", api.zone(HOSTNAMES), params={"page": page, "per_page": 5, "hostname": "a.example.com"}).json()
        assert [h["hostname"] for h in body["result"]] == ["a.example.com"]  # the other parameters are kept
        assert body["result_info"] == {"page": page, "per_page": 5, "count": 1, "total_count": 5 * (page + 1), "total_pages": page + 1}
    normal = raw(api, "GET", api.zone(HOSTNAMES), params={"page": 2, "per_page": 5}).json()
    assert normal["result"] == [] and normal["result_info"]["total_pages"] == 1
    assert [e["fault"] for e in emulator.journal() if e["method"] == "GET"] == ["endless_pages"] * 3 + [None]
    assert [e["query"].get("page") for e in emulator.journal() if e["method"] == "GET"] == ["1", "7", "30", "2"]


def test_endless_pages_leave_other_requests_alone(emulator, api):
    emulator.add_fault("endless_pages", count=None)
    created = api.post(api.zone(HOSTNAMES), {"hostname": "a.example.com"})["result"]
    item = raw(api, "GET", api.zone(HOSTNAMES + "/" + created["id"])).json()
    assert item["result"]["hostname"] == "a.example.com" and "result_info" not in item
    unknown = raw(api, "GET", api.zone(HOSTNAMES + "/" + "0" * 32))
    assert unknown.status_code == 404


def test_endless_pages_through_the_admin_api_and_bad_arguments(emulator):
    added = requests.post(emulator.admin_url + "/faults", json={"kind": "endless_pages", "method": "GET", "count": None}, timeout=5)
    assert added.status_code == 200 and added.json()["kind"] == "endless_pages" and added.json()["count"] is None
    for body in ({"kind": "endless_pages", "answer": "stale"}, {"kind": "unapplied", "answer": "html"}):
        response = requests.post(emulator.admin_url + "/faults", json=body, timeout=5)
        assert response.status_code == 400 and response.json()["error"].startswith("ValueError: "), response.text
