"""The role cert_rotation end to end against the emulator, through ansible-playbook.

A zone like the demo's: twenty custom hostnames (six due, one due RSA+ECDSA pair, the rest not due), a due
client certificate, a due zone custom certificate, a timed-out pack and a hostname whose validation timed out.
The role must preview in check mode without a write, rotate exactly what is due (compared with the emulator's
state, not with the plan), report it, change nothing on a re-run, survive a failed write and converge on a
re-run, refuse bad material before any write, honour the percentage window, and never show a key. At no moment
may a hostname, association or zone certificate lack a valid certificate (the emulator's state history).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from emulator.testcerts import generations, make_ca, make_leaf, write_files

N = 20
DUE = range(0, 6)  # served certificates expire in 10 days
PAIR = 19  # an RSA+ECDSA pair, due
INLINE = 5  # new material given as content, not paths
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
ZONE_HOSTS = ["example.com", "www.example.com"]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
RESTART_TASK = "Apply | restart the timed-out certificate packs and wait (still validating after the wait is pending, not failed)"


def name(i: int) -> str:
    return "h%02d.customer.example" % i


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Role CA")
    hosts = ["*.customer.example"]
    leaves = dict(
        generations(ca, hosts),
        due_rsa=make_leaf(ca, hosts, key_type="rsa", days=10, not_before_days=-80),
        new_rsa=make_leaf(ca, hosts, key_type="rsa", days=90),
        expired=make_leaf(ca, hosts, days=-1, not_before_days=-90),
        client_old=make_leaf(ca, ["origin-client.example.com"], days=10, not_before_days=-80),
        client_new=make_leaf(ca, ["origin-client.example.com"], days=365),
        zone_old=make_leaf(ca, ZONE_HOSTS, key_type="rsa", days=10, not_before_days=-80),
        zone_new=make_leaf(ca, ZONE_HOSTS, key_type="rsa", days=90),
        # For the percentage window: a 9-day certificate 3 days from expiry, and one early in its life.
        short_due=make_leaf(ca, hosts, days=3, not_before_days=-6),
        short_young=make_leaf(ca, hosts, days=8, not_before_days=-1),
    )
    root = tmp_path_factory.mktemp("role-pki")
    files = write_files(root, leaves)
    return SimpleNamespace(files=files, leaves=leaves, **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> Dict[str, str]:
    zone = emulator.zone_id
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    for i in range(N):
        leaves = [pki.due_rsa, pki.due] if i == PAIR else [pki.due] if i in DUE else [pki.fresh]
        emulator.state.add_custom_hostname(zone, name(i), ssl=ssl, certificates=[{"certificate": leaf.chain_pem} for leaf in leaves])
    emulator.state.add_custom_hostname(zone, "managed.customer.example", ssl=dict(ssl, status="validation_timed_out"))
    client = emulator.state.add_client_cert(zone, certificate=pki.client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, "app.example.com", client)
    zone_cert = emulator.state.add_custom_certificate(zone, certificate=pki.zone_old.chain_pem, type="legacy_custom", priority=1).id
    pack = emulator.state.add_cert_pack(zone, ["example.com", "shop.example.com"], status="validation_timed_out").id
    return {"client": client, "zone_cert": zone_cert, "pack": pack}


def role_vars(pki: SimpleNamespace, report_dir: Path, bad: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
    items = []
    for i in range(N):
        certs = [pki.files["new_rsa"], pki.files["new"]] if i == PAIR else [pki.files["expired" if i == bad else "new"]]
        if i == INLINE:
            certs = [{"certificate": pki.new.chain_pem, "private_key": pki.new.key_pem}]
        items.append({"hostname": name(i), "certificates": certs})
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=items,
        cert_rotation_client_certs=[dict(pki.files["client_new"], hostnames=["app.example.com"])],
        cert_rotation_zone_certs=[pki.files["zone_new"]],
        cert_rotation_cert_packs=[["example.com", "shop.example.com"]],
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        **extra,
    )


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def served(emulator: Any) -> Dict[Any, Optional[str]]:
    """What the emulator serves per object and key type, from its one model of what is served."""
    now = {}
    for i in range(N):
        for key_type in ("rsa", "ecdsa"):
            now[(name(i), key_type)] = emulator.history.served(name(i), key_type).fingerprint_sha256
    now[("client", "app.example.com")] = emulator.history.served_client_cert("app.example.com").fingerprint_sha256
    now[("zone", "www.example.com")] = emulator.history.served("www.example.com", "rsa").fingerprint_sha256
    return now


def changed_objects(before: Dict[Any, Any], after: Dict[Any, Any]) -> set:
    names = set()
    for key, fingerprint in after.items():
        if before[key] != fingerprint:
            names.add(
                ("custom_hostname", key[0])
                if key[0].endswith(".customer.example")
                else ("client_cert", key[1]) if key[0] == "client" else ("zone_cert", "example.com, www.example.com")
            )
    return names


def plan_of(run: Any) -> Dict[str, Any]:
    (entry,) = [r for r in run.results if r["task"].endswith("Plan | check the new material against the zone and decide per object")]
    return entry["result"]


def key_slices(pki: SimpleNamespace) -> List[str]:
    """A distinctive slice of each key's base64 body."""
    return [leaf.key_pem.splitlines()[2][:40] for leaf in pki.leaves.values()]


