"""Rotation planning: the decision per object over real certificates minted here.

An object is rotated only when what is served differs from the new material and it is due (within the renewal
window, in days or as a share of its lifetime, the earlier winning) or forced; new material that would not outlive
what is served is refused. Also: `replaces`, the client-certificate quota, certificate packs and revalidation of
timed-out hostnames only.
"""

from __future__ import annotations

import json

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import cloudflare_issuer, isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import Planner, plan_rotation
from emulator.testcerts import make_ca, make_leaf
from planning import NOW, at, files

CA = make_ca("Rotation Unit CA")


def served_view(leaf) -> dict:
    """A served certificate as custom_hostname_cert_info shows it."""
    return {
        "id": "c1",
        "key_type": "ecdsa",
        "serial_number": str(leaf.cert.serial_number),
        "fingerprint_sha256": leaf.fingerprint_sha256,
        "expires_on": isoformat(leaf.cert.not_valid_after_utc),
    }


def hostname(name: str, *leaves, ssl_status: str = "active") -> dict:
    return {"id": "h-" + name, "hostname": name, "status": "active", "ssl": {"status": ssl_status, "certificates": [served_view(leaf) for leaf in leaves]}}


# A 6-day certificate served with just under 2 days left (lifetime started 4 days and 2 hours ago).
SHORT = {"expires_on": at(1 + 22 / 24), "not_before": at(-4 - 2 / 24)}


def test_short_lived_certificate_is_rotated_by_the_percentage_window_but_not_by_one_day():
    assert Planner(renew_before_percentage=33, now=NOW).not_due_reason(SHORT) is None
    assert Planner(renew_before_days=1, now=NOW).not_due_reason(SHORT) == "not due: expires in 1 day, window 1 day"


def test_both_windows_the_earlier_moment_wins():
    assert Planner(renew_before_days=1, renew_before_percentage=33, now=NOW).not_due_reason(SHORT) is None
    # 90-day certificate, 60 days left: neither 30 days nor 33 % (29.7 days) is due.
    ninety = {"expires_on": at(60), "not_before": at(-30)}
    assert Planner(renew_before_days=30, renew_before_percentage=33, now=NOW).not_due_reason(ninety).startswith("not due: expires in 59 days, window 30 days")


def test_thirty_days_only_when_neither_is_set():
    assert Planner(now=NOW).not_due_reason({"expires_on": at(29)}) is None
    assert Planner(now=NOW).not_due_reason({"expires_on": at(31)}) == "not due: expires in 30 days, window 30 days"
    # Only a percentage: 30 days does not apply (20 % of 100 days = 20 days).
    assert Planner(renew_before_percentage=20, now=NOW).not_due_reason({"expires_on": at(25), "uploaded_on": at(-75)}).startswith("not due")


def test_uploaded_on_stands_in_for_not_before_and_an_unknown_lifetime_is_said():
    assert Planner(renew_before_percentage=33, now=NOW).not_due_reason({"expires_on": at(1.9), "uploaded_on": at(-4.1)}) is None
    reason = Planner(renew_before_percentage=33, now=NOW).not_due_reason({"expires_on": at(1.9)})
    assert "lifetime is unknown" in reason


def test_force_rotates_what_differs_but_not_what_is_identical(tmp_path):
    old, new = make_leaf(CA, ["a.example.com"], days=80), make_leaf(CA, ["a.example.com"], days=90)
    items = [{"hostname": "a.example.com", "certificates": [files(tmp_path, "new", new)]}]
    for force, action in ((False, "skipped"), (True, "rotate")):
        out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": [hostname("a.example.com", old)]}, "force": force}, now=NOW)
        assert [o["action"] for o in out["plan"]["objects"]] == [action]
    out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": [hostname("a.example.com", new)]}, "force": True}, now=NOW)
    assert out["plan"]["objects"][0]["action"] == "up_to_date" and out["plan"]["hostname_certificates"] == []


