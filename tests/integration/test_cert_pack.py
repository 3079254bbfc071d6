"""cert_pack and cert_pack_info against the emulator.

Every scenario asserts on the module result and on the emulator: its state and the request journal
(the exact writes sent; that nothing is written before the inputs are known to be good).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
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
    """The emulator's live packs: a deleted pack is pending_deletion, then deleted, for a while."""
    return {p["id"]: p for p in statuses_in_state(emulator).values() if p["status"] not in ("pending_deletion", "deleted")}


def statuses_in_state(emulator: Any) -> Dict[str, Dict[str, Any]]:
    """Every pack the emulator holds, those being deleted included."""
    return {p["id"]: p for p in emulator.dump_state()["zones"][0].get("cert_packs", [])}


def seed(emulator: Any, hosts: Optional[List[str]] = None, **spec: Any) -> str:
    return emulator.state.add_cert_pack(emulator.zone_id, hosts or HOSTS, **dict(ORDER, **spec)).id


def args(emulator: Any, **changes: Any) -> Dict[str, Any]:
    return dict(dict(ORDER, zone_id=emulator.zone_id, hosts=HOSTS), **changes)


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


def pack_lists(journal: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The journal's requests that list the zone's certificate packs."""
    return [e for e in journal if e["path"].endswith("/ssl/certificate_packs")]


@pytest.fixture(scope="module")
def order(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
    order = args(emulator, hosts=["WWW.example.com.", "example.com"])
    check, real, again, again_check = run_play(
        ansible, [task(order, check_mode=True, diff=True), task(order, diff=True), task(order, diff=True), task(order, check_mode=True)]
    )
    return SimpleNamespace(
        check=check,
        real=real,
        again=again,
        again_check=again_check,
        writes=writes(emulator),
        packs=list(packs_in_state(emulator)),
        journal=emulator.journal(),
    )


class TestAnOrderWithCheckModeAndReRuns:
    """Statuses stand still; one play: check mode with diff, the order with diff, a re-run with diff, a re-run in check mode.
    The hosts are given in another case, with a trailing dot."""

    def test_check_mode_reports_a_change(self, order):
        assert order.check["changed"], order.check
        assert not order.check.get("failed"), order.check

    def test_check_mode_predicts_a_pack_without_an_id_initializing(self, order):
        assert parts(order.check["cert_pack"], "id", "status") == {"id": None, "status": "initializing"}

    def test_the_check_mode_diff_goes_from_nothing_to_the_order(self, order):
        assert order.check["diff"]["before"] == {}
        assert order.check["diff"]["after"]["certificate_authority"] == "lets_encrypt"

    def test_the_order_reports_a_change(self, order):
        assert order.real["changed"], order.real
        assert not order.real.get("failed"), order.real

    def test_the_order_reports_the_documented_fields(self, order):
        assert set(order.real["cert_pack"]) == VIEW_KEYS | {"previous_id", "previous_deleted"}

    def test_the_order_reports_the_new_pack_as_ordered(self, order):
        view = order.real["cert_pack"]
        assert sorted(view["hosts"]) == HOSTS
        assert parts(view, "type", "status", "validation_method", "validity_days", "certificate_authority", "cloudflare_branding") == {
            "type": "advanced",
            "status": "initializing",
            "validation_method": "txt",
            "validity_days": 90,
            "certificate_authority": "lets_encrypt",
            "cloudflare_branding": False,
        }

    def test_the_order_reports_the_dcv_delegation_records(self, order):
        records = order.real["cert_pack"]["dcv_delegation_records"]
        assert sorted(r["cname"] for r in records) == ["_acme-challenge.example.com", "_acme-challenge.www.example.com"]

    def test_a_new_pack_has_no_previous_pack_and_no_expiry(self, order):
        assert parts(order.real["cert_pack"], "previous_id", "expires_on") == {"previous_id": None, "expires_on": None}

    def test_exactly_one_order_is_sent_with_the_hosts_normalized(self, order):
        # check mode and the re-runs wrote nothing
        [(method, path, body)] = order.writes
        assert (method, path) == ("POST", "ssl/certificate_packs/order")
        assert body == {
            "type": "advanced",
            "hosts": ["www.example.com", "example.com"],
            "validation_method": "txt",
            "validity_days": 90,
            "certificate_authority": "lets_encrypt",
        }

    @pytest.mark.parametrize("phase", ["again", "again_check"], ids=["re_run", "re_run_in_check_mode"])
    def test_a_re_run_changes_nothing(self, order, phase):
        assert not getattr(order, phase)["changed"], getattr(order, phase)

    def test_a_re_run_finds_the_ordered_pack(self, order):
        assert order.again["cert_pack"]["id"] == order.real["cert_pack"]["id"]

    def test_a_re_run_diff_shows_no_difference(self, order):
        assert order.again["diff"]["before"] == order.again["diff"]["after"]

    def test_the_emulator_holds_the_ordered_pack_alone(self, order):
        assert order.packs == [order.real["cert_pack"]["id"]]

    def test_packs_are_listed_in_every_status(self, order):
        # with zone_id the zone is read once per run for its name
        lists = pack_lists(order.journal)
        assert lists
        assert [e["query"].get("status") for e in lists] == ["all"] * len(lists)


@pytest.mark.emulator(delay=3600)
def test_pack_listed_only_with_status_all_is_found_not_ordered_twice(ansible, emulator):
    pack_id = seed(emulator, hosts=["www.example.com", "example.com"], status="pending_validation")
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator, zone="example.com", zone_id=None)).result
    assert not result.get("failed"), result
    assert not result["changed"], result
    assert parts(result["cert_pack"], "id", "status") == {"id": pack_id, "status": "pending_validation"}
    assert result["cert_pack"]["validation_records"][0]["txt_name"].startswith("_acme-challenge.")
    assert writes(emulator) == []


@pytest.fixture(scope="module")
def branding(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
    pack_id = seed(emulator, status="active")
    emulator.reset_journal()
    on, again = run_play(ansible, [task(args(emulator, cloudflare_branding=True), diff=True), task(args(emulator, cloudflare_branding=True))])
    on_writes = writes(emulator)
    emulator.reset_journal()
    off = ansible.run_module(MOD, dict(zone_id=emulator.zone_id, certificate_pack_id=pack_id, cloudflare_branding=False)).result
    return SimpleNamespace(pack_id=pack_id, on=on, again=again, on_writes=on_writes, off=off, off_writes=writes(emulator), packs=list(packs_in_state(emulator)))


class TestBrandingIsToggledInPlace:
    """An active pack; one play: branding on with diff, on again; then a run with the pack's id that turns it off."""

    def test_turning_branding_on_changes_the_same_pack(self, branding):
        assert branding.on["changed"], branding.on
        assert parts(branding.on["cert_pack"], "id", "cloudflare_branding") == {"id": branding.pack_id, "cloudflare_branding": True}

    def test_the_diff_shows_branding_turned_on(self, branding):
        assert (branding.on["diff"]["before"]["cloudflare_branding"], branding.on["diff"]["after"]["cloudflare_branding"]) == (False, True)

    def test_turning_it_on_again_changes_nothing(self, branding):
        assert not branding.again["changed"], branding.again

    def test_turning_it_on_is_one_patch_of_the_branding_alone(self, branding):
        assert branding.on_writes == [("PATCH", "ssl/certificate_packs/" + branding.pack_id, {"cloudflare_branding": True})]

    def test_turning_it_off_by_the_pack_id_changes_it(self, branding):
        assert branding.off["changed"], branding.off
        assert branding.off["cert_pack"]["cloudflare_branding"] is False

    def test_turning_it_off_is_one_patch_of_the_branding_alone(self, branding):
        assert branding.off_writes == [("PATCH", "ssl/certificate_packs/" + branding.pack_id, {"cloudflare_branding": False})]

    def test_the_emulator_still_holds_the_one_pack(self, branding):
        assert branding.packs == [branding.pack_id]


@pytest.fixture(scope="module")
def restart(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=0.05)
    pack_id = seed(emulator, status="validation_timed_out")
    emulator.reset_journal()
    check = ansible.run_module(MOD, args(emulator, wait=True), check=True, diff=True).result
    check_writes = writes(emulator)
    restarted, again = run_play(ansible, [task(args(emulator, wait=True, wait_timeout=30)), task(args(emulator, wait=True))])
    return SimpleNamespace(pack_id=pack_id, check=check, check_writes=check_writes, restarted=restarted, again=again, writes=writes(emulator))


class TestATimedOutPackIsRestartedThenWaitedFor:
    """A pack whose validation timed out; check mode with diff; then one play: the restart with a wait, a re-run with a wait."""

    def test_check_mode_predicts_the_restart(self, restart):
        assert restart.check["changed"], restart.check
        diff = restart.check["diff"]
        assert (diff["before"]["status"], diff["after"]["status"]) == ("validation_timed_out", "pending_validation")

    def test_check_mode_sends_no_write(self, restart):
        assert restart.check_writes == []

    def test_the_restart_waits_until_the_same_pack_is_active(self, restart):
        assert restart.restarted["changed"], restart.restarted
        assert parts(restart.restarted["cert_pack"], "id", "status") == {"id": restart.pack_id, "status": "active"}

    def test_the_restarted_pack_reports_its_issued_certificate(self, restart):
        [cert] = restart.restarted["cert_pack"]["certificates"][:1]
        assert cert["issuer"] == "Let's Encrypt"
        assert cert["days_remaining"] in (89, 90)
        assert restart.restarted["cert_pack"]["days_remaining"] in (89, 90)

    def test_a_re_run_on_the_active_pack_changes_nothing(self, restart):
        assert not restart.again["changed"], restart.again

    def test_the_restart_is_one_empty_patch_and_the_re_run_sends_nothing(self, restart):
        assert restart.writes == [("PATCH", "ssl/certificate_packs/" + restart.pack_id, {})]


@pytest.fixture(scope="module")
def no_restart(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
    seed(emulator, status="validation_timed_out")
    emulator.reset_journal()
    kept, waited = run_play(ansible, [task(args(emulator, restart_validation=False)), task(args(emulator, restart_validation=False, wait=True))])
    return SimpleNamespace(kept=kept, waited=waited, writes=writes(emulator))


class TestATimedOutPackIsLeftAloneWithoutRestart:
    """A pack whose validation timed out, statuses standing still; one play with restart_validation=false: without a wait, with one."""

    def test_without_a_wait_nothing_changes_and_the_status_is_reported(self, no_restart):
        assert not no_restart.kept["changed"], no_restart.kept
        assert no_restart.kept["cert_pack"]["status"] == "validation_timed_out"

    def test_the_validation_errors_are_reported(self, no_restart):
        assert no_restart.kept["cert_pack"]["validation_errors"]

    def test_a_stuck_wait_fails_at_once_naming_the_status_and_the_cause(self, no_restart):
        assert no_restart.waited["failed"], no_restart.waited
        assert "validation_timed_out" in no_restart.waited["msg"]
        assert "validation records were not found" in no_restart.waited["msg"]

    def test_nothing_is_written(self, no_restart):
        assert no_restart.writes == []


@pytest.mark.emulator(delay=3600)
def test_wait_that_times_out_reports_the_last_status(ansible, emulator):
    seed(emulator, status="pending_validation")
    emulator.reset_journal()
    started = time.monotonic()
    result = ansible.run_module(MOD, args(emulator, wait=True, wait_timeout=2)).result
    assert result["failed"], result
    assert "timed out" in result["msg"]
    assert "last status was pending_validation" in result["msg"]
    assert time.monotonic() - started < 30
    assert writes(emulator) == []


@pytest.fixture(scope="module")
def immutable_change(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=0.05)
    old_id = seed(emulator, status="active")
    emulator.reset_journal()
    refused = ansible.run_module(MOD, args(emulator, certificate_authority="google", validity_days=30)).result
    refused_writes = writes(emulator)
    replaced = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=30)).result
    return SimpleNamespace(
        old_id=old_id, refused=refused, refused_writes=refused_writes, replaced=replaced, writes=writes(emulator), packs=list(packs_in_state(emulator))
    )