def assert_no_key(pki: SimpleNamespace, *texts: str) -> None:
    for text in texts:
        assert "PRIVATE KEY" not in text
        for piece in key_slices(pki):
            assert piece not in text


@pytest.fixture(scope="module")
def rotation(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    report = tmp_path_factory.mktemp("role-rotation") / "report"
    before = served(emulator)

    preview = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=role_vars(pki, report))
    preview_writes = writes(emulator)
    preview_report = report / "latest" / "rotation-report.json"
    report_after_preview = json.loads(preview_report.read_text()) if preview_report.exists() else {}

    run = ansible.run_tasks(ROLE, diff=True, verbosity=2, play_vars=role_vars(pki, report))
    run_writes = writes(emulator)
    after = served(emulator)
    run_violations = emulator.history.violations()
    # The rerun writes the report again: what the rotation wrote is read now.
    report_files = {p.name: p.read_text() for p in (report / "latest").iterdir()} if (report / "latest").is_dir() else {}
    rows = {}
    if "rotation-report.json" in report_files:
        rows = {(r["kind"], r["name"]): r for r in json.loads(report_files["rotation-report.json"])["rows"]}
    material_dirs = [r["result"]["path"] for r in run.results if r["task"].endswith("Discover | a private directory for this run's files")]
    journal_after_run = json.dumps(emulator.journal())

    rerun = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    return SimpleNamespace(
        ids=ids,
        zone_id=emulator.zone_id,
        preview=preview,
        preview_writes=preview_writes,
        report_after_preview=report_after_preview,
        predicted={(o["kind"], o["name"]) for o in plan_of(preview)["plan"]["objects"] if o["action"] in ("rotate", "upload")},
        run=run,
        run_writes=run_writes,
        before=before,
        after=after,
        run_violations=run_violations,
        report_files=report_files,
        rows=rows,
        stats=[r for r in run.results if r["task"].endswith("Report | summary for AWX workflows and later plays")],
        material_left=[(path, Path(path).exists()) for path in material_dirs],
        journal_after_run=journal_after_run,
        rerun=rerun,
        rerun_writes=writes(emulator)[len(run_writes) :],
        rerun_violations=emulator.history.violations(),
    )


