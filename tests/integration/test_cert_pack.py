"""cert_pack and cert_pack_info against the emulator.

Every scenario asserts on the module result and on the emulator: its state and the request journal
(the exact writes sent; that nothing is written before the inputs are known to be good).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

MOD = "certops.cloudflare.cert_pack"
INFO = "certops.cloudflare.cert_pack_info"
HOSTS = ["example.com", "www.example.com"]
ORDER = dict(validation_method="txt", validity_days=90, certificate_authority="lets_encrypt")
VIEW_KEYS = {
    "id",
    "type",
    "hosts",
    "status",
    "certificate_authority",
    "validation_method",
    "validity_days",
    "cloudflare_branding",
    "validation_records",
    "validation_errors",
    "dcv_delegation_records",
    "expires_on",
    "days_remaining",
    "certificates",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def task(args: Dict[str, Any], module: str = MOD, **keywords: Any) -> Dict[str, Any]:
    return dict({"name": "%s %s" % (module, sorted(args)), module: args, "register": "result", "ignore_errors": True}, **keywords)


def run_play(ansible: Any, tasks: List[Dict[str, Any]], **kwargs: Any) -> List[Dict[str, Any]]:
    play = ansible.run_tasks(tasks, **kwargs)
    assert len(play.results) == len(tasks), play.output
    return [r["result"] for r in play.results]


def writes(emulator: Any) -> List[Tuple[str, str, Any]]:
    """(method, path below the zone, request body) of every write in the journal."""
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, ""), e["request_body"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def packs_in_state(emulator: Any) -> Dict[str, Dict[str, Any]]:
    return {p["id"]: p for p in emulator.dump_state()["zones"][0].get("cert_packs", [])}


def seed(emulator: Any, hosts: Optional[List[str]] = None, **spec: Any) -> str:
    return emulator.state.add_cert_pack(emulator.zone_id, hosts or HOSTS, **dict(ORDER, **spec)).id


def args(emulator: Any, **changes: Any) -> Dict[str, Any]:
    return dict(dict(ORDER, zone_id=emulator.zone_id, hosts=HOSTS), **changes)


@pytest.mark.emulator(delay=3600)  # statuses stand still
def test_order_check_mode_rerun_unchanged(ansible, emulator):
    order = args(emulator, hosts=["WWW.example.com.", "example.com"])
    check, real, again, again_check = run_play(
        ansible, [task(order, check_mode=True, diff=True), task(order, diff=True), task(order, diff=True), task(order, check_mode=True)]
    )
    assert check["changed"] and not check.get("failed"), check
    assert check["cert_pack"]["id"] is None and check["cert_pack"]["status"] == "initializing"
    assert check["diff"]["before"] == {} and check["diff"]["after"]["certificate_authority"] == "lets_encrypt"

    assert real["changed"] and not real.get("failed"), real
    view = real["cert_pack"]
    assert set(view) == VIEW_KEYS | {"previous_id", "previous_deleted"}
    assert view["type"] == "advanced" and sorted(view["hosts"]) == HOSTS and view["status"] == "initializing"
    assert (view["validation_method"], view["validity_days"], view["certificate_authority"], view["cloudflare_branding"]) == ("txt", 90, "lets_encrypt", False)
    assert sorted(r["cname"] for r in view["dcv_delegation_records"]) == ["_acme-challenge.example.com", "_acme-challenge.www.example.com"]
    assert view["previous_id"] is None and view["expires_on"] is None

    # Exactly one order (check mode wrote nothing), hosts normalized; the re-runs change nothing.
    [(method, path, body)] = writes(emulator)
    assert (method, path) == ("POST", "ssl/certificate_packs/order")
    assert body == {
        "type": "advanced",
        "hosts": ["www.example.com", "example.com"],
        "validation_method": "txt",
        "validity_days": 90,
        "certificate_authority": "lets_encrypt",
    }
    assert not again["changed"] and not again_check["changed"], (again, again_check)
    assert again["cert_pack"]["id"] == view["id"] and again["diff"]["before"] == again["diff"]["after"]
    assert list(packs_in_state(emulator)) == [view["id"]]
    # Packs are listed in every status, and with zone_id the zone is read once per run for its name.
    lists = [e for e in emulator.journal() if e["path"].endswith("/ssl/certificate_packs")]
    assert lists and all(e["query"].get("status") == "all" for e in lists)


@pytest.mark.emulator(delay=3600)
def test_pack_listed_only_with_status_all_is_found_not_ordered_twice(ansible, emulator):
    pack_id = seed(emulator, hosts=["www.example.com", "example.com"], status="pending_validation")
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator, zone="example.com", zone_id=None)).result
    assert not result.get("failed") and not result["changed"], result
    assert result["cert_pack"]["id"] == pack_id and result["cert_pack"]["status"] == "pending_validation"
    assert result["cert_pack"]["validation_records"][0]["txt_name"].startswith("_acme-challenge.")
    assert writes(emulator) == []


@pytest.mark.emulator(delay=3600)
def test_branding_is_toggled_in_place(ansible, emulator):
    pack_id = seed(emulator, status="active")
    emulator.reset_journal()
    on, again = run_play(ansible, [task(args(emulator, cloudflare_branding=True), diff=True), task(args(emulator, cloudflare_branding=True))])
    assert on["changed"] and on["cert_pack"]["id"] == pack_id and on["cert_pack"]["cloudflare_branding"] is True, on
    assert on["diff"]["before"]["cloudflare_branding"] is False and on["diff"]["after"]["cloudflare_branding"] is True
    assert not again["changed"], again
    assert writes(emulator) == [("PATCH", "ssl/certificate_packs/" + pack_id, {"cloudflare_branding": True})]
    emulator.reset_journal()
    off = ansible.run_module(MOD, dict(zone_id=emulator.zone_id, certificate_pack_id=pack_id, cloudflare_branding=False)).result
    assert off["changed"] and off["cert_pack"]["cloudflare_branding"] is False, off
    assert writes(emulator) == [("PATCH", "ssl/certificate_packs/" + pack_id, {"cloudflare_branding": False})]
    assert list(packs_in_state(emulator)) == [pack_id]


@pytest.mark.emulator(delay=0.05)
def test_timed_out_pack_is_restarted_then_waited_for(ansible, emulator):
    pack_id = seed(emulator, status="validation_timed_out")
    emulator.reset_journal()
    check = ansible.run_module(MOD, args(emulator, wait=True), check=True, diff=True).result
    assert check["changed"] and check["diff"]["after"]["status"] == "pending_validation" and check["diff"]["before"]["status"] == "validation_timed_out"
    assert writes(emulator) == []
    restarted, again = run_play(ansible, [task(args(emulator, wait=True, wait_timeout=30)), task(args(emulator, wait=True))])
    assert restarted["changed"] and restarted["cert_pack"]["id"] == pack_id and restarted["cert_pack"]["status"] == "active", restarted
    [cert] = restarted["cert_pack"]["certificates"][:1]
    assert cert["issuer"] == "Let's Encrypt" and cert["days_remaining"] in (89, 90) and restarted["cert_pack"]["days_remaining"] in (89, 90)
    # Re-run on an active pack: no PATCH, nothing written.
    assert not again["changed"], again
    assert writes(emulator) == [("PATCH", "ssl/certificate_packs/" + pack_id, {})]


@pytest.mark.emulator(delay=3600)
def test_timed_out_pack_is_left_alone_without_restart_and_a_stuck_wait_fails_at_once(ansible, emulator):
    seed(emulator, status="validation_timed_out")
    emulator.reset_journal()
    kept, waited = run_play(ansible, [task(args(emulator, restart_validation=False)), task(args(emulator, restart_validation=False, wait=True))])
    assert not kept["changed"] and kept["cert_pack"]["status"] == "validation_timed_out", kept
    assert kept["cert_pack"]["validation_errors"]
    assert waited["failed"] and "validation_timed_out" in waited["msg"] and "validation records were not found" in waited["msg"], waited
    assert writes(emulator) == []


@pytest.mark.emulator(delay=3600)
def test_wait_that_times_out_reports_the_last_status(ansible, emulator):
    seed(emulator, status="pending_validation")
    emulator.reset_journal()
    started = time.monotonic()
    result = ansible.run_module(MOD, args(emulator, wait=True, wait_timeout=2)).result
    assert result["failed"] and "timed out" in result["msg"] and "last status was pending_validation" in result["msg"], result
    assert time.monotonic() - started < 30
    assert writes(emulator) == []


@pytest.mark.emulator(delay=0.05)
def test_immutable_change_is_refused_then_replaced(ansible, emulator):
    old_id = seed(emulator, status="active")
    emulator.reset_journal()
    refused = ansible.run_module(MOD, args(emulator, certificate_authority="google", validity_days=30)).result
    assert refused["failed"] and "certificate_authority lets_encrypt" in refused["msg"] and "validity_days 90" in refused["msg"], refused
    assert "validation_method" not in refused["msg"] and "replace=true" in refused["msg"]
    assert writes(emulator) == []

    replaced = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=30)).result
    assert replaced["changed"] and not replaced.get("failed"), replaced
    view = replaced["cert_pack"]
    assert view["id"] != old_id and view["status"] == "active" and view["certificate_authority"] == "google"
    assert view["previous_id"] == old_id and view["previous_deleted"] is True
    assert [(m, p) for m, p, _b in writes(emulator)] == [("POST", "ssl/certificate_packs/order"), ("DELETE", "ssl/certificate_packs/" + old_id)]
    assert list(packs_in_state(emulator)) == [view["id"]]


@pytest.mark.emulator(delay=3600)
def test_replace_interrupted_after_the_order_is_finished_by_a_rerun(ansible, emulator):
    old_id = seed(emulator, status="active")
    emulator.reset_journal()
    google = args(emulator, certificate_authority="google", replace=True)
    ordered, kept = run_play(ansible, [task(google), task(google)])
    assert ordered["changed"] and ordered["cert_pack"]["previous_id"] == old_id and ordered["cert_pack"]["previous_deleted"] is False, ordered
    new_id = ordered["cert_pack"]["id"]
    assert not kept["changed"] and kept["cert_pack"]["id"] == new_id and kept["cert_pack"]["previous_id"] == old_id, kept
    assert set(packs_in_state(emulator)) == {old_id, new_id}

    # Without replace, two packs for one host set fail naming both; with the old settings and replace, the old one is managed.
    both = ansible.run_module(MOD, args(emulator)).result
    assert both["failed"] and old_id in both["msg"] and new_id in both["msg"], both
    neither = ansible.run_module(MOD, args(emulator, certificate_authority="ssl_com", replace=True)).result
    assert neither["failed"] and old_id in neither["msg"] and new_id in neither["msg"], neither
    assert [m for m, _p, _b in writes(emulator)] == ["POST"]

    emulator.delay = 0.001  # the new pack is active now
    finished, again = run_play(ansible, [task(google), task(google)])
    assert finished["changed"] and finished["cert_pack"]["id"] == new_id and finished["cert_pack"]["status"] == "active", finished
    assert finished["cert_pack"]["previous_id"] == old_id and finished["cert_pack"]["previous_deleted"] is True
    assert not again["changed"] and again["cert_pack"]["previous_id"] is None, again
    assert [(m, p) for m, p, _b in writes(emulator)][1:] == [("DELETE", "ssl/certificate_packs/" + old_id)]
    assert list(packs_in_state(emulator)) == [new_id]


@pytest.mark.emulator(delay=3600)
def test_replace_with_wait_waits_for_the_new_pack_before_deleting_the_old(ansible, emulator):
    old_id = seed(emulator, status="active")
    emulator.reset_journal()

    def activate_once_ordered() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [e for e in emulator.journal() if e["method"] == "POST"]:
            time.sleep(0.05)
        time.sleep(0.5)
        emulator.delay = 0.001

    helper = threading.Thread(target=activate_once_ordered, daemon=True)
    helper.start()
    result = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=60)).result
    helper.join()
    assert result["changed"] and result["cert_pack"]["status"] == "active" and result["cert_pack"]["previous_deleted"] is True, result
    methods = [e["method"] for e in emulator.journal()]
    assert methods.index("POST") < methods.index("DELETE") and methods.count("GET") > 3  # it polled between the order and the delete
    assert list(packs_in_state(emulator)) == [result["cert_pack"]["id"]]


@pytest.mark.emulator(delay=3600)
def test_replace_wait_timing_out_keeps_the_old_pack(ansible, emulator):
    old_id = seed(emulator, status="active")
    emulator.reset_journal()
    run = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=1))
    result = run.result
    # It returns, so the playbook can publish the new pack's validation records; the old pack stays (clarification 18).
    assert not result.get("failed") and result["changed"], result
    view = result["cert_pack"]
    assert view["previous_id"] == old_id and view["previous_deleted"] is False and view["status"] == "initializing"
    assert view["validation_records"] is not None
    warning = " ".join(result.get("warnings", []))
    assert "last status was initializing" in warning and old_id in warning and "later run" in warning, result
    assert [m for m, _p, _b in writes(emulator)] == ["POST"]
    assert len(packs_in_state(emulator)) == 2
    # once the new pack is active, a re-run retires the old one
    emulator.delay = 0.001
    again = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=30)).result
    assert again["changed"] and again["cert_pack"]["previous_deleted"] is True and list(packs_in_state(emulator)) == [view["id"]], again


@pytest.mark.emulator(delay=3600)
def test_delete_and_already_absent(ansible, emulator):
    pack_id = seed(emulator, status="active")
    going = seed(emulator, hosts=["example.com"], status="pending_deletion")
    emulator.reset_journal()
    check, deleted, again, by_id, pending = run_play(
        ansible,
        [
            task(args(emulator, state="absent"), check_mode=True),
            task(args(emulator, state="absent")),
            task(args(emulator, state="absent")),
            task(dict(zone_id=emulator.zone_id, certificate_pack_id=pack_id, state="absent")),
            task(dict(zone_id=emulator.zone_id, hosts=["example.com"], state="absent")),
        ],
    )
    assert check["changed"] and deleted["changed"] and deleted["cert_pack"] is None, deleted
    assert not again["changed"] and not by_id["changed"] and not pending["changed"], (again, by_id, pending)
    assert writes(emulator) == [("DELETE", "ssl/certificate_packs/" + pack_id, None)]
    assert list(packs_in_state(emulator)) == [going]


BAD_HOSTS = [
    (["example.com"] + ["h%d.example.com" % i for i in range(50)], ["51 hostnames"]),
    (["www.example.com"], ["zone apex example.com"]),
    (["example.com", "www.example.org"], ["www.example.org is not in zone example.com"]),
    (["example.com", "bad_host!.example.com"], ["bad_host!.example.com"]),
    (["example.com", "WWW.example.com", "www.example.com."], ["www.example.com more than once"]),
    # Every problem is named, not only the first.
    (["www.example.com", "WWW.example.com", "api.example.org"], ["zone apex", "more than once", "api.example.org is not in zone"]),
]


@pytest.mark.parametrize("hosts, expected", BAD_HOSTS, ids=["51-hosts", "no-apex", "outside", "invalid", "duplicate", "several"])
def test_bad_hosts_fail_before_any_write(ansible, emulator, hosts, expected):
    seed(emulator, hosts=["example.com"], status="active")
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator, hosts=hosts)).result
    assert result["failed"] and not result.get("changed"), result
    for text in expected:
        assert text in result["msg"], result["msg"]
    assert writes(emulator) == []


def test_unknown_id_and_missing_order_settings_fail_before_any_write(ansible, emulator):
    seed(emulator, status="active")
    emulator.reset_journal()
    unknown, bare, with_id = run_play(
        ansible,
        [
            task(dict(zone_id=emulator.zone_id, certificate_pack_id="0123456789abcdef0123456789abcdef")),
            task(dict(zone_id=emulator.zone_id, hosts=["example.com"], validation_method="txt")),
            task(dict(zone_id=emulator.zone_id, certificate_pack_id="0123456789abcdef0123456789abcdef", replace=True)),
        ],
    )
    assert unknown["failed"] and "no such live certificate pack" in unknown["msg"], unknown
    assert bare["failed"] and "validity_days, certificate_authority" in bare["msg"], bare
    assert with_id["failed"] and "replace=true needs hosts" in with_id["msg"], with_id
    assert writes(emulator) == []


@pytest.mark.emulator(delay=3600)
def test_info_lists_every_status_and_page_with_filters_and_quota(ansible, emulator):
    short = seed(emulator, status="active", validity_days=14)
    long = seed(emulator, hosts=["example.com", "api.example.com"], status="active", validity_days=365)
    pending = seed(emulator, hosts=["example.com", "*.example.com"], status="pending_validation")
    gone = seed(emulator, hosts=["example.com"], status="deleted")
    for i in range(50):  # more than one page of 50
        seed(emulator, hosts=["example.com", "h%d.example.com" % i], status="initializing")
    emulator.state.add_cert_pack(emulator.zone_id, ["example.com", "*.example.com"], type="universal")
    emulator.reset_journal()
    everything, expiring, by_host, by_status = run_play(
        ansible,
        [
            task(dict(zone_id=emulator.zone_id), INFO),
            task(dict(zone_id=emulator.zone_id, expiring_within_days=30), INFO),
            task(dict(zone="example.com", hosts=["WWW.example.com"]), INFO),
            task(dict(zone_id=emulator.zone_id, status=["pending_validation", "deleted"]), INFO),
        ],
    )
    assert not everything.get("failed") and not everything["changed"], everything
    packs = everything["cert_packs"]
    issued = [p["id"] for p in packs if p["expires_on"]]
    assert len(packs) == 55 and len(issued) == 3 and issued[0] == short and issued[-1] == long  # soonest expiry first, unissued last
    assert packs[: len(issued)] == [p for p in packs if p["expires_on"]]
    assert set(packs[0]) == VIEW_KEYS and packs[0]["days_remaining"] in (13, 14) and packs[0]["certificates"][0]["days_remaining"] in (13, 14)
    assert everything["quota"] == {"advanced": {"allocated": 10, "used": 54}}
    assert [p["id"] for p in expiring["cert_packs"]] == [short]
    assert [p["id"] for p in by_host["cert_packs"]] == [short]
    assert sorted(p["id"] for p in by_status["cert_packs"]) == sorted([pending, gone])
    lists = [e for e in emulator.journal() if e["path"].endswith("/ssl/certificate_packs")]
    assert all(e["query"].get("status") == "all" for e in lists) and len(lists) == 8  # two pages a run
    assert writes(emulator) == []


@pytest.mark.emulator(delay=3600)
@pytest.mark.parametrize("replace", [False, True], ids=["order", "replace"])
def test_order_whose_answer_is_lost_is_not_sent_again(ansible, emulator, replace):
    old_id = seed(emulator, status="active") if replace else None
    emulator.add_fault("reset_after", method="POST")  # the order is applied, its answer lost
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=replace)).result
    assert result["changed"] and not result.get("failed"), result
    assert [m for m, _p, _b in writes(emulator)] == ["POST"]
    new_ids = set(packs_in_state(emulator)) - {old_id}
    assert len(new_ids) == 1 and result["cert_pack"]["id"] in new_ids and result["cert_pack"]["certificate_authority"] == "google"
    assert result["cert_pack"]["previous_id"] == old_id


@pytest.mark.emulator(delay=3600)
def test_order_not_applied_fails_saying_a_rerun_is_safe(ansible, emulator):
    emulator.add_fault("reset_before", method="POST")
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator)).result
    assert result["failed"] and not result.get("changed") and "running the task again is safe" in result["msg"], result
    assert packs_in_state(emulator) == {}


@pytest.mark.emulator(delay=3600)
def test_order_over_quota_fails_before_any_write(ansible, emulator):
    emulator.state.zones[emulator.zone_id].pack_quota = 1
    seed(emulator, hosts=["example.com"], status="active")
    emulator.reset_journal()
    check, real = run_play(ansible, [task(args(emulator), check_mode=True), task(args(emulator))])
    for result in (check, real):
        assert result["failed"] and "uses 1 of its 1 advanced certificate packs" in result["msg"], result
    assert writes(emulator) == []