class TestAnImmutableChangeIsRefusedThenReplaced:
    """An active pack; other certificate_authority and validity_days: without replace, then with replace and a wait."""

    def test_without_replace_the_change_fails_naming_what_differs(self, immutable_change):
        assert immutable_change.refused["failed"], immutable_change.refused
        assert "certificate_authority lets_encrypt" in immutable_change.refused["msg"]
        assert "validity_days 90" in immutable_change.refused["msg"]

    def test_the_refusal_does_not_name_what_is_the_same(self, immutable_change):
        assert "validation_method" not in immutable_change.refused["msg"]

    def test_the_refusal_says_replace_true_would_do_it(self, immutable_change):
        assert "replace=true" in immutable_change.refused["msg"]

    def test_the_refusal_sends_no_write(self, immutable_change):
        assert immutable_change.refused_writes == []

    def test_with_replace_the_change_is_made(self, immutable_change):
        assert immutable_change.replaced["changed"], immutable_change.replaced
        assert not immutable_change.replaced.get("failed"), immutable_change.replaced

    def test_with_replace_a_new_active_pack_is_reported(self, immutable_change):
        view = immutable_change.replaced["cert_pack"]
        assert view["id"] != immutable_change.old_id
        assert parts(view, "status", "certificate_authority") == {"status": "active", "certificate_authority": "google"}

    def test_with_replace_the_old_pack_is_reported_deleted(self, immutable_change):
        assert parts(immutable_change.replaced["cert_pack"], "previous_id", "previous_deleted") == {
            "previous_id": immutable_change.old_id,
            "previous_deleted": True,
        }

    def test_the_replacement_is_an_order_then_a_delete_of_the_old_pack(self, immutable_change):
        assert [(m, p) for m, p, _b in immutable_change.writes] == [
            ("POST", "ssl/certificate_packs/order"),
            ("DELETE", "ssl/certificate_packs/" + immutable_change.old_id),
        ]

    def test_the_emulator_holds_the_new_pack_alone(self, immutable_change):
        assert immutable_change.packs == [immutable_change.replaced["cert_pack"]["id"]]