class TestAPreviewARotationItsReportAndARerun:
    """The zone above; a check-mode preview with diff, the rotation with diff at -vv, then a rerun, one playbook each."""

    def test_the_preview_succeeds(self, rotation):
        assert rotation.preview.rc == 0, rotation.preview.output[-3000:]

    def test_the_preview_sends_no_write(self, rotation):
        assert rotation.preview_writes == []

    def test_the_preview_writes_a_preview_report(self, rotation):
        assert (rotation.report_after_preview.get("mode"), rotation.report_after_preview.get("preview")) == ("check", True)

    def test_the_preview_plans_to_rotate_the_due_hostnames_and_the_pair(self, rotation):
        assert {n for k, n in rotation.predicted if k == "custom_hostname"} == {name(i) for i in list(DUE) + [PAIR]}

    def test_the_preview_shows_each_rotation_with_its_reason(self, rotation):
        assert "rotate custom hostname %s: due" % name(0) in rotation.preview.output

    def test_the_rotation_succeeds(self, rotation):
        assert rotation.run.rc == 0, rotation.run.output[-3000:]

    def test_the_rotation_changes_what_the_preview_predicted_in_the_emulators_state(self, rotation):
        assert changed_objects(rotation.before, rotation.after) == rotation.predicted

    def test_the_pair_serves_its_new_rsa_and_ecdsa_certificates(self, rotation, pki):
        pair = (rotation.after[(name(PAIR), "rsa")], rotation.after[(name(PAIR), "ecdsa")])
        assert pair == (pki.new_rsa.fingerprint_sha256, pki.new.fingerprint_sha256)

    def test_the_association_serves_the_new_client_certificate(self, rotation, pki):
        assert rotation.after[("client", "app.example.com")] == pki.client_new.fingerprint_sha256

    def test_one_patch_per_rotated_hostname_and_one_for_the_managed_hostnames_revalidation(self, rotation):
        patches = [p for m, p in rotation.run_writes if m == "PATCH" and "/custom_hostnames/" in p]
        assert len(patches) == len(DUE) + 2  # the due hostnames, the pair, and the managed hostname's revalidation

    def test_the_replaced_client_certificate_is_deleted(self, rotation):
        path = "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (rotation.zone_id, rotation.ids["client"])
        assert ("DELETE", path) in rotation.run_writes

    def test_the_timed_out_pack_is_restarted(self, rotation):
        assert ("PATCH", "/client/v4/zones/%s/ssl/certificate_packs/%s" % (rotation.zone_id, rotation.ids["pack"])) in rotation.run_writes

    def test_no_object_lacked_a_valid_certificate_during_the_rotation(self, rotation):
        assert rotation.run_violations == []

    def test_the_report_shows_as_rotated_or_uploaded_what_the_preview_predicted(self, rotation):
        assert {k for k, r in rotation.rows.items() if r["outcome"] in ("rotated", "uploaded")} == rotation.predicted

    def test_the_report_shows_a_hostname_not_due_skipped(self, rotation):
        assert rotation.rows[("custom_hostname", name(7))]["outcome"] == "skipped"

    def test_the_report_gives_not_due_as_the_reason_to_skip_it(self, rotation):
        assert "not due" in rotation.rows[("custom_hostname", name(7))]["reason"]

    def test_the_report_shows_the_pack_restarted_or_pending(self, rotation):
        assert rotation.rows[("cert_pack", "example.com, shop.example.com")]["outcome"] in ("restarted", "pending")

    def test_the_report_shows_the_managed_hostname_revalidated(self, rotation):
        assert rotation.rows[("managed_hostname", "managed.customer.example")]["action"] == "revalidate"

    def test_the_report_is_written_as_markdown_too(self, rotation):
        assert "rotation-report.md" in rotation.report_files

    def test_the_html_report_has_a_chart(self, rotation):
        assert "<svg" in rotation.report_files["rotation-report.html"]

    def test_the_summary_for_awx_workflows_is_set(self, rotation):
        assert rotation.stats

    def test_the_summary_for_awx_workflows_counts_the_rotated_objects(self, rotation):
        assert rotation.stats[0]["result"]["ansible_stats"]["data"]["cert_rotation"]["example.com"]["rotated"] == len(rotation.predicted)

    def test_the_private_directory_for_content_given_inline_is_gone_after_the_run(self, rotation):
        ((path, exists),) = rotation.material_left
        assert not exists, path

    @pytest.mark.parametrize("where", ["preview output", "rotation output", "report files", "journal"])
    def test_no_key_is_shown(self, rotation, pki, where):
        texts = {
            "preview output": [rotation.preview.output],
            "rotation output": [rotation.run.output],
            "report files": list(rotation.report_files.values()),
            "journal": [rotation.journal_after_run],
        }[where]
        assert texts, where
        assert_no_key(pki, *texts)

    def test_the_rerun_succeeds(self, rotation):
        assert rotation.rerun.rc == 0, rotation.rerun.output[-3000:]

    def test_the_rerun_changes_nothing(self, rotation):
        assert [r["task"] for r in rotation.rerun.results if r["result"].get("changed")] == []

    def test_the_rerun_sends_no_write(self, rotation):
        assert rotation.rerun_writes == []

    def test_no_object_lacked_a_valid_certificate_during_the_rerun(self, rotation):
        assert rotation.rerun_violations == []


