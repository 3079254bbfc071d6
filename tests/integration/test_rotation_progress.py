"""Progress while custom hostnames are written: the list form of custom_hostname_cert with progress_interval writes its
progress file, and its action plugin prints a line from it every progress_interval seconds through Ansible's display;
the role sets it in its apply stage (cert_rotation_progress_interval).

Through ansible-playbook against the emulator, paced by the collection's own pacer so that the writes take time:
- the module on 30 hostnames: lines in the play output, its result (changed, summary, diff) as without lines, the
  unchanged re-run, check mode with no write, a bad interval refused before any write;
- the role on 300 hostnames with its apply stage over two minutes (a CI leg, `make scenarios`): at least three lines,
  and the journal holds only list pages and one write per rotated hostname (the lines cost no API call).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any, List

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


def rotate(ansible: Any, pki: SimpleNamespace, names: List[str], interval: Any = 1, **kwargs: Any) -> Any:
    entries = [{"hostname": n, "certificates": [pki.files["new"]]} for n in names]
    return ansible.run_module(MOD, {"zone": "example.com", "hostname_certificates": entries, "wait": True, "progress_interval": interval}, **kwargs)


COUNT = 30


@pytest.fixture(scope="module")
def job(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    names = seed(emulator, pki, COUNT)
    paced(ansible, 8, window=0.5)  # 30 writes and a few pages, four at a time: about four seconds
    preview = rotate(ansible, pki, names, check=True, diff=True)
    preview_writes = writes(emulator)
    emulator.reset_journal()
    run = rotate(ansible, pki, names, diff=True)
    journal = emulator.journal()
    emulator.reset_journal()
    again = rotate(ansible, pki, names)
    again_writes = writes(emulator)
    return SimpleNamespace(preview=preview, preview_writes=preview_writes, run=run, journal=journal, again=again, again_writes=again_writes)


class TestTheListFormShowsItsProgress:
    """Thirty due hostnames written at 8 requests a second with a line every second: in check mode with diff, for
    real with diff, and again."""

    def test_it_prints_lines_while_it_works(self, job):
        found = lines(job.run.output)
        assert len(found) >= 2, job.run.output
        assert all(total == COUNT for _done, total, _failed in found)
        assert [done for done, _total, _failed in found] == sorted(done for done, _total, _failed in found)  # never backwards
        assert found[-1] == [COUNT, COUNT, 0]  # the last line says where the task ended
        assert re.search(r"\d+\.\d a second, about \d+ s left", job.run.output), [line for line in job.run.output.splitlines() if "custom hostnames:" in line]

    def test_the_result_is_the_module_result(self, job):
        result = job.run.result
        assert result["changed"] and not result.get("failed")
        assert result["summary"] == {"total": COUNT, "changed": COUNT, "unchanged": 0, "failed": 0}

    def test_the_diff_names_every_hostname(self, job):
        assert sorted(job.run.result["diff"]["after"]) == [name(i) for i in range(COUNT)]

    def test_one_write_per_hostname_and_list_pages_only(self, job):
        patched = [e["path"] for e in job.journal if e["method"] == "PATCH"]
        assert len(patched) == len(set(patched)) == COUNT and not [e for e in job.journal if e["method"] in {"POST", "PUT", "DELETE"}]
        reads = [e for e in job.journal if e["method"] == "GET" and "/custom_hostnames" in e["path"]]
        assert all(e["path"].endswith("/custom_hostnames") for e in reads), [e["path"] for e in reads]

    def test_check_mode_predicts_the_change_and_writes_nothing(self, job):
        result = job.preview.result
        assert result["changed"] and result["summary"]["changed"] == COUNT and job.preview_writes == []

    def test_the_re_run_changes_nothing(self, job):
        result = job.again.result
        assert not result["changed"] and result["summary"]["unchanged"] == COUNT and job.again_writes == []


def test_a_negative_interval_fails_before_any_call(ansible, emulator, pki):
    run = rotate(ansible, pki, seed(emulator, pki, 2), interval=-1)
    assert run.failed and "progress_interval must be 0 (no progress lines) or a number of seconds, not -1" in run.msg, run.result
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
