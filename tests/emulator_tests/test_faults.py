"""Injected faults (429, 5xx, connection resets, slow answers, unapplied writes, redirects, echoes) and the rate-limit mode."""

from __future__ import annotations

import json
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
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 1 and codes(blocked.json()) == [10100]
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


# -- answered but not processed: "unapplied", "redirect", "echo" ---------------------------------

FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
SUCCESS = {"success": True, "errors": [], "messages": []}


def only_entry(emulator, method):
    entries = [e for e in emulator.journal() if e["method"] == method]
    assert len(entries) == 1, entries
    return entries[0]


@pytest.mark.emulator(delay=0)
def test_unapplied_stale_patch_answers_the_unchanged_object(emulator, api):
    created = api.post(api.zone(HOSTNAMES), {"hostname": "a.example.com", "custom_metadata": {"v": "1"}})["result"]
    path = api.zone(HOSTNAMES + "/" + created["id"])
    before = api.get(path)
    rule = emulator.add_fault("unapplied", method="PATCH")
    assert rule["answer"] == "stale" and rule["status"] is None and rule["location"] is None
    response = raw(api, "PATCH", path, json={"custom_metadata": {"v": "2"}}, allow_redirects=False)
    assert response.status_code == 200 and response.json() == before
    assert response.json()["result"]["custom_metadata"] == {"v": "1"}
    assert api.get(path) == before  # not applied
    entry = only_entry(emulator, "PATCH")
    assert entry["fault"] == "unapplied" and entry["status"] == 200 and entry["credential"] == "token"
    assert entry["response_body"] == before and entry["request_body"] == {"custom_metadata": {"v": "2"}}
    api.patch(path, {"custom_metadata": {"v": "3"}})  # count 1: the next PATCH is applied
    assert api.get(path)["result"]["custom_metadata"] == {"v": "3"}


@pytest.mark.emulator(delay=0)
def test_unapplied_stale_delete_keeps_the_object(emulator, api):
    created = api.post(api.zone(HOSTNAMES), {"hostname": "a.example.com"})["result"]
    path = api.zone(HOSTNAMES + "/" + created["id"])
    before = api.get(path)
    emulator.add_fault("unapplied", method="DELETE")
    response = raw(api, "DELETE", path, allow_redirects=False)
    assert response.status_code == 200 and response.json() == before
    assert hostnames(api) == ["a.example.com"]
    assert only_entry(emulator, "DELETE")["fault"] == "unapplied"


def test_unapplied_stale_post_answers_an_empty_object(emulator, api):
    emulator.add_fault("unapplied", method="POST", answer="stale")
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"}, allow_redirects=False)
    body = response.json()
    assert response.status_code == 200 and body["success"] is True and body["result"] == {}  # no id: nothing was created
    assert hostnames(api) == []
    assert only_entry(emulator, "POST")["fault"] == "unapplied"


def test_unapplied_stale_without_a_get_answers_an_empty_result(emulator, api):
    emulator.add_fault("unapplied", method="POST", count=None)
    # No GET route for .../certificate_packs/order
    response = raw(api, "POST", api.zone("ssl/certificate_packs/order"), json={"type": "advanced", "hosts": ["example.com"]}, allow_redirects=False)
    assert response.status_code == 200 and response.json() == dict(SUCCESS, result={})
    assert api.get(api.zone("ssl/certificate_packs"))["result"] == []
    # A GET that fails (unknown object) also gives the empty result
    emulator.add_fault("unapplied", method="PATCH")
    response = raw(api, "PATCH", api.zone(HOSTNAMES + "/" + "0" * 32), json={"custom_metadata": {}}, allow_redirects=False)
    assert response.status_code == 200 and response.json() == dict(SUCCESS, result={})
    assert [e["fault"] for e in emulator.journal() if e["method"] != "GET"] == ["unapplied", "unapplied"]


