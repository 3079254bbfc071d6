"""A 429 fault without Retry-After (retry_after=None), for the client's own wait (tests/reliability/test_faults.py)."""

from __future__ import annotations

from .conftest import codes


def test_429_without_retry_after(emulator, api):
    emulator.add_fault("429", method="GET", path="/custom_hostnames$", count=1, retry_after=None)
    path = api.zone("custom_hostnames")
    response = api.session.request("GET", "%s/%s" % (api.emu.url, path), timeout=5)
    assert response.status_code == 429 and "Retry-After" not in response.headers and codes(response.json()) == [971]
    assert emulator.faults.rules()[0]["retry_after"] is None
    assert api.session.request("GET", "%s/%s" % (api.emu.url, path), timeout=5).status_code == 200
