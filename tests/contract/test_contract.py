"""Contract check: requests and answers against Cloudflare's OpenAPI document (see checker.py).

Replays every request journaled in tests/output/journal/ by the collection (run after the suites
that produce journals, as `make test` does), and the emulator self-test covering all 38 operations of the `next/` document.
Skipped, with the reason printed, when the document is absent.
"""

from __future__ import annotations

import os

import pytest

from .checker import JOURNAL_DIR, SPEC_PATH, Checker, read_journals
from .selftest import exercise_all_operations


@pytest.fixture(scope="module")
def checker() -> Checker:
    if not SPEC_PATH.is_file():
        reason = "contract check skipped: the OpenAPI document %s is absent" % SPEC_PATH
        print(reason)
        pytest.skip(reason)
    return Checker()


def violations(checker: Checker, entries) -> str:
    found = [line for entry in entries for line in checker.check(entry)]
    return "%d violation(s):\n%s" % (len(found), "\n".join(found)) if found else ""


@pytest.mark.emulator(delay=0)
def test_selftest_covers_every_operation_and_follows_the_document(checker, emulator):
    exercise_all_operations(emulator)
    entries = [dict(e, test="selftest") for e in emulator.journal()]
    covered = {checker.operation_id(e["method"], e["path"]) for e in entries}
    assert covered == set(checker.operation_ids()) and len(covered) == 38, sorted(set(checker.operation_ids()) - covered)
    found = violations(checker, entries)
    assert not found, found


def test_journaled_requests_of_the_collection_follow_the_document(checker):
    entries = read_journals()
    if not entries:
        reason = "no requests of the collection journaled in %s yet (run the integration tests first)" % JOURNAL_DIR
        # `make contract` runs right after the integration tests: an empty journal there means nothing was checked.
        assert not os.environ.get("CERTOPS_REQUIRE_JOURNAL"), reason
        print(reason)
        pytest.skip(reason)
    found = violations(checker, entries)
    assert not found, found


def test_the_checker_reports_violations(checker):
    """The check itself: an invalid request and answers off the document are reported."""
    zone = "/client/v4/zones/" + "0" * 32
    bad_request = {
        "method": "POST",
        "path": zone + "/ssl/certificate_packs/order",
        "query_string": "",
        "auth_scheme": "token",
        "request_body": {"type": "advanced", "hosts": ["example.com"], "validation_method": "dns", "validity_days": 90, "certificate_authority": "google"},
        "status": 400,
        "fault": None,
        "response_body": {"success": False, "errors": [{"code": 7, "message": "x"}], "messages": [], "result": None},
    }
    problems = checker.check(bad_request)
    assert any("request" in p and "validation_method" in p for p in problems), problems
    assert any("less than the minimum of 1000" in p for p in problems), problems
    bad_answer = {
        "method": "GET",
        "path": zone + "/ssl/certificate_packs/quota",
        "query_string": "per_page=5",
        "auth_scheme": "token",
        "request_body": None,
        "status": 200,
        "fault": None,
        "response_body": {"success": True, "errors": [], "messages": [], "result": {"advanced": {"allocated": "ten"}}},
    }
    assert any("answer HTTP 200" in p for p in checker.check(bad_answer))
    assert checker.check(dict(bad_answer, path=zone + "/nothing")) == ["GET %s/nothing?per_page=5 [?]: no such operation in the document" % zone]
    waived = {
        "method": "DELETE",
        "path": zone + "/custom_hostnames/" + "1" * 32,
        "query_string": "",
        "auth_scheme": "token",
        "request_body": None,
        "status": 200,
        "fault": None,
        "response_body": {"id": "1" * 32},
    }
    assert checker.check(waived) == []


def test_credentials_beyond_the_2024_security_are_waived_only_where_the_newer_reference_accepts_them(checker):
    # A token on an Origin CA or zone-level operation is accepted (checker.NEWER_SCHEMES); the Origin CA key elsewhere is not.
    zone = "/client/v4/zones/" + "0" * 32
    entry = {"method": "GET", "path": "/client/v4/certificates/" + "1" * 32, "query_string": "", "request_body": None, "status": 404, "fault": None}
    entry["response_body"] = {"success": False, "errors": [{"code": 1005, "message": "not found"}], "messages": [], "result": None}
    for scheme in ("token", "key", "service_key"):
        assert checker.check(dict(entry, auth_scheme=scheme)) == [], scheme
    assert any("Security" in p for p in checker.check(dict(entry, auth_scheme=None)))
    settings = dict(entry, path=zone + "/origin_tls_client_auth/settings")
    for scheme in ("token", "key"):
        assert checker.check(dict(settings, auth_scheme=scheme)) == [], scheme
    assert any("Security" in p for p in checker.check(dict(settings, auth_scheme="service_key")))
    assert any("Security" in p for p in checker.check(dict(entry, path=zone + "/custom_certificates", auth_scheme="service_key")))