@pytest.fixture(scope="module")
def interrupted_replace(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
    old_id = seed(emulator, status="active")
    emulator.reset_journal()
    google = args(emulator, certificate_authority="google", replace=True)
    ordered, kept = run_play(ansible, [task(google), task(google)])
    packs_while_pending = set(packs_in_state(emulator))
    # Without replace, two packs for one host set fail naming both; with the old settings and replace, the old one is managed.
    both = ansible.run_module(MOD, args(emulator)).result
    neither = ansible.run_module(MOD, args(emulator, certificate_authority="ssl_com", replace=True)).result
    writes_before_active = writes(emulator)
    emulator.delay = 0.001  # the new pack is active now
    finished, again = run_play(ansible, [task(google), task(google)])
    return SimpleNamespace(
        old_id=old_id,
        new_id=ordered["cert_pack"]["id"],
        ordered=ordered,
        kept=kept,
        packs_while_pending=packs_while_pending,
        both=both,
        neither=neither,
        writes_before_active=writes_before_active,
        finished=finished,
        again=again,
        writes=writes(emulator),
        packs=list(packs_in_state(emulator)),
    )


class TestAReplaceInterruptedAfterTheOrderIsFinishedByARerun:
    """An active pack, statuses standing still; one play: replace (the new pack stays initializing), the same again. Then the
    same hosts without replace, and with other settings and replace. Then, the new pack active, one play: replace, again."""

    def test_the_order_reports_the_old_pack_kept(self, interrupted_replace):
        assert interrupted_replace.ordered["changed"], interrupted_replace.ordered
        assert parts(interrupted_replace.ordered["cert_pack"], "previous_id", "previous_deleted") == {
            "previous_id": interrupted_replace.old_id,
            "previous_deleted": False,
        }

    def test_a_re_run_while_the_new_pack_is_pending_changes_nothing_and_keeps_the_old(self, interrupted_replace):
        assert not interrupted_replace.kept["changed"], interrupted_replace.kept
        assert parts(interrupted_replace.kept["cert_pack"], "id", "previous_id") == {
            "id": interrupted_replace.new_id,
            "previous_id": interrupted_replace.old_id,
        }

    def test_while_the_new_pack_is_pending_the_emulator_holds_both(self, interrupted_replace):
        assert interrupted_replace.packs_while_pending == {interrupted_replace.old_id, interrupted_replace.new_id}

    @pytest.mark.parametrize("attempt", ["both", "neither"], ids=["without_replace", "other_settings_with_replace"])
    def test_a_run_matching_both_packs_fails_naming_both(self, interrupted_replace, attempt):
        result = getattr(interrupted_replace, attempt)
        assert result["failed"], result
        assert interrupted_replace.old_id in result["msg"]
        assert interrupted_replace.new_id in result["msg"]

    def test_until_the_new_pack_is_active_the_one_order_is_the_only_write(self, interrupted_replace):
        assert [m for m, _p, _b in interrupted_replace.writes_before_active] == ["POST"]

    def test_once_the_new_pack_is_active_a_re_run_finishes_the_replace(self, interrupted_replace):
        assert interrupted_replace.finished["changed"], interrupted_replace.finished
        view = interrupted_replace.finished["cert_pack"]
        assert parts(view, "id", "status", "previous_id", "previous_deleted") == {
            "id": interrupted_replace.new_id,
            "status": "active",
            "previous_id": interrupted_replace.old_id,
            "previous_deleted": True,
        }

    def test_after_the_replace_is_finished_a_re_run_changes_nothing_and_has_no_previous_pack(self, interrupted_replace):
        assert not interrupted_replace.again["changed"], interrupted_replace.again
        assert interrupted_replace.again["cert_pack"]["previous_id"] is None

    def test_finishing_the_replace_is_one_delete_of_the_old_pack(self, interrupted_replace):
        assert [(m, p) for m, p, _b in interrupted_replace.writes][1:] == [("DELETE", "ssl/certificate_packs/" + interrupted_replace.old_id)]

    def test_the_emulator_then_holds_the_new_pack_alone(self, interrupted_replace):
        assert interrupted_replace.packs == [interrupted_replace.new_id]


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
    assert result["changed"], result
    assert parts(result["cert_pack"], "status", "previous_id", "previous_deleted") == {"status": "active", "previous_id": old_id, "previous_deleted": True}
    methods = [e["method"] for e in emulator.journal()]
    assert methods.index("POST") < methods.index("DELETE")
    assert methods.count("GET") > 3  # it polled between the order and the delete
    assert list(packs_in_state(emulator)) == [result["cert_pack"]["id"]]


@pytest.fixture(scope="module")
def replace_timeout(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
    old_id = seed(emulator, status="active")
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=1)).result
    first_writes, packs_after_timeout = writes(emulator), list(packs_in_state(emulator))
    # once the new pack is active, a re-run retires the old one
    emulator.delay = 0.001
    again = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=True, wait=True, wait_timeout=30)).result
    return SimpleNamespace(
        old_id=old_id,
        result=result,
        first_writes=first_writes,
        packs_after_timeout=packs_after_timeout,
        again=again,
        packs=list(packs_in_state(emulator)),
    )


