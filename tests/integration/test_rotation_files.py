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

BIG = 130  # more than the 100 entries rotation_plan returns with dest
SHOWN = 100
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


@pytest.fixture(scope="module")
def dest_plan(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, BIG)
    root = tmp_path_factory.mktemp("dest")
    found, dest = root / "found" / "hostnames.json", root / "plans" / "plan.json"
    found.parent.mkdir()
    dest.parent.mkdir()
    args = {"custom_hostnames": items(pki, [name(i) for i in range(BIG)]), "discovered": {"custom_hostnames": str(found)}, "renew_before_days": 30}
    run = ansible.run_tasks([info_task("found", dest=str(found)), plan_task("with_dest", dict(args, dest=str(dest))), plan_task("whole", args)])
    results = by_task(run)
    return SimpleNamespace(
        short=results["plan with_dest"],
        whole=results["plan whole"],
        data=json.loads(dest.read_text()) if dest.exists() else {},
        mode=mode(dest) if dest.exists() else None,
        files=sorted(p.name for p in dest.parent.iterdir()),
        writes=writes(emulator),
    )


class TestDestHoldsTheWholePlanAndTheResultItsFirstEntries:
    """A zone of more hostnames than the result shows; one play: the hostnames written to a file, a plan with dest, the same
    plan without dest."""

    @pytest.mark.parametrize("plan", ["short", "whole"], ids=["with_dest", "without_dest"])
    def test_the_plan_succeeds(self, dest_plan, plan):
        result = getattr(dest_plan, plan)
        assert not result.get("failed"), result.get("msg")

    def test_the_file_holds_the_plan_its_problems_warnings_and_summary(self, dest_plan):
        assert set(dest_plan.data) == {"plan", "problems", "warnings", "summary"}

    def test_the_file_holds_the_plan_the_module_returns_without_dest(self, dest_plan):
        assert dest_plan.data["plan"] == dest_plan.whole["plan"]

    def test_the_file_and_the_result_without_dest_have_no_problem(self, dest_plan):
        assert (dest_plan.data["problems"], dest_plan.whole["problems"]) == ([], [])

    def test_the_file_holds_the_summary_the_module_returns_without_dest(self, dest_plan):
        assert dest_plan.data["summary"] == dest_plan.whole["summary"]

    def test_the_file_holds_every_entry_of_each_long_list(self, dest_plan):
        assert {key: len(dest_plan.data["plan"][key]) for key in LONG_LISTS} == {"objects": BIG, "hostname_certificates": BIG, "changes": BIG}

    def test_the_file_holds_the_true_counts(self, dest_plan):
        assert dest_plan.data["plan"]["counts"] == {"objects": BIG, "hostname_certificates": BIG, "changes": BIG, "due_without_material": 0}

    def test_every_hostname_is_to_be_rotated(self, dest_plan):
        assert [o["action"] for o in dest_plan.data["plan"]["objects"]] == ["rotate"] * BIG

    def test_only_the_owner_can_read_the_file_which_names_the_key_files(self, dest_plan):
        assert dest_plan.mode == 0o600

    def test_no_temporary_file_is_left(self, dest_plan):
        assert dest_plan.files == ["plan.json"]

    @pytest.mark.parametrize("key", ["hostname_certificates", "changes"])
    def test_the_result_holds_the_first_entries_of_a_long_list(self, dest_plan, key):
        assert dest_plan.short["plan"][key] == dest_plan.data["plan"][key][:SHOWN], key

    def test_the_result_holds_the_first_objects_without_their_identity_facts(self, dest_plan):
        identity = ("new_certificates", "new_certificate", "new_identity")
        assert dest_plan.short["plan"]["objects"] == [{k: v for k, v in o.items() if k not in identity} for o in dest_plan.data["plan"]["objects"][:SHOWN]]

    def test_the_result_holds_the_true_counts(self, dest_plan):
        assert dest_plan.short["plan"]["counts"] == dest_plan.data["plan"]["counts"]

    def test_the_result_holds_everything_else_of_the_plan_whole(self, dest_plan):
        short = {k: v for k, v in dest_plan.short["plan"].items() if k not in LONG_LISTS}
        assert short == {k: v for k, v in dest_plan.whole["plan"].items() if k not in LONG_LISTS}

    def test_the_result_holds_the_whole_summary(self, dest_plan):
        assert dest_plan.short["summary"] == dest_plan.whole["summary"]

    def test_the_summary_counts_every_hostname_to_rotate(self, dest_plan):
        assert dest_plan.short["summary"]["rotate"] == BIG

    def test_no_write_is_sent(self, dest_plan):
        assert dest_plan.writes == []


