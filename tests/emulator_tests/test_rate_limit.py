"""The rate-limit mode as Cloudflare applies its limit: a block of one whole window from the request that went over,
the `Ratelimit` and `Ratelimit-Policy` headers on every answer, `Retry-After` and the 10100 error on a refusal.

Sources: "Rate limits" (https://developers.cloudflare.com/fundamentals/api/reference/limits/) and Cloudflare's
changelog of 2025-09-03 (the two headers). The refusal's code is as a Cloudflare Community answer quotes it.
"""

from __future__ import annotations

import time

import pytest
import requests

from emulator.faults import RATE_LIMIT_CODE, RateLimiter

from .conftest import Api, codes

T0 = 1_000_000.0


def limiter(limit: int = 3, window: float = 10.0) -> RateLimiter:
    rate = RateLimiter()
    rate.configure(limit, window)
    return rate


def raw(api: Api, path: str = "zones") -> requests.Response:
    return api.session.get("%s/%s" % (api.emu.url, path), timeout=5)


# -- the model, on a clock of its own ---------------------------------------------------------------------------------


def test_the_block_lasts_one_whole_window_from_the_request_that_went_over():
    rate = limiter(3, 10.0)
    for offset in (0.0, 1.0, 2.0):
        assert rate.check("token", T0 + offset) is None
    # the fourth request within 10 s goes over at T0 + 7: blocked until T0 + 17, not to the end of a window from T0
    assert rate.check("token", T0 + 7.0) == 10
    assert rate.check("token", T0 + 12.0) == 5  # every call is refused, though the first three left the window
    assert rate.check("token", T0 + 16.5) == 1
    assert rate.check("token", T0 + 17.0) is None


def test_refused_requests_are_not_counted():
    rate = limiter(2, 10.0)
    assert rate.check("token", T0) is None and rate.check("token", T0 + 1) is None
    assert rate.check("token", T0 + 2) == 10
    for second in range(3, 12):
        assert rate.check("token", T0 + second) is not None
    # after the block the quota is whole: the requests that led to it are one window old, the refused ones never counted
    assert [rate.check("token", T0 + 12 + i * 0.1) for i in range(2)] == [None, None]
    assert rate.check("token", T0 + 12.5) == 10


def test_the_window_slides():
    rate = limiter(2, 10.0)
    assert rate.check("token", T0) is None and rate.check("token", T0 + 6) is None
    # at T0 + 10 the first request has left the trailing window: one more fits, then none until T0 + 16
    assert rate.check("token", T0 + 10) is None
    assert rate.check("token", T0 + 11) == 10


def test_the_headers_show_the_quota_left_and_the_policy():
    rate = limiter(3, 10.0)
    first = rate.decide("token", T0)
    assert first.retry_after is None
    assert first.headers == {"Ratelimit": '"default";r=2;t=10', "Ratelimit-Policy": '"default";q=3;w=10'}
    # remaining quota, and the seconds until it grows again (the oldest counted request leaves the window)
    assert rate.decide("token", T0 + 4).headers["Ratelimit"] == '"default";r=1;t=6'
    assert rate.decide("token", T0 + 5).headers["Ratelimit"] == '"default";r=0;t=5'
    refused = rate.decide("token", T0 + 6)
    assert refused.retry_after == 10 and refused.headers["Ratelimit"] == '"default";r=0;t=10'
    # while blocked: nothing left, and the seconds to the block's end; a look counts nothing
    assert rate.decide("token", T0 + 8.5, count=False).headers["Ratelimit"] == '"default";r=0;t=8'
    assert rate.decide("token", T0 + 16).headers["Ratelimit"] == '"default";r=2;t=10'


def test_each_credential_has_its_own_quota_and_block():
    rate = limiter(1, 10.0)
    assert rate.check("token", T0) is None
    assert rate.check("token", T0 + 1) == 10
    assert rate.check("global-key", T0 + 2) is None
    assert rate.decide("global-key", T0 + 3, count=False).headers["Ratelimit"] == '"default";r=0;t=9'


def test_off_means_no_limit_and_no_headers():
    rate = RateLimiter()
    assert all(rate.decide("token", T0 + i).retry_after is None for i in range(5000))
    assert rate.decide("token", T0).headers == {}