class TestAReplaceWhoseWaitTimesOutKeepsTheOldPack:
    """An active pack, statuses standing still: replace with a wait of 1 s; then, the new pack active, the same again."""

    def test_the_run_returns_a_change_instead_of_failing(self, replace_timeout):
        # It returns, so the playbook can publish the new pack's validation records; the old pack stays until the new one is active.
        assert replace_timeout.result["changed"], replace_timeout.result
        assert not replace_timeout.result.get("failed"), replace_timeout.result

    def test_it_reports_the_new_pack_initializing_and_the_old_one_kept(self, replace_timeout):
        view = replace_timeout.result["cert_pack"]
        assert parts(view, "previous_id", "previous_deleted", "status") == {
            "previous_id": replace_timeout.old_id,
            "previous_deleted": False,
            "status": "initializing",
        }

    def test_it_reports_the_validation_records_to_publish(self, replace_timeout):
        assert replace_timeout.result["cert_pack"]["validation_records"] is not None

    def test_a_warning_names_the_last_status_the_old_pack_and_the_later_run(self, replace_timeout):
        warning = " ".join(replace_timeout.result.get("warnings", []))
        assert "last status was initializing" in warning, replace_timeout.result
        assert replace_timeout.old_id in warning
        assert "later run" in warning

    def test_the_only_write_is_the_order(self, replace_timeout):
        assert [m for m, _p, _b in replace_timeout.first_writes] == ["POST"]

    def test_the_emulator_holds_both_packs(self, replace_timeout):
        assert len(replace_timeout.packs_after_timeout) == 2

    def test_once_the_new_pack_is_active_a_re_run_deletes_the_old(self, replace_timeout):
        assert replace_timeout.again["changed"], replace_timeout.again
        assert replace_timeout.again["cert_pack"]["previous_deleted"] is True

    def test_the_emulator_then_holds_the_new_pack_alone(self, replace_timeout):
        assert replace_timeout.packs == [replace_timeout.result["cert_pack"]["id"]]