MISSING = "missing.customer.example"


@pytest.fixture(scope="module")
def dest_checked_and_failing(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, BIG)
    root = tmp_path_factory.mktemp("dest-check")
    found = root / "hostnames.json"
    names = [name(i) for i in range(BIG)]
    base = {"discovered": {"custom_hostnames": str(found)}, "renew_before_days": 30}
    checked, failing = root / "checked.json", root / "failing.json"
    first = ansible.run_tasks([info_task("found", dest=str(found))])
    assert first.rc == 0, first.output[-2000:]
    checked_result = ansible.run_tasks([plan_task("checked", dict(base, custom_hostnames=items(pki, names), dest=str(checked)))], check=True).result(-1)
    # A hostname missing from the zone is a problem.
    failing_result = ansible.run_tasks([plan_task("failing", dict(base, custom_hostnames=items(pki, names + [MISSING]), dest=str(failing)))]).result(-1)
    return SimpleNamespace(
        checked=checked_result,
        checked_data=json.loads(checked.read_text()) if checked.exists() else {},
        checked_mode=mode(checked) if checked.exists() else None,
        failing=failing_result,
        failing_data=json.loads(failing.read_text()) if failing.exists() else {},
        writes=writes(emulator),
    )


class TestDestIsWrittenInCheckModeAndWithProblems:
    """A zone of more hostnames than the result shows, written to a file; a plan with dest in check mode; then a plan with
    dest naming one hostname more, missing from the zone."""

    def test_the_plan_in_check_mode_succeeds(self, dest_checked_and_failing):
        assert not dest_checked_and_failing.checked.get("failed"), dest_checked_and_failing.checked.get("msg")

    def test_check_mode_writes_the_whole_plan_to_the_file(self, dest_checked_and_failing):
        # check mode changes nothing in the zone; the plan file is what it is for
        plan = dest_checked_and_failing.checked_data["plan"]
        assert (plan["counts"]["objects"], len(plan["objects"])) == (BIG, BIG)

    def test_check_mode_returns_the_true_counts(self, dest_checked_and_failing):
        assert dest_checked_and_failing.checked["plan"]["counts"] == dest_checked_and_failing.checked_data["plan"]["counts"]

    def test_check_mode_returns_the_first_objects(self, dest_checked_and_failing):
        assert len(dest_checked_and_failing.checked["plan"]["objects"]) == SHOWN

    def test_only_the_owner_can_read_the_file_written_in_check_mode(self, dest_checked_and_failing):
        assert dest_checked_and_failing.checked_mode == 0o600

    def test_a_hostname_missing_from_the_zone_fails_the_task_naming_it(self, dest_checked_and_failing):
        result = dest_checked_and_failing.failing
        assert result["failed"], result
        assert MISSING in result["msg"]
        assert "1 problem" in result["msg"]

    def test_the_file_still_holds_the_problem(self, dest_checked_and_failing):
        data, result = dest_checked_and_failing.failing_data, dest_checked_and_failing.failing
        assert data["problems"] == result["problems"]
        assert len(data["problems"]) == 1
        assert data["problems"][0].startswith("custom hostname %s: " % MISSING)

    def test_the_file_s_summary_counts_the_problem(self, dest_checked_and_failing):
        assert dest_checked_and_failing.failing_data["summary"]["problems"] == 1

    def test_the_file_still_holds_the_whole_plan(self, dest_checked_and_failing):
        plan = dest_checked_and_failing.failing_data["plan"]
        assert (plan["counts"]["objects"], len(plan["objects"])) == (BIG + 1, BIG + 1)

    def test_the_failed_result_holds_the_first_objects_and_the_true_counts(self, dest_checked_and_failing):
        result, data = dest_checked_and_failing.failing, dest_checked_and_failing.failing_data
        assert len(result["plan"]["objects"]) == SHOWN
        assert result["plan"]["counts"] == data["plan"]["counts"]

    def test_no_write_is_sent(self, dest_checked_and_failing):
        assert dest_checked_and_failing.writes == []