def test_custom_hostnames_rotate_upload_up_to_date_and_skip(tmp_path):
    due_old = make_leaf(CA, ["*.example.com"], days=10, not_before_days=-80)
    fresh_old = make_leaf(CA, ["*.example.com"], days=60.5, not_before_days=-30)
    new = make_leaf(CA, ["*.example.com"], days=90)
    new_files = files(tmp_path, "new", new)
    discovered = [
        hostname("due.example.com", due_old),
        hostname("fresh.example.com", fresh_old),
        hostname("first.example.com"),
        hostname("same.example.com", new),
    ]
    items = [{"hostname": h["hostname"], "certificates": [new_files]} for h in discovered]
    out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": discovered}}, now=NOW)
    actions = {o["name"]: (o["action"], o["reason"]) for o in out["plan"]["objects"]}
    assert actions["due.example.com"][0] == "rotate"
    assert actions["fresh.example.com"] == ("skipped", "not due: expires in 60 days, window 30 days")
    assert actions["first.example.com"][0] == "upload"
    assert actions["same.example.com"][0] == "up_to_date"
    assert out["problems"] == []
    expected = [{"hostname": h, "certificates": [new_files], "exclusive": False} for h in ("due.example.com", "first.example.com")]
    assert out["plan"]["hostname_certificates"] == expected
    rotated = out["plan"]["objects"][0]
    assert rotated["old"]["fingerprint_sha256"] == due_old.fingerprint_sha256 and rotated["new"]["fingerprint_sha256"] == new.fingerprint_sha256
    assert out["summary"] == dict(
        total=4, problems=0, rotate=1, upload=1, up_to_date=1, pending=0, skipped=1, restart=0, revalidate=0, missing=0, retire=0, kept=0, due=0
    )
    # After the rotation the hostname serves the new certificate: the next run does nothing (not rotated on every run).
    discovered[0] = hostname("due.example.com", new)
    again = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": discovered}}, now=NOW)
    assert [h["hostname"] for h in again["plan"]["hostname_certificates"]] == ["first.example.com"]


def test_every_problem_is_listed_naming_its_object(tmp_path):
    good = files(tmp_path, "good", make_leaf(CA, ["*.example.com"], days=90))
    expired = files(tmp_path, "expired", make_leaf(CA, ["*.example.com"], days=-1, not_before_days=-90))
    other = files(tmp_path, "other", make_leaf(CA, ["other.example.net"]))
    short = files(tmp_path, "short", make_leaf(CA, ["*.example.com"], days=5))
    served = make_leaf(CA, ["*.example.com"], days=20)
    discovered = [hostname("h%d.example.com" % i, served) for i in range(4)]
    items = [
        {"hostname": "h0.example.com", "certificates": [expired]},
        {"hostname": "h1.example.com", "certificates": [other]},
        {"hostname": "h2.example.com", "certificates": [short]},
        {"hostname": "h3.example.com", "certificates": [good]},
        {"hostname": "gone.example.com", "certificates": [good]},
    ]
    out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": discovered}}, now=NOW)
    problems = out["problems"]
    assert len(problems) == 4, problems
    assert problems[0].startswith("custom hostname h0.example.com: ") and "expired" in problems[0]
    assert problems[1].startswith("custom hostname h1.example.com: ") and "does not cover h1.example.com" in problems[1]
    assert problems[2].startswith("custom hostname h2.example.com: ") and "would not outlive" in problems[2]
    assert problems[3].startswith("custom hostname gone.example.com: not found")
    assert [h["hostname"] for h in out["plan"]["hostname_certificates"]] == ["h3.example.com"]


def test_client_certificate_quota_counts_pending_deletion(tmp_path):
    new = files(tmp_path, "client", make_leaf(CA, ["client.example.com"]))
    held = [{"id": "c%d" % i, "status": "pending_deletion" if i == 0 else "active", "expires_on": at(300), "hostnames": []} for i in range(10)]
    item = {**new, "hostnames": ["app.example.com"]}
    out = plan_rotation({"client_certs": [item], "discovered": {"hostname_client_certs": held}}, now=NOW)
    assert len(out["problems"]) == 1 and "holds 10 of 10" in out["problems"][0] and "pending_deletion" in out["problems"][0]
    out = plan_rotation({"client_certs": [item], "discovered": {"hostname_client_certs": held[1:]}}, now=NOW)
    assert out["problems"] == [] and out["plan"]["objects"][0]["action"] == "upload"


