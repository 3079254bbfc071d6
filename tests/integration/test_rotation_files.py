"""The plan and state as files between tasks: rotation_plan `dest`, and rotation_report `plan`, `state` and `edge_certs`.

A zone of thousands of hostnames must not go through Ansible's variables: rotation_plan writes the whole plan to a
file and returns only its first entries with the true counts, and rotation_report builds its rows from that file and
the state read back, exactly as the role's filters do from the lists. Neither module makes an API call (only the
_info modules' reads reach the journal).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest


from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import edge_outcomes, outcomes

BIG = 230  # more than the 200 entries rotation_plan returns with dest
SHOWN = 200
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
LONG_LISTS = ("objects", "hostname_certificates", "changes")


def name(i: int) -> str:
    return "h%03d.customer.example" % i


def seed(emulator: Any, pki: SimpleNamespace, count: int, fresh: Any = ()) -> None:
    for i in range(count):
        leaf = pki.fresh if i in fresh else pki.due
        emulator.state.add_custom_hostname(emulator.zone_id, name(i), ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": leaf.chain_pem}])


def items(pki: SimpleNamespace, names: List[str]) -> List[Dict[str, Any]]:
    return [{"hostname": n, "certificates": [pki.files["new"]]} for n in names]


def info_task(register: str, **args: Any) -> Dict[str, Any]:
    return {"name": "discover " + register, "certops.cloudflare.custom_hostname_cert_info": dict({"zone": "example.com"}, **args), "register": register}


def plan_task(register: str, args: Dict[str, Any]) -> Dict[str, Any]:
    return {"name": "plan " + register, "certops.cloudflare.rotation_plan": args, "register": register, "ignore_errors": True}


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def by_task(run: Any) -> Dict[str, Dict[str, Any]]:
    return {r["task"]: r["result"] for r in run.results}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- rotation_plan dest --------------------------------------------------------------------------------


def test_dest_holds_the_whole_plan_and_the_result_its_first_200_entries(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, BIG)
    found, dest = tmp_path / "found" / "hostnames.json", tmp_path / "plans" / "plan.json"
    found.parent.mkdir()
    dest.parent.mkdir()
    args = {"custom_hostnames": items(pki, [name(i) for i in range(BIG)]), "discovered": {"custom_hostnames": str(found)}, "renew_before_days": 30}
    run = ansible.run_tasks([info_task("found", dest=str(found)), plan_task("with_dest", dict(args, dest=str(dest))), plan_task("whole", args)])
    results = by_task(run)
    short, whole = results["plan with_dest"], results["plan whole"]
    assert not short.get("failed") and not whole.get("failed"), (short.get("msg"), whole.get("msg"))

    # The file is the plan the module returns without dest, every entry of it.
    data = json.loads(dest.read_text())
    assert set(data) == {"plan", "problems", "summary"}
    assert data["plan"] == whole["plan"] and data["problems"] == whole["problems"] == [] and data["summary"] == whole["summary"]
    assert {key: len(data["plan"][key]) for key in LONG_LISTS} == {"objects": BIG, "hostname_certificates": BIG, "changes": BIG}
    assert data["plan"]["counts"] == {"objects": BIG, "hostname_certificates": BIG, "changes": BIG}
    assert [o["action"] for o in data["plan"]["objects"]] == ["rotate"] * BIG
    assert mode(dest) == 0o600  # it names the key files
    assert sorted(p.name for p in dest.parent.iterdir()) == ["plan.json"]  # no temporary file left

    # The result: the first 200 of each long list, the true counts, everything else whole.
    for key in LONG_LISTS:
        assert short["plan"][key] == data["plan"][key][:SHOWN], key
    assert short["plan"]["counts"] == data["plan"]["counts"]
    assert {k: v for k, v in short["plan"].items() if k not in LONG_LISTS} == {k: v for k, v in whole["plan"].items() if k not in LONG_LISTS}
    assert short["summary"] == whole["summary"] and short["summary"]["rotate"] == BIG
    assert writes(emulator) == []


def test_dest_is_written_in_check_mode_and_with_problems(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, BIG)
    found = tmp_path / "hostnames.json"
    names = [name(i) for i in range(BIG)]
    base = {"discovered": {"custom_hostnames": str(found)}, "renew_before_days": 30}
    checked, failing = tmp_path / "checked.json", tmp_path / "failing.json"
    first = ansible.run_tasks([info_task("found", dest=str(found))])
    assert first.rc == 0, first.output[-2000:]

    run = ansible.run_tasks([plan_task("checked", dict(base, custom_hostnames=items(pki, names), dest=str(checked)))], check=True)
    result = run.result(-1)
    assert not result.get("failed"), result.get("msg")
    data = json.loads(checked.read_text())  # check mode changes nothing in the zone; the plan file is what it is for
    assert data["plan"]["counts"]["objects"] == BIG and len(data["plan"]["objects"]) == BIG
    assert result["plan"]["counts"] == data["plan"]["counts"] and len(result["plan"]["objects"]) == SHOWN
    assert mode(checked) == 0o600

    # A hostname missing from the zone is a problem: the task fails and the file still holds the whole plan and why.
    missing = "missing.customer.example"
    run = ansible.run_tasks([plan_task("failing", dict(base, custom_hostnames=items(pki, names + [missing]), dest=str(failing)))])
    result = run.result(-1)
    assert result["failed"] and missing in result["msg"] and "1 problem" in result["msg"]
    data = json.loads(failing.read_text())
    assert data["problems"] == result["problems"] and len(data["problems"]) == 1 and data["problems"][0].startswith("custom hostname %s: " % missing)
    assert data["summary"]["problems"] == 1 and data["plan"]["counts"]["objects"] == BIG + 1 and len(data["plan"]["objects"]) == BIG + 1
    assert len(result["plan"]["objects"]) == SHOWN and result["plan"]["counts"] == data["plan"]["counts"]
    assert writes(emulator) == []


def test_discovered_hostnames_as_a_path_plan_as_the_list(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 6, fresh=(4, 5))
    found = tmp_path / "hostnames.json"
    args = {"custom_hostnames": items(pki, [name(i) for i in range(6)]), "renew_before_days": 30}
    run = ansible.run_tasks(
        [
            info_task("listed"),
            info_task("written", dest=str(found)),
            plan_task("from_list", dict(args, discovered={"custom_hostnames": "{{ listed.custom_hostnames }}"})),
            plan_task("from_text", dict(args, discovered={"custom_hostnames": "{{ listed.custom_hostnames | to_json }}"})),
            plan_task("from_path", dict(args, discovered={"custom_hostnames": str(found)})),
            plan_task("from_nowhere", dict(args, discovered={"custom_hostnames": str(tmp_path / "nowhere.json")})),
        ]
    )
    results = by_task(run)
    from_list, from_path = results["plan from_list"], results["plan from_path"]
    assert not from_list.get("failed") and not from_path.get("failed"), (from_list.get("msg"), from_path.get("msg"))
    assert from_path["plan"] == from_list["plan"] and from_path["summary"] == from_list["summary"]
    assert results["plan from_text"]["plan"] == from_list["plan"]
    # Not a vacuous match: the discovered state decided the actions.
    assert [o["action"] for o in from_path["plan"]["objects"]] == ["rotate"] * 4 + ["skipped"] * 2

    nowhere = results["plan from_nowhere"]
    assert nowhere["failed"] and nowhere["msg"].startswith("discovered.custom_hostnames: cannot read %s" % (tmp_path / "nowhere.json"))
    assert writes(emulator) == []


# -- rotation_plan custom_hostnames_file ------------------------------------------------------------------


def test_custom_hostnames_file_in_json_or_yaml_plans_as_the_list(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 6, fresh=(4, 5))
    wanted = items(pki, [name(i) for i in range(6)])
    as_json, as_yaml = tmp_path / "hostnames.json", tmp_path / "hostnames.yml"
    as_json.write_text(json.dumps(wanted))
    as_yaml.write_text(
        "".join(
            "- hostname: %s\n  certificates:\n    - certificate_path: %s\n      private_key_path: %s\n"
            % (i["hostname"], i["certificates"][0]["certificate_path"], i["certificates"][0]["private_key_path"])
            for i in wanted
        )
    )
    args = {"renew_before_days": 30, "discovered": {"custom_hostnames": "{{ found.custom_hostnames }}"}}
    run = ansible.run_tasks(
        [
            info_task("found"),
            plan_task("from_list", dict(args, custom_hostnames=wanted)),
            plan_task("from_json", dict(args, custom_hostnames_file=str(as_json))),
            plan_task("from_yaml", dict(args, custom_hostnames_file=str(as_yaml))),
        ]
    )
    results = by_task(run)
    from_list = results["plan from_list"]
    assert not from_list.get("failed"), from_list.get("msg")
    for label in ("plan from_json", "plan from_yaml"):
        assert not results[label].get("failed"), results[label].get("msg")
        assert results[label]["plan"] == from_list["plan"] and results[label]["summary"] == from_list["summary"]
    assert [o["action"] for o in from_list["plan"]["objects"]] == ["rotate"] * 4 + ["skipped"] * 2
    # The entries are not echoed back: a count is.
    assert results["plan from_json"]["invocation"]["module_args"]["custom_hostnames"] == "6 entries, not repeated here"


@pytest.mark.parametrize(
    "content, extra, message",
    [
        (None, {}, "custom_hostnames_file: cannot read"),
        ("{not: [json, or yaml", {}, "is neither JSON nor YAML"),
        ('{"hostname": "h000.customer.example"}', {}, "must hold a list of {hostname, certificates} entries"),
        ('[{"hostname": "h000.customer.example"}]', {}, "missing required arguments: certificates"),
        ('[{"hostname": "h000.customer.example", "certificates": [{"certificate_path": "/x.pem"}]}]', {}, "private_key_path"),
        ('[{"hostname": "bad host!", "certificates": [{"certificate_path": "/x.pem", "private_key_path": "/x.key"}]}]', {}, "custom_hostnames[0].hostname"),
        (
            "[]",
            {"custom_hostnames": [{"hostname": "h000.customer.example", "certificates": [{"certificate_path": "/x.pem", "private_key_path": "/x.key"}]}]},
            "custom_hostnames and custom_hostnames_file are mutually exclusive",
        ),
    ],
    ids=["missing", "not json or yaml", "not a list", "no certificates", "no key path", "bad hostname", "both"],
)
def test_custom_hostnames_file_problems_are_named(ansible, emulator, tmp_path, content, extra, message):
    path = tmp_path / "hostnames.json"
    if content is not None:
        path.write_text(content)
    run = ansible.run_tasks([plan_task("bad", dict(extra, custom_hostnames_file=str(path)))])
    result = by_task(run)["plan bad"]
    assert result["failed"] and message in result["msg"], result["msg"]
    assert "Traceback" not in run.output
    assert emulator.journal() == []


# -- rotation_report plan, state and edge_certs -----------------------------------------------------------

ROTATED, DEPLOYING, FAILED, EDGE_STALE, SKIPPED = (name(i) for i in range(5))


def after_state(factory: Any, pki: SimpleNamespace) -> Any:
    """A zone as read back after applying the plan: two hostnames switched, one still deploying, one never switched, one not due."""
    after = factory(delay=600)  # a deployment started now stays pending for the whole test
    hosts = {
        ROTATED: (pki.new, None),
        DEPLOYING: (pki.new, "pending_deployment"),
        FAILED: (pki.due, None),
        EDGE_STALE: (pki.new, None),
        SKIPPED: (pki.fresh, None),
    }
    for host, (leaf, status) in hosts.items():
        ssl = dict({"method": "txt", "type": "dv"}, **({"status": status} if status else {}))
        after.state.add_custom_hostname(after.zone_id, host, ssl=ssl, certificates=[{"certificate": leaf.chain_pem}])
    return after


def edge_entries(pki: SimpleNamespace) -> List[Dict[str, Any]]:
    """What edge_cert_info returns for the probe: ROTATED serves the new certificate, EDGE_STALE (switched as the API
    says) and DEPLOYING still the old one."""
    entry = {"requested_key_type": "ecdsa", "key_type": "ecdsa", "error": None, "validates": True}
    served = {ROTATED: pki.new, EDGE_STALE: pki.due, DEPLOYING: pki.due}
    return [dict(entry, hostname=host, fingerprint_sha256=leaf.fingerprint_sha256) for host, leaf in served.items()]


def report_rows(report_dir: Path) -> List[Dict[str, Any]]:
    return json.loads((report_dir / "rotation-report.json").read_text())["rows"]


def test_report_from_the_plan_file_and_the_state_read_back(ansible, emulator, emulator_factory, pki, tmp_path):
    seed(emulator, pki, 5, fresh=(4,))
    plan_file, after_file = tmp_path / "plan.json", tmp_path / "after.json"
    args = {"custom_hostnames": items(pki, [name(i) for i in range(5)]), "renew_before_days": 30, "dest": str(plan_file)}
    after = after_state(emulator_factory, pki)
    read_back = {"api_base_url": after.url, "api_token": after.token}
    run = ansible.run_tasks(
        [info_task("before", dest=str(tmp_path / "before.json")), info_task("after", **read_back), info_task("after_file", dest=str(after_file), **read_back)]
        + [plan_task("rotation", dict(args, discovered={"custom_hostnames": str(tmp_path / "before.json")}))]
    )
    assert run.rc == 0, run.output[-3000:]
    state_list = by_task(run)["discover after"]["custom_hostnames"]
    plan = json.loads(plan_file.read_text())["plan"]
    assert [o["action"] for o in plan["objects"]] == ["rotate"] * 4 + ["skipped"]

    # What the role's filters make of the same inputs.
    expected = outcomes(plan, {"custom_hostnames": state_list})
    assert [r["outcome"] for r in expected] == ["rotated", "deploying", "failed", "rotated", "skipped"]  # the state is what the test means
    expected_edge = edge_outcomes(expected, edge_entries(pki))

    reports = {key: tmp_path / ("report-" + key) for key in ("rows", "plan", "path", "edge")}
    tasks = [
        {"name": "from rows", "certops.cloudflare.rotation_report": {"rows": expected, "report_dir": str(reports["rows"])}, "register": "a"},
        {
            "name": "from plan",
            "certops.cloudflare.rotation_report": {"plan": str(plan_file), "state": {"custom_hostnames": state_list}, "report_dir": str(reports["plan"])},
            "register": "b",
        },
        {
            "name": "from paths",
            "certops.cloudflare.rotation_report": {"plan": str(plan_file), "state": {"custom_hostnames": str(after_file)}, "report_dir": str(reports["path"])},
            "register": "c",
        },
        {
            "name": "with edge",
            "certops.cloudflare.rotation_report": {
                "plan": str(plan_file),
                "state": {"custom_hostnames": str(after_file)},
                "edge_certs": edge_entries(pki),
                "report_dir": str(reports["edge"]),
            },
            "register": "d",
        },
    ]
    run = ansible.run_tasks(tasks)
    assert run.rc == 0, run.output[-3000:]
    results = by_task(run)

    from_rows = report_rows(reports["rows"])
    assert from_rows == json.loads(json.dumps(expected))
    assert report_rows(reports["plan"]) == from_rows
    assert report_rows(reports["path"]) == from_rows
    assert report_rows(reports["edge"]) == json.loads(json.dumps(expected_edge))
    edge = {r["name"]: r["edge"] for r in report_rows(reports["edge"])}
    assert edge[ROTATED] == "verified" and edge[EDGE_STALE] == "not verified (ecdsa: serves %s, not the new certificate)" % pki.due.fingerprint_sha256[:16]
    # Only switched hostnames get a verdict: a deploying one probed anyway, a failed or skipped one, have none.
    assert edge[DEPLOYING] is None and edge[FAILED] is None and edge[SKIPPED] is None

    for task in ("from rows", "from plan", "from paths", "with edge"):
        result = results[task]
        assert result["unverified"] == [DEPLOYING, FAILED], task
        assert result["summary"]["rotated"] == 2 and result["summary"]["deploying"] == 1 and result["summary"]["failed"] == 1, task
        assert result["changed"] is False
    # The state is not echoed back: it can be 10,000 hostnames.
    assert results["from plan"]["invocation"]["module_args"]["state"] == "not repeated here"
    assert writes(emulator) == [] and writes(after) == []


def test_report_from_a_plan_in_check_mode_is_planned_and_writes_nothing(ansible, emulator, pki, tmp_path):
    seed(emulator, pki, 3, fresh=(2,))
    plan_file, report_dir = tmp_path / "plan.json", tmp_path / "report"
    args = {"custom_hostnames": items(pki, [name(i) for i in range(3)]), "renew_before_days": 30, "dest": str(plan_file)}
    run = ansible.run_tasks([info_task("found"), plan_task("rotation", dict(args, discovered={"custom_hostnames": "{{ found.custom_hostnames }}"}))])
    assert run.rc == 0, run.output[-3000:]

    run = ansible.run_module("rotation_report", {"plan": str(plan_file), "state": {"custom_hostnames": []}, "report_dir": str(report_dir)}, check=True)
    assert not run.failed, run.msg
    assert run.result["summary"]["planned"] == 2 and run.result["summary"]["skipped"] == 1 and run.result["summary"]["total"] == 3
    assert run.result["summary"]["failed"] == 0 and run.result["unverified"] == []
    assert run.result["files"]["json"] == str(report_dir / "rotation-report.json")
    assert not report_dir.exists()
    assert writes(emulator) == []


def test_report_plan_option_errors(ansible, emulator, tmp_path):
    not_a_plan = tmp_path / "hostnames.json"
    not_a_plan.write_text(json.dumps({"zone_id": "z", "custom_hostnames": []}))
    report_dir = tmp_path / "report"
    run = ansible.run_module("rotation_report", {"plan": str(not_a_plan), "report_dir": str(report_dir)})
    assert run.failed and run.msg.startswith("plan: %s is not a plan file of certops.cloudflare.rotation_plan" % not_a_plan)

    run = ansible.run_module("rotation_report", {"plan": str(tmp_path / "nowhere.json"), "report_dir": str(report_dir)})
    assert run.failed and run.msg.startswith("plan: cannot read %s" % (tmp_path / "nowhere.json"))

    plan_file = tmp_path / "plan.json"
    plan_file.write_text(json.dumps({"plan": {"objects": []}, "problems": [], "summary": {}}))
    run = ansible.run_module("rotation_report", {"plan": str(plan_file), "state": {"custom_hostnames": 42}, "report_dir": str(report_dir)})
    assert run.failed and run.msg.startswith("state.custom_hostnames must be the list")
    run = ansible.run_module("rotation_report", {"plan": str(plan_file), "state": {"custom_certs": "x"}, "report_dir": str(report_dir)})
    assert run.failed and "state.custom_certs must be the list" in run.msg

    run = ansible.run_module("rotation_report", {"plan": str(plan_file), "rows": [], "report_dir": str(report_dir)})
    assert run.failed and "mutually exclusive" in run.msg and "rows" in run.msg and "plan" in run.msg
    run = ansible.run_module("rotation_report", {"report_dir": str(report_dir)})
    assert run.failed and "one of the following is required" in run.msg and "rows" in run.msg and "plan" in run.msg
    assert not report_dir.exists()
    assert emulator.journal() == []
