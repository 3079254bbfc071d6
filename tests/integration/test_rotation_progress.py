"""Progress while custom hostnames are written: the list form of custom_hostname_cert started with async writes its
progress file, rotation_progress prints a line from it every `interval` seconds through Ansible's display and returns
the job's result as the task's own; the role does the same in its apply stage (cert_rotation_progress_interval).

Through ansible-playbook against the emulator, paced by the collection's own pacer so that the writes take time:
- the module and the action on 30 hostnames: lines in the play output, the job's result (changed, summary, diff), the
  unchanged re-run, check mode with no write, bad inputs refused before any write;
- the role on 300 hostnames with its apply stage over two minutes (a CI leg, `make scenarios`): at least three lines,
  and the journal holds only list pages and one write per rotated hostname (the lines cost no API call).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from integration.conftest import seed_due_hostnames

MOD = "certops.cloudflare.custom_hostname_cert"
LINE = re.compile(r"custom hostnames: (\d+) of (\d+) done \(\d+ %\), (\d+) failed")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


NAMES = "p%03d.customer.example"


def name(i: int) -> str:
    return NAMES % i


def seed(emulator: Any, pki: SimpleNamespace, count: int) -> List[str]:
    return seed_due_hostnames(emulator, pki, NAMES, count)


def paced(ansible: Any, rate: float, window: float = 2.0) -> None:
    """The collection's pacer at `rate` requests a second in windows of `window` seconds (its test-only knobs), so that
    it cannot send a burst of a whole five-minute window at once: the writes take their time."""
    ansible.env.update(
        CLOUDFLARE_API_RATE_LIMIT=str(rate),
        CERTOPS_RATE_WINDOW=str(window),
        CERTOPS_RATE_WINDOW_LIMIT=str(max(1, int(rate * window))),
        CERTOPS_RATE_HEADROOM="0",
    )


def lines(output: str) -> List[List[int]]:
    """(done, total, failed) of each progress line in the play output."""
    return [[int(n) for n in match.groups()] for match in LINE.finditer(output)]


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def job_tasks(pki: SimpleNamespace, names: List[str], progress: str, interval: Any = 1, jid: str = "{{ job.ansible_job_id }}") -> List[Dict[str, Any]]:
    entries = [{"hostname": n, "certificates": [pki.files["new"]]} for n in names]
    start = {"name": "start", MOD: {"zone": "example.com", "hostname_certificates": entries, "progress": progress, "wait": True}}
    start.update({"async": 600, "poll": 0, "register": "job"})
    wait = {"name": "wait", "certops.cloudflare.rotation_progress": {"jid": jid, "progress": progress, "interval": interval}}
    wait.update({"register": "applied", "ignore_errors": True})
    return [start, wait]


COUNT = 30


@pytest.fixture(scope="module")
def job(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    names = seed(emulator, pki, COUNT)
    paced(ansible, 8)  # 30 writes and a few pages: about four seconds
    progress = str(ansible.tmp_path / "progress.json")
    preview = ansible.run_tasks(job_tasks(pki, names, progress), check=True, diff=True)
    preview_writes = writes(emulator)
    emulator.reset_journal()
    run = ansible.run_tasks(job_tasks(pki, names, progress), diff=True)
    journal = emulator.journal()
    emulator.reset_journal()
    again = ansible.run_tasks(job_tasks(pki, names, progress))
    again_writes = writes(emulator)
    return SimpleNamespace(preview=preview, preview_writes=preview_writes, run=run, journal=journal, again=again, again_writes=again_writes)


class TestTheListFormInTheBackgroundShowsItsProgress:
    """Thirty due hostnames written at 8 requests a second, in the background: in check mode with diff, for real with
    diff, and again."""

    def test_it_prints_lines_while_the_job_runs(self, job):
        found = lines(job.run.output)
        assert len(found) >= 2, job.run.output
        assert all(total == COUNT for _done, total, _failed in found)
        assert [done for done, _total, _failed in found] == sorted(done for done, _total, _failed in found)  # never backwards
        assert found[-1] == [COUNT, COUNT, 0]  # the last line says where the job ended

    def test_the_task_returns_the_job_result_as_its_own(self, job):
        result = job.run.result()
        assert result["changed"] and not result.get("failed")
        assert result["summary"] == {"total": COUNT, "changed": COUNT, "unchanged": 0, "failed": 0}
        assert not {"ansible_job_id", "started", "finished", "results_file"} & set(result), sorted(result)

    def test_the_diff_is_the_job_diff(self, job):
        assert sorted(job.run.result()["diff"]["after"]) == [name(i) for i in range(COUNT)]

    def test_one_write_per_hostname_and_list_pages_only(self, job):
        patched = [e["path"] for e in job.journal if e["method"] == "PATCH"]
        assert len(patched) == len(set(patched)) == COUNT and not [e for e in job.journal if e["method"] in {"POST", "PUT", "DELETE"}]
        reads = [e for e in job.journal if e["method"] == "GET" and "/custom_hostnames" in e["path"]]
        assert all(e["path"].endswith("/custom_hostnames") for e in reads), [e["path"] for e in reads]

    def test_check_mode_predicts_the_change_and_writes_nothing(self, job):
        result = job.preview.result()
        assert result["changed"] and result["summary"]["changed"] == COUNT and job.preview_writes == []

    def test_the_re_run_changes_nothing(self, job):
        result = job.again.result()
        assert not result["changed"] and result["summary"]["unchanged"] == COUNT and job.again_writes == []


def test_a_job_whose_play_stopped_watching_stops_writing(ansible, emulator, pki):
    names = seed(emulator, pki, COUNT)
    paced(ansible, 4)  # about eight seconds of writes
    progress = str(ansible.tmp_path / "progress.json")
    start = job_tasks(pki, names, progress)[0]
    # What a watcher leaves when its play is killed: a watch file last touched long ago (rotation_progress touches it
    # every second while it waits).
    gone = {"name": "a watcher gone", "ansible.builtin.file": {"path": progress + ".watched", "state": "touch", "modification_time": "197001010000.00"}}
    status = {"name": "status", "ansible.builtin.async_status": {"jid": "{{ job.ansible_job_id }}"}, "register": "ended"}
    status.update({"until": "ended.finished", "retries": 60, "delay": 1, "ignore_errors": True})
    run = ansible.run_tasks([start, {"name": "a moment", "ansible.builtin.pause": {"seconds": 1}}, gone, status])
    result = run.result()
    assert result["failed"] and "stopped waiting for it" in result["msg"] and "running the play again finishes the rest" in result["msg"], result
    assert 0 < len(writes(emulator)) < COUNT  # it had begun, and stopped


def test_an_unknown_job_fails_at_once_saying_so(ansible, emulator):
    run = ansible.run_tasks(
        [{"name": "wait", "certops.cloudflare.rotation_progress": {"jid": "j123.456", "interval": 1}, "register": "r", "ignore_errors": True}]
    )
    result = run.result()
    assert result["failed"] and "could not find job" in result["msg"], result
    assert emulator.journal() == []


def test_a_negative_interval_fails_before_anything_starts(ansible, emulator):
    run = ansible.run_tasks([{"name": "wait", "certops.cloudflare.rotation_progress": {"jid": "j1.2", "interval": -1}, "register": "r", "ignore_errors": True}])
    result = run.result()
    assert result["failed"] and "interval must be 0 (no progress lines) or a number of seconds, not -1" in result["msg"], result
    assert emulator.journal() == []


# -- the role, paced over two minutes (a CI leg: make scenarios) -----------------------------------------------------

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
ROLE_COUNT = 300


@pytest.fixture(scope="module")
def paced_role(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    names = seed(emulator, pki, ROLE_COUNT)
    paced(ansible, 2.4, window=5.0)  # 300 writes and their list pages: a little over two minutes
    role_vars = dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": n, "certificates": [pki.files["new"]]} for n in names],
        cert_rotation_revalidate=False,
        cert_rotation_report_dir=str(tmp_path_factory.mktemp("progress-reports")),
    )
    run = ansible.run_tasks(ROLE, play_vars=role_vars)
    return SimpleNamespace(run=run, journal=emulator.journal(), names=names)


@pytest.mark.scenario
class TestTheRoleShowsItsProgressOnALongApply:
    """300 due hostnames at 2.4 requests a second, with the default interval (30 s)."""

    def test_the_run_succeeds(self, paced_role):
        assert paced_role.run.rc == 0, paced_role.run.output[-3000:]

    def test_it_prints_at_least_three_lines(self, paced_role):
        found = lines(paced_role.run.output)
        assert len(found) >= 3 and found[-1] == [ROLE_COUNT, ROLE_COUNT, 0], paced_role.run.output[-3000:]
        assert re.search(r"\d+\.\d a second, about \d+ (min \d\d )?s left", paced_role.run.output)

    def test_the_apply_stage_makes_only_list_reads_and_one_write_per_hostname(self, paced_role):
        hostname_calls = [e for e in paced_role.journal if "/custom_hostnames" in e["path"]]
        patched = [e["path"] for e in hostname_calls if e["method"] == "PATCH"]
        assert len(patched) == len(set(patched)) == ROLE_COUNT
        others = [
            (e["method"], e["path"])
            for e in hostname_calls
            if e["method"] != "PATCH" and not (e["method"] == "GET" and e["path"].endswith("/custom_hostnames"))
        ]
        assert others == []
