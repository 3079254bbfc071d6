"""The role cert_rotation tells the truth after a failure, and a hostname still deploying stays pending.

Through ansible-playbook against the emulator:
- a custom hostname's write answered 500 twice: its row is `failed` with the reason, the hostnames after it are
  rotated, the pack restart and the revalidation the failure stopped are `not_attempted`, the switched client
  certificate names the old one it keeps, and the role's final message lists the problem once, one per line;
- a run that fails before any write says that nothing was written and names no report it did not write;
- a hostname already holding its new certificate but still `pending_deployment` is planned `pending`, listed for the
  apply task, which waits for it: `pending` when it is not live in time, `up_to_date` once it is.
"""

from __future__ import annotations

import json
import os
import threading
import time
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._lock import ZoneLock, holder_of
from emulator.testcerts import generations, make_ca, make_leaf, write_files

# Role runs of many playbooks each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FINAL_TASK = "Fail when a stage failed, a rotated object does not serve its new certificate, or (when asked) something is due without material"
N = 5
FAILING = 2  # the hostname whose write is answered 500 twice
PENDING_HOST = "slow.customer.example"


def name(i: int) -> str:
    return "t%02d.customer.example" % i


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Truth CA")
    leaves = dict(
        generations(ca, ["*.customer.example"]),
        expired=make_leaf(ca, ["*.customer.example"], days=-1, not_before_days=-90),
        client_old=make_leaf(ca, ["origin-client.example.com"], days=10, not_before_days=-80),
        client_new=make_leaf(ca, ["origin-client.example.com"], days=365),
    )
    root = tmp_path_factory.mktemp("truth-pki")
    return SimpleNamespace(files=write_files(root, leaves), **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> Dict[str, str]:
    zone = emulator.zone_id
    ssl = {"method": "txt", "type": "dv"}
    for i in range(N):
        emulator.state.add_custom_hostname(zone, name(i), ssl=ssl, certificates=[{"certificate": pki.due.chain_pem}])
    emulator.state.add_custom_hostname(zone, "managed.customer.example", ssl=dict(ssl, status="validation_timed_out"))
    client = emulator.state.add_client_cert(zone, certificate=pki.client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, "app.example.com", client)
    pack = emulator.state.add_cert_pack(zone, ["example.com", "shop.example.com"], status="validation_timed_out").id
    return {"client": client, "pack": pack}


def role_vars(pki: SimpleNamespace, report_dir: Any, bad: Any = None, **extra: Any) -> Dict[str, Any]:
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": name(i), "certificates": [pki.files["expired" if i == bad else "new"]]} for i in range(N)],
        cert_rotation_client_certs=[dict(pki.files["client_new"], hostnames=["app.example.com"])],
        cert_rotation_cert_packs=[["example.com", "shop.example.com"]],
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        **extra,
    )


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def report_list(report_dir: Any) -> List[Dict[str, Any]]:
    path = report_dir / "latest" / "rotation-report.json"
    return json.loads(path.read_text())["rows"] if path.exists() else []


def report_rows(report_dir: Any) -> Dict[Any, Dict[str, Any]]:
    """The rows that change or keep an object, by kind and name (a retirement's row is in report_list only)."""
    return {(r["kind"], r["name"]): r for r in report_list(report_dir) if r["action"] != "retire"}


def final_message(run: Any) -> str:
    (entry,) = [r for r in run.results if r["task"].endswith(FINAL_TASK)]
    return entry["result"]["msg"]


def planned(run: Any) -> Dict[str, Any]:
    (entry,) = [r for r in run.results if r["task"].endswith("Plan | check the new material against the zone and decide per object")]
    return entry["result"]


# -- (a) a failed write ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def failed_write(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    ids = seed(emulator, pki)
    hostname_id = next(h["id"] for h in emulator.dump_state()["zones"][0]["custom_hostnames"] if h["hostname"] == name(FAILING))
    # Answered 500 twice: the write, and the one more try made after a read proved the first was not applied.
    emulator.add_fault("500", method="PATCH", path="custom_hostnames/%s$" % hostname_id, count=2)
    report = tmp_path_factory.mktemp("truth-failed-write") / "report"
    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, report))
    return SimpleNamespace(
        ids=ids, run=run, rows=report_rows(report), all_rows=report_list(report), message=final_message(run), violations=emulator.history.violations()
    )


class TestAFailedWriteIsReportedAsItHappened:
    def test_the_run_fails(self, failed_write):
        assert failed_write.run.rc != 0

    def test_the_hostname_whose_write_failed_is_failed_with_its_reason(self, failed_write):
        row = failed_write.rows[("custom_hostname", name(FAILING))]
        assert row["outcome"] == "failed"
        assert row["detail"].startswith("its write failed: ") and "500" in row["detail"], row["detail"]

    def test_the_hostnames_after_it_are_rotated_as_the_list_form_carries_on(self, failed_write):
        for i in range(FAILING + 1, N):
            assert failed_write.rows[("custom_hostname", name(i))]["outcome"] == "rotated"

    def test_the_pack_restart_that_never_ran_is_not_attempted(self, failed_write):
        (row,) = [r for r in failed_write.rows.values() if r["kind"] == "cert_pack"]
        assert row["outcome"] == "not_attempted"

    def test_the_revalidation_that_never_ran_is_not_attempted(self, failed_write):
        assert failed_write.rows[("managed_hostname", "managed.customer.example")]["outcome"] == "not_attempted"

    def test_the_switched_client_certificate_names_the_old_one_it_keeps(self, failed_write):
        row = failed_write.rows[("client_cert", "app.example.com")]
        assert row["outcome"] == "rotated"
        assert failed_write.ids["client"] in row["detail"] and "kept" in row["detail"]

    def test_the_final_message_lists_the_problem_once_one_per_line(self, failed_write):
        lines = failed_write.message.splitlines()
        assert lines[0] == "The rotation of zone example.com did not complete:"
        problems = [line for line in lines if name(FAILING) in line]
        assert len(problems) == 1, failed_write.message
        assert problems[0].count(name(FAILING)) == 1, problems[0]
        assert len(lines) == len(set(lines))

    def test_the_final_message_says_what_was_kept_and_names_the_report(self, failed_write):
        assert "Objects already switched keep their new certificates" in failed_write.message
        assert "rotation-report.md" in failed_write.message
        assert "Nothing was written" not in failed_write.message

    def test_no_object_lacked_a_valid_certificate(self, failed_write):
        assert failed_write.violations == []