@pytest.fixture(scope="module")
def failed_write(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    hostname_id = next(h["id"] for h in emulator.dump_state()["zones"][0]["custom_hostnames"] if h["hostname"] == name(3))
    # Answered 500 twice: the write, and the one more try made after a read proved the first was not applied.
    emulator.add_fault("500", method="PATCH", path="custom_hostnames/%s$" % hostname_id, count=2)
    report = tmp_path_factory.mktemp("role-failed-write") / "report"

    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    report_json = report / "latest" / "rotation-report.json"
    rows = {(r["kind"], r["name"]): r for r in json.loads(report_json.read_text())["rows"]} if report_json.exists() else {}
    run_writes = writes(emulator)
    state_after_run = json.dumps(emulator.dump_state())
    run_violations = emulator.history.violations()

    rerun = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    return SimpleNamespace(
        ids=ids,
        zone_id=emulator.zone_id,
        run=run,
        rows=rows,
        run_writes=run_writes,
        state_after_run=state_after_run,
        run_violations=run_violations,
        rerun=rerun,
        writes_after_rerun=writes(emulator),
        served_after_rerun=emulator.history.served(name(3), "ecdsa").fingerprint_sha256,
        rerun_violations=emulator.history.violations(),
    )


class TestAFailedWriteKeepsEveryHostnameValidAndARerunFinishes:
    """The zone above with the PATCH of a due hostname answered 500 twice (the write and its one more try); a rotation, then a rerun."""

    def test_the_run_with_the_failed_write_fails(self, failed_write):
        assert failed_write.run.rc != 0

    def test_its_output_says_the_rotation_did_not_complete(self, failed_write):
        assert "did not complete" in failed_write.run.output

    def test_its_output_names_the_hostname_whose_write_failed(self, failed_write):
        assert name(3) in failed_write.run.output

    def test_the_report_shows_that_hostname_failed_with_its_reason(self, failed_write):
        row = failed_write.rows[("custom_hostname", name(3))]
        assert row["outcome"] == "failed"
        assert row["detail"].startswith("its write failed: ")

    def test_the_report_shows_the_next_hostname_rotated_as_the_list_form_carries_on_past_the_failure(self, failed_write):
        assert failed_write.rows[("custom_hostname", name(4))]["outcome"] == "rotated"

    def test_nothing_is_deleted_after_the_failure(self, failed_write):
        assert not [w for w in failed_write.run_writes if w[0] == "DELETE"]

    def test_the_old_client_certificate_is_still_there_after_the_failure(self, failed_write):
        assert failed_write.ids["client"] in failed_write.state_after_run

    def test_no_object_lacked_a_valid_certificate_during_the_failed_run(self, failed_write):
        assert failed_write.run_violations == []

    def test_the_rerun_succeeds(self, failed_write):
        assert failed_write.rerun.rc == 0, failed_write.rerun.output[-3000:]

    def test_the_rerun_rotates_the_hostname_whose_write_failed(self, failed_write, pki):
        assert failed_write.served_after_rerun == pki.new.fingerprint_sha256

    def test_the_rerun_deletes_the_replaced_client_certificate(self, failed_write):
        path = "/client/v4/zones/%s/origin_tls_client_auth/hostnames/certificates/%s" % (failed_write.zone_id, failed_write.ids["client"])
        assert ("DELETE", path) in failed_write.writes_after_rerun

    def test_no_object_lacked_a_valid_certificate_during_the_rerun(self, failed_write):
        assert failed_write.rerun_violations == []


def test_one_bad_certificate_stops_the_run_before_any_write(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    run = ansible.run_tasks(ROLE, verbosity=2, play_vars=role_vars(pki, tmp_path / "report", bad=8))
    assert run.rc != 0
    assert writes(emulator) == []
    assert "1 problem" in run.output
    assert "custom hostname %s" % name(8) in run.output
    assert "expired" in run.output
    assert_no_key(pki, run.output)


@pytest.fixture(scope="module")
def percentage_window(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    ssl = {"method": "txt", "type": "dv"}
    emulator.state.add_custom_hostname(emulator.zone_id, "short.customer.example", ssl=ssl, certificates=[{"certificate": pki.short_due.chain_pem}])
    emulator.state.add_custom_hostname(emulator.zone_id, "young.customer.example", ssl=ssl, certificates=[{"certificate": pki.short_young.chain_pem}])
    items = [{"hostname": h, "certificates": [pki.files["new"]]} for h in ("short.customer.example", "young.customer.example")]
    report_dir = str(tmp_path_factory.mktemp("role-percentage"))
    base = dict(cert_rotation_zone="example.com", cert_rotation_custom_hostnames=items, cert_rotation_poll_interval=1, cert_rotation_report_dir=report_dir)

    by_days = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_renew_before_days=2))
    by_days_writes = writes(emulator)
    by_percentage = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_renew_before_days=2, cert_rotation_renew_before_percentage=50))
    return SimpleNamespace(
        by_days=by_days,
        by_days_writes=by_days_writes,
        by_percentage=by_percentage,
        short=emulator.history.served("short.customer.example", "ecdsa").fingerprint_sha256,
        young=emulator.history.served("young.customer.example", "ecdsa").fingerprint_sha256,
        violations=emulator.history.violations(),
    )