@pytest.fixture(scope="module")
def discovered_forms(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, 6, fresh=(4, 5))
    root = tmp_path_factory.mktemp("discovered")
    found, nowhere = root / "hostnames.json", root / "nowhere.json"
    args = {"custom_hostnames": items(pki, [name(i) for i in range(6)]), "renew_before_days": 30}
    run = ansible.run_tasks(
        [
            info_task("listed"),
            info_task("written", dest=str(found)),
            plan_task("from_list", dict(args, discovered={"custom_hostnames": "{{ listed.custom_hostnames }}"})),
            plan_task("from_text", dict(args, discovered={"custom_hostnames": "{{ listed.custom_hostnames | to_json }}"})),
            plan_task("from_path", dict(args, discovered={"custom_hostnames": str(found)})),
            plan_task("from_nowhere", dict(args, discovered={"custom_hostnames": str(nowhere)})),
        ]
    )
    results = by_task(run)
    return SimpleNamespace(
        from_list=results["plan from_list"],
        from_text=results["plan from_text"],
        from_path=results["plan from_path"],
        from_nowhere=results["plan from_nowhere"],
        nowhere=nowhere,
        writes=writes(emulator),
    )


class TestDiscoveredHostnamesAsAPathPlanAsTheList:
    """Six hostnames, two fresh; one play: the hostnames listed and written to a file, then plans from the list, from it as
    JSON text, from the file, and from a file that is not there."""

    @pytest.mark.parametrize("form", ["from_list", "from_path"])
    def test_the_plan_succeeds(self, discovered_forms, form):
        result = getattr(discovered_forms, form)
        assert not result.get("failed"), result.get("msg")

    def test_the_plan_from_the_file_is_the_plan_from_the_list(self, discovered_forms):
        assert discovered_forms.from_path["plan"] == discovered_forms.from_list["plan"]

    def test_the_summary_from_the_file_is_the_summary_from_the_list(self, discovered_forms):
        assert discovered_forms.from_path["summary"] == discovered_forms.from_list["summary"]

    def test_the_plan_from_json_text_is_the_plan_from_the_list(self, discovered_forms):
        assert discovered_forms.from_text["plan"] == discovered_forms.from_list["plan"]

    def test_the_discovered_state_decides_the_actions(self, discovered_forms):
        # Not a vacuous match.
        assert [o["action"] for o in discovered_forms.from_path["plan"]["objects"]] == ["rotate"] * 4 + ["skipped"] * 2

    def test_a_file_that_is_not_there_fails_naming_it(self, discovered_forms):
        nowhere = discovered_forms.from_nowhere
        assert nowhere["failed"], nowhere
        assert nowhere["msg"].startswith("discovered.custom_hostnames: cannot read %s" % discovered_forms.nowhere)

    def test_no_write_is_sent(self, discovered_forms):
        assert discovered_forms.writes == []


# -- rotation_plan custom_hostnames_file ------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostnames_files(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, 6, fresh=(4, 5))
    wanted = items(pki, [name(i) for i in range(6)])
    root = tmp_path_factory.mktemp("hostnames-file")
    as_json, as_yaml = root / "hostnames.json", root / "hostnames.yml"
    as_json.write_text(json.dumps(wanted))
    as_yaml.write_text(
        "".join(
            "- hostname: %s\n  certificates:\n    - certificate_path: %s\n      private_key_path: %s\n"
            % (i["hostname"], i["certificates"][0]["certificate_path"], i["certificates"][0]["private_key_path"])
            for i in wanted
        )
    )
    # The same entries with the material as content, as AWX users give it from Vault: written to material_dir.
    as_content = root / "hostnames-content.json"
    as_content.write_text(
        json.dumps([{"hostname": i["hostname"], "certificates": [{"certificate": pki.new.chain_pem, "private_key": pki.new.key_pem}]} for i in wanted])
    )
    material = root / "material"
    material.mkdir(mode=0o700)
    args = {"renew_before_days": 30, "discovered": {"custom_hostnames": "{{ found.custom_hostnames }}"}}
    run = ansible.run_tasks(
        [
            info_task("found"),
            plan_task("from_list", dict(args, custom_hostnames=wanted)),
            plan_task("from_json", dict(args, custom_hostnames_file=str(as_json))),
            plan_task("from_yaml", dict(args, custom_hostnames_file=str(as_yaml))),
            plan_task("from_content", dict(args, custom_hostnames_file=str(as_content), material_dir=str(material))),
        ],
        verbosity=3,
    )
    results = by_task(run)
    results["output"] = run.output
    results["material"] = sorted(p.name for p in material.iterdir())
    return results