@pytest.fixture(scope="module")
def deletion(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
    pack_id = seed(emulator, status="active")
    going = seed(emulator, hosts=["example.com"], status="pending_deletion")
    emulator.reset_journal()
    by_id = dict(zone_id=emulator.zone_id, certificate_pack_id=pack_id)
    check, deleted, again, again_by_id, pending, listed = run_play(
        ansible,
        [
            task(args(emulator, state="absent"), check_mode=True),
            task(args(emulator, state="absent")),
            task(args(emulator, state="absent")),
            task(dict(by_id, state="absent")),
            task(dict(zone_id=emulator.zone_id, hosts=["example.com"], state="absent")),
            task(dict(zone_id=emulator.zone_id), INFO),
        ],
    )
    statuses_pending = {i: p["status"] for i, p in statuses_in_state(emulator).items()}
    # The deleted pack's next step (pending_deletion lasts `delay`): deleted, still listed with status=all.
    emulator.state.zones[emulator.zone_id].cert_packs[pack_id].deleted_at -= 3600
    after_deleted = run_play(
        ansible,
        [
            task(args(emulator, state="absent")),
            task(dict(by_id, state="absent")),
            task(dict(by_id, cloudflare_branding=True)),
            task(args(emulator), check_mode=True),
            task(dict(zone_id=emulator.zone_id), INFO),
        ],
    )
    return SimpleNamespace(
        pack_id=pack_id,
        going=going,
        check=check,
        deleted=deleted,
        unchanged=dict(again=again, by_id=again_by_id, pending=pending, deleted_again=after_deleted[0], deleted_by_id=after_deleted[1]),
        listed=dict(pending_deletion=listed, deleted=after_deleted[4]),
        statuses_pending=statuses_pending,
        present_by_id=after_deleted[2],
        present_check=after_deleted[3],
        writes=writes(emulator),
        packs=list(packs_in_state(emulator)),
    )


class TestDeleteAndAlreadyAbsent:
    """An active pack and one pending deletion for the apex alone, statuses standing still; one play: delete in check mode,
    delete, again, by id, the apex's pack, cert_pack_info. Then, the deleted pack moved on to `deleted`, one play: delete
    again, by id, branding by id, an order of the same hosts in check mode, cert_pack_info."""

    def test_check_mode_predicts_a_change(self, deletion):
        assert deletion.check["changed"], deletion.check

    def test_the_delete_reports_the_pack_gone(self, deletion):
        assert deletion.deleted["changed"], deletion.deleted
        assert deletion.deleted["cert_pack"] is None

    @pytest.mark.parametrize("attempt", ["again", "by_id", "pending", "deleted_again", "deleted_by_id"])
    def test_deleting_a_pack_already_gone_or_going_changes_nothing(self, deletion, attempt):
        assert not deletion.unchanged[attempt]["changed"], deletion.unchanged[attempt]
        assert not deletion.unchanged[attempt].get("failed"), deletion.unchanged[attempt]

    @pytest.mark.parametrize("status", ["pending_deletion", "deleted"])
    def test_the_deleted_pack_is_listed_pending_deletion_then_deleted(self, deletion, status):
        listed = {p["id"]: p["status"] for p in deletion.listed[status]["cert_packs"]}
        assert listed == {deletion.pack_id: status, deletion.going: "pending_deletion"}

    def test_the_emulator_holds_the_deleted_pack_pending_deletion(self, deletion):
        assert deletion.statuses_pending == {deletion.pack_id: "pending_deletion", deletion.going: "pending_deletion"}

    def test_a_deleted_pack_cannot_be_managed_by_id(self, deletion):
        assert deletion.present_by_id["failed"], deletion.present_by_id
        assert "no such live certificate pack" in deletion.present_by_id["msg"]

    def test_a_deleted_pack_is_gone_for_identity_so_its_hosts_would_get_a_new_order(self, deletion):
        assert deletion.present_check["changed"], deletion.present_check
        assert parts(deletion.present_check["cert_pack"], "id", "status") == {"id": None, "status": "initializing"}

    def test_one_delete_is_sent(self, deletion):
        assert deletion.writes == [("DELETE", "ssl/certificate_packs/" + deletion.pack_id, None)]

    def test_the_emulator_holds_no_live_pack(self, deletion):
        assert deletion.packs == []


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
    assert result["failed"], result
    assert not result.get("changed"), result
    for text in expected:
        assert text in result["msg"], result["msg"]
    assert writes(emulator) == []


@pytest.fixture(scope="module")
def unknown_and_missing(scenario_emulator):
    emulator, ansible = scenario_emulator()
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
    return SimpleNamespace(results=dict(unknown=unknown, bare=bare, with_id=with_id), writes=writes(emulator))


class TestAnUnknownIdAndMissingOrderSettingsFailBeforeAnyWrite:
    """An active pack; one play: an unknown pack id, an order without settings, replace with an id but no hosts."""

    @pytest.mark.parametrize(
        "case, words",
        [
            ("unknown", "no such live certificate pack"),
            ("bare", "validity_days, certificate_authority"),
            ("with_id", "replace=true needs hosts"),
        ],
        ids=["unknown_id", "missing_order_settings", "replace_by_id"],
    )
    def test_it_fails_with_a_message_naming_the_fault(self, unknown_and_missing, case, words):
        result = unknown_and_missing.results[case]
        assert result["failed"], result
        assert words in result["msg"]

    def test_nothing_is_written(self, unknown_and_missing):
        assert unknown_and_missing.writes == []


@pytest.fixture(scope="module")
def info(scenario_emulator):
    emulator, ansible = scenario_emulator(delay=3600)
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
    return SimpleNamespace(
        ids=SimpleNamespace(short=short, long=long, pending=pending, gone=gone),
        everything=everything,
        expiring=expiring,
        by_host=by_host,
        by_status=by_status,
        journal=emulator.journal(),
        writes=writes(emulator),
    )


class TestInfoListsEveryStatusAndPageWithFiltersAndQuota:
    """Packs of 14 and 365 days, one pending validation, one deleted, 50 initializing (more than one page of 50) and a
    universal one, statuses standing still; one play of cert_pack_info: everything, by expiry, by host, by status."""

    def test_it_changes_nothing(self, info):
        assert not info.everything.get("failed"), info.everything
        assert not info.everything["changed"], info.everything

    def test_it_lists_every_advanced_pack_of_every_page(self, info):
        assert len(info.everything["cert_packs"]) == 55

    def test_issued_packs_come_first_soonest_expiry_first(self, info):
        packs = info.everything["cert_packs"]
        issued = [p["id"] for p in packs if p["expires_on"]]
        assert (len(issued), issued[0], issued[-1]) == (3, info.ids.short, info.ids.long)
        assert packs[: len(issued)] == [p for p in packs if p["expires_on"]]  # unissued last

    def test_a_listed_pack_has_the_documented_fields_and_its_days_remaining(self, info):
        first = info.everything["cert_packs"][0]
        assert set(first) == VIEW_KEYS
        assert first["days_remaining"] in (13, 14)
        assert first["certificates"][0]["days_remaining"] in (13, 14)

    def test_the_quota_is_reported(self, info):
        assert info.everything["quota"] == {"advanced": {"allocated": 10, "used": 53}}  # the deleted one no longer counts

    def test_expiring_within_days_lists_those_that_expire_sooner(self, info):
        assert [p["id"] for p in info.expiring["cert_packs"]] == [info.ids.short]

    def test_hosts_lists_the_packs_that_name_any_of_them(self, info):
        assert [p["id"] for p in info.by_host["cert_packs"]] == [info.ids.short]

    def test_status_lists_the_packs_in_those_statuses(self, info):
        assert sorted(p["id"] for p in info.by_status["cert_packs"]) == sorted([info.ids.pending, info.ids.gone])

    def test_packs_are_listed_in_every_status_two_pages_a_run(self, info):
        lists = pack_lists(info.journal)
        assert len(lists) == 8
        assert [e["query"].get("status") for e in lists] == ["all"] * 8

    def test_nothing_is_written(self, info):
        assert info.writes == []


@pytest.mark.emulator(delay=3600)
@pytest.mark.parametrize("replace", [False, True], ids=["order", "replace"])
def test_order_whose_answer_is_lost_is_not_sent_again(ansible, emulator, replace):
    old_id = seed(emulator, status="active") if replace else None
    emulator.add_fault("reset_after", method="POST")  # the order is applied, its answer lost
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator, certificate_authority="google", replace=replace)).result
    assert result["changed"], result
    assert not result.get("failed"), result
    assert [m for m, _p, _b in writes(emulator)] == ["POST"]
    new_ids = set(packs_in_state(emulator)) - {old_id}
    assert new_ids == {result["cert_pack"]["id"]}
    assert parts(result["cert_pack"], "certificate_authority", "previous_id") == {"certificate_authority": "google", "previous_id": old_id}