class TestShortLivedCertificatesRenewByThePercentageWindow:
    """A 9-day certificate 3 days from expiry and one early in its life; a run by a 2-day window, then one adding half the
    lifetime."""

    def test_by_the_days_window_alone_the_run_succeeds(self, percentage_window):
        assert percentage_window.by_days.rc == 0, percentage_window.by_days.output[-2000:]

    def test_two_days_before_expiry_is_not_yet_so_nothing_is_written(self, percentage_window):
        assert percentage_window.by_days_writes == [], percentage_window.by_days.output[-2000:]

    def test_with_the_percentage_window_the_run_succeeds(self, percentage_window):
        assert percentage_window.by_percentage.rc == 0, percentage_window.by_percentage.output[-2000:]

    def test_the_certificate_past_half_its_lifetime_is_rotated(self, percentage_window, pki):
        assert percentage_window.short == pki.new.fingerprint_sha256

    def test_the_young_certificate_is_kept(self, percentage_window, pki):
        assert percentage_window.young == pki.short_young.fingerprint_sha256

    def test_the_plan_skips_the_young_certificate(self, percentage_window):
        objects = {o["name"]: o for o in plan_of(percentage_window.by_percentage)["plan"]["objects"]}
        assert objects["young.customer.example"]["action"] == "skipped"

    def test_no_hostname_ever_lacked_a_valid_certificate(self, percentage_window):
        assert percentage_window.violations == []


