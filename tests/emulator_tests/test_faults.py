"""Injected faults (429, 5xx, connection resets, slow answers) and the rate-limit mode."""

from __future__ import annotations

import time

import pytest
import requests

from .conftest import Api, codes

HOSTNAMES = "custom_hostnames"


def raw(api, method, path, **kwargs):
    return api.session.request(method, "%s/%s" % (api.emu.url, path), timeout=5, **kwargs)


def hostnames(api):
    return [h["hostname"] for h in api.get(api.zone(HOSTNAMES))["result"]]


def test_429_for_the_next_n_matching_requests(emulator, api):
    emulator.add_fault(429, method="GET", path="/custom_hostnames$", count=2, retry_after=7)
    for _attempt in range(2):
        response = raw(api, "GET", api.zone(HOSTNAMES))
        assert response.status_code == 429 and response.headers["Retry-After"] == "7" and codes(response.json()) == [971]
    api.get("zones")  # another path is not affected
    api.post(api.zone(HOSTNAMES), {"hostname": "a.example.com"})  # nor another method
    assert raw(api, "GET", api.zone(HOSTNAMES)).status_code == 200
    assert [e["fault"] for e in emulator.journal()] == ["429", "429", None, None, None]
    assert {e["credential"] for e in emulator.journal()} == {"token"}
    assert emulator.counts() == {"reads": 4, "writes": 1}


def test_server_errors(emulator, api):
    for kind in (500, 502, 503):
        emulator.add_fault(kind)
    first = raw(api, "GET", "zones")
    assert first.status_code == 500 and codes(first.json()) == [10001]
    for status in (502, 503):
        response = raw(api, "GET", "zones")
        assert response.status_code == status and response.headers["Content-Type"] == "text/html" and "<html>" in response.text
    assert raw(api, "GET", "zones").status_code == 200


def test_server_error_does_not_process_the_request(emulator, api):
    emulator.add_fault("503", method="POST")
    assert raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"}).status_code == 503
    assert hostnames(api) == []


def test_reset_before_processing(emulator, api):
    emulator.add_fault("reset_before", method="POST")
    with pytest.raises(requests.ConnectionError) as caught:
        raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"})
    assert "ConnectionResetError" in repr(caught.value)  # a TCP RST, not a clean close
    assert hostnames(api) == []
    entry = emulator.journal()[0]
    assert entry["fault"] == "reset_before" and entry["status"] is None


def test_reset_after_processing(emulator, api):
    emulator.add_fault("reset_after", method="POST")
    with pytest.raises(requests.ConnectionError) as caught:
        raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"})
    assert "ConnectionResetError" in repr(caught.value)
    assert hostnames(api) == ["a.example.com"]  # the write happened
    assert emulator.journal()[0]["fault"] == "reset_after" and emulator.journal()[0]["status"] == 200


def test_slow_answer(emulator, api):
    emulator.add_fault("slow", method="POST", delay=0.6)
    with pytest.raises(requests.ReadTimeout):
        api.session.post("%s/%s" % (emulator.url, api.zone(HOSTNAMES)), json={"hostname": "a.example.com"}, timeout=0.2)
    assert hostnames(api) == ["a.example.com"]
    started = time.monotonic()
    emulator.add_fault("slow", delay=0.3)
    api.get("zones")
    assert time.monotonic() - started >= 0.3


def test_probability_with_a_seed_is_repeatable(emulator_factory):
    patterns = []
    for _attempt in range(2):
        emu = emulator_factory()
        emu.add_fault("500", probability=0.5, seed=42, count=None)
        api = Api(emu)
        patterns.append([raw(api, "GET", "zones").status_code for _attempt in range(20)])
    assert patterns[0] == patterns[1] and {200, 500} == set(patterns[0])


def test_unlimited_fault_until_cleared(emulator, api):
    emulator.add_fault("503", count=None)
    assert [raw(api, "GET", "zones").status_code for _attempt in range(3)] == [503, 503, 503]
    emulator.clear_faults()
    api.get("zones")


def test_fault_arguments_are_checked(emulator):
    for bad in ({"kind": "404"}, {"kind": "500", "path": "("}, {"kind": "500", "probability": 2}):
        with pytest.raises(Exception):
            emulator.add_fault(**bad)


def test_rate_limit_per_credential_until_the_window_ends(emulator, api):
    emulator.set_rate_limit(3, window=1.0)
    started = time.monotonic()
    for _attempt in range(3):
        api.get("zones")
    blocked = raw(api, "GET", "zones")
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 1 and codes(blocked.json()) == [971]
    other = Api(emulator, {"X-Auth-Email": emulator.api_email, "X-Auth-Key": emulator.api_key})
    other.get("zones")  # another credential has its own budget
    while time.monotonic() - started < 0.9:  # still blocked for the rest of the window
        assert raw(api, "GET", "zones").status_code == 429
        time.sleep(0.1)
    time.sleep(max(0.0, 1.05 - (time.monotonic() - started)))
    api.get("zones")
    assert "rate_limit" in [e["fault"] for e in emulator.journal()]
    emulator.set_rate_limit(None)
    for _attempt in range(5):
        api.get("zones")