@pytest.mark.parametrize("limit, window", [(-1, 10), (2.5, 10), (True, 10), ("5", 10), (5, 0), (5, -1), (5, float("nan")), (5, "x")])
def test_bad_settings_are_refused(limit, window):
    with pytest.raises(ValueError):
        RateLimiter().configure(limit, window)


def test_the_refusal_names_the_limit_and_the_window():
    body = limiter(1200, 300.0).refusal()
    assert codes(body) == [RATE_LIMIT_CODE] == [10100]
    assert body["errors"][0]["message"] == ("More than 1200 requests per 300 seconds reached. Please wait and consider throttling your request speed")
    assert "per 2.5 seconds" in limiter(3, 2.5).refusal()["errors"][0]["message"]


# -- over HTTP ---------------------------------------------------------------------------------------------------------


def test_over_http_every_answer_carries_the_headers_and_a_refusal_retry_after(emulator, api):
    emulator.set_rate_limit(3, window=2.0)
    answers = [raw(api) for _index in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["Ratelimit"].split(";")[1] for a in answers] == ["r=2", "r=1", "r=0"]
    assert all(a.headers["Ratelimit-Policy"] == '"default";q=3;w=2' for a in answers)
    blocked = raw(api)
    overran = time.monotonic()
    assert blocked.status_code == 429 and blocked.headers["Retry-After"] == "2"
    assert blocked.headers["Ratelimit"] == '"default";r=0;t=2' and blocked.headers["Ratelimit-Policy"] == '"default";q=3;w=2'
    assert codes(blocked.json()) == [10100] and "More than 3 requests per 2 seconds reached" in blocked.json()["errors"][0]["message"]
    # the admin API is not the API: no headers there
    assert "Ratelimit" not in requests.get(emulator.admin_url + "/rate-limit", timeout=5).headers
    while time.monotonic() - overran < 1.8:
        assert raw(api).status_code == 429
        time.sleep(0.2)
    time.sleep(max(0.0, 2.1 - (time.monotonic() - overran)))
    again = raw(api)
    assert again.status_code == 200 and again.headers["Ratelimit"].startswith('"default";r=2;')
    # every refused request is journaled with the fault rate_limit
    refused = [e for e in emulator.journal() if e["status"] == 429]
    assert refused and all(e["fault"] == "rate_limit" for e in refused)


def test_over_http_another_credential_is_not_blocked(emulator, api):
    emulator.set_rate_limit(1, window=30.0)
    api.get("zones")
    assert raw(api).status_code == 429
    other = Api(emulator, {"X-Auth-Email": emulator.api_email, "X-Auth-Key": emulator.api_key})
    answer = other.session.get(emulator.url + "/zones", timeout=5)
    assert answer.status_code == 200 and answer.headers["Ratelimit"] == '"default";r=0;t=30'
    assert other.session.get(emulator.url + "/zones", timeout=5).status_code == 429


def test_over_http_an_injected_answer_shows_the_quota_without_spending_it(emulator, api):
    emulator.set_rate_limit(5, window=30.0)
    api.get("zones")
    emulator.add_fault("503", count=1)
    faulted = raw(api)
    assert faulted.status_code == 503 and faulted.headers["Ratelimit"] == '"default";r=4;t=30'
    assert raw(api).headers["Ratelimit"].startswith('"default";r=3;')


def test_with_the_mode_off_no_header_is_sent(emulator, api):
    answer = raw(api)
    assert answer.status_code == 200 and "Ratelimit" not in answer.headers and "Ratelimit-Policy" not in answer.headers
    emulator.set_rate_limit(2, window=5.0)
    assert "Ratelimit" in raw(api).headers
    emulator.set_rate_limit(None)
    assert "Ratelimit" not in raw(api).headers


def test_the_admin_api_refuses_a_bad_setting(emulator):
    answer = requests.post(emulator.admin_url + "/rate-limit", json={"limit": 5, "window": 0}, timeout=5)
    assert answer.status_code == 400
    answer = requests.post(emulator.admin_url + "/rate-limit", json={"limit": 5, "window": 2}, timeout=5)
    assert answer.status_code == 200 and answer.json() == {"limit": 5, "window": 2.0}
