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


def paths(tmp_path: Path) -> SimpleNamespace:
    return SimpleNamespace(found=tmp_path / "found.json", plan=tmp_path / "plan.json", state=tmp_path / "state.json")


# -- custom_hostname_cert_info dest ------------------------------------------------------------------------------------


def test_info_dest_holds_what_the_result_would_hold(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 60)  # two list pages
    dest = tmp_path / "found.json"
    # A file already there is replaced whole, and gets the private mode whatever it had.
    dest.write_text("x" * 100000)
    os.chmod(dest, 0o644)
    run = ansible.run_tasks(
        [
            {"name": "plain", INFO: {"zone": "example.com"}, "register": "plain"},
            {"name": "to a file", INFO: {"zone": "example.com", "dest": str(dest)}, "register": "filed"},
        ]
    )
    plain, filed = run.result(0), run.result(1)
    assert not plain.get("failed") and not filed.get("failed"), run.output
    assert filed["changed"] is False
    assert "custom_hostnames" not in filed, "the list goes to the file only, not through Ansible's variables"
    assert filed["dest"] == str(dest) and filed["count"] == 60 and filed["zone_id"] == emulator.zone_id == plain["zone_id"]
    assert mode_of(dest) == 0o600
    data = read_json(dest)
    assert set(data) == {"zone_id", "custom_hostnames"} and data["zone_id"] == emulator.zone_id
    assert len(plain["custom_hostnames"]) == 60
    assert data["custom_hostnames"] == plain["custom_hostnames"]
    assert fingerprints(data["custom_hostnames"][0]) == [pki.due.fingerprint_sha256]
    assert "BEGIN" not in dest.read_text()
    # No stray temporary file next to it.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".certops-")) == []
    assert writes(emulator) == []


def test_info_dest_is_written_in_check_mode(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 3)
    dest = tmp_path / "found.json"
    result = ansible.run_module(INFO, {"zone": "example.com", "dest": str(dest)}, check=True)
    assert not result.failed and not result.changed, result.msg
    # The apply stage in check mode plans from this file: without it there would be nothing to preview.
    assert [h["hostname"] for h in read_json(dest)["custom_hostnames"]] == [name(i) for i in range(3)]
    assert result.result["count"] == 3 and mode_of(dest) == 0o600


def test_info_dest_in_a_missing_directory_fails_naming_it(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 3)
    dest = tmp_path / "missing" / "found.json"
    result = ansible.run_module(INFO, {"zone": "example.com", "dest": str(dest)})
    assert result.failed and not result.changed
    assert "dest: cannot write %s" % dest in result.msg, result.msg
    assert "Traceback" not in result.output
    assert not dest.parent.exists()
    assert writes(emulator) == []


# -- the pipeline as the role runs it ----------------------------------------------------------------------------------