# -- (b) a failure before any write ----------------------------------------------------------------------------------


def test_bad_material_refused_by_the_plan_says_nothing_was_written(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, tmp_path / "report", bad=1))
    assert run.rc != 0
    assert writes(emulator) == []
    message = final_message(run)
    assert "Nothing was written." in message.splitlines()
    assert "keep their new certificates" not in message
    # The plan exists, so its report was written and is named.
    assert os.path.exists(tmp_path / "report" / "latest" / "rotation-report.md")
    assert "rotation-report.md" in message


def test_a_held_lock_says_nothing_was_written_and_names_no_report(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    lock = ZoneLock(emulator.zone_id, ansible.lock_dir())
    lock.acquire(holder_of(os.getpid()), timeout=0)
    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, tmp_path / "report", cert_rotation_lock_timeout=1))
    assert run.rc != 0
    assert writes(emulator) == []
    message = final_message(run)
    assert "Nothing was written." in message.splitlines()
    assert "No report was written." in message.splitlines()
    assert "rotation-report" not in message and "See " not in message
    assert not (tmp_path / "report").exists()


# -- (c) a hostname still deploying its new certificate --------------------------------------------------------------


def seed_pending(emulator: Any, pki: SimpleNamespace, deploy_in: float) -> Any:
    ssl = {"method": "txt", "type": "dv", "status": "pending_deployment"}
    host = emulator.state.add_custom_hostname(emulator.zone_id, PENDING_HOST, ssl=ssl, certificates=[{"certificate": pki.new.chain_pem}])
    with emulator.state.lock:
        host.deploy_at = emulator.state.now() + deploy_in
    return host


def pending_vars(pki: SimpleNamespace, report_dir: Any, **extra: Any) -> Dict[str, Any]:
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": PENDING_HOST, "certificates": [pki.files["new"]]}],
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_poll_interval=1,
        **extra,
    )


@pytest.fixture(scope="module")
def still_pending(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed_pending(emulator, pki, 3600)
    report = tmp_path_factory.mktemp("truth-pending") / "report"
    run = ansible.run_tasks(ROLE, play_vars=pending_vars(pki, report, cert_rotation_wait_timeout=3))
    return SimpleNamespace(run=run, plan=planned(run)["plan"], rows=report_rows(report), writes=writes(emulator))


class TestAHostnameStillDeployingIsPending:
    def test_the_plan_says_pending(self, still_pending):
        (obj,) = [o for o in still_pending.plan["objects"] if o["name"] == PENDING_HOST]
        assert obj["action"] == "pending", obj

    def test_the_plan_lists_it_for_the_apply_task(self, still_pending):
        assert [e["hostname"] for e in still_pending.plan["hostname_certificates"]] == [PENDING_HOST]

    def test_nothing_is_written_for_it(self, still_pending):
        assert still_pending.writes == []

    def test_the_apply_task_waits_for_it_and_fails_as_not_live(self, still_pending):
        assert still_pending.run.rc != 0
        assert PENDING_HOST in final_message(still_pending.run)

    def test_the_report_says_pending(self, still_pending):
        assert still_pending.rows[("custom_hostname", PENDING_HOST)]["outcome"] == "pending"


@pytest.fixture(scope="module")
def goes_live(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    host = seed_pending(emulator, pki, 3600)
    report = tmp_path_factory.mktemp("truth-live") / "report"
    done = threading.Event()

    def release_when_applying() -> None:
        # Once the apply task reads the zone (the second list of custom hostnames), the deployment ends shortly.
        while not done.is_set():
            lists = [e for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith("/custom_hostnames")]
            if len(lists) >= 2:
                with emulator.state.lock:
                    host.deploy_at = emulator.state.now() + 2
                return
            time.sleep(0.1)

    watcher = threading.Thread(target=release_when_applying, daemon=True)
    watcher.start()
    try:
        run = ansible.run_tasks(ROLE, play_vars=pending_vars(pki, report, cert_rotation_wait_timeout=60))
    finally:
        done.set()
        watcher.join(5)
    return SimpleNamespace(run=run, plan=planned(run)["plan"], rows=report_rows(report), writes=writes(emulator))


class TestAHostnameThatGoesLiveDuringTheWait:
    def test_the_plan_says_pending(self, goes_live):
        (obj,) = [o for o in goes_live.plan["objects"] if o["name"] == PENDING_HOST]
        assert obj["action"] == "pending"

    def test_the_run_succeeds_without_a_write(self, goes_live):
        assert goes_live.run.rc == 0, goes_live.run.output[-3000:]
        assert goes_live.writes == []

    def test_the_report_says_up_to_date_once_live(self, goes_live):
        assert goes_live.rows[("custom_hostname", PENDING_HOST)]["outcome"] == "up_to_date"