@pytest.mark.parametrize("answer, expected", [("empty", dict(SUCCESS, result=None)), ("no_result", SUCCESS)])
def test_unapplied_empty_and_no_result(emulator, api, answer, expected):
    rule = emulator.add_fault("unapplied", method="POST", answer=answer)
    assert rule["answer"] == answer
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"}, allow_redirects=False)
    assert response.status_code == 200 and response.json() == expected
    assert ("result" in response.json()) is (answer == "empty")
    assert hostnames(api) == []
    entry = only_entry(emulator, "POST")
    assert entry["fault"] == "unapplied" and entry["status"] == 200 and entry["response_body"] == expected


def test_redirect_defaults_to_307_and_is_not_followed(emulator, api):
    location = "http://127.0.0.1:1/client/v4/" + api.zone(HOSTNAMES)
    rule = emulator.add_fault("redirect", method="POST", location=location)
    assert rule["status"] == 307 and rule["location"] == location and rule["answer"] is None
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"}, allow_redirects=False)
    assert response.status_code == 307 and response.headers["Location"] == location and response.json() == {}
    assert hostnames(api) == []
    entry = only_entry(emulator, "POST")
    assert entry["fault"] == "redirect" and entry["status"] == 307 and entry["response_body"] == {}


@pytest.mark.parametrize("status", [301, 302, 303, 308])
def test_redirect_statuses(emulator_factory, status):
    emu, other = emulator_factory(), emulator_factory()
    api = Api(emu)
    location = "%s/%s" % (other.url, api.zone(HOSTNAMES))  # another emulator, the same path
    emu.add_fault("redirect", path="/custom_hostnames$", status=status, location=location)
    response = raw(api, "GET", api.zone(HOSTNAMES), allow_redirects=False)
    assert response.status_code == status and response.headers["Location"] == location and response.json() == {}
    assert emu.journal()[0]["fault"] == "redirect" and other.journal() == []


def test_redirect_through_the_admin_api(emulator, api):
    location = "https://api.example.net/client/v4/" + api.zone(HOSTNAMES)
    added = requests.post(emulator.admin_url + "/faults", json={"kind": "redirect", "method": "POST", "status": 308, "location": location}, timeout=5)
    assert added.status_code == 200 and added.json()["status"] == 308 and added.json()["location"] == location
    listed = requests.get(emulator.admin_url + "/faults", timeout=5).json()
    assert [(r["kind"], r["status"], r["location"]) for r in listed] == [("redirect", 308, location)]
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com"}, allow_redirects=False)
    assert response.status_code == 308 and response.headers["Location"] == location and response.json() == {}
    assert hostnames(api) == []
    assert only_entry(emulator, "POST")["fault"] == "redirect"


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "redirect"},  # no location
        {"kind": "redirect", "location": ""},
        {"kind": "redirect", "location": "/client/v4/zones"},  # not absolute
        {"kind": "redirect", "location": "ftp://example.net/x"},
        {"kind": "redirect", "location": "http://example.net/x\r\nX-Injected: 1"},
        {"kind": "redirect", "location": "http://example.net/x", "status": 200},
        {"kind": "redirect", "location": "http://example.net/x", "status": 304},
        {"kind": "redirect", "location": "http://example.net/x", "status": "307"},
        {"kind": "redirect", "location": "http://example.net/x", "answer": "stale"},
        {"kind": "500", "status": 307},
        {"kind": "500", "location": "http://example.net/x"},
        {"kind": "500", "answer": "stale"},
        {"kind": "unapplied", "answer": "list"},
        {"kind": "unapplied", "answer": "nope"},
        {"kind": "echo", "answer": "stale"},
        {"kind": "echo", "status": 400},
    ],
)
def test_new_fault_arguments_are_checked(emulator, body):
    response = requests.post(emulator.admin_url + "/faults", json=body, timeout=5)
    assert response.status_code == 400 and response.json()["error"].startswith("ValueError: "), response.text
    with pytest.raises(ValueError):
        emulator.add_fault(**body)
    assert emulator.faults.rules() == []


