"""The file options of the rotation pipeline: custom_hostname_cert_info `dest`, and custom_hostname_cert's `plan`,
`discovered_hostnames` (a path), `dest` and `wait` with the list form, against the emulator.

The role passes paths between its tasks so that 10,000-entry lists never go through Ansible's variables. The files
must hold what the results would have held, the apply stage must make no read of its own (one PATCH per due hostname,
then only list pages while it waits), and every bad file must fail before any write, saying what to give instead.
"""

from __future__ import annotations

import datetime
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

MOD = "certops.cloudflare.custom_hostname_cert"
INFO = "certops.cloudflare.custom_hostname_cert_info"
PLAN = "certops.cloudflare.rotation_plan"
N = 20
DUE = range(0, 12)  # served certificates expiring in 10 days: rotated with a 30-day window; the rest in 60 (not due)
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def name(i: int) -> str:
    return "h%03d.customer.example" % i


def seed(emulator: Any, pki: SimpleNamespace, count: int = N, **spec: Any) -> Dict[str, str]:
    """`count` hostnames, those of DUE on the certificate expiring in 10 days, the others on a fresh one; hostname -> id."""
    ids = {}
    for i in range(count):
        leaf = pki.due if i in DUE else pki.fresh
        ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous", "settings": {"min_tls_version": "1.2"}}
        ids[name(i)] = emulator.state.add_custom_hostname(emulator.zone_id, name(i), ssl=ssl, certificates=[{"certificate": leaf.chain_pem}], **spec).id
    return ids


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def mode_of(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def fingerprints(view: Dict[str, Any]) -> List[str]:
    return [c["fingerprint_sha256"] for c in view["ssl"]["certificates"]]


def is_list_page(entry: Dict[str, Any], emulator: Any) -> bool:
    """A GET of the zone's list at the largest page size (never the `hostname` filter, which is one call per hostname)."""
    query = entry["query"]
    return (
        entry["method"] == "GET"
        and entry["path"].endswith("/zones/%s/custom_hostnames" % emulator.zone_id)
        and query.get("per_page") == "50"
        and "page" in query
        and "hostname" not in query
    )


def pipeline(pki: SimpleNamespace, files: SimpleNamespace, **apply: Any) -> List[Dict[str, Any]]:
    """The role's three steps, on paths only: discovery to a file, the plan to a file, the apply from both."""
    items = [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(N)]
    return [
        {"name": "discover", INFO: {"zone": "example.com", "dest": str(files.found)}, "register": "found"},
        {
            "name": "plan",
            PLAN: {"custom_hostnames": items, "discovered": {"custom_hostnames": str(files.found)}, "dest": str(files.plan), "renew_before_days": 30},
            "register": "rotation",
        },
        {
            "name": "apply",
            MOD: dict({"zone_id": "{{ found.zone_id }}", "plan": str(files.plan), "discovered_hostnames": str(files.found), "dest": str(files.state)}, **apply),
            "register": "applied",
            "ignore_errors": True,
        },
    ]


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


def paths(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(found=tmp_path / "found.json", plan=tmp_path / "plan.json", state=tmp_path / "state.json")


# -- custom_hostname_cert_info dest ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def info_dest(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, 60)  # two list pages
    root = tmp_path_factory.mktemp("info-dest")
    dest = root / "found.json"
    # A file already there is replaced whole, and gets the private mode whatever it had.
    dest.write_text("x" * 100000)
    os.chmod(dest, 0o644)
    run = ansible.run_tasks(
        [
            {"name": "plain", INFO: {"zone": "example.com"}, "register": "plain"},
            {"name": "to a file", INFO: {"zone": "example.com", "dest": str(dest)}, "register": "filed"},
        ]
    )
    return SimpleNamespace(
        zone_id=emulator.zone_id,
        dest=dest,
        run=run,
        plain=run.result(0),
        filed=run.result(1),
        mode=mode_of(dest),
        text=dest.read_text(),
        temporary=sorted(p.name for p in root.iterdir() if p.name.startswith(".certops-")),
        writes=writes(emulator),
    )


class TestInfoDestHoldsWhatTheResultWouldHold:
    """Sixty hostnames (two list pages) and a file already there, world-readable; one play: custom_hostname_cert_info without
    dest, then with dest."""

    @pytest.mark.parametrize("phase", ["plain", "filed"], ids=["without_dest", "with_dest"])
    def test_it_succeeds(self, info_dest, phase):
        assert not getattr(info_dest, phase).get("failed"), info_dest.run.output

    def test_it_changes_nothing(self, info_dest):
        assert info_dest.filed["changed"] is False

    def test_the_list_goes_to_the_file_only(self, info_dest):
        assert "custom_hostnames" not in info_dest.filed, "the list goes to the file only, not through Ansible's variables"

    def test_the_result_names_the_file_and_counts_the_hostnames(self, info_dest):
        assert parts(info_dest.filed, "dest", "count") == {"dest": str(info_dest.dest), "count": 60}

    def test_both_results_name_the_zone(self, info_dest):
        assert (info_dest.filed["zone_id"], info_dest.plain["zone_id"]) == (info_dest.zone_id, info_dest.zone_id)

    def test_only_the_owner_can_read_the_file(self, info_dest):
        assert info_dest.mode == 0o600

    def test_the_file_holds_the_zone_and_its_hostnames(self, info_dest):
        data = json.loads(info_dest.text)
        assert set(data) == {"zone_id", "custom_hostnames"}
        assert data["zone_id"] == info_dest.zone_id

    def test_the_result_without_dest_lists_every_hostname(self, info_dest):
        assert len(info_dest.plain["custom_hostnames"]) == 60

    def test_the_file_holds_what_the_result_without_dest_lists(self, info_dest):
        assert json.loads(info_dest.text)["custom_hostnames"] == info_dest.plain["custom_hostnames"]

    def test_the_file_holds_each_hostname_s_certificates_by_fingerprint(self, info_dest, pki):
        assert fingerprints(json.loads(info_dest.text)["custom_hostnames"][0]) == [pki.due.fingerprint_sha256]

    def test_the_file_holds_no_pem(self, info_dest):
        assert "BEGIN" not in info_dest.text

    def test_no_temporary_file_is_left(self, info_dest):
        assert info_dest.temporary == []

    def test_no_write_is_sent(self, info_dest):
        assert info_dest.writes == []


def test_info_dest_is_written_in_check_mode(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 3)
    dest = tmp_path / "found.json"
    result = ansible.run_module(INFO, {"zone": "example.com", "dest": str(dest)}, check=True)
    assert not result.failed, result.msg
    assert not result.changed, result.msg
    # The apply stage in check mode plans from this file: without it there would be nothing to preview.
    assert [h["hostname"] for h in read_json(dest)["custom_hostnames"]] == [name(i) for i in range(3)]
    assert result.result["count"] == 3
    assert mode_of(dest) == 0o600


def test_info_dest_in_a_missing_directory_fails_naming_it(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 3)
    dest = tmp_path / "missing" / "found.json"
    result = ansible.run_module(INFO, {"zone": "example.com", "dest": str(dest)})
    assert result.failed
    assert not result.changed
    assert "dest: cannot write %s" % dest in result.msg, result.msg
    assert "Traceback" not in result.output
    assert not dest.parent.exists()
    assert writes(emulator) == []


# -- the pipeline as the role runs it ----------------------------------------------------------------------------------

DUE_NAMES = [name(i) for i in DUE]
ALL_NAMES = [name(i) for i in range(N)]


@pytest.fixture(scope="module")
def pipeline_run(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    files = paths(tmp_path_factory.mktemp("pipeline"))
    run = ansible.run_tasks(pipeline(pki, files, wait=True))
    assert len(run.results) == 3, run.output
    journal = emulator.journal()
    first = SimpleNamespace(
        plan=run.result(1),
        applied=run.result(2),
        journal=journal,
        is_list_page=[is_list_page(e, emulator) for e in journal],
        writes=writes(emulator),
        served={name(i): emulator.history.served(name(i)).fingerprint_sha256 for i in range(N)},
        state=read_json(files.state),
        state_mode=mode_of(files.state),
    )
    # The views are the ones the info module gives of the same state, so the report compares like with like.
    emulator.reset_journal()
    reread = ansible.run_module(INFO, {"zone_id": emulator.zone_id})
    # The same three tasks again: nothing due, nothing written.
    emulator.reset_journal()
    again_run = ansible.run_tasks(pipeline(pki, files, wait=True))
    assert len(again_run.results) == 3, again_run.output
    again = SimpleNamespace(
        output=again_run.output,
        plan=again_run.result(1),
        applied=again_run.result(2),
        writes=writes(emulator),
        other_calls=[e for e in emulator.journal() if not is_list_page(e, emulator) and not e["path"].endswith("/zones")],
        state=read_json(files.state),
    )
    return SimpleNamespace(zone_id=emulator.zone_id, ids=ids, first=first, reread=reread, again=again)


class TestThePipelineOnPathsRotatesTheDueHostnamesWithOnePatchEach:
    """Twenty hostnames, twelve due; one play of the role's three steps on paths (discovery to a file, the plan to a file,
    the apply with dest and wait); then the hostnames read again; then the same play again."""

    def test_the_plan_succeeds(self, pipeline_run):
        assert not pipeline_run.first.plan.get("failed"), pipeline_run.first.plan.get("msg")

    def test_the_plan_rotates_the_due_hostnames(self, pipeline_run):
        assert pipeline_run.first.plan["plan"]["counts"]["hostname_certificates"] == len(DUE)

    def test_the_apply_succeeds(self, pipeline_run):
        assert not pipeline_run.first.applied.get("failed"), pipeline_run.first.applied.get("msg")

    def test_the_apply_reports_a_change(self, pipeline_run):
        assert pipeline_run.first.applied["changed"] is True

    def test_with_dest_the_result_lists_only_the_failed_hostnames(self, pipeline_run):
        assert pipeline_run.first.applied["custom_hostnames"] == []

    def test_with_dest_the_result_counts_the_hostnames(self, pipeline_run):
        assert pipeline_run.first.applied["summary"] == {"total": len(DUE), "changed": len(DUE), "unchanged": 0, "failed": 0}

    def test_with_dest_the_result_counts_the_hostnames_switched(self, pipeline_run):
        assert pipeline_run.first.applied["switched_count"] == len(DUE)

    def test_the_discovered_hostnames_are_not_echoed_back_but_counted(self, pipeline_run):
        assert pipeline_run.first.applied["invocation"]["module_args"]["discovered_hostnames"] == "%d hostnames, not repeated here" % N

    def test_the_journal_starts_with_the_discovery_a_zone_lookup_and_one_list_page(self, pipeline_run):
        assert pipeline_run.first.journal[0]["path"].endswith("/zones")
        assert pipeline_run.first.is_list_page[1]

    def test_then_comes_one_patch_per_due_hostname(self, pipeline_run):
        assert [e["method"] for e in pipeline_run.first.journal[2 : 2 + len(DUE)]] == ["PATCH"] * len(DUE)

    def test_the_patches_are_for_the_due_hostnames(self, pipeline_run):
        patched = sorted(e["path"].rsplit("/", 1)[-1] for e in pipeline_run.first.journal[2 : 2 + len(DUE)])
        assert patched == sorted(pipeline_run.ids[h] for h in DUE_NAMES)

    def test_then_the_wait_reads_list_pages_only(self, pipeline_run):
        waits = pipeline_run.first.journal[2 + len(DUE) :]
        assert waits
        assert all(pipeline_run.first.is_list_page[2 + len(DUE) :]), [(e["method"], e["path"], e["query"]) for e in waits]

    def test_the_only_writes_are_the_patches(self, pipeline_run):
        assert len(pipeline_run.first.writes) == len(DUE)

    def test_the_emulator_serves_the_new_certificate_on_the_due_hostnames_and_the_fresh_one_on_the_others(self, pipeline_run, pki):
        assert pipeline_run.first.served == {name(i): (pki.new if i in DUE else pki.fresh).fingerprint_sha256 for i in range(N)}

    # The state file: every hostname of the zone as last seen, in the shape the info module writes, plus the results.
    def test_only_the_owner_can_read_the_state_file(self, pipeline_run):
        assert pipeline_run.first.state_mode == 0o600

    def test_the_state_file_holds_the_zone_its_hostnames_the_results_and_the_switched(self, pipeline_run):
        assert set(pipeline_run.first.state) == {"zone_id", "custom_hostnames", "results", "switched"}

    def test_the_state_file_names_the_zone(self, pipeline_run):
        assert pipeline_run.first.state["zone_id"] == pipeline_run.zone_id

    def test_the_state_file_gives_what_the_edge_must_now_serve(self, pipeline_run, pki):
        # Each due hostname with the key type and fingerprint of its new certificate.
        assert pipeline_run.first.state["switched"] == [
            {"hostname": h, "key_types": ["ecdsa"], "fingerprints": [pki.new.fingerprint_sha256]} for h in DUE_NAMES
        ]

    def test_the_state_file_holds_every_hostname_of_the_zone(self, pipeline_run):
        assert sorted(h["hostname"] for h in pipeline_run.first.state["custom_hostnames"]) == ALL_NAMES

    def test_the_state_file_holds_each_hostname_s_id(self, pipeline_run):
        assert {h["hostname"]: h["id"] for h in pipeline_run.first.state["custom_hostnames"]} == pipeline_run.ids

    def test_the_state_file_holds_each_hostname_s_certificate_as_last_seen(self, pipeline_run, pki):
        assert {h["hostname"]: fingerprints(h) for h in pipeline_run.first.state["custom_hostnames"]} == {
            name(i): [(pki.new if i in DUE else pki.fresh).fingerprint_sha256] for i in range(N)
        }

    def test_the_state_file_shows_the_due_hostnames_live_as_the_wait_s_last_read_saw_them(self, pipeline_run):
        views = {h["hostname"]: h for h in pipeline_run.first.state["custom_hostnames"]}
        assert {h: (views[h]["status"], views[h]["ssl"]["status"]) for h in DUE_NAMES} == {h: ("active", "active") for h in DUE_NAMES}

    def test_the_state_file_holds_a_result_for_each_due_hostname(self, pipeline_run):
        assert [r["hostname"] for r in pipeline_run.first.state["results"]] == DUE_NAMES

    def test_each_result_in_the_state_file_is_changed_and_not_failed_with_the_hostname_s_id(self, pipeline_run):
        results = pipeline_run.first.state["results"]
        assert {r["hostname"]: (bool(r["changed"]), bool(r["failed"]), r["id"]) for r in results} == {
            r["hostname"]: (True, False, pipeline_run.ids[r["hostname"]]) for r in results
        }

    def test_each_result_in_the_state_file_has_the_new_certificate(self, pipeline_run, pki):
        results = pipeline_run.first.state["results"]
        assert {r["hostname"]: [c["fingerprint_sha256"] for c in r["certificates"]] for r in results} == {
            r["hostname"]: [pki.new.fingerprint_sha256] for r in results
        }

    def test_reading_the_hostnames_again_succeeds(self, pipeline_run):
        assert not pipeline_run.reread.failed, pipeline_run.reread.msg

    def test_the_state_file_holds_the_views_the_info_module_gives(self, pipeline_run):
        # The file keeps the order hostnames were handled in (page by page, those waited for last): compared by name.
        def by_name(views):
            return sorted(views, key=lambda view: view["hostname"])

        assert by_name(pipeline_run.first.state["custom_hostnames"]) == by_name(pipeline_run.reread.result["custom_hostnames"])

    def test_the_apply_run_again_succeeds(self, pipeline_run):
        assert not pipeline_run.again.applied.get("failed"), pipeline_run.again.output

    def test_the_plan_made_again_has_nothing_due(self, pipeline_run):
        assert pipeline_run.again.plan["plan"]["counts"]["hostname_certificates"] == 0

    def test_the_apply_run_again_changes_nothing(self, pipeline_run):
        assert pipeline_run.again.applied["changed"] is False

    def test_the_apply_run_again_counts_no_hostname(self, pipeline_run):
        assert pipeline_run.again.applied["summary"] == {"total": 0, "changed": 0, "unchanged": 0, "failed": 0}

    def test_the_play_run_again_sends_no_write(self, pipeline_run):
        assert pipeline_run.again.writes == []

    def test_the_play_run_again_reads_only_the_zone_and_list_pages(self, pipeline_run):
        assert pipeline_run.again.other_calls == []

    def test_the_apply_run_again_rewrites_the_state_file_without_results(self, pipeline_run):
        assert pipeline_run.again.state["results"] == []

    def test_the_rewritten_state_file_holds_every_hostname_of_the_zone(self, pipeline_run):
        assert sorted(h["hostname"] for h in pipeline_run.again.state["custom_hostnames"]) == ALL_NAMES


@pytest.fixture(scope="module")
def plan_form_check(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    before = emulator.dump_state()
    files = paths(tmp_path_factory.mktemp("plan-check"))
    run = ansible.run_tasks(pipeline(pki, files, wait=True), check=True, diff=True)
    assert len(run.results) == 3, run.output
    return SimpleNamespace(
        ids=ids,
        applied=run.result(2),
        writes=writes(emulator),
        state_unchanged=emulator.dump_state() == before,
        list_pages=len([e for e in emulator.journal() if is_list_page(e, emulator)]),
        state=read_json(files.state),
        served={name(i): emulator.history.served(name(i)).fingerprint_sha256 for i in DUE},
    )


class TestThePlanFormInCheckModePredictsIntoDestAndWritesNothing:
    """Twenty hostnames, twelve due; one play of the role's three steps on paths, in check mode with diff."""

    def test_the_apply_succeeds(self, plan_form_check):
        assert not plan_form_check.applied.get("failed"), plan_form_check.applied.get("msg")

    def test_the_apply_predicts_a_change(self, plan_form_check):
        assert plan_form_check.applied["changed"] is True

    def test_the_apply_counts_the_due_hostnames_changed(self, plan_form_check):
        assert plan_form_check.applied["summary"] == {"total": len(DUE), "changed": len(DUE), "unchanged": 0, "failed": 0}

    def test_nothing_is_switched_so_the_edge_has_nothing_new_to_serve(self, plan_form_check):
        assert plan_form_check.applied["switched"] == []

    def test_no_write_is_sent(self, plan_form_check):
        assert plan_form_check.writes == []

    def test_the_emulator_s_state_is_as_it_was(self, plan_form_check):
        assert plan_form_check.state_unchanged

    def test_it_never_waits_the_only_list_page_being_the_discovery_s(self, plan_form_check):
        assert plan_form_check.list_pages == 1

    def test_the_state_file_holds_every_hostname_of_the_zone(self, plan_form_check):
        assert sorted(h["hostname"] for h in plan_form_check.state["custom_hostnames"]) == ALL_NAMES

    def test_the_state_file_predicts_each_hostname_s_certificate(self, plan_form_check, pki):
        assert {h["hostname"]: fingerprints(h) for h in plan_form_check.state["custom_hostnames"]} == {
            name(i): [(pki.new if i in DUE else pki.fresh).fingerprint_sha256] for i in range(N)
        }

    def test_the_state_file_holds_each_hostname_s_id(self, plan_form_check):
        assert {h["hostname"]: h["id"] for h in plan_form_check.state["custom_hostnames"]} == plan_form_check.ids

    def test_the_state_file_holds_a_changed_result_for_each_due_hostname(self, plan_form_check):
        assert [(r["hostname"], r["changed"], r["failed"]) for r in plan_form_check.state["results"]] == [(name(i), True, False) for i in DUE]

    def test_the_diff_before_shows_the_due_certificate_on_the_due_hostnames(self, plan_form_check, pki):
        assert plan_form_check.applied["diff"]["before"] == {name(i): {"ecdsa": pki.due.fingerprint_sha256} for i in DUE}

    def test_the_diff_after_shows_the_new_certificate_on_the_due_hostnames(self, plan_form_check, pki):
        assert plan_form_check.applied["diff"]["after"] == {name(i): {"ecdsa": pki.new.fingerprint_sha256} for i in DUE}

    def test_nothing_is_served_differently(self, plan_form_check, pki):
        assert plan_form_check.served == {name(i): pki.due.fingerprint_sha256 for i in DUE}


# -- wait ----------------------------------------------------------------------------------------------------------------


def journal_time(entry: Dict[str, Any]) -> float:
    return datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()


@pytest.mark.emulator(delay=2.0)
def test_wait_returns_once_every_changed_hostname_is_live(ansible, emulator, pki):
    seed(emulator, pki, 6)
    items = [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(6)]
    emulator.reset_journal()
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname_certificates": items, "wait": True, "wait_timeout": 60})
    returned = time.time()
    assert not result.failed, result.msg
    assert result.changed, result.msg
    assert result.result["summary"] == {"total": 6, "changed": 6, "unchanged": 0, "failed": 0}
    # At return every changed hostname is live in the emulator, serving the new certificate (it is so since before now).
    state = {h["hostname"]: h for h in emulator.dump_state()["zones"][0]["custom_hostnames"]}
    for i in range(6):
        assert (state[name(i)]["status"], state[name(i)]["ssl"]["status"]) == ("active", "active"), state[name(i)]
        assert emulator.history.served(name(i), at=returned).fingerprint_sha256 == pki.new.fingerprint_sha256
    journal = emulator.journal()
    patches = [e for e in journal if e["method"] == "PATCH"]
    assert len(patches) == 6
    assert len(writes(emulator)) == 6
    # There was something to wait for: each PATCH answered pending_deployment.
    assert [e["response_body"]["result"]["ssl"]["status"] for e in patches] == ["pending_deployment"] * len(patches)
    gets = [e for e in journal if e["method"] == "GET"]
    assert all(is_list_page(e, emulator) for e in gets), [(e["path"], e["query"]) for e in gets]
    polls = [e for e in gets if e["seq"] > patches[-1]["seq"]]
    assert len(polls) >= 2, "the first read after the writes cannot see them live yet"
    # The last read shows them live; it came no sooner than a status step after the last write.
    assert journal_time(polls[-1]) - journal_time(patches[-1]) >= 2.0 - 0.1
    last = {h["hostname"]: h for h in polls[-1]["response_body"]["result"]}
    assert {name(i): (last[name(i)]["status"], last[name(i)]["ssl"]["status"]) for i in range(6)} == {name(i): ("active", "active") for i in range(6)}
    # The results are those of the wait's last read: the new certificate.
    results = result.result["custom_hostnames"]
    assert [[c["fingerprint_sha256"] for c in h["certificates"]] for h in results] == [[pki.new.fingerprint_sha256]] * len(results)


@pytest.fixture(scope="module")
def wait_timed_out(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator(delay=4.0)
    ids = seed(emulator, pki, 4)
    items = [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(4)]
    dest = tmp_path_factory.mktemp("timed-out") / "state.json"
    args = {"zone_id": emulator.zone_id, "hostname_certificates": items, "wait": True, "wait_timeout": 1, "dest": str(dest)}
    emulator.reset_journal()
    result = ansible.run_module(MOD, args)
    first = SimpleNamespace(writes=writes(emulator), dest_results=len(read_json(dest)["results"]) if dest.exists() else None)
    # Once they are live, the same task has nothing to write (and nothing to wait for).
    deadline = time.time() + 15
    while time.time() < deadline and not all(emulator.history.served(name(i)).fingerprint_sha256 == pki.new.fingerprint_sha256 for i in range(4)):
        time.sleep(0.2)
    emulator.reset_journal()
    again = ansible.run_module(MOD, dict(args, wait_timeout=30))
    return SimpleNamespace(
        ids=ids,
        result=result,
        first=first,
        again=again,
        again_writes=writes(emulator),
        again_list_pages=[is_list_page(e, emulator) for e in emulator.journal()],
    )


class TestAWaitThatTimesOutFailsChangedAndAReRunWritesNothing:
    """Four hostnames, status steps of 4 s; the list form with dest and a wait of 1 s; once they are live, the same with 30 s."""

    def test_it_fails_and_reports_a_change(self, wait_timed_out):
        assert wait_timed_out.result.failed, wait_timed_out.result.msg
        assert wait_timed_out.result.changed, wait_timed_out.result.msg

    def test_it_counts_every_hostname_failed(self, wait_timed_out):
        assert wait_timed_out.result.result["summary"] == {"total": 4, "changed": 0, "unchanged": 0, "failed": 4}

    def test_the_message_names_each_hostname_not_live_yet(self, wait_timed_out):
        for i in range(4):
            assert "custom hostname %s is not live yet" % name(i) in wait_timed_out.result.msg, wait_timed_out.result.msg

    def test_the_message_says_a_re_run_is_safe(self, wait_timed_out):
        assert "running the task again is safe" in wait_timed_out.result.msg

    def test_with_dest_the_result_lists_the_four_failed_hostnames(self, wait_timed_out):
        assert sorted(h["hostname"] for h in wait_timed_out.result.result["custom_hostnames"]) == [name(i) for i in range(4)]

    def test_each_failed_hostname_says_it_is_not_live_and_still_deploying(self, wait_timed_out):
        for h in wait_timed_out.result.result["custom_hostnames"]:
            assert h["failed"], h
            assert "not live" in h["msg"]
            assert "pending_deployment" in h["msg"]

    def test_each_hostname_is_patched_once(self, wait_timed_out):
        assert sorted(p.rsplit("/", 1)[-1] for _m, p in wait_timed_out.first.writes) == sorted(wait_timed_out.ids.values())

    def test_dest_is_written_also_when_hostnames_fail(self, wait_timed_out):
        assert wait_timed_out.first.dest_results == 4

    def test_a_re_run_once_they_are_live_changes_nothing(self, wait_timed_out):
        assert not wait_timed_out.again.failed, wait_timed_out.again.msg
        assert not wait_timed_out.again.changed, wait_timed_out.again.msg

    def test_a_re_run_counts_every_hostname_unchanged(self, wait_timed_out):
        assert wait_timed_out.again.result["summary"] == {"total": 4, "changed": 0, "unchanged": 4, "failed": 0}

    def test_a_re_run_sends_no_write(self, wait_timed_out):
        assert wait_timed_out.again_writes == []

    def test_a_re_run_reads_list_pages_only(self, wait_timed_out):
        assert all(wait_timed_out.again_list_pages)


@pytest.mark.emulator(delay=1.0)
def test_wait_fails_a_stuck_hostname_alone_and_at_once(ansible, emulator, pki):
    seed(emulator, pki, 3)
    stuck = emulator.state.add_custom_hostname(
        emulator.zone_id, name(3), status="blocked", ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.due.chain_pem}]
    )
    items = [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(4)]
    started = time.time()
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname_certificates": items, "wait": True, "wait_timeout": 120})
    assert result.failed, result.msg
    assert result.changed, result.msg
    assert time.time() - started < 60, "a blocked hostname must not be waited for until the timeout"
    by_name = {h["hostname"]: h for h in result.result["custom_hostnames"]}
    assert by_name[name(3)]["failed"]
    assert "the status of custom hostname %s is blocked" % name(3) in by_name[name(3)]["msg"]
    assert by_name[name(3)]["id"] == stuck.id
    assert [by_name[name(i)]["failed"] for i in range(3)] == [False] * 3
    assert result.result["summary"] == {"total": 4, "changed": 3, "unchanged": 0, "failed": 1}
    assert "1 of 4 custom hostnames failed: %s" % name(3) in result.msg
    for i in range(3):
        assert emulator.history.served(name(i)).fingerprint_sha256 == pki.new.fingerprint_sha256


# -- bad inputs ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    [
        "missing plan",
        "not a plan",
        "entry without certificate_path",
        "discovered not json",
        "dest single",
        "discovered single",
        "passphrase single",
        "progress single",
        "plan and list",
        "dest unwritable",
    ],
)
def test_bad_file_inputs_fail_before_any_call(ansible, emulator, pki, tmp_path, case):
    seed(emulator, pki, 2)
    base: Dict[str, Any] = {"zone_id": emulator.zone_id}
    good_plan = tmp_path / "plan.json"
    good_plan.write_text(json.dumps({"plan": {"hostname_certificates": [{"hostname": name(0), "certificates": [pki.files["new"]]}]}}))
    if case == "missing plan":
        args, messages = dict(base, plan=str(tmp_path / "nope.json")), ["plan: cannot read %s" % (tmp_path / "nope.json")]
    elif case == "not a plan":
        (tmp_path / "x.json").write_text('{"x": 1}')
        args = dict(base, plan=str(tmp_path / "x.json"))
        messages = ["plan: %s is not a plan file of certops.cloudflare.rotation_plan" % (tmp_path / "x.json"), "dest option"]
    elif case == "entry without certificate_path":
        entry = {"hostname": name(1), "certificates": [{"private_key_path": pki.files["new"]["private_key_path"]}]}
        data = {"plan": {"hostname_certificates": [{"hostname": name(0), "certificates": [pki.files["new"]]}, entry]}}
        (tmp_path / "bad.json").write_text(json.dumps(data))
        args = dict(base, plan=str(tmp_path / "bad.json"))
        messages = ["plan: hostname_certificates[1] of %s is not an entry rotation_plan writes; make the plan again" % (tmp_path / "bad.json")]
    elif case == "discovered not json":
        (tmp_path / "found.txt").write_text("h000.customer.example\n")
        args = dict(base, plan=str(good_plan), discovered_hostnames=str(tmp_path / "found.txt"))
        messages = ["discovered_hostnames: %s does not hold JSON" % (tmp_path / "found.txt")]
    elif case == "dest single":
        args = dict(base, hostname=name(0), certificates=[pki.files["new"]], dest=str(tmp_path / "state.json"))
        messages = ["dest is an option of the list form: set hostname_certificates or plan with it"]
    elif case == "discovered single":
        (tmp_path / "found.json").write_text(json.dumps({"zone_id": emulator.zone_id, "custom_hostnames": []}))
        args = dict(base, hostname=name(0), certificates=[pki.files["new"]], discovered_hostnames=str(tmp_path / "found.json"))
        messages = ["discovered_hostnames is an option of the list form: set hostname_certificates or plan with it"]
    elif case == "passphrase single":
        args = dict(base, hostname=name(0), certificates=[pki.files["new"]], private_key_passphrase="pass phrase")
        messages = ["private_key_passphrase is an option of the list form: set hostname_certificates or plan with it"]
    elif case == "progress single":
        args = dict(base, hostname=name(0), certificates=[pki.files["new"]], progress=str(tmp_path / "state.json"))
        messages = ["progress is an option of the list form: set hostname_certificates or plan with it"]
    elif case == "plan and list":
        args = dict(base, plan=str(good_plan), hostname_certificates=[{"hostname": name(1), "certificates": [pki.files["new"]]}])
        messages = ["mutually exclusive", "hostname_certificates|plan"]
    else:  # found out before the writes, not after 10,000 of them
        args = dict(base, plan=str(good_plan), dest=str(tmp_path / "gone" / "state.json"))
        messages = ["dest: cannot write %s: its directory %s does not exist or is not writable" % (tmp_path / "gone" / "state.json", tmp_path / "gone")]
    emulator.reset_journal()
    result = ansible.run_module(MOD, args)
    assert result.failed
    assert not result.changed
    for message in messages:
        assert message in result.msg, (message, result.msg)
    assert "Traceback" not in result.output
    assert "pass phrase" not in result.output
    assert emulator.journal() == []  # not even a read
    assert not (tmp_path / "state.json").exists()