def test_pipeline_on_paths_rotates_the_due_hostnames_with_one_patch_each(ansible, emulator, pki, tmp_path):
    ids = seed(emulator, pki)
    files = paths(tmp_path)
    due = [name(i) for i in DUE]
    run = ansible.run_tasks(pipeline(pki, files, wait=True))
    assert len(run.results) == 3, run.output
    plan, applied = run.result(1), run.result(2)
    assert not plan.get("failed"), plan.get("msg")
    assert plan["plan"]["counts"]["hostname_certificates"] == len(DUE)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is True
    # With dest the result stays small: only failed hostnames, and the counts.
    assert applied["custom_hostnames"] == []
    assert applied["summary"] == {"total": len(DUE), "changed": len(DUE), "unchanged": 0, "failed": 0}
    assert applied["switched_count"] == len(DUE)
    assert applied["invocation"]["module_args"]["discovered_hostnames"] == "%d hostnames, not repeated here" % N

    # The journal: discovery (zone lookup and one list page), one PATCH per due hostname, then list pages only (the wait).
    journal = emulator.journal()
    assert journal[0]["path"].endswith("/zones") and is_list_page(journal[1], emulator)
    assert [e["method"] for e in journal[2 : 2 + len(DUE)]] == ["PATCH"] * len(DUE)
    assert sorted(e["path"].rsplit("/", 1)[-1] for e in journal[2 : 2 + len(DUE)]) == sorted(ids[h] for h in due)
    waits = journal[2 + len(DUE) :]
    assert waits and all(is_list_page(e, emulator) for e in waits), [(e["method"], e["path"], e["query"]) for e in waits]
    assert len(writes(emulator)) == len(DUE)

    # The emulator serves the new certificate on the due hostnames, and still the fresh one on the others.
    for i in range(N):
        expected = pki.new if i in DUE else pki.fresh
        assert emulator.history.served(name(i)).fingerprint_sha256 == expected.fingerprint_sha256, name(i)

    # The state file: every hostname of the zone as last seen, in the shape the info module writes, plus the results.
    state = read_json(files.state)
    assert mode_of(files.state) == 0o600
    assert set(state) == {"zone_id", "custom_hostnames", "results", "switched"}
    assert state["zone_id"] == emulator.zone_id
    # What the edge must now serve: each due hostname with the key type and fingerprint of its new certificate.
    assert state["switched"] == [{"hostname": h, "key_types": ["ecdsa"], "fingerprints": [pki.new.fingerprint_sha256]} for h in due]
    by_name = {h["hostname"]: h for h in state["custom_hostnames"]}
    assert sorted(by_name) == [name(i) for i in range(N)]
    for i in range(N):
        view = by_name[name(i)]
        assert view["id"] == ids[name(i)]
        assert fingerprints(view) == [(pki.new if i in DUE else pki.fresh).fingerprint_sha256], name(i)
        if i in DUE:  # seen by the wait's last read: live
            assert view["status"] == "active" and view["ssl"]["status"] == "active", view
    assert [r["hostname"] for r in state["results"]] == due
    for entry in state["results"]:
        assert entry["changed"] and not entry["failed"] and entry["id"] == ids[entry["hostname"]]
        assert [c["fingerprint_sha256"] for c in entry["certificates"]] == [pki.new.fingerprint_sha256]
    # The views are the ones the info module gives of the same state, so the report compares like with like.
    emulator.reset_journal()
    reread = ansible.run_module(INFO, {"zone_id": emulator.zone_id})
    assert not reread.failed, reread.msg
    assert state["custom_hostnames"] == reread.result["custom_hostnames"]

    # The same three tasks again: nothing due, nothing written.
    emulator.reset_journal()
    again = ansible.run_tasks(pipeline(pki, files, wait=True))
    assert len(again.results) == 3 and not again.result(2).get("failed"), again.output
    assert again.result(1)["plan"]["counts"]["hostname_certificates"] == 0
    assert again.result(2)["changed"] is False
    assert again.result(2)["summary"] == {"total": 0, "changed": 0, "unchanged": 0, "failed": 0}
    assert writes(emulator) == []
    assert [e for e in emulator.journal() if not is_list_page(e, emulator) and not e["path"].endswith("/zones")] == []
    rewritten = read_json(files.state)
    assert rewritten["results"] == [] and sorted(h["hostname"] for h in rewritten["custom_hostnames"]) == sorted(by_name)


def test_plan_form_in_check_mode_predicts_into_dest_and_writes_nothing(ansible, emulator, pki, tmp_path):
    ids = seed(emulator, pki)
    before = emulator.dump_state()
    files = paths(tmp_path)
    run = ansible.run_tasks(pipeline(pki, files, wait=True), check=True, diff=True)
    assert len(run.results) == 3, run.output
    applied = run.result(2)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is True
    assert applied["summary"] == {"total": len(DUE), "changed": len(DUE), "unchanged": 0, "failed": 0}
    assert applied["switched"] == []  # nothing was written, so the edge has nothing new to serve
    assert writes(emulator) == [] and emulator.dump_state() == before
    # Never waits in check mode: the only list page is the discovery's.
    assert len([e for e in emulator.journal() if is_list_page(e, emulator)]) == 1

    state = read_json(files.state)
    by_name = {h["hostname"]: h for h in state["custom_hostnames"]}
    assert sorted(by_name) == [name(i) for i in range(N)]
    for i in range(N):
        assert fingerprints(by_name[name(i)]) == [(pki.new if i in DUE else pki.fresh).fingerprint_sha256], name(i)
        assert by_name[name(i)]["id"] == ids[name(i)]
    assert [(r["hostname"], r["changed"], r["failed"]) for r in state["results"]] == [(name(i), True, False) for i in DUE]

    diff = applied["diff"]
    assert diff["before"] == {name(i): {"ecdsa": pki.due.fingerprint_sha256} for i in DUE}
    assert diff["after"] == {name(i): {"ecdsa": pki.new.fingerprint_sha256} for i in DUE}
    # Nothing was served differently.
    assert all(emulator.history.served(name(i)).fingerprint_sha256 == pki.due.fingerprint_sha256 for i in DUE)


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
    assert not result.failed and result.changed, result.msg
    assert result.result["summary"] == {"total": 6, "changed": 6, "unchanged": 0, "failed": 0}
    # At return every changed hostname is live in the emulator, serving the new certificate (it is so since before now).
    state = {h["hostname"]: h for h in emulator.dump_state()["zones"][0]["custom_hostnames"]}
    for i in range(6):
        assert state[name(i)]["status"] == "active" and state[name(i)]["ssl"]["status"] == "active", state[name(i)]
        assert emulator.history.served(name(i), at=returned).fingerprint_sha256 == pki.new.fingerprint_sha256
    journal = emulator.journal()
    patches = [e for e in journal if e["method"] == "PATCH"]
    assert len(patches) == 6 and len(writes(emulator)) == 6
    # There was something to wait for: each PATCH answered pending_deployment.
    assert all(e["response_body"]["result"]["ssl"]["status"] == "pending_deployment" for e in patches)
    gets = [e for e in journal if e["method"] == "GET"]
    assert all(is_list_page(e, emulator) for e in gets), [(e["path"], e["query"]) for e in gets]
    polls = [e for e in gets if e["seq"] > patches[-1]["seq"]]
    assert len(polls) >= 2, "the first read after the writes cannot see them live yet"
    # The last read shows them live; it came no sooner than a status step after the last write.
    assert journal_time(polls[-1]) - journal_time(patches[-1]) >= 2.0 - 0.1
    last = {h["hostname"]: h for h in polls[-1]["response_body"]["result"]}
    assert all(last[name(i)]["status"] == "active" and last[name(i)]["ssl"]["status"] == "active" for i in range(6))
    # The results are those of the wait's last read: the new certificate.
    assert all([c["fingerprint_sha256"] for c in h["certificates"]] == [pki.new.fingerprint_sha256] for h in result.result["custom_hostnames"])


