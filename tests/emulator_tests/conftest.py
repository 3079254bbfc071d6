"""Helpers for the emulator's own tests: an HTTP client bound to the `emulator` fixture, and test certificates."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

import pytest
import requests

from emulator.testcerts import CA, Issued, make_ca, make_leaf, new_key


class Api:
    """requests against one emulator; `expect` asserts the HTTP status and returns the decoded body."""

    def __init__(self, emu: Any, headers: Optional[Dict[str, str]] = None) -> None:
        self.emu = emu
        self.session = requests.Session()
        self.session.headers.update(headers if headers is not None else {"Authorization": "Bearer " + emu.token})
        self.session.headers["User-Agent"] = "emulator-tests"

    def zone(self, suffix: str = "") -> str:
        return "zones/%s/%s" % (self.emu.zone_id, suffix) if suffix else "zones/" + self.emu.zone_id

    def call(self, method: str, path: str, expect: Optional[int] = 200, **kwargs: Any) -> Any:
        response = self.session.request(method, "%s/%s" % (self.emu.url, path), timeout=10, **kwargs)
        if expect is not None:
            assert response.status_code == expect, "%s %s: HTTP %s %s" % (method, path, response.status_code, response.text[:2000])
        try:
            return response.json()
        except ValueError:
            return response.text

    def get(self, path: str, expect: Optional[int] = 200, **params: Any) -> Any:
        return self.call("GET", path, expect, params=params)

    def post(self, path: str, body: Any, expect: Optional[int] = 200) -> Any:
        return self.call("POST", path, expect, json=body)

    def put(self, path: str, body: Any, expect: Optional[int] = 200) -> Any:
        return self.call("PUT", path, expect, json=body)

    def patch(self, path: str, body: Any, expect: Optional[int] = 200) -> Any:
        return self.call("PATCH", path, expect, json=body)

    def delete(self, path: str, expect: Optional[int] = 200) -> Any:
        return self.call("DELETE", path, expect)


def codes(body: Dict[str, Any]) -> list:
    assert body["success"] is False and body["result"] is None, body
    return [e["code"] for e in body["errors"]]


@pytest.fixture
def api(emulator: Any) -> Api:
    return Api(emulator)


@pytest.fixture(scope="session")
def ca() -> CA:
    return make_ca("Emulator Tests CA")


@pytest.fixture(scope="session")
def rsa_key() -> Any:
    """One RSA key for every RSA test certificate (generating RSA keys is slow)."""
    return new_key("rsa")


@pytest.fixture
def leaf(ca: CA, rsa_key: Any):
    """leaf(hosts, key_type="ecdsa", **kwargs): a certificate from the session CA; RSA ones share a key."""

    def make(hosts: Any = ("app.example.com",), key_type: str = "ecdsa", **kwargs: Any) -> Issued:
        if key_type == "rsa":
            kwargs.setdefault("key", rsa_key)
        return make_leaf(ca, list(hosts), key_type=key_type, **kwargs)

    return make


def watch(read: Any, until: Any, timeout: float = 5.0, interval: float = 0.01) -> list:
    """Call read() until until(value) holds; return the distinct values seen, in order."""
    seen: list = []
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if not seen or seen[-1] != value:
            seen.append(value)
        if until(value):
            return seen
        assert time.monotonic() < deadline, "still %r after %.1fs (seen %r)" % (value, timeout, seen)
        time.sleep(interval)