class TestCustomHostnamesFileInJsonOrYamlPlansAsTheList:
    """Six hostnames, two fresh; one play: the hostnames discovered, then plans from the list, from a JSON file, from a YAML file."""

    @pytest.mark.parametrize("label", ["plan from_list", "plan from_json", "plan from_yaml"])
    def test_the_plan_succeeds(self, hostnames_files, label):
        assert not hostnames_files[label].get("failed"), hostnames_files[label].get("msg")

    @pytest.mark.parametrize("label", ["plan from_json", "plan from_yaml"])
    def test_the_plan_from_the_file_is_the_plan_from_the_list(self, hostnames_files, label):
        assert hostnames_files[label]["plan"] == hostnames_files["plan from_list"]["plan"]

    @pytest.mark.parametrize("label", ["plan from_json", "plan from_yaml"])
    def test_the_summary_from_the_file_is_the_summary_from_the_list(self, hostnames_files, label):
        assert hostnames_files[label]["summary"] == hostnames_files["plan from_list"]["summary"]

    def test_the_discovered_state_decides_the_actions(self, hostnames_files):
        assert [o["action"] for o in hostnames_files["plan from_list"]["plan"]["objects"]] == ["rotate"] * 4 + ["skipped"] * 2

    def test_a_file_with_content_plans_as_the_list_with_paths(self, hostnames_files):
        assert not hostnames_files["plan from_content"].get("failed"), hostnames_files["plan from_content"].get("msg")
        assert hostnames_files["plan from_content"]["plan"]["objects"] == hostnames_files["plan from_list"]["plan"]["objects"]

    def test_the_content_given_to_every_hostname_is_written_once(self, hostnames_files):
        assert hostnames_files["material"] == ["custom_hostnames-0-certificates-0.key", "custom_hostnames-0-certificates-0.pem"]

    def test_no_key_from_the_file_shows_in_the_output(self, hostnames_files, pki):
        key_lines = [line for line in pki.new.key_pem.splitlines() if not line.startswith("-----")]
        assert [line for line in key_lines if line in hostnames_files["output"]] == []

    def test_the_entries_are_not_echoed_back_but_counted(self, hostnames_files):
        assert hostnames_files["plan from_json"]["invocation"]["module_args"]["custom_hostnames"] == "6 entries, not repeated here"


FILE_PROBLEMS = {
    "missing": (None, {}, "custom_hostnames_file: cannot read"),
    "not json or yaml": ("{not: [json, or yaml", {}, "is neither JSON nor YAML"),
    "not a list": ('{"hostname": "h000.customer.example"}', {}, "must hold a list of {hostname, certificates} entries"),
    "no certificates": ('[{"hostname": "h000.customer.example"}]', {}, "missing required arguments: certificates"),
    "no key path": ('[{"hostname": "h000.customer.example", "certificates": [{"certificate_path": "/x.pem"}]}]', {}, "private_key_path"),
    "bad hostname": (
        '[{"hostname": "bad host!", "certificates": [{"certificate_path": "/x.pem", "private_key_path": "/x.key"}]}]',
        {},
        "custom_hostnames[0].hostname",
    ),
    "both": (
        "[]",
        {"custom_hostnames": [{"hostname": "h000.customer.example", "certificates": [{"certificate_path": "/x.pem", "private_key_path": "/x.key"}]}]},
        "custom_hostnames and custom_hostnames_file are mutually exclusive",
    ),
}


