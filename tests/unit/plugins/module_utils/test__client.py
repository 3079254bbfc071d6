"""The shared API client: envelope, errors, retries, pagination, auth, secrets."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from typing import Any

import pytest
import requests
import responses

from ansible_collections.certops.cloudflare.plugins.module_utils import _client, _pacer
from ansible_collections.certops.cloudflare.plugins.module_utils._client import (
    USER_AGENT,
    CloudflareClient,
    CloudflareConfigError,
    CloudflareError,
    OutcomeUnknownError,
    find_zone_id,
)

BASE = "https://api.test/client/v4"
TOKEN = "tok-SECRET-0123456789"
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy")
KEY = "key-SECRET-abcdef"
SERVICE_KEY = "v1.0-SECRET-origin-ca-key"
ZONE = "zones/023e105f4ecef8ad9ca31a8372d0c353"


def ok(result, **extra):
    return dict({"success": True, "errors": [], "messages": [], "result": result}, **extra)


def fail(code, message, status=400):
    return {"json": {"success": False, "errors": [{"code": code, "message": message}], "messages": [], "result": None}, "status": status}


@pytest.fixture
def logged():
    return []


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client(logged, sleeps):
    return CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, log=logged.append, sleep=sleeps.append)


@responses.activate
def test_envelope_error_becomes_message_with_cloudflare_code(client):
    responses.get(BASE + "/" + ZONE + "/custom_hostnames", **fail(1406, "Invalid custom hostname."))
    with pytest.raises(CloudflareError) as info:
        client.get(ZONE + "/custom_hostnames")
    err = info.value
    assert err.status == 400 and err.codes == [1406]
    assert "Invalid custom hostname." in str(err) and "(code 1406)" in str(err)
    assert err.method == "GET" and err.path == ZONE + "/custom_hostnames"


@responses.activate
def test_error_chain_is_flattened(client):
    body = {
        "success": False,
        "result": None,
        "messages": [],
        "errors": [{"code": 6003, "message": "Invalid request headers", "error_chain": [{"code": 6111, "message": "Invalid format for Authorization header"}]}],
    }
    responses.get(BASE + "/zones", json=body, status=400)
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert info.value.codes == [6003, 6111]


@responses.activate
def test_success_false_with_200_is_an_error(client):
    responses.get(BASE + "/zones", json={"success": False, "errors": [{"code": 1000, "message": "nope"}], "result": None})
    with pytest.raises(CloudflareError, match="nope"):
        client.get("zones")


@responses.activate
def test_429_with_retry_after_waits_then_succeeds(client, logged, sleeps):
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "7"}, json={"success": False, "errors": [{"code": 10429, "message": "rate limited"}]})
    responses.get(BASE + "/zones", json=ok([{"id": "z"}]))
    assert client.get("zones") == [{"id": "z"}]
    assert sleeps == [7.0]
    assert len(logged) == 1 and "429" in logged[0] and "7.0s" in logged[0]


@responses.activate
def test_retry_after_is_clamped_to_one_block(client, sleeps, monkeypatch):
    monkeypatch.delenv(_client.RATE_WINDOW_ENV, raising=False)
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "3600"})
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "0"})
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    # at most one of Cloudflare's five-minute blocks (no policy window in the answer), at least 1 s
    assert sleeps == [300.0, 1.0]


@responses.activate
def test_a_five_minute_block_is_waited_out_within_the_default_budget(logged, sleeps):
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, log=logged.append, sleep=sleeps.append)
    assert client.retry_budget == _client.DEFAULT_RETRY_BUDGET == 330.0
    policy = {"Ratelimit-Policy": '"default";q=1200;w=300'}
    responses.get(BASE + "/zones", status=429, headers=dict(policy, **{"Retry-After": "297", "Ratelimit": '"default";r=0;t=297'}))
    responses.get(BASE + "/zones", json=ok([]), headers=dict(policy, Ratelimit='"default";r=1199;t=300'))
    assert client.get("zones") == []
    assert sleeps == [297.0]
    assert "waiting 297.0s as Retry-After asks" in logged[0]


@responses.activate
def test_retry_after_is_honoured_up_to_the_policy_window(client, sleeps):
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "900", "Ratelimit-Policy": '"default";q=100;w=20'})
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "900", "Ratelimit-Policy": '"burst";q=50;w=10, "default";q=1200;w=200'})
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    # the block lasts at most the policy's window (the longest one when there are several)
    assert sleeps == [20.0, 200.0]


@responses.activate
def test_the_testing_window_scales_the_block_when_the_answer_names_none(sleeps, monkeypatch):
    monkeypatch.setenv(_client.RATE_WINDOW_ENV, "10")
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, sleep=sleeps.append)
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "60"})
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    assert sleeps == [10.0]


@responses.activate
@pytest.mark.parametrize(
    "headers, expected",
    [
        ({}, 1.0),
        ({"Retry-After": "soon"}, 1.0),
        ({"Retry-After": "nan"}, 1.0),
        ({"Retry-After": "-5"}, 1.0),
        ({"Retry-After": "x" * 100}, 1.0),
        ({"Retry-After": "inf"}, 300.0),
        ({"Retry-After": "2.5"}, 2.5),
        # without a readable Retry-After, the reset of the used-up quota
        ({"Ratelimit": '"default";r=0;t=42'}, 42.0),
        ({"Retry-After": "bad", "Ratelimit": '"default";r=0;t=42'}, 42.0),
        ({"Ratelimit": '"default";r=7;t=42'}, 1.0),
        ({"Ratelimit": '"default";r=0;t=4200', "Ratelimit-Policy": '"default";q=5;w=60'}, 60.0),
        ({"Ratelimit": '"default";r=0;t=-3'}, 1.0),
    ],
)
def test_untrusted_retry_headers_are_read_defensively(client, sleeps, monkeypatch, headers, expected):
    monkeypatch.delenv(_client.RATE_WINDOW_ENV, raising=False)
    responses.get(BASE + "/zones", status=429, headers=headers)
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    assert sleeps == [expected]


@responses.activate
def test_retry_after_as_an_http_date(client, sleeps):
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": when})
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    assert len(sleeps) == 1 and 27.0 <= sleeps[0] <= 30.0


@responses.activate
def test_429_past_the_budget_fails_clearly(logged, sleeps):
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, retry_budget=20, log=logged.append, sleep=sleeps.append)
    for _attempt in range(5):
        responses.get(BASE + "/zones", status=429, headers={"Retry-After": "8"})
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert info.value.status == 429
    assert "rate limited" in str(info.value) and "api_retry_budget" in str(info.value)
    assert sleeps == [8.0, 8.0]  # a third wait would pass the 20 s budget
    assert client.rate_limited_count == 3  # the one that failed the call too


@responses.activate
def test_a_block_longer_than_the_budget_fails_at_once_naming_the_option(logged, sleeps):
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, retry_budget=5, log=logged.append, sleep=sleeps.append)
    body = {"success": False, "errors": [{"code": 10100, "message": "More than 1200 requests per 300 seconds reached."}], "result": None}
    responses.get(BASE + "/zones", status=429, json=body, headers={"Retry-After": "280", "Ratelimit-Policy": '"default";q=1200;w=300'})
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert sleeps == [] and len(responses.calls) == 1
    text = str(info.value)
    assert "api_retry_budget" in text and "280s" in text and info.value.codes == [10100]


@responses.activate
def test_429s_do_not_count_against_max_attempts(sleeps):
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, max_attempts=2, sleep=sleeps.append)
    for _attempt in range(4):
        responses.get(BASE + "/zones", status=429, headers={"Retry-After": "1"})
    responses.get(BASE + "/zones", status=503)
    responses.get(BASE + "/zones", json=ok([]))
    assert client.get("zones") == []
    assert len(sleeps) == 5 and sleeps[:4] == [1.0] * 4
    assert (client.request_count, client.rate_limited_count) == (6, 4)  # what api_usage_file records


def test_the_retry_budget_starts_after_the_first_pacing_wait(pacing_dir, monkeypatch):
    clock = [1_000.0]
    monotonic = [0.0]

    def sleep(seconds):
        clock[0] += seconds
        monotonic[0] += seconds

    monkeypatch.setattr(_client.time, "monotonic", lambda: monotonic[0])
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0.01, retry_budget=10, sleep=sleep)
    client.pacer.clock = lambda: clock[0]
    client.pacer.wait()  # the window of 3 per 300 s is used up: the next request waits about 300 s for the pacer
    client.pacer.wait()
    client.pacer.wait()
    with responses.RequestsMock() as mocked:
        mocked.get(BASE + "/zones", status=429, headers={"Retry-After": "5"})
        mocked.get(BASE + "/zones", json=ok([]))
        assert client.get("zones") == []
    assert monotonic[0] >= 300


@responses.activate
def test_429_is_retried_for_post_too(client, sleeps):
    responses.post(BASE + "/" + ZONE + "/origin_tls_client_auth/hostnames/certificates", status=429, headers={"Retry-After": "2"})
    responses.post(BASE + "/" + ZONE + "/origin_tls_client_auth/hostnames/certificates", json=ok({"id": "c1"}))
    assert client.post(ZONE + "/origin_tls_client_auth/hostnames/certificates", {"certificate": "x"}) == {"id": "c1"}
    assert sleeps == [2.0]


@responses.activate
@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_on_get(client, sleeps, logged, status):
    responses.get(BASE + "/zones", status=status)
    responses.get(BASE + "/zones", json=ok([]))
    assert client.get("zones") == []
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 0.5
    assert "server error (HTTP %d)" % status in logged[0]


@responses.activate
def test_5xx_backoff_grows_and_gives_up(sleeps):
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0, max_attempts=4, sleep=sleeps.append)
    for _attempt in range(4):
        responses.get(BASE + "/zones", status=503)
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert info.value.status == 503
    assert len(sleeps) == 3 and sleeps[0] <= 0.5 < sleeps[2] <= 2.0


@responses.activate
@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_ambiguous_write_is_not_resent(client, sleeps, method):
    responses.add(method, BASE + "/" + ZONE + "/custom_hostnames/abc", status=502)
    with pytest.raises(OutcomeUnknownError) as info:
        client.request(method, ZONE + "/custom_hostnames/abc", body={"ssl": {}})
    assert len(responses.calls) == 1
    assert sleeps == []
    assert "not sent again" in str(info.value)


@responses.activate
def test_connection_reset_on_post_is_outcome_unknown(client):
    responses.post(BASE + "/" + ZONE + "/custom_hostnames", body=requests.exceptions.ConnectionError("Connection aborted. ConnectionResetError(104)"))
    with pytest.raises(OutcomeUnknownError, match="reset"):
        client.post(ZONE + "/custom_hostnames", {"hostname": "a"})
    assert len(responses.calls) == 1


@responses.activate
def test_read_timeout_on_put_is_retried(client, sleeps):
    url = BASE + "/" + ZONE + "/origin_tls_client_auth/hostnames"
    responses.put(url, body=requests.exceptions.ReadTimeout("read timed out"))
    responses.put(url, json=ok([]))
    assert client.put(ZONE + "/origin_tls_client_auth/hostnames", {"config": []}) == []
    assert len(sleeps) == 1


@responses.activate
def test_connection_refused_is_retried_for_post(client, sleeps):
    url = BASE + "/" + ZONE + "/custom_hostnames"
    responses.post(url, body=requests.exceptions.ConnectionError("NewConnectionError: [Errno 111] Connection refused"))
    responses.post(url, json=ok({"id": "h"}))
    assert client.post(ZONE + "/custom_hostnames", {"hostname": "a"}) == {"id": "h"}


@responses.activate
def test_delete_404_after_a_lost_answer_counts_as_done(client):
    url = BASE + "/" + ZONE + "/custom_certificates/c1"
    responses.delete(url, status=502)
    responses.delete(url, **fail(1003, "not found", status=404))
    assert client.delete(ZONE + "/custom_certificates/c1") is None


@responses.activate
def test_delete_404_first_time_is_not_found(client):
    responses.delete(BASE + "/" + ZONE + "/custom_certificates/c1", **fail(1003, "not found", status=404))
    with pytest.raises(_client.NotFoundError):
        client.delete(ZONE + "/custom_certificates/c1")


@responses.activate
def test_pagination_over_three_pages_loses_and_repeats_nothing(client):
    items = [{"id": "h%02d" % i} for i in range(12)]
    for page in (1, 2, 3):
        chunk = items[(page - 1) * 5 : page * 5]
        responses.get(
            BASE + "/" + ZONE + "/custom_hostnames",
            json=ok(chunk, result_info={"page": page, "per_page": 5, "count": len(chunk), "total_count": 12, "total_pages": 3}),
            match=[responses.matchers.query_param_matcher({"page": str(page), "per_page": "5"})],
        )
    assert client.paginate(ZONE + "/custom_hostnames", per_page=5) == items
    assert len(responses.calls) == 3


@responses.activate
def test_pagination_rereads_when_items_shift_between_pages(client):
    # An item inserted while we page shifts h04 onto page 2 (seen twice) and h05 is lost on the
    # first pass; the count of unique items then differs from total_count, so the list is read again.
    first = [{"id": "h%02d" % i} for i in range(5)]
    second_shifted = [{"id": "h04"}, {"id": "h06"}]
    second_pass = [{"id": "h%02d" % i} for i in (0, 1, 2, 3, 4)], [{"id": "h05"}, {"id": "h06"}, {"id": "hnew"}]
    for page, items in ((1, first), (2, second_shifted), (1, second_pass[0]), (2, second_pass[1])):
        info = {"page": page, "per_page": 5, "count": len(items), "total_count": 8, "total_pages": 2}
        responses.get(BASE + "/zones", json=ok(items, result_info=info))
    ids = [item["id"] for item in client.paginate("zones", per_page=5)]
    assert sorted(ids) == sorted(set(ids))
    assert set(ids) == {"h00", "h01", "h02", "h03", "h04", "h05", "h06", "hnew"}


@responses.activate
def test_token_auth_headers_and_user_agent(client):
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    headers = responses.calls[0].request.headers
    assert headers["Authorization"] == "Bearer " + TOKEN
    assert "X-Auth-Key" not in headers and "X-Auth-Email" not in headers
    assert headers["User-Agent"] == USER_AGENT == "certops.cloudflare/0.1.0"


@responses.activate
def test_global_key_auth_headers():
    client = CloudflareClient(api_email="ops@example.com", api_key=KEY, base_url=BASE, rate_limit=0)
    responses.get(BASE + "/zones", json=ok([]))
    client.get("zones")
    headers = responses.calls[0].request.headers
    assert headers["X-Auth-Email"] == "ops@example.com" and headers["X-Auth-Key"] == KEY
    assert "Authorization" not in headers


@responses.activate
def test_origin_ca_key_auth_header_and_scrubbed():
    client = CloudflareClient(api_user_service_key=SERVICE_KEY, base_url=BASE, rate_limit=0)
    responses.get(BASE + "/certificates", json=ok([]))
    client.get("certificates", params={"zone_id": "z"})
    headers = responses.calls[0].request.headers
    assert headers["X-Auth-User-Service-Key"] == SERVICE_KEY
    assert "Authorization" not in headers and "X-Auth-Key" not in headers
    assert SERVICE_KEY not in client.scrub("echo " + SERVICE_KEY)


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"api_token": TOKEN, "api_email": "ops@example.com"}, ["api_token", "CLOUDFLARE_API_TOKEN", "api_email", "CLOUDFLARE_EMAIL"]),
        ({"api_token": TOKEN, "api_key": KEY}, ["CLOUDFLARE_API_TOKEN", "api_key", "CLOUDFLARE_API_KEY"]),
        ({"api_email": "ops@example.com"}, ["api_key", "CLOUDFLARE_API_KEY"]),
        ({"api_key": KEY}, ["api_email", "CLOUDFLARE_EMAIL"]),
        ({}, ["api_token", "CLOUDFLARE_API_TOKEN"]),
        ({"api_token": TOKEN, "api_user_service_key": SERVICE_KEY}, ["api_token", "api_user_service_key", "CLOUDFLARE_API_USER_SERVICE_KEY"]),
        ({"api_email": "ops@example.com", "api_key": KEY, "api_user_service_key": SERVICE_KEY}, ["api_key", "api_user_service_key"]),
        ({"api_user_service_key": ""}, ["api_token", "the Origin CA modules also take api_user_service_key"]),
    ],
)
def test_auth_modes_conflict_or_missing_names_options_and_variables(kwargs, expected):
    with pytest.raises(CloudflareConfigError) as info:
        CloudflareClient(base_url=BASE, **kwargs)
    for word in expected:
        assert word in str(info.value)
    assert TOKEN not in str(info.value) and KEY not in str(info.value) and SERVICE_KEY not in str(info.value)


@responses.activate
def test_secrets_never_in_exceptions_or_logs(caplog):
    logged = []
    client = CloudflareClient(api_email="ops@example.com", api_key=KEY, base_url=BASE, rate_limit=0, log=logged.append, sleep=lambda s: None, max_attempts=2)
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "1"})
    responses.get(BASE + "/zones", status=503)
    responses.post(BASE + "/zones", status=500, json={"success": False, "errors": [{"code": 1, "message": "boom"}]})
    body_secret = "-----BEGIN PRIVATE KEY-----SECRETKEYBODY-----END PRIVATE KEY-----"
    texts = []
    for call in (lambda: client.get("zones"), lambda: client.post("zones", {"custom_key": body_secret})):
        with caplog.at_level(logging.DEBUG):
            with pytest.raises(CloudflareError) as info:
                call()
        texts += [str(info.value), repr(info.value), json.dumps(info.value.to_dict())]
    texts += logged + [caplog.text]
    for text in texts:
        assert KEY not in text and "SECRETKEYBODY" not in text


@responses.activate
def test_private_key_fields_are_stripped_from_responses(client):
    result = {"id": "h", "ssl": {"custom_key": "KEY", "custom_certificate": "CERT", "certificates": [{"private_key": "KEY", "id": "c"}]}}
    responses.get(BASE + "/" + ZONE + "/custom_hostnames/h", json=ok(result))
    got = client.get(ZONE + "/custom_hostnames/h")
    assert got == {"id": "h", "ssl": {"custom_certificate": "CERT", "certificates": [{"id": "c"}]}}
    assert "KEY" not in json.dumps(got)


@responses.activate
def test_a_key_field_the_raw_text_hides_is_still_stripped(client):
    # The field name escaped, so the raw text never spells it: the \\u escape alone makes the answer walked.
    body = '{"success": true, "errors": [], "result": {"id": "h", "ssl": {"certificates": [{"id": "c", "\\u0070rivate_key": "KEY"}]}}}'
    responses.get(BASE + "/" + ZONE + "/custom_hostnames/h", body=body, content_type="application/json")
    got = client.get(ZONE + "/custom_hostnames/h")
    assert got == {"id": "h", "ssl": {"certificates": [{"id": "c"}]}}


@responses.activate
def test_an_answer_without_a_key_field_is_not_walked(client, monkeypatch):
    walked = []
    monkeypatch.setattr(_client, "strip_secrets", lambda value: walked.append(value) or value)
    responses.get(BASE + "/" + ZONE + "/custom_hostnames", json=ok([{"id": "a", "ssl": {"status": "active"}}]))
    responses.get(BASE + "/" + ZONE + "/custom_hostnames/h", json=ok({"id": "h", "ssl": {"custom_key": "KEY"}}))
    assert client.get(ZONE + "/custom_hostnames") == [{"id": "a", "ssl": {"status": "active"}}]
    assert walked == []
    client.get(ZONE + "/custom_hostnames/h")
    assert len(walked) == 1  # the one that names a key field


def test_may_hold_secrets_reads_raw_bytes():
    assert _client.may_hold_secrets(b'{"ssl": {"custom_key": "x"}}')
    assert _client.may_hold_secrets(b'{"private_key": null}')
    assert _client.may_hold_secrets(b'{"name": "\\u00e9"}')
    assert _client.may_hold_secrets('{"private_key": null}'.encode("utf-16-le"))  # the name's bytes differ there
    assert not _client.may_hold_secrets(b'{"id": "a", "ssl": {"status": "active", "custom_certificate": "x"}}')


def test_a_listed_item_is_keyed_by_id_without_serialising_it(monkeypatch):
    dumped = []
    monkeypatch.setattr(_client.json, "dumps", lambda value, **kwargs: dumped.append(value) or "text")
    assert _client._item_key({"id": "abc", "ssl": {}}) == "abc"
    assert dumped == []
    assert _client._item_key({"name": "no id"}) == "text"  # an item without an id is known by its whole text
    assert dumped == [{"name": "no id"}]
    assert _client._item_key(["not", "a", "dict"]) == repr(["not", "a", "dict"])


@responses.activate
def test_bare_responses_only_where_the_api_sends_them(client):
    responses.delete(BASE + "/" + ZONE + "/custom_hostnames/h1", json={"id": "h1"})
    responses.put(BASE + "/" + ZONE + "/custom_hostnames/h1/certificate_pack/p/certificates/c", status=202, body="")
    responses.get(BASE + "/" + ZONE + "/custom_hostnames/h1", json={"id": "h1"})
    assert client.delete(ZONE + "/custom_hostnames/h1") == {"id": "h1"}
    assert client.put(ZONE + "/custom_hostnames/h1/certificate_pack/p/certificates/c", {}) is None
    with pytest.raises(CloudflareError, match="without a result"):
        client.get(ZONE + "/custom_hostnames/h1")


@responses.activate
def test_find_zone_id_by_name(client):
    responses.get(
        BASE + "/zones",
        json=ok([{"id": "z1", "name": "example.com"}], result_info={"page": 1, "per_page": 50, "count": 1, "total_count": 1, "total_pages": 1}),
        match=[responses.matchers.query_param_matcher({"name": "example.com", "page": "1", "per_page": "50"})],
    )
    assert find_zone_id(client, "Example.COM.") == "z1"


@responses.activate
def test_find_zone_id_not_found_and_ambiguous(client):
    responses.get(BASE + "/zones", json=ok([], result_info={"total_count": 0, "total_pages": 0}))
    with pytest.raises(CloudflareError, match="no zone named 'nope.example'"):
        find_zone_id(client, "nope.example")
    responses.replace(
        responses.GET,
        BASE + "/zones",
        json=ok([{"id": "z1", "name": "a.example"}, {"id": "z2", "name": "a.example"}], result_info={"total_count": 2, "total_pages": 1}),
    )
    with pytest.raises(CloudflareError, match="more than one zone.*z1.*z2.*zone_id"):
        find_zone_id(client, "a.example")


# -- hardening: redirects, malformed answers, untrusted server text, connection errors ---------

KEY_BLOCK = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@responses.activate
def test_redirects_are_never_followed(client, sleeps, method, status):
    elsewhere = "https://evil.example.net/client/v4/zones"
    responses.add(method, BASE + "/zones", status=status, headers={"Location": elsewhere})
    responses.add(method, elsewhere, json=ok({"id": "x"}))
    body = {"custom_key": KEY_BLOCK} if method in ("POST", "PUT", "PATCH") else None
    with pytest.raises(CloudflareError) as info:
        client.request(method, "zones", body=body)
    assert len(responses.calls) == 1  # the Location was never asked, so neither body nor credentials went there
    text = str(info.value)
    assert "HTTP %d" % status in text and "evil.example.net" in text and "api_base_url" in text and "never followed" in text
    assert sleeps == []  # not retried


@responses.activate
def test_errors_given_as_a_string_or_odd_codes_still_make_a_clear_error(client):
    responses.get(BASE + "/zones", json={"success": False, "errors": "zone is locked", "result": None}, status=400)
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert info.value.errors == [{"code": None, "message": "zone is locked"}] and "zone is locked" in str(info.value)
    responses.get(BASE + "/zones/x", json={"success": False, "errors": [{"code": "1003", "message": "a"}, {"code": {"x": 1}}, 7], "result": None}, status=400)
    with pytest.raises(CloudflareError) as info:
        client.get("zones/x")
    assert [e["code"] for e in info.value.errors] == [1003, None, None]


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"body": "<html>502</html>", "status": 200}, "not JSON"),
        ({"json": [1, 2], "status": 200}, "not a Cloudflare envelope (a list)"),
        ({"json": {"success": True, "errors": []}, "status": 200}, "without a result"),
        ({"json": ok([{"id": "a"}])}, "wrong shape: expected an object, got a list"),
        ({"json": ok("text")}, "wrong shape: expected an object, got a str"),
    ],
)
@responses.activate
def test_malformed_answers_to_a_write_are_errors(client, kwargs, expected):
    responses.post(BASE + "/" + ZONE + "/custom_hostnames", **kwargs)
    with pytest.raises(CloudflareError, match=expected.replace("(", "\\(").replace(")", "\\)")):
        client.post(ZONE + "/custom_hostnames", {"hostname": "a.example.com"})


@responses.activate
def test_a_list_read_with_an_object_result_or_odd_result_info_is_handled(client):
    responses.get(BASE + "/" + ZONE + "/custom_hostnames", json=ok({"id": "a"}))
    with pytest.raises(CloudflareError, match="expected a list, got an object"):
        client.paginate(ZONE + "/custom_hostnames")
    responses.replace(responses.GET, BASE + "/" + ZONE + "/custom_hostnames", json=ok([{"id": "a"}], result_info="garbage"))
    assert client.paginate(ZONE + "/custom_hostnames") == [{"id": "a"}]


ODD_TOKEN = 'tok-SECRET-"quoted"\\x'


@pytest.mark.parametrize(
    "token, message",
    [
        (TOKEN, "Invalid request: " + KEY_BLOCK),
        (TOKEN, "Invalid request: " + json.dumps({"custom_key": KEY_BLOCK})),  # JSON-escaped newlines
        (TOKEN, "Invalid request: " + KEY_BLOCK.split("\n", maxsplit=1)[0] + "\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49"),  # no END line
        (TOKEN, "bad auth header Bearer " + TOKEN),
        (ODD_TOKEN, "bad auth header " + json.dumps(ODD_TOKEN)),  # the credential JSON-escaped
    ],
)
@responses.activate
def test_server_text_is_scrubbed_of_pem_blocks_and_credentials(logged, token, message):
    client = CloudflareClient(api_token=token, base_url=BASE, rate_limit=0, log=logged.append, sleep=lambda s: None)
    responses.post(
        BASE + "/zones",
        json={"success": False, "errors": [{"code": 1000, "message": message, "error_chain": [{"code": 1001, "message": message}]}]},
        status=400,
    )
    with pytest.raises(CloudflareError) as info:
        client.post("zones", {"custom_key": KEY_BLOCK})
    shown = str(info.value) + json.dumps(info.value.to_dict()) + "".join(logged)
    assert "PRIVATE KEY" not in shown and "MIGHAgEAMBMGByqGSM49" not in shown
    assert token not in shown and json.dumps(token)[1:-1] not in shown and "SECRET" not in shown
    assert "[PEM block removed]" in shown or "********" in shown


def test_scrub_caps_length():
    assert len(_client.scrub("x" * 5000)) < 600


@responses.activate
def test_unresolvable_host_is_named_and_not_retried(client, sleeps):
    error = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.test', port=443): Max retries exceeded (Caused by NameResolutionError(\"Failed to resolve 'api.test'\"))"
    )
    responses.get(BASE + "/zones", body=error)
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert "cannot resolve the API host api.test" in str(info.value) and "api_base_url" in str(info.value) and "refused" not in str(info.value)
    assert len(responses.calls) == 1 and sleeps == []


@responses.activate
def test_tls_verification_failure_names_the_options_and_is_not_retried(client, sleeps):
    responses.get(BASE + "/zones", body=requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate"))
    with pytest.raises(CloudflareError) as info:
        client.get("zones")
    assert "TLS certificate verification of api.test failed" in str(info.value)
    assert "validate_certs" in str(info.value) and "api_base_url" in str(info.value)
    assert len(responses.calls) == 1 and sleeps == []


# --- pacing: the client builds the shared sliding-window pacer ---


@pytest.fixture
def pacing_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    for name in (_client.RATE_WINDOW_ENV, _client.RATE_WINDOW_LIMIT_ENV, _client.RATE_HEADROOM_ENV):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_default_pacing_is_the_cloudflare_window_less_headroom(pacing_dir):
    client = CloudflareClient(api_token=TOKEN, base_url=BASE)
    assert _client.DEFAULT_RATE_LIMIT == 3.8
    assert client.pacer.window == 300.0 and client.pacer.limit == 1140
    # a higher rate is capped at the window's limit less headroom; a lower one lowers the count
    assert CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=10).pacer.limit == 1140
    assert CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=1).pacer.limit == 300


def test_rate_limit_zero_switches_pacing_off_and_ignores_the_testing_knobs(pacing_dir, monkeypatch):
    monkeypatch.setenv(_client.RATE_WINDOW_ENV, "nonsense")
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0)
    assert client.pacer.limit == 0 and client.pacer.path is None


def test_testing_knobs_scale_the_window(pacing_dir, monkeypatch):
    # the benchmark's scaled limit: 100 requests per 5 s, paced at 19/s
    monkeypatch.setenv(_client.RATE_WINDOW_ENV, "5")
    assert CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=19).pacer.limit == 95
    monkeypatch.setenv(_client.RATE_WINDOW_LIMIT_ENV, "100")
    pacer = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=50).pacer
    assert pacer.window == 5.0 and pacer.limit == 95
    monkeypatch.setenv(_client.RATE_HEADROOM_ENV, "0.2")
    assert CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=50).pacer.limit == 80


@pytest.mark.parametrize(
    "name, value",
    [
        ("CERTOPS_RATE_WINDOW", "0"),
        ("CERTOPS_RATE_WINDOW", "soon"),
        ("CERTOPS_RATE_WINDOW_LIMIT", "0.5"),
        ("CERTOPS_RATE_HEADROOM", "1"),
        ("CERTOPS_RATE_HEADROOM", "nan"),
    ],
)
def test_bad_testing_knob_fails_naming_it(pacing_dir, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(CloudflareConfigError, match=name):
        CloudflareClient(api_token=TOKEN, base_url=BASE)


def test_rate_limit_key_makes_two_credentials_share_one_budget(pacing_dir):
    first = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit_key="team-a")
    second = CloudflareClient(api_token="other-" + TOKEN, base_url=BASE, rate_limit_key="team-a")
    third = CloudflareClient(api_token="other-" + TOKEN, base_url=BASE)
    fourth = CloudflareClient(api_email="ops@example.com", api_key=KEY, base_url=BASE, rate_limit_key="team-a")
    assert first.pacer.path == second.pacer.path == fourth.pacer.path != third.pacer.path
    # still one budget per API: the emulator's and Cloudflare's are different
    assert CloudflareClient(api_token=TOKEN, base_url="http://127.0.0.1:1/client/v4", rate_limit_key="team-a").pacer.path != first.pacer.path
    assert not any(s in first.pacer.path + third.pacer.path for s in (TOKEN, KEY, "team-a"))


def test_rate_limit_key_shares_the_window_between_tokens(pacing_dir):
    clock = [1_000_000.0]
    sleeps = []
    clients = [CloudflareClient(api_token=t, base_url=BASE, rate_limit=0.3, rate_limit_key="team-a", sleep=sleeps.append) for t in ("t1", "t2")]
    for client in clients:
        client.pacer.clock = lambda: clock[0]
    for client in clients * 2:
        client.pacer.wait()
    # 0.3/s is 90 per 300 s: four requests fit in the window, with no sleep
    assert sleeps == []
    assert clients[0].pacer.limit == 90


@responses.activate
def test_requests_go_through_the_pacer_and_429_is_still_retried(pacing_dir, monkeypatch, sleeps, logged):
    monkeypatch.setenv(_client.RATE_WINDOW_ENV, "10")
    responses.get(BASE + "/zones", status=429, headers={"Retry-After": "2"}, json={"success": False, "errors": [{"code": 10429, "message": "rate limited"}]})
    responses.get(BASE + "/zones", json=ok([]))
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=0.3, log=logged.append, sleep=sleeps.append)
    client.pacer.clock = lambda: 1_000_000.0
    for _index in range(2):
        client.get("zones")
    # three requests fit the window of 3 per 10 s without pacing sleeps; the 429 waited as Retry-After asked
    assert len(responses.calls) == 3 and sleeps == [2.0]
    client.get("zones")
    assert sleeps == [2.0, 10.0]
    assert any("429" in line for line in logged)


@responses.activate
def test_pagination_stops_on_a_list_that_repeats_itself_forever(client):
    # Every answer is page 1 again, claiming one page more: reading on would never end.
    for page in range(1, 4):
        info = {"page": page, "per_page": 2, "count": 2, "total_count": 2 * page + 2, "total_pages": page + 1}
        responses.get(BASE + "/" + ZONE + "/custom_certificates", json=ok([{"id": "a"}, {"id": "b"}], result_info=info))
    with pytest.raises(_client.CloudflareError, match="custom_certificates: page 2 repeats only items already read"):
        client.paginate(ZONE + "/custom_certificates", per_page=2)
    assert len(responses.calls) == 2


@responses.activate
def test_pagination_stops_beyond_the_page_bound(client, monkeypatch):
    monkeypatch.setattr(_client, "MAX_PAGES", 2)
    for page in range(1, 5):
        info = {"page": page, "per_page": 1, "count": 1, "total_count": 99, "total_pages": 99}
        responses.get(BASE + "/zones", json=ok([{"id": "z%d" % page}], result_info=info))
    with pytest.raises(_client.CloudflareError, match="page 3 is beyond 2 pages"):
        client.paginate("zones", per_page=1)


@responses.activate
def test_a_refused_connection_names_the_host_and_api_base_url(client):
    url = BASE + "/zones"
    for _index in range(6):
        responses.get(url, body=requests.exceptions.ConnectionError("NewConnectionError: [Errno 111] Connection refused"))
    with pytest.raises(_client.CloudflareError) as caught:
        client.get("zones")
    assert "refused; check api_base_url (%s)" % BASE in str(caught.value)


# -- the session: the environment read once ----------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    for name in PROXY_VARIABLES + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def session_client(**kwargs: Any) -> CloudflareClient:
    return CloudflareClient(api_token=TOKEN, base_url=kwargs.pop("base_url", BASE), rate_limit=0, **kwargs)


def test_the_session_takes_the_proxy_for_the_api_once_and_then_ignores_the_environment(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    made = session_client()
    assert made.session.proxies.get("https") == "http://proxy.test:3128"
    assert made.session.trust_env is False
    # What requests would merge in per request: nothing from the environment, whatever it holds by then.
    clean_env.setenv("HTTPS_PROXY", "http://other.test:8080")
    settings = made.session.merge_environment_settings(BASE + "/zones", {}, None, made.verify, None)
    assert settings["proxies"].get("https") == "http://proxy.test:3128"


@pytest.mark.parametrize("no_proxy", ["api.test", ".test", "localhost,api.test"])
def test_no_proxy_covering_the_api_host_leaves_the_session_without_a_proxy(clean_env, no_proxy):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    clean_env.setenv("NO_PROXY", no_proxy)
    made = session_client()
    assert dict(made.session.proxies) == {}
    assert made.session.trust_env is False


def test_no_proxy_for_another_host_keeps_the_proxy(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    clean_env.setenv("NO_PROXY", "elsewhere.example")
    assert session_client().session.proxies.get("https") == "http://proxy.test:3128"


def test_the_proxy_follows_the_scheme_of_the_base_url(clean_env):
    clean_env.setenv("HTTP_PROXY", "http://plain-proxy.test:3128")
    assert session_client().session.proxies.get("https") is None  # an https API does not take the http proxy
    assert session_client(base_url="http://127.0.0.1:9/client/v4").session.proxies.get("http") == "http://plain-proxy.test:3128"


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_from_the_environment_becomes_verify_only_when_validating(clean_env, tmp_path, variable):
    bundle = str(tmp_path / "ca.pem")
    clean_env.setenv(variable, bundle)
    assert session_client().verify == bundle
    assert session_client(validate_certs=False).verify is False  # never turns validation back on


def test_without_a_ca_bundle_verify_stays_true(clean_env):
    made = session_client()
    assert made.verify is True and made.session.trust_env is False
    assert isinstance(made.session, requests.Session)


@pytest.mark.parametrize(
    "headers, expected",
    [
        ({"Ratelimit": '"default";r=50;t=30', "Ratelimit-Policy": '"default";q=1200;w=300'}, ((50, 1200), 300.0)),
        # the policy with the smallest share left governs; the longest window is the block's
        ({"Ratelimit": '"burst";r=90;t=5, "default";r=10;t=200', "Ratelimit-Policy": '"burst";q=100;w=60, "default";q=1200;w=300'}, ((10, 1200), 300.0)),
        ({"Ratelimit": "default;r=3;t=1", "Ratelimit-Policy": "default;q=4;w=2"}, ((3, 4), 2.0)),
        ({}, (None, None)),
        ({"Ratelimit": '"default";r=50;t=30'}, (None, None)),  # no policy: no quota to compare with
        ({"Ratelimit": '"default";r=-5;t=30', "Ratelimit-Policy": '"default";q=1200;w=300'}, (None, 300.0)),
        ({"Ratelimit": '"default";r=5e3;t=30', "Ratelimit-Policy": '"default";q=abc;w=1.5'}, (None, None)),
        ({"Ratelimit": '"default";r=1;t=3', "Ratelimit-Policy": '"default";q=0;w=0'}, (None, None)),
        ({"Ratelimit": '"default";r=9999999999999999;t=3', "Ratelimit-Policy": '"default";q=10;w=9'}, (None, 9.0)),
        ({"Ratelimit": '"default";r=2000;t=3', "Ratelimit-Policy": '"default";q=10;w=9'}, ((10, 10), 9.0)),
        ({"Ratelimit": '"default";r=1;t=3', "Ratelimit-Policy": '"default";q=10;w=9' + ", x" * 20}, (None, None)),  # too many items: the header is ignored
        ({"Ratelimit": "x" * 2000, "Ratelimit-Policy": '"default";q=10;w=9'}, (None, 9.0)),
        ({"Ratelimit": '"de fault";r=1', "Ratelimit-Policy": "<html>"}, (None, None)),
    ],
)
def test_rate_limit_headers_are_parsed_defensively(headers, expected):
    assert _client.parse_ratelimit(requests.structures.CaseInsensitiveDict(headers)) == expected


@responses.activate
def test_the_client_halves_its_pace_while_the_quota_is_low(pacing_dir, sleeps, logged):
    policy = {"Ratelimit-Policy": '"default";q=1200;w=300'}
    for remaining in (1000, 100, 60, 500, 400):
        responses.get(BASE + "/zones", json=ok([]), headers=dict(policy, Ratelimit='"default";r=%d;t=100' % remaining))
    client = CloudflareClient(api_token=TOKEN, base_url=BASE, rate_limit=1.0, log=logged.append, sleep=sleeps.append)
    client.pacer.clock = lambda: 1_000_000.0
    for _index in range(5):
        client.get("zones")
    # 300 per 300 s: at once while the quota lasts; one every 2 s after an answer showed under 10 % left, until one
    # showed it recovered
    assert sleeps == [2.0, 4.0]
    assert [line for line in logged if "pacing" in line] == [
        "API request pacing: Cloudflare shows 100 of 1200 requests left in its window (under 10 %); half pace until the quota recovers",
        "API request pacing: Cloudflare shows 500 of 1200 requests left in its window again; full pace",
    ]