@pytest.mark.emulator(delay=4.0)
def test_wait_that_times_out_fails_changed_and_a_rerun_writes_nothing(ansible, emulator, pki, tmp_path):
    ids = seed(emulator, pki, 4)
    items = [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(4)]
    dest = tmp_path / "state.json"
    args = {"zone_id": emulator.zone_id, "hostname_certificates": items, "wait": True, "wait_timeout": 1, "dest": str(dest)}
    emulator.reset_journal()
    result = ansible.run_module(MOD, args)
    assert result.failed and result.changed, result.msg
    assert result.result["summary"] == {"total": 4, "changed": 0, "unchanged": 0, "failed": 4}
    for i in range(4):
        assert "custom hostname %s is not live yet" % name(i) in result.msg, result.msg
    assert "running the task again is safe" in result.msg
    # With dest the result lists the failed hostnames: all four, each saying why.
    failed = {h["hostname"]: h for h in result.result["custom_hostnames"]}
    assert sorted(failed) == [name(i) for i in range(4)]
    assert all(h["failed"] and "not live" in h["msg"] and "pending_deployment" in h["msg"] for h in failed.values())
    assert sorted(p.rsplit("/", 1)[-1] for m, p in writes(emulator)) == sorted(ids.values())
    assert len(read_json(dest)["results"]) == 4  # written also when hostnames fail

    # Once they are live, the same task has nothing to write (and nothing to wait for).
    deadline = time.time() + 15
    while time.time() < deadline and not all(emulator.history.served(name(i)).fingerprint_sha256 == pki.new.fingerprint_sha256 for i in range(4)):
        time.sleep(0.2)
    emulator.reset_journal()
    again = ansible.run_module(MOD, dict(args, wait_timeout=30))
    assert not again.failed and not again.changed, again.msg
    assert again.result["summary"] == {"total": 4, "changed": 0, "unchanged": 4, "failed": 0}
    assert writes(emulator) == []
    assert all(is_list_page(e, emulator) for e in emulator.journal())


@pytest.mark.emulator(delay=1.0)
def test_wait_fails_a_stuck_hostname_alone_and_at_once(ansible, emulator, pki):
    seed(emulator, pki, 3)
    stuck = emulator.state.add_custom_hostname(
        emulator.zone_id, name(3), status="blocked", ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.due.chain_pem}]
    )
    items = [{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(4)]
    started = time.time()
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname_certificates": items, "wait": True, "wait_timeout": 120})
    assert result.failed and result.changed, result.msg
    assert time.time() - started < 60, "a blocked hostname must not be waited for until the timeout"
    by_name = {h["hostname"]: h for h in result.result["custom_hostnames"]}
    assert by_name[name(3)]["failed"] and "the status of custom hostname %s is blocked" % name(3) in by_name[name(3)]["msg"]
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
    elif case == "plan and list":
        args = dict(base, plan=str(good_plan), hostname_certificates=[{"hostname": name(1), "certificates": [pki.files["new"]]}])
        messages = ["mutually exclusive", "hostname_certificates|plan"]
    else:  # found out before the writes, not after 10,000 of them
        args = dict(base, plan=str(good_plan), dest=str(tmp_path / "gone" / "state.json"))
        messages = ["dest: cannot write %s: its directory %s does not exist or is not writable" % (tmp_path / "gone" / "state.json", tmp_path / "gone")]
    emulator.reset_journal()
    result = ansible.run_module(MOD, args)
    assert result.failed and not result.changed
    for message in messages:
        assert message in result.msg, (message, result.msg)
    assert "Traceback" not in result.output and "pass phrase" not in result.output
    assert emulator.journal() == []  # not even a read
    assert not (tmp_path / "state.json").exists()