@pytest.fixture(scope="module", params=list(FILE_PROBLEMS))
def file_problem(request, scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    content, extra, message = FILE_PROBLEMS[request.param]
    path = tmp_path_factory.mktemp("problem") / "hostnames.json"
    if content is not None:
        path.write_text(content)
    run = ansible.run_tasks([plan_task("bad", dict(extra, custom_hostnames_file=str(path)))])
    return SimpleNamespace(message=message, result=by_task(run)["plan bad"], output=run.output, journal=emulator.journal())


class TestCustomHostnamesFileProblemsAreNamed:
    """One plan per problem with custom_hostnames_file: missing, not JSON or YAML, not a list, an entry without certificates,
    a certificate without its key path, a bad hostname, given beside custom_hostnames."""

    def test_the_plan_fails_naming_the_problem(self, file_problem):
        assert file_problem.result["failed"], file_problem.result["msg"]
        assert file_problem.message in file_problem.result["msg"], file_problem.result["msg"]

    def test_no_traceback_is_shown(self, file_problem):
        assert "Traceback" not in file_problem.output

    def test_no_call_is_made(self, file_problem):
        assert file_problem.journal == []


# -- rotation_report plan, state and edge_certs -----------------------------------------------------------

ROTATED, DEPLOYING, FAILED, EDGE_STALE, SKIPPED = (name(i) for i in range(5))


def after_state(factory: Any, pki: SimpleNamespace) -> Any:
    """A zone as read back after applying the plan: two hostnames switched, one still deploying, one never switched, one not due."""
    after = factory(delay=600)  # a deployment started now stays pending for the whole scenario
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
    return json.loads((report_dir / "latest" / "rotation-report.json").read_text())["rows"]


REPORT_TASKS = ("from rows", "from plan", "from paths", "with edge")


@pytest.fixture(scope="module")
def reports(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, 5, fresh=(4,))
    root = tmp_path_factory.mktemp("reports")
    plan_file, after_file = root / "plan.json", root / "after.json"
    args = {"custom_hostnames": items(pki, [name(i) for i in range(5)]), "renew_before_days": 30, "dest": str(plan_file)}
    after = after_state(lambda **kwargs: scenario_emulator(**kwargs)[0], pki)
    read_back = {"api_base_url": after.url, "api_token": after.token}
    run = ansible.run_tasks(
        [info_task("before", dest=str(root / "before.json")), info_task("after", **read_back), info_task("after_file", dest=str(after_file), **read_back)]
        + [plan_task("rotation", dict(args, discovered={"custom_hostnames": str(root / "before.json")}))]
    )
    assert run.rc == 0, run.output[-3000:]
    state_list = by_task(run)["discover after"]["custom_hostnames"]
    plan = json.loads(plan_file.read_text())["plan"]

    # What the role's filters make of the same inputs.
    expected = outcomes(plan, {"custom_hostnames": state_list})
    expected_edge = edge_outcomes(expected, edge_entries(pki))

    dirs = {key: root / ("report-" + key) for key in ("rows", "plan", "path", "edge")}
    tasks = [
        {"name": "from rows", "certops.cloudflare.rotation_report": {"rows": expected, "report_dir": str(dirs["rows"])}, "register": "a"},
        {
            "name": "from plan",
            "certops.cloudflare.rotation_report": {"plan": str(plan_file), "state": {"custom_hostnames": state_list}, "report_dir": str(dirs["plan"])},
            "register": "b",
        },
        {
            "name": "from paths",
            "certops.cloudflare.rotation_report": {"plan": str(plan_file), "state": {"custom_hostnames": str(after_file)}, "report_dir": str(dirs["path"])},
            "register": "c",
        },
        {
            "name": "with edge",
            "certops.cloudflare.rotation_report": {
                "plan": str(plan_file),
                "state": {"custom_hostnames": str(after_file)},
                "edge_certs": edge_entries(pki),
                "report_dir": str(dirs["edge"]),
            },
            "register": "d",
        },
    ]
    report_run = ansible.run_tasks(tasks)
    return SimpleNamespace(
        plan=plan,
        expected=expected,
        expected_edge=expected_edge,
        report_rc=report_run.rc,
        report_output=report_run.output,
        results=by_task(report_run),
        dirs=dirs,
        writes=writes(emulator),
        after_writes=writes(after),
    )


class TestReportFromThePlanFileAndTheStateReadBack:
    """Five hostnames, one fresh; a zone as read back after applying the plan. One play: the hostnames before written to a
    file, the state after listed and written to a file, a plan with dest. Then one play of rotation_report: from the rows the
    role's filters make, from the plan file and the state listed, from the plan file and the state file, and with edge_certs."""

    def test_the_plan_rotates_the_four_due_hostnames(self, reports):
        assert [o["action"] for o in reports.plan["objects"]] == ["rotate"] * 4 + ["skipped"]

    def test_the_state_read_back_has_each_outcome_the_scenario_means(self, reports):
        assert [r["outcome"] for r in reports.expected] == ["rotated", "deploying", "failed", "rotated", "skipped"]

    def test_every_report_succeeds(self, reports):
        assert reports.report_rc == 0, reports.report_output[-3000:]

    def test_the_report_from_rows_holds_the_rows(self, reports):
        assert report_rows(reports.dirs["rows"]) == json.loads(json.dumps(reports.expected))

    @pytest.mark.parametrize("key", ["plan", "path"], ids=["state_listed", "state_file"])
    def test_the_report_from_the_plan_file_holds_the_rows_the_role_s_filters_make(self, reports, key):
        assert report_rows(reports.dirs[key]) == report_rows(reports.dirs["rows"])

    def test_the_report_with_edge_certs_holds_the_rows_with_their_edge_verdicts(self, reports):
        assert report_rows(reports.dirs["edge"]) == json.loads(json.dumps(reports.expected_edge))

    def test_a_hostname_serving_the_new_certificate_is_verified(self, reports):
        edge = {r["name"]: r["edge"] for r in report_rows(reports.dirs["edge"])}
        assert edge[ROTATED] == "verified"

    def test_a_hostname_switched_but_serving_the_old_certificate_is_not_verified(self, reports, pki):
        edge = {r["name"]: r["edge"] for r in report_rows(reports.dirs["edge"])}
        assert edge[EDGE_STALE] == "not verified (ecdsa: serves %s, not the new certificate)" % pki.due.fingerprint_sha256[:16]

    def test_only_switched_hostnames_get_a_verdict(self, reports):
        # A deploying one probed anyway, a failed or skipped one, have none.
        edge = {r["name"]: r["edge"] for r in report_rows(reports.dirs["edge"])}
        assert {host: edge[host] for host in (DEPLOYING, FAILED, SKIPPED)} == {DEPLOYING: None, FAILED: None, SKIPPED: None}

    @pytest.mark.parametrize("task", REPORT_TASKS)
    def test_the_deploying_and_the_failed_hostnames_are_unverified(self, reports, task):
        assert reports.results[task]["unverified"] == [DEPLOYING, FAILED], task

    @pytest.mark.parametrize("task", REPORT_TASKS)
    def test_the_summary_counts_each_outcome(self, reports, task):
        summary = reports.results[task]["summary"]
        assert {k: summary[k] for k in ("rotated", "deploying", "failed")} == {"rotated": 2, "deploying": 1, "failed": 1}, task

    @pytest.mark.parametrize("task", REPORT_TASKS)
    def test_a_report_changes_nothing(self, reports, task):
        assert reports.results[task]["changed"] is False

    def test_the_state_is_not_echoed_back(self, reports):
        # It can be 10,000 hostnames.
        assert reports.results["from plan"]["invocation"]["module_args"]["state"] == "not repeated here"

    def test_no_write_is_sent_to_either_zone(self, reports):
        assert (reports.writes, reports.after_writes) == ([], [])


@pytest.fixture(scope="module")
def report_in_check_mode(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki, 3, fresh=(2,))
    root = tmp_path_factory.mktemp("report-check")
    plan_file, report_dir = root / "plan.json", root / "report"
    args = {"custom_hostnames": items(pki, [name(i) for i in range(3)]), "renew_before_days": 30, "dest": str(plan_file)}
    run = ansible.run_tasks([info_task("found"), plan_task("rotation", dict(args, discovered={"custom_hostnames": "{{ found.custom_hostnames }}"}))])
    assert run.rc == 0, run.output[-3000:]
    report = ansible.run_module("rotation_report", {"plan": str(plan_file), "state": {"custom_hostnames": []}, "report_dir": str(report_dir)}, check=True)
    return SimpleNamespace(report=report, report_dir=report_dir, report_dir_exists=report_dir.exists(), writes=writes(emulator))


class TestReportFromAPlanInCheckModeIsPlannedAndWritesNothing:
    """Three hostnames, one fresh; a plan with dest; then rotation_report from it in check mode, with no state read back."""

    def test_the_report_succeeds(self, report_in_check_mode):
        assert not report_in_check_mode.report.failed, report_in_check_mode.report.msg

    def test_the_summary_counts_the_hostnames_planned_and_skipped(self, report_in_check_mode):
        summary = report_in_check_mode.report.result["summary"]
        assert {k: summary[k] for k in ("planned", "skipped", "total", "failed")} == {"planned": 2, "skipped": 1, "total": 3, "failed": 0}

    def test_no_hostname_is_unverified(self, report_in_check_mode):
        assert report_in_check_mode.report.result["unverified"] == []

    def test_the_result_names_the_report_file(self, report_in_check_mode):
        path = Path(report_in_check_mode.report.result["files"]["json"])  # in this run's folder, which check mode does not make
        assert (path.parent.parent, path.name) == (report_in_check_mode.report_dir, "rotation-report.json")

    def test_the_report_is_not_written(self, report_in_check_mode):
        assert not report_in_check_mode.report_dir_exists

    def test_no_write_is_sent(self, report_in_check_mode):
        assert report_in_check_mode.writes == []


@pytest.fixture(scope="module")
def report_errors(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    root = tmp_path_factory.mktemp("report-errors")
    not_a_plan, nowhere, plan_file, report_dir = root / "hostnames.json", root / "nowhere.json", root / "plan.json", root / "report"
    not_a_plan.write_text(json.dumps({"zone_id": "z", "custom_hostnames": []}))
    plan_file.write_text(json.dumps({"plan": {"objects": []}, "problems": [], "summary": {}}))
    cases = {
        "not_a_plan": {"plan": str(not_a_plan)},
        "nowhere": {"plan": str(nowhere)},
        "hostnames_not_a_list": {"plan": str(plan_file), "state": {"custom_hostnames": 42}},
        "certs_not_a_list": {"plan": str(plan_file), "state": {"custom_certs": "x"}},
        "rows_and_plan": {"plan": str(plan_file), "rows": []},
        "neither": {},
    }
    runs = {case: ansible.run_module("rotation_report", dict(args, report_dir=str(report_dir))) for case, args in cases.items()}
    return SimpleNamespace(
        runs=runs,
        not_a_plan=not_a_plan,
        nowhere=nowhere,
        report_dir_exists=report_dir.exists(),
        journal=emulator.journal(),
    )


class TestReportPlanOptionErrors:
    """One run of rotation_report each: a file that is not a plan, a plan file that is not there, state lists that are not
    lists, rows beside plan, neither rows nor plan."""

    def test_a_file_that_is_not_a_plan_is_refused(self, report_errors):
        run = report_errors.runs["not_a_plan"]
        assert run.failed
        assert run.msg.startswith("plan: %s is not a plan file of certops.cloudflare.rotation_plan" % report_errors.not_a_plan)

    def test_a_plan_file_that_is_not_there_is_refused(self, report_errors):
        run = report_errors.runs["nowhere"]
        assert run.failed
        assert run.msg.startswith("plan: cannot read %s" % report_errors.nowhere)

    def test_custom_hostnames_state_that_is_not_a_list_is_refused(self, report_errors):
        run = report_errors.runs["hostnames_not_a_list"]
        assert run.failed
        assert run.msg.startswith("state.custom_hostnames must be the list")

    def test_custom_certs_state_that_is_not_a_list_is_refused(self, report_errors):
        run = report_errors.runs["certs_not_a_list"]
        assert run.failed
        assert "state.custom_certs must be the list" in run.msg

    def test_rows_and_plan_together_are_refused(self, report_errors):
        run = report_errors.runs["rows_and_plan"]
        assert run.failed
        for words in ("mutually exclusive", "rows", "plan"):
            assert words in run.msg

    def test_neither_rows_nor_plan_is_refused(self, report_errors):
        run = report_errors.runs["neither"]
        assert run.failed
        for words in ("one of the following is required", "rows", "plan"):
            assert words in run.msg

    def test_no_report_is_written(self, report_errors):
        assert not report_errors.report_dir_exists

    def test_no_call_is_made(self, report_errors):
        assert report_errors.journal == []