def test_more_than_100_hostnames_on_one_client_certificate_is_a_problem_before_any_upload(tmp_path):
    new = files(tmp_path, "client", make_leaf(CA, ["client.example.com"]))
    names = ["h%03d.example.com" % i for i in range(101)]
    out = plan_rotation({"client_certs": [{**new, "hostnames": names}], "discovered": {"hostname_client_certs": []}}, now=NOW)
    assert len(out["problems"]) == 1, out["problems"]
    assert out["problems"][0].startswith("client_certs[0].hostnames: 101 hostnames for client certificate client_certs[0]")
    assert "at most 100" in out["problems"][0]
    out = plan_rotation({"client_certs": [{**new, "hostnames": names[:100]}], "discovered": {"hostname_client_certs": []}}, now=NOW)
    assert out["problems"] == []


def test_client_certificate_rotation_step_retires_the_old_one(tmp_path):
    leaf = make_leaf(CA, ["client.example.com"])
    old = {
        "id": "old1",
        "status": "active",
        "serial_number": "1",
        "expires_on": at(1.9),
        "uploaded_on": at(-4.1),
        "hostnames": [{"hostname": "app.example.com", "enabled": True}],
    }
    item = {**files(tmp_path, "client", leaf), "hostnames": ["App.Example.com"]}
    out = plan_rotation({"client_certs": [item], "discovered": {"hostname_client_certs": [old]}, "renew_before_percentage": 33}, now=NOW)
    (step,) = out["plan"]["client_cert_steps"]
    assert step["upload"] and step["retire"] == ["old1"] and step["hostnames"] == ["app.example.com"]
    assert out["plan"]["objects"][0]["action"] == "rotate"
    out = plan_rotation({"client_certs": [item], "discovered": {"hostname_client_certs": [old]}, "renew_before_days": 1}, now=NOW)
    assert out["plan"]["objects"][0]["action"] == "skipped" and out["plan"]["client_cert_steps"] == []


def test_zone_certificates_edit_in_place_replace_and_ambiguous_replaces(tmp_path):
    new = make_leaf(CA, ["example.com", "www.example.com"], key_type="rsa")
    item = files(tmp_path, "zone", new)
    same_hosts = {"id": "z1", "hosts": ["example.com", "www.example.com"], "status": "active", "priority": 1, "expires_on": at(5), "issuer": "x"}
    other_hosts = {"id": "z2", "hosts": ["example.com"], "status": "active", "priority": 2, "expires_on": at(5), "issuer": "x"}
    out = plan_rotation({"zone_certs": [item], "discovered": {"custom_certs": [same_hosts, other_hosts]}}, now=NOW)
    assert out["plan"]["zone_cert_steps"][0]["mode"] == "edit" and out["plan"]["zone_cert_steps"][0]["id"] == "z1"
    out = plan_rotation({"zone_certs": [dict(item, replaces="z2", priority=2)], "discovered": {"custom_certs": [same_hosts, other_hosts]}}, now=NOW)
    step = out["plan"]["zone_cert_steps"][0]
    assert (step["mode"], step["above"], step["retire"]) == ("replace", "z2", "z2")
    twin = dict(other_hosts, id="z3")
    out = plan_rotation({"zone_certs": [dict(item, replaces=["example.com"])], "discovered": {"custom_certs": [other_hosts, twin]}}, now=NOW)
    assert len(out["problems"]) == 1 and "exactly one" in out["problems"][0] and "z2, z3" in out["problems"][0]


def test_zone_certificate_replaces_is_up_to_date_on_a_rerun_after_the_replacement(tmp_path):
    """A re-run (or a resume after a crash) once the replaced certificate is gone: nothing to do, not a problem."""
    new = make_leaf(CA, ["example.com", "www.example.com"])
    item = dict(files(tmp_path, "zone", new), replaces=["example.com"])
    there = {
        "id": "z9",
        "hosts": ["www.example.com", "example.com"],
        "status": "active",
        "priority": 1,
        "expires_on": isoformat(new.cert.not_valid_after_utc),
        "issuer": cloudflare_issuer(new.cert),
    }
    out = plan_rotation({"zone_certs": [item], "discovered": {"custom_certs": [there]}}, now=NOW)
    assert out["problems"] == [] and out["plan"]["zone_cert_steps"] == []
    assert [(o["action"], o["id"]) for o in out["plan"]["objects"]] == [("up_to_date", "z9")]
    # Neither the replaced one nor the new one there: still a problem.
    out = plan_rotation({"zone_certs": [item], "discovered": {"custom_certs": [dict(there, expires_on=at(5))]}}, now=NOW)
    assert len(out["problems"]) == 1 and "found none" in out["problems"][0]