@pytest.fixture(scope="module")
def hostnames_file(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    work = tmp_path_factory.mktemp("role-hostnames-file")
    ssl = {"method": "txt", "type": "dv"}
    ids = [
        emulator.state.add_custom_hostname(emulator.zone_id, name(i), ssl=ssl, certificates=[{"certificate": (pki.due if i < 4 else pki.fresh).chain_pem}]).id
        for i in range(6)
    ]
    listed = work / "hostnames.json"
    listed.write_text(json.dumps([{"hostname": name(i), "certificates": [pki.files["new"]]} for i in range(6)]))
    base = dict(cert_rotation_zone="example.com", cert_rotation_custom_hostnames_file=str(listed), cert_rotation_report_dir=str(work / "report"))

    preview = ansible.run_tasks(ROLE, check=True, play_vars=base)
    preview_writes = writes(emulator)
    run = ansible.run_tasks(ROLE, play_vars=base)
    run_writes = writes(emulator)
    served_after_run = {name(i): emulator.history.served(name(i), "ecdsa").fingerprint_sha256 for i in range(6)}
    report_json = work / "report" / "latest" / "rotation-report.json"
    rows = {r["name"]: r["outcome"] for r in json.loads(report_json.read_text())["rows"]} if report_json.exists() else None
    again = ansible.run_tasks(ROLE, play_vars=base)
    again_writes = writes(emulator)[len(run_writes) :]
    both = ansible.run_tasks(ROLE, play_vars=dict(base, cert_rotation_custom_hostnames=[{"hostname": name(0), "certificates": [pki.files["new"]]}]))
    return SimpleNamespace(
        ids=ids,
        zone_id=emulator.zone_id,
        preview=preview,
        preview_writes=preview_writes,
        run=run,
        run_writes=run_writes,
        served_after_run=served_after_run,
        rows=rows,
        again=again,
        again_writes=again_writes,
        both=both,
        both_writes=writes(emulator)[len(run_writes) + len(again_writes) :],
        violations=emulator.history.violations(),
    )


class TestTheHostnamesListGivenAsAFile:
    """cert_rotation_custom_hostnames_file: the same rotation as the variable, for zones too large to template. Six hostnames,
    four due; a check-mode preview, the rotation, a rerun, then a run given the file and the variable."""

    def test_the_preview_succeeds(self, hostnames_file):
        assert hostnames_file.preview.rc == 0, hostnames_file.preview.output[-2000:]

    def test_the_preview_sends_no_write(self, hostnames_file):
        assert hostnames_file.preview_writes == [], hostnames_file.preview.output[-2000:]

    def test_the_preview_plans_to_rotate_the_due_hostnames(self, hostnames_file):
        assert {o["name"] for o in plan_of(hostnames_file.preview)["plan"]["objects"] if o["action"] == "rotate"} == {name(i) for i in range(4)}

    def test_the_rotation_succeeds(self, hostnames_file):
        assert hostnames_file.run.rc == 0, hostnames_file.run.output[-3000:]

    def test_the_rotation_sends_one_patch_per_due_hostname_and_nothing_else(self, hostnames_file):
        expected = sorted(("PATCH", "/client/v4/zones/%s/custom_hostnames/%s" % (hostnames_file.zone_id, i)) for i in hostnames_file.ids[:4])
        assert sorted(hostnames_file.run_writes) == expected

    def test_the_due_hostnames_serve_the_new_certificate_and_the_others_their_own(self, hostnames_file, pki):
        assert hostnames_file.served_after_run == {name(i): (pki.new if i < 4 else pki.fresh).fingerprint_sha256 for i in range(6)}

    def test_the_report_shows_the_due_hostnames_rotated_and_the_others_skipped(self, hostnames_file):
        assert hostnames_file.rows == {**{name(i): "rotated" for i in range(4)}, **{name(i): "skipped" for i in range(4, 6)}}

    def test_a_rerun_succeeds(self, hostnames_file):
        assert hostnames_file.again.rc == 0, hostnames_file.again.output[-2000:]

    def test_a_rerun_sends_no_write(self, hostnames_file):
        assert hostnames_file.again_writes == [], hostnames_file.again.output[-2000:]

    def test_the_file_and_the_variable_at_once_are_refused(self, hostnames_file):
        assert hostnames_file.both.rc != 0

    def test_the_refusal_calls_them_mutually_exclusive(self, hostnames_file):
        assert "mutually exclusive" in hostnames_file.both.output

    def test_the_refusal_comes_before_any_write(self, hostnames_file):
        assert hostnames_file.both_writes == []

    def test_no_hostname_ever_lacked_a_valid_certificate(self, hostnames_file):
        assert hostnames_file.violations == []


def test_a_second_run_in_one_play_does_not_inherit_the_first_ones_failure(ansible, emulator, pki, tmp_path):
    """Facts outlive a role's run: a failed run for a host, rescued, must not fail or colour the next run for it."""
    emulator.state.add_custom_hostname(emulator.zone_id, name(0), ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.due.chain_pem}])
    good = dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": name(0), "certificates": [pki.files["new"]]}],
        cert_rotation_report_dir=str(tmp_path / "report"),
    )
    include = "ansible.builtin.include_role"
    tasks = [
        {
            "name": "a run that fails",
            "block": [
                {"name": "unknown zone", include: {"name": "certops.cloudflare.cert_rotation"}, "vars": dict(good, cert_rotation_zone="nowhere.example")}
            ],
            "rescue": [{"name": "rescued", "ansible.builtin.debug": {"msg": "the first run failed"}}],
        },
        {"name": "a run that succeeds", include: {"name": "certops.cloudflare.cert_rotation"}, "vars": good},
    ]
    run = ansible.run_tasks(tasks)
    assert run.rc == 0, run.output[-3000:]
    assert "the first run failed" in run.output
    assert "nowhere.example" in run.output
    assert emulator.history.served(name(0), "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
    report = json.loads((tmp_path / "report" / "latest" / "rotation-report.json").read_text())
    assert report["failure"] is None, report
    assert [r["outcome"] for r in report["rows"]] == ["rotated"], report


def test_a_pack_still_validating_after_the_wait_is_pending_not_a_failure(ansible, emulator_factory, tmp_path):
    """The pack's restart task tells a wait that ran out (the module's `timed_out` flag) from a failure."""
    emu = emulator_factory(delay=30)  # each validation step lasts longer than the role waits
    ansible.emulator = emu
    emu.state.add_cert_pack(emu.zone_id, ["example.com", "shop.example.com"], status="validation_timed_out")
    role_vars = dict(
        cert_rotation_zone="example.com",
        cert_rotation_cert_packs=[["example.com", "shop.example.com"]],
        cert_rotation_wait_timeout=2,
        cert_rotation_report_dir=str(tmp_path / "report"),
    )
    run = ansible.run_tasks(ROLE, play_vars=role_vars)
    assert run.rc == 0, run.output[-3000:]
    (restart,) = [r for r in run.results if r["task"].endswith(RESTART_TASK)]
    assert restart["result"]["results"][0]["timed_out"] is True
    assert restart["status"] == "ok"
    rows = json.loads((tmp_path / "report" / "latest" / "rotation-report.json").read_text())["rows"]
    assert [(r["kind"], r["outcome"]) for r in rows] == [("cert_pack", "pending")]
