"""Outcomes after a failure and for a hostname still deploying (_rotation/outcomes.py, files.failed_results)."""

from __future__ import annotations

import json

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import failed_results
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import outcomes
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import plan_rotation
from emulator.testcerts import make_leaf
from planning import NOW, files
from test_plan import CA
from test_plan import hostname as served_hostname

FP_OLD, FP_NEW = "aa" * 32, "bb" * 32
FAILURE = "Apply | replace the certificates of the custom hostnames due, and wait until they are live: 1 of 2 custom hostnames failed"


def hostname_obj(name, action="rotate"):
    return {"kind": "custom_hostname", "name": name, "action": action, "new_fingerprints": [FP_NEW]}


def host(name, fingerprint, ssl_status="active"):
    return {"hostname": name, "status": "active", "ssl": {"status": ssl_status, "certificates": [{"key_type": "ecdsa", "fingerprint_sha256": fingerprint}]}}


def by_name(rows):
    return {(r["kind"], r["name"]): r for r in rows}


def test_a_hostname_whose_write_failed_is_failed_with_its_reason_and_one_not_reached_is_not_attempted():
    plan = {"objects": [hostname_obj("a.example.com"), hostname_obj("b.example.com"), hostname_obj("c.example.com")]}
    after = {"custom_hostnames": [host("a.example.com", FP_OLD), host("b.example.com", FP_NEW), host("c.example.com", FP_OLD)]}
    rows = by_name(outcomes(plan, after, FAILURE, failed_hostnames={"A.example.com": "HTTP 500: internal error"}))
    assert rows[("custom_hostname", "a.example.com")]["outcome"] == "failed"
    assert rows[("custom_hostname", "a.example.com")]["detail"] == "its write failed: HTTP 500: internal error"
    assert rows[("custom_hostname", "b.example.com")]["outcome"] == "rotated"
    assert rows[("custom_hostname", "c.example.com")]["outcome"] == "not_attempted"


def test_without_the_apply_results_a_hostname_on_its_old_certificate_after_a_failure_stays_not_attempted():
    rows = outcomes({"objects": [hostname_obj("a.example.com")]}, {"custom_hostnames": [host("a.example.com", FP_OLD)]}, FAILURE)
    assert rows[0]["outcome"] == "not_attempted"


def test_a_restart_and_a_revalidation_whose_task_never_ran_are_not_attempted_not_pending():
    plan = {
        "objects": [
            {"kind": "cert_pack", "name": "example.com", "action": "restart", "id": "p1"},
            {"kind": "managed_hostname", "name": "m.example.com", "action": "revalidate"},
        ]
    }
    after = {
        "cert_packs": [{"id": "p1", "status": "validation_timed_out"}],
        "custom_hostnames": [{"hostname": "m.example.com", "ssl": {"status": "validation_timed_out"}}],
    }
    never = [r["outcome"] for r in outcomes(plan, after, FAILURE, attempted=[])]
    assert never == ["not_attempted", "not_attempted"]
    ran = [r["outcome"] for r in outcomes(plan, after, FAILURE, attempted=["restart", "revalidate"])]
    assert ran == ["pending", "pending"]
    assert [r["outcome"] for r in outcomes(plan, after, None, attempted=[])] == ["pending", "pending"]  # no failure: they ran
    assert [r["outcome"] for r in outcomes(plan, after, FAILURE)] == ["pending", "pending"]  # not told: as before


def test_a_switched_client_certificate_whose_old_one_is_kept_after_a_failure_says_so_with_its_id():
    obj = {"kind": "client_cert", "name": "app.example.com", "action": "rotate", "hostnames": ["app.example.com"], "retire": [], "replaces": ["old1"]}
    obj["new_certificate"] = {"fingerprint_sha256": FP_NEW}
    certs = [
        {"id": "new1", "status": "active", "fingerprint_sha256": FP_NEW, "hostnames": [{"hostname": "app.example.com", "enabled": True}]},
        {"id": "old1", "status": "active", "fingerprint_sha256": FP_OLD, "hostnames": []},
    ]
    (row,) = outcomes({"objects": [obj]}, {"hostname_client_certs": certs}, FAILURE)
    assert row["outcome"] == "rotated"
    assert row["detail"] == "the replaced certificate old1 is kept: nothing is retired after a failure"
    (row,) = outcomes({"objects": [obj]}, {"hostname_client_certs": certs[:1]}, FAILURE)  # deleted already
    assert (row["outcome"], row["detail"]) == ("rotated", None)


