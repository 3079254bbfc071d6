"""Every run is an audit, and each run keeps its own report.

One zone, six runs of the role, asserted on by one test per fact:
- an audit (no material): list calls only, no write; every object due within the renewal window without new material
  (a custom hostname, a client certificate in use, a zone certificate) is named in a warning, in the report (outcome
  `due`) and in set_stats, with the zone's expiry counts and what is not active; the summary table is printed;
- the same audit with cert_rotation_fail_on_due_without_material fails the run, after its report;
- check mode with material writes a preview report in its own folder, marked so, and nothing else;
- the rotation writes its report in another folder: `latest` and `latest-rotate` point to it, and what it rotated is
  no longer due without material;
- pruning keeps the newest cert_rotation_report_keep folders and never the ones `latest` and `latest-rotate` name.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from emulator.testcerts import make_ca, make_leaf, write_files

# Many playbook runs each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SSL = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
STATS_TASK = "Report | summary for AWX workflows and later plays"
TABLE_TASK = "Report | summary table"
DUE, FRESH, ROTATED = "due.customer.example", "fresh.customer.example", "rotated.customer.example"
CA = make_ca("Certops Audit CA")  # made before any run: the trusted bundle is written from the registry


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def stats(run: Any) -> Dict[str, Any]:
    found = [r["result"]["ansible_stats"]["data"]["cert_rotation"]["example.com"] for r in run.results if r["task"].endswith(STATS_TASK)]
    return found[0] if found else {}


def table(run: Any) -> List[str]:
    found = [r["result"]["msg"] for r in run.results if r["task"].endswith(TABLE_TASK)]
    return found[0] if found else []


def folders(report: Path) -> List[str]:
    return sorted(p.name for p in report.iterdir() if p.is_dir() and not p.is_symlink()) if report.exists() else []


def pointed(report: Path, pointer: str) -> str:
    path = report / pointer
    return path.resolve().name if path.exists() else ""


def report_json(report: Path, pointer: str = "latest") -> Dict[str, Any]:
    path = report / pointer / "rotation-report.json"
    return json.loads(path.read_text()) if path.exists() else {}


@pytest.fixture(scope="module")
def audited(scenario_emulator, tmp_path_factory) -> SimpleNamespace:
    leaves = dict(
        due=make_leaf(CA, [DUE], days=5, not_before_days=-85),
        fresh=make_leaf(CA, [FRESH], days=60, not_before_days=-30),
        rotated_due=make_leaf(CA, [ROTATED], days=10, not_before_days=-80),
        rotated_new=make_leaf(CA, [ROTATED], days=90),
        client=make_leaf(CA, ["origin-client.example.com"], days=12, not_before_days=-80),
        zone=make_leaf(CA, ["example.com", "www.example.com"], days=20, not_before_days=-70),
    )
    files = write_files(tmp_path_factory.mktemp("audit-pki"), leaves)
    emulator, ansible = scenario_emulator()
    zone = emulator.zone_id
    for host, leaf in ((DUE, "due"), (FRESH, "fresh"), (ROTATED, "rotated_due")):
        emulator.state.add_custom_hostname(zone, host, ssl=SSL, certificates=[{"certificate": leaves[leaf].chain_pem}])
    client = emulator.state.add_client_cert(zone, certificate=leaves["client"].chain_pem, status="active").id
    emulator.state.add_association(zone, "app.example.com", client)
    zone_cert = emulator.state.add_custom_certificate(zone, certificate=leaves["zone"].chain_pem, type="sni_custom").id
    pack = emulator.state.add_cert_pack(zone, ["example.com", "shop.example.com"], status="validation_timed_out").id
    report = tmp_path_factory.mktemp("audit-reports") / "reports"
    base = dict(cert_rotation_zone="example.com", cert_rotation_report_dir=str(report), cert_rotation_wait_timeout=60, cert_rotation_poll_interval=1)
    material = dict(base, cert_rotation_custom_hostnames=[{"hostname": ROTATED, "certificates": [files["rotated_new"]]}])

    audit = ansible.run_tasks(ROLE, play_vars=base)
    audit_writes = writes(emulator)
    audit_folders, audit_report = folders(report), report_json(report)
    failing = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_fail_on_due_without_material=True))
    failing_folders = folders(report)
    check = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=material)
    check_writes = writes(emulator)
    check_latest, check_report = pointed(report, "latest"), report_json(report)
    rotation = ansible.run_tasks(ROLE, play_vars=material)
    rotation_latest, rotation_latest_rotate, rotation_report = pointed(report, "latest"), pointed(report, "latest-rotate"), report_json(report)
    before_prune = folders(report)
    keep_two = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_report_keep=2))
    after_keep_two = folders(report)
    keep_one = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_report_keep=1))
    return SimpleNamespace(
        ids=dict(client=client, zone_cert=zone_cert, pack=pack),
        audit=audit,
        audit_writes=audit_writes,
        audit_folders=audit_folders,
        audit_report=audit_report,
        failing=failing,
        failing_folders=failing_folders,
        check=check,
        check_writes=check_writes,
        check_latest=check_latest,
        check_report=check_report,
        rotation=rotation,
        rotation_latest=rotation_latest,
        rotation_latest_rotate=rotation_latest_rotate,
        rotation_report=rotation_report,
        before_prune=before_prune,
        keep_two=keep_two,
        after_keep_two=after_keep_two,
        keep_one=keep_one,
        after_keep_one=folders(report),
        latest_after_keep_one=pointed(report, "latest"),
        latest_rotate_after_keep_one=pointed(report, "latest-rotate"),
        violations=emulator.history.violations(),
    )


def modes(names: List[str]) -> List[str]:
    """The mode of each run folder, from its name (<UTC time>-<mode>, with -2, -3 ... when two runs share a second)."""
    return [name.split("-")[1] for name in names]


def due_names(entries: List[Dict[str, Any]]) -> List[Any]:
    return sorted((e["kind"], e["name"]) for e in entries)


AUDIT_DUE = [
    ("client_cert", "origin-client.example.com"),
    ("custom_hostname", DUE),
    ("custom_hostname", ROTATED),
    ("zone_cert", "example.com, www.example.com"),
]


class TestAnAuditNamesWhatIsDueWithoutMaterialAndWritesNothing:
    def test_the_audit_succeeds(self, audited):
        assert audited.audit.rc == 0, audited.audit.output[-3000:]

    def test_the_audit_sends_no_write(self, audited):
        assert audited.audit_writes == []

    def test_set_stats_names_every_object_due_without_material(self, audited):
        assert due_names(stats(audited.audit)["due_without_material"]) == AUDIT_DUE

    def test_set_stats_says_the_run_was_an_audit(self, audited):
        assert (stats(audited.audit)["mode"], stats(audited.audit)["due_without_material_count"]) == ("audit", 4)

    def test_the_report_has_a_due_row_for_each(self, audited):
        rows = [(r["kind"], r["name"]) for r in audited.audit_report["rows"] if r["outcome"] == "due"]
        assert sorted(rows) == AUDIT_DUE

    def test_the_report_counts_the_zone_by_time_to_expiry(self, audited):
        buckets = audited.audit_report["audit"]["buckets"]
        assert (buckets["custom_hostname"]["under_7"], buckets["custom_hostname"]["under_30"], buckets["custom_hostname"]["under_90"]) == (1, 1, 1)

    def test_the_report_lists_the_pack_that_is_not_active(self, audited):
        assert [(n["kind"], n["id"], n["status"]) for n in audited.audit_report["audit"]["not_active"]] == [
            ("cert_pack", audited.ids["pack"], "validation_timed_out")
        ]

    def test_the_output_warns_with_the_count_and_the_names(self, audited):
        assert "4 objects are due within the renewal window without new material" in audited.audit.output and DUE in audited.audit.output

    def test_the_audit_report_is_in_its_own_folder(self, audited):
        assert [name.endswith("-audit") for name in audited.audit_folders] == [True]

    def test_the_summary_table_is_printed(self, audited):
        header = table(audited.audit)[1]  # after the line naming the zone and the report
        assert ("kind" in header, "due" in header, "total" in header) == (True, True, True)


class TestTheSwitchFailsARunWithSomethingDueWithoutMaterial:
    def test_the_run_fails(self, audited):
        assert audited.failing.rc != 0

    def test_the_message_says_why(self, audited):
        assert "4 objects are due without new material" in audited.failing.output

    def test_its_report_was_written_first(self, audited):
        assert len(audited.failing_folders) == 2


class TestACheckRunWritesAPreviewReportAndNothingElse:
    def test_the_check_run_succeeds(self, audited):
        assert audited.check.rc == 0, audited.check.output[-3000:]

    def test_no_write(self, audited):
        assert audited.check_writes == []

    def test_latest_is_the_preview_folder(self, audited):
        assert audited.check_latest.endswith("-check")

    def test_the_report_is_marked_a_preview(self, audited):
        assert (audited.check_report["mode"], audited.check_report["preview"]) == ("check", True)

    def test_the_preview_plans_the_rotation(self, audited):
        assert [(r["name"], r["outcome"]) for r in audited.check_report["rows"] if r["kind"] == "custom_hostname" and r["outcome"] != "due"] == [
            (ROTATED, "planned")
        ]

    def test_the_summary_table_is_printed_in_check_mode(self, audited):
        assert any("planned" in line for line in table(audited.check))


class TestTheRotationKeepsItsOwnReport:
    def test_the_rotation_succeeds(self, audited):
        assert audited.rotation.rc == 0, audited.rotation.output[-3000:]

    def test_latest_and_latest_rotate_point_to_the_rotation(self, audited):
        assert (audited.rotation_latest.endswith("-rotate"), audited.rotation_latest_rotate) == (True, audited.rotation_latest)

    def test_what_was_rotated_is_no_longer_due_without_material(self, audited):
        assert due_names(stats(audited.rotation)["due_without_material"]) == [n for n in AUDIT_DUE if n[1] != ROTATED]

    def test_the_summary_table_shows_the_rotation(self, audited):
        assert any("rotated" in line for line in table(audited.rotation))

    def test_one_folder_per_run_before_pruning(self, audited):
        assert modes(audited.before_prune) == ["audit", "audit", "check", "rotate"]

    def test_no_hostname_ever_lacked_a_valid_certificate(self, audited):
        assert audited.violations == []


class TestPruningKeepsTheNewestAndThePointers:
    def test_keep_two_keeps_the_two_newest(self, audited):
        assert (modes(audited.after_keep_two), audited.after_keep_two[0]) == (["rotate", "audit"], audited.rotation_latest)

    def test_keep_one_keeps_the_newest_and_latest_rotate(self, audited):
        assert audited.after_keep_one == sorted([audited.latest_after_keep_one, audited.latest_rotate_after_keep_one])

    def test_latest_rotate_is_still_the_rotation(self, audited):
        assert audited.latest_rotate_after_keep_one == audited.rotation_latest_rotate