@pytest.mark.emulator(delay=3600)
def test_an_order_a_read_proves_was_not_applied_is_sent_once_more(ansible, emulator):
    emulator.add_fault("reset_before", method="POST")
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator)).result
    assert not result.get("failed"), result
    assert result["changed"] and result["resent"] is True
    assert len(packs_in_state(emulator)) == 1
    assert [e["method"] for e in emulator.journal() if e["method"] == "POST"] == ["POST", "POST"]


def test_an_order_lost_twice_fails_saying_a_rerun_is_safe(ansible, emulator):
    emulator.add_fault("reset_before", method="POST", count=2)
    emulator.reset_journal()
    result = ansible.run_module(MOD, args(emulator)).result
    assert result["failed"], result
    assert not result.get("changed"), result
    assert "running the task again is safe" in result["msg"]
    assert packs_in_state(emulator) == {}


@pytest.mark.emulator(delay=3600)
def test_order_over_quota_fails_before_any_write(ansible, emulator):
    emulator.state.zones[emulator.zone_id].pack_quota = 1
    seed(emulator, hosts=["example.com"], status="active")
    emulator.reset_journal()
    check, real = run_play(ansible, [task(args(emulator), check_mode=True), task(args(emulator))])
    for result in (check, real):
        assert result["failed"], result
        assert "uses 1 of its 1 advanced certificate packs" in result["msg"]
    assert writes(emulator) == []