def test_a_hostname_planned_pending_is_pending_until_live_then_up_to_date():
    plan = {"objects": [hostname_obj("p.example.com", "pending")]}
    (row,) = outcomes(plan, {"custom_hostnames": [host("p.example.com", FP_NEW, "pending_deployment")]})
    assert row["outcome"] == "pending" and "pending_deployment" in row["detail"]
    (row,) = outcomes(
        plan, {"custom_hostnames": [host("p.example.com", FP_NEW, "pending_deployment")]}, FAILURE, failed_hostnames={"p.example.com": "not live"}
    )
    assert row["outcome"] == "pending" and row["detail"].endswith("; not live")
    (row,) = outcomes(plan, {"custom_hostnames": [host("p.example.com", FP_NEW)]})
    assert (row["outcome"], row["detail"]) == ("up_to_date", "live now")
    (row,) = outcomes(plan, {"custom_hostnames": [host("p.example.com", FP_NEW, "pending_deployment")]}, check_mode=True)
    assert row["outcome"] == "pending"


def test_failed_results_reads_the_failed_entries_of_the_apply_file(tmp_path):
    path = tmp_path / "applied.json"
    results = [
        {"hostname": "a.example.com", "id": "1", "changed": False, "failed": True, "msg": "HTTP 500"},
        {"hostname": "b.example.com", "id": "2", "changed": True, "failed": False},
    ]
    path.write_text(json.dumps({"zone_id": "z", "custom_hostnames": [], "results": results, "switched": []}))
    assert failed_results(str(path), "hostname_results") == {"a.example.com": "HTTP 500"}


def test_the_plan_says_pending_for_a_hostname_holding_its_new_certificate_still_deploying_and_lists_it(tmp_path):
    new = make_leaf(CA, ["*.example.com"], days=90)
    new_files = files(tmp_path, "new", new)
    discovered = [served_hostname("deploying.example.com", new, ssl_status="pending_deployment"), served_hostname("live.example.com", new)]
    items = [{"hostname": h["hostname"], "certificates": [new_files]} for h in discovered]
    out = plan_rotation({"custom_hostnames": items, "discovered": {"custom_hostnames": discovered}}, now=NOW)
    actions = {o["name"]: o["action"] for o in out["plan"]["objects"]}
    assert actions == {"deploying.example.com": "pending", "live.example.com": "up_to_date"}
    assert out["plan"]["hostname_certificates"] == [{"hostname": "deploying.example.com", "certificates": [new_files], "exclusive": False}]
    assert out["summary"]["pending"] == 1 and out["plan"]["changes"] == []


def test_what_was_to_change_in_a_kind_not_read_back_is_unknown_and_the_rest_as_before():
    plan = {
        "objects": [
            hostname_obj("a.example.com"),
            hostname_obj("b.example.com", action="up_to_date"),
            {"kind": "client_cert", "name": "app.example.com", "action": "rotate", "new_fingerprints": [FP_NEW]},
            {"kind": "cert_pack", "name": "example.com", "action": "restart", "id": "p1"},
        ]
    }
    after = {
        "custom_hostnames": [host("a.example.com", FP_OLD), host("b.example.com", FP_NEW)],
        "hostname_client_certs": [],
        "cert_packs": [{"id": "p1", "status": "validation_timed_out"}],
    }
    rows = by_name(outcomes(plan, after, FAILURE, unread=["custom_hostnames", "hostname_client_certs"]))
    assert rows[("custom_hostname", "a.example.com")]["outcome"] == "unknown"
    assert "could not be read back" in rows[("custom_hostname", "a.example.com")]["detail"]
    assert rows[("custom_hostname", "b.example.com")]["outcome"] == "up_to_date"  # nothing was to change
    assert rows[("client_cert", "app.example.com")]["outcome"] == "unknown"
    assert rows[("cert_pack", "example.com")]["outcome"] == "pending"  # its kind was read back
    # read back, the same objects are judged by the state as before
    rows = by_name(outcomes(plan, after, FAILURE))
    assert rows[("custom_hostname", "a.example.com")]["outcome"] == "not_attempted"
