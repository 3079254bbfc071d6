"""Certificate pack helpers: host checks that name every problem, identity by host set, the view, the wait."""

from __future__ import annotations

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._cert_pack import host_problems, pack_view, same_hosts, wait_active
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError, NotFoundError


def test_host_problems_names_every_problem():
    problems = host_problems(["www.example.com", "www.example.com", "api.example.org", "x.example.org"], "example.com")
    assert problems == [
        "hosts names www.example.com more than once (hosts compare in lower case, without a trailing dot)",
        "hosts must include the zone apex example.com",
        "hosts api.example.org, x.example.org are not in zone example.com",
    ]
    assert host_problems(["example.com", "*.example.com", "a.b.example.com"], "example.com") == []
    assert host_problems([], "example.com") == ["hosts holds 0 hostnames; a certificate pack takes 1 to 50"]
    assert "51 hostnames" in host_problems(["example.com"] + ["h%d.example.com" % i for i in range(50)], "example.com")[0]
    assert host_problems(["www.example.org"], None) == []  # zone checks wait for the zone's name


def test_same_hosts_ignores_order_case_dot_and_ended_or_other_packs():
    packs = [
        {"id": "a", "type": "advanced", "status": "active", "hosts": ["WWW.example.com.", "example.com"]},
        {"id": "b", "type": "advanced", "status": "pending_deletion", "hosts": ["example.com", "www.example.com"]},
        {"id": "c", "type": "advanced", "status": "deleted", "hosts": ["example.com", "www.example.com"]},
        {"id": "d", "type": "universal", "status": "active", "hosts": ["example.com", "www.example.com"]},
        {"id": "e", "type": "advanced", "status": "active", "hosts": ["example.com"]},
    ]
    assert [p["id"] for p in same_hosts(packs, ["example.com", "www.example.com"])] == ["a"]


def test_view_reports_the_earliest_certificate_expiry():
    view = pack_view(
        {
            "id": "p",
            "type": "advanced",
            "hosts": ["example.com"],
            "status": "active",
            "certificates": [
                {"id": "c1", "hosts": ["example.com"], "status": "active", "issuer": "X", "expires_on": "2099-03-01T00:00:00Z"},
                {"id": "c2", "hosts": ["example.com"], "status": "active", "issuer": "X", "expires_on": "2099-01-01T00:00:00.000000Z"},
                {"id": "c3", "hosts": ["example.com"], "status": "active", "issuer": "X", "expires_on": "not a time"},
            ],
        }
    )
    assert view["expires_on"] == "2099-01-01T00:00:00.000000Z" and view["days_remaining"] > 0
    assert view["cloudflare_branding"] is False and view["validation_records"] == [] and view["dcv_delegation_records"] == []
    assert [c["id"] for c in view["certificates"]] == ["c1", "c2", "c3"] and view["certificates"][2]["days_remaining"] is None


def test_wait_active_backs_off_doubling_up_to_ten_seconds():
    answers = iter([{"status": "initializing"}] * 7 + [{"status": "active", "id": "p"}])
    slept = []
    assert wait_active(lambda: next(answers), 3600, "p", sleep=slept.append)["id"] == "p"
    assert slept == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0]


def test_wait_active_fails_at_once_on_a_stuck_status_naming_the_validation_errors():
    stuck = {"status": "validation_timed_out", "validation_errors": [{"message": "no TXT record"}]}
    slept = []
    with pytest.raises(CloudflareError, match="validation_timed_out, which waiting will not make active; validation errors: no TXT record"):
        wait_active(lambda: stuck, 3600, "p", sleep=slept.append)
    assert slept == []


def test_wait_active_times_out_with_the_one_timeout_error_naming_the_last_status():
    with pytest.raises(WaitTimeoutError, match="last status was pending_validation"):
        wait_active(lambda: {"status": "pending_validation"}, 0.1, "p", sleep=lambda s: None)


def test_wait_active_fails_when_the_pack_disappears():
    def gone():
        raise NotFoundError("not found", status=404)

    with pytest.raises(CloudflareError, match="disappeared"):
        wait_active(gone, 10, "p", sleep=lambda s: None)