@pytest.mark.parametrize("answer", [None, "list", "string", "escaped"])
def test_echo_answers_the_request_but_the_journal_keeps_no_key(emulator, api, answer):
    rule = emulator.add_fault("echo", method="POST", answer=answer)
    assert rule["answer"] == (answer or "list")
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com", "ssl": {"custom_key": FAKE_KEY}}, allow_redirects=False)
    sent = response.request.body.decode("utf-8")
    assert "PRIVATE KEY" in sent and "\\n" in sent  # requests' JSON: the newlines travel as \n escapes
    body = response.json()
    assert response.status_code == 400 and body["success"] is False and body["result"] is None and body["messages"] == []
    if answer == "string":
        assert body["errors"] == "Invalid request: " + sent
    else:
        echoed = json.dumps(sent) if answer == "escaped" else sent
        assert body["errors"] == [{"code": 1000, "message": "Invalid request: " + echoed}]
        assert "PRIVATE KEY" in body["errors"][0]["message"]
    assert hostnames(api) == []
    entry = only_entry(emulator, "POST")
    assert entry["fault"] == "echo" and entry["status"] == 400
    assert "PRIVATE KEY" not in json.dumps(entry) and "abc" not in json.dumps(entry["response_body"])
    assert entry["request_body"]["ssl"]["custom_key"] == "<redacted>"
    errors = entry["response_body"]["errors"]
    assert errors == ("<redacted>" if answer == "string" else [{"code": 1000, "message": "<redacted>"}])


def test_echo_escaped_shows_newlines_as_escapes(emulator, api):
    emulator.add_fault("echo", answer="escaped", count=2)
    text = "line one\n" + FAKE_KEY
    response = raw(api, "POST", api.zone(HOSTNAMES), data=text.encode("utf-8"), headers={"Content-Type": "text/plain"}, allow_redirects=False)
    message = response.json()["errors"][0]["message"]
    assert response.status_code == 400 and message == "Invalid request: " + json.dumps(text)
    assert "\n" not in message and "line one\\n-----BEGIN PRIVATE KEY-----\\nabc" in message
    # not JSON: the journal keeps the text, redacted as a whole, and the echo
    entry = only_entry(emulator, "POST")
    assert entry["request_body"] == "<redacted>" and entry["response_body"]["errors"] == [{"code": 1000, "message": "<redacted>"}]
    response = raw(api, "PUT", api.zone(HOSTNAMES + "/x"), data=b"plain text", allow_redirects=False)
    assert response.json()["errors"][0]["message"] == 'Invalid request: "plain text"'
    assert only_entry(emulator, "PUT")["response_body"]["errors"][0]["message"] == 'Invalid request: "plain text"'


def test_echo_redacts_a_secret_field_that_is_not_a_pem(emulator, api):
    """The journal redacts custom_key by name; the echoed text of that field is redacted as well."""
    emulator.add_fault("echo", count=None)
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "a.example.com", "ssl": {"custom_key": "s3cr3t-key-material"}}, allow_redirects=False)
    assert "s3cr3t-key-material" in response.json()["errors"][0]["message"]
    assert "s3cr3t" not in json.dumps(emulator.journal())
    response = raw(api, "POST", api.zone(HOSTNAMES), json={"hostname": "b.example.com"}, allow_redirects=False)
    message = response.json()["errors"][0]["message"]
    assert emulator.journal()[-1]["response_body"]["errors"][0]["message"] == message  # nothing secret: kept as sent


def test_echo_sends_back_at_most_20000_characters(emulator, api):
    emulator.add_fault("echo", answer="string")
    text = "x" * 25000
    response = raw(api, "POST", api.zone(HOSTNAMES), data=text, allow_redirects=False)
    assert response.status_code == 400 and response.json()["errors"] == "Invalid request: " + "x" * 20000


def test_unprocessed_faults_answer_without_credentials(emulator):
    """Like the other injected faults, they fire before authentication."""
    anonymous = Api(emulator, {})
    emulator.add_fault("unapplied", method="POST", answer="empty")
    response = raw(anonymous, "POST", anonymous.zone(HOSTNAMES), json={"hostname": "a.example.com"}, allow_redirects=False)
    assert response.status_code == 200 and response.json() == dict(SUCCESS, result=None)
    emulator.add_fault("unapplied", method="PATCH")  # stale: the GET fails without credentials
    response = raw(anonymous, "PATCH", anonymous.zone(HOSTNAMES + "/" + "0" * 32), json={}, allow_redirects=False)
    assert response.status_code == 200 and response.json() == dict(SUCCESS, result={})