def test_packs_missing_is_reported_not_a_problem_and_revalidation_only_timed_out():
    packs = [
        {"id": "p1", "hosts": ["example.com", "www.example.com"], "status": "validation_timed_out"},
        {"id": "p2", "hosts": ["b.example.com"], "status": "active"},
    ]
    hosts = [hostname("m.example.com", ssl_status="validation_timed_out"), hostname("n.example.com", ssl_status="pending_validation")]
    params = {
        "cert_packs": [["www.example.com", "example.com"], ["b.example.com"], ["nope.example.com"]],
        "discovered": {"cert_packs": packs, "custom_hostnames": hosts},
    }
    out = plan_rotation(params, now=NOW)
    assert out["problems"] == []
    assert out["plan"]["restart_cert_packs"] == ["p1"] and out["plan"]["revalidate_hostnames"] == ["m.example.com"]
    assert [o["action"] for o in out["plan"]["objects"]] == ["restart", "up_to_date", "missing", "revalidate"]
    assert plan_rotation(dict(params, revalidate=False), now=NOW)["plan"]["revalidate_hostnames"] == []


def test_no_key_material_in_the_plan(tmp_path):
    leaf = make_leaf(CA, ["a.example.com"])
    bad = make_leaf(CA, ["a.example.com"])
    items = [{"hostname": "a.example.com", "certificates": [dict(files(tmp_path, "a", leaf), private_key_path=files(tmp_path, "b", bad)["private_key_path"])]}]
    out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": [hostname("a.example.com")]}}, now=NOW)
    assert "does not belong" in out["problems"][0]
    text = json.dumps(out)
    for key in (leaf.key_pem, bad.key_pem):
        for line in key.splitlines()[1:-1]:
            assert line not in text


@pytest.mark.parametrize("pct", [33])
def test_ninety_day_certificate_is_not_rotated_on_every_run(tmp_path, pct):
    served = make_leaf(CA, ["a.example.com"], days=89, not_before_days=-1)
    view = dict(served_view(served), not_before=isoformat(served.cert.not_valid_before_utc))
    new = files(tmp_path, "new", make_leaf(CA, ["a.example.com"], days=90))
    host = {"id": "h", "hostname": "a.example.com", "status": "active", "ssl": {"status": "active", "certificates": [view]}}
    for params in ({"renew_before_percentage": pct}, {"renew_before_days": 30}, {}):
        out = plan_rotation(
            dict(params, custom_hostnames=[{"hostname": "a.example.com", "certificates": [new]}], discovered={"custom_hostnames": [host]}), now=NOW
        )
        assert out["plan"]["objects"][0]["action"] == "skipped", params


def test_two_certificates_of_one_key_type_are_a_problem_even_for_a_missing_hostname(tmp_path):
    first = files(tmp_path, "first", make_leaf(CA, ["*.example.com"], key_type="rsa"))
    second = files(tmp_path, "second", make_leaf(CA, ["*.example.com"], key_type="rsa"))
    served = make_leaf(CA, ["*.example.com"], days=20)
    items = [{"hostname": name, "certificates": [first, second]} for name in ("h0.example.com", "gone.example.com")]
    out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": [hostname("h0.example.com", served)]}}, now=NOW)
    assert out["problems"] == [
        "custom hostname h0.example.com: two new certificates of key type rsa; give one certificate or one RSA and one ECDSA",
        "custom hostname gone.example.com: two new certificates of key type rsa; give one certificate or one RSA and one ECDSA",
        "custom hostname gone.example.com: not found in the zone (create it with certops.cloudflare.custom_hostname first)",
    ]
    assert out["plan"]["hostname_certificates"] == []
