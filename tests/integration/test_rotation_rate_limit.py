"""The role cert_rotation under Cloudflare's rate limit as the emulator applies it: past the limit, every call of the
credential is refused (429) for one whole window from the request that went over ("Rate limits",
https://developers.cloudflare.com/fundamentals/api/reference/limits/: five minutes; scaled down here).

Through ansible-playbook against the emulator:
- (a) 300 custom hostnames rotated while another client of the same token (the dashboard, another tool) has just spent
  the quota: the role's first calls are refused, it waits the block out (Retry-After) and finishes, every hostname
  rotated, paced after the block as the benchmark paces (the pacer's window scaled like the emulator's);
- (b) a block longer than cert_rotation_api_retry_budget, met in the apply stage: the run fails, yet the read-back is
  tried, the report is written and says what could not be read back, the run's private directory is removed and the
  zone's lock released.
"""

from __future__ import annotations

import datetime
import json
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import pytest
import requests

from integration.conftest import seed_due_hostnames

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
FINAL_TASK = "Fail when a stage failed, a rotated object does not serve its new certificate, or (when asked) something is due without material"
COLLECTION_AGENT = "certops.cloudflare/"
OTHER_AGENT = "another-tool/1.0"  # the second client of the same token
HEADROOM = 0.05

# Two long role runs under a block (about a minute): a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario


NAMES = "rl%03d.customer.example"


def name(i: int) -> str:
    return NAMES % i


def seed(emulator: Any, pki: SimpleNamespace, count: int) -> List[str]:
    return seed_due_hostnames(emulator, pki, NAMES, count)


def role_vars(pki: SimpleNamespace, names: List[str], report_dir: Path, **extra: Any) -> Dict[str, Any]:
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": n, "certificates": [pki.files["new"]]} for n in names],
        cert_rotation_revalidate=False,
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=120,
        cert_rotation_poll_interval=1,
        **extra,
    )


def other_client(emulator: Any) -> requests.Session:
    """Another tool of the same Cloudflare user: the same token, its own User-Agent."""
    session = requests.Session()
    session.headers.update({"Authorization": "Bearer " + emulator.token, "User-Agent": OTHER_AGENT})
    return session


def limited_zone(scenario_emulator: Any, pki: SimpleNamespace, count: int, limit: int, window: float) -> Tuple[Any, Any, List[str]]:
    """A fresh emulator holding `count` due custom hostnames, in rate-limit mode; its ansible runner; the names."""
    emulator, ansible = scenario_emulator()
    names = seed(emulator, pki, count)
    emulator.set_rate_limit(limit, window)
    return emulator, ansible, names


def spend_quota(emulator: Any) -> requests.Response:
    """Another client of the same token sends requests until the emulator refuses one; returns the refusal."""
    session = other_client(emulator)
    for _index in range(100000):
        answer = session.get(emulator.url + "/zones", timeout=10)
        if answer.status_code == 429:
            return answer
        assert answer.status_code == 200, answer.text
    raise AssertionError("the emulator never refused a request")


def arrival(entry: Dict[str, Any]) -> float:
    """When the request arrived: the journal's time is that of the answer, duration_ms later."""
    answered = datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
    return answered - entry["duration_ms"] / 1000.0


def final_message(run: Any) -> str:
    entries = [r for r in run.results if r["task"].endswith(FINAL_TASK)]
    return entries[0]["result"].get("msg", "") if entries else ""


def private_dirs(ansible: Any) -> List[Path]:
    return sorted(Path(ansible.temp_dir()).glob("certops-rotation-*"))


# -- (a) a block met at the start, shorter than the budget: the run is delayed, not failed ----------------------------

LIMIT_A, WINDOW_A = 300, 12.0
COUNT_A = 300


@pytest.fixture(scope="module")
def delayed(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible, names = limited_zone(scenario_emulator, pki, COUNT_A, LIMIT_A, WINDOW_A)
    # paced as the benchmark paces its rate-limited row: the pacer's window scaled like the emulator's
    cap = int(LIMIT_A * (1 - HEADROOM))
    ansible.env.update(
        CLOUDFLARE_API_RATE_LIMIT=str(cap / WINDOW_A),
        CERTOPS_RATE_WINDOW=str(WINDOW_A),
        CERTOPS_RATE_WINDOW_LIMIT=str(LIMIT_A),
        CERTOPS_RATE_HEADROOM=str(HEADROOM),
    )
    # the other client spends a little of the quota, then (a moment later) the rest: the block starts then
    session = other_client(emulator)
    for _index in range(30):
        assert session.get(emulator.url + "/zones", timeout=10).status_code == 200
    time.sleep(3.0)
    refusal = spend_quota(emulator)
    report = tmp_path_factory.mktemp("rate-limit-delayed") / "report"
    started = time.monotonic()
    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, names, report))
    journal = emulator.journal()
    (overrun,) = [arrival(e) for e in journal if e["user_agent"] == OTHER_AGENT and e["status"] == 429][:1]
    return SimpleNamespace(
        emulator=emulator,
        pki=pki,
        names=names,
        run=run,
        seconds=time.monotonic() - started,
        refusal=refusal,
        overrun=overrun,
        journal=journal,
        role=[e for e in journal if e["user_agent"].startswith(COLLECTION_AGENT)],
        report=report,
        dirs=private_dirs(ansible),
    )


class TestABlockShorterThanTheBudgetDelaysTheRun:
    def test_the_other_client_was_refused_with_cloudflare_s_answer(self, delayed):
        refusal = delayed.refusal
        assert refusal.headers["Ratelimit-Policy"] == '"default";q=%d;w=%d' % (LIMIT_A, WINDOW_A)
        assert int(refusal.headers["Retry-After"]) == WINDOW_A
        assert [e["code"] for e in refusal.json()["errors"]] == [10100]

    def test_the_run_finishes(self, delayed):
        assert delayed.run.rc == 0, delayed.run.output[-4000:]

    def test_every_hostname_serves_its_new_certificate(self, delayed):
        want = delayed.pki.new.fingerprint_sha256
        stale = [n for n in delayed.names if delayed.emulator.history.served(n, "ecdsa").fingerprint_sha256 != want]
        assert stale == []

    def test_the_role_s_first_calls_were_refused(self, delayed):
        refused = [e for e in delayed.role if e["status"] == 429]
        assert refused, "the role met no block: it started more than one window after the other client went over"
        assert all(e["fault"] == "rate_limit" for e in refused)

    def test_every_call_was_refused_for_one_whole_window_from_the_overrun(self, delayed):
        during = [e for e in delayed.journal if delayed.overrun <= arrival(e) < delayed.overrun + WINDOW_A - 0.05]
        assert during and all(e["status"] == 429 for e in during), [(e["user_agent"], e["status"]) for e in during if e["status"] != 429]

    def test_the_role_waited_the_block_out_instead_of_retrying_in_it(self, delayed):
        first_success = min(arrival(e) for e in delayed.role if e["status"] < 400)
        assert first_success >= delayed.overrun + WINDOW_A - 0.05
        # each module process that met the block was refused once or twice, then waited as Retry-After asked
        assert len([e for e in delayed.role if e["status"] == 429]) <= 6

    def test_no_call_was_refused_after_the_block(self, delayed):
        assert [e for e in delayed.journal if e["status"] == 429 and arrival(e) >= delayed.overrun + WINDOW_A] == []

    def test_the_report_counts_every_hostname_rotated(self, delayed):
        rows = json.loads((delayed.report / "latest" / "rotation-report.json").read_text())["rows"]
        outcomes = {r["name"]: r["outcome"] for r in rows if r["kind"] == "custom_hostname"}
        assert set(outcomes) == set(delayed.names) and set(outcomes.values()) == {"rotated"}

    def test_no_private_directory_is_left(self, delayed):
        assert delayed.dirs == []


# -- (b) a block longer than the budget, met in the apply stage -----------------------------------------------------

LIMIT_B, WINDOW_B = 60, 600.0
COUNT_B = 100
BUDGET_B = 2


@pytest.fixture(scope="module")
def blocked(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible, names = limited_zone(scenario_emulator, pki, COUNT_B, LIMIT_B, WINDOW_B)
    done = threading.Event()

    def spend_once_applying() -> None:
        # Once the apply stage writes, another client of the same token spends what is left of the quota.
        while not done.is_set():
            if any(e["method"] == "PATCH" for e in emulator.journal()):
                spend_quota(emulator)
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=spend_once_applying, daemon=True)
    watcher.start()
    report = tmp_path_factory.mktemp("rate-limit-blocked") / "report"
    started = time.monotonic()
    try:
        run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, names, report, cert_rotation_api_retry_budget=BUDGET_B))
    finally:
        done.set()
        watcher.join(timeout=30)
    path = report / "latest" / "rotation-report.json"
    return SimpleNamespace(
        run=run,
        seconds=time.monotonic() - started,
        report=json.loads(path.read_text()) if path.exists() else None,
        markdown=(report / "latest" / "rotation-report.md").read_text() if path.exists() else "",
        message=final_message(run),
        journal=emulator.journal(),
        dirs=private_dirs(ansible),
        locks=sorted(Path(ansible.lock_dir()).glob("*")) if Path(ansible.lock_dir()).exists() else [],
    )


class TestABlockLongerThanTheBudgetFailsTheRunButNotItsReport:
    def test_the_block_started_in_the_apply_stage(self, blocked):
        refused = [e for e in blocked.journal if e["status"] == 429]
        writes = [e for e in blocked.journal if e["method"] == "PATCH" and e["status"] == 200]
        assert refused and writes and refused[0]["seq"] > writes[0]["seq"]

    def test_the_run_fails_at_once_naming_the_budget(self, blocked):
        assert blocked.run.rc != 0
        assert "api_retry_budget" in blocked.message, blocked.message or blocked.run.output[-4000:]
        # nothing waited for a block of 600 s: the budget of 2 s was known to be too short at the first refusal
        assert blocked.seconds < WINDOW_B / 2

    def test_the_read_back_was_tried(self, blocked):
        reads_after = [e for e in blocked.journal if e["method"] == "GET" and e["status"] == 429 and e["user_agent"].startswith(COLLECTION_AGENT)]
        for kind in ("custom_hostnames", "origin_tls_client_auth/hostnames/certificates", "custom_certificates", "ssl/certificate_packs"):
            assert any(e["path"].endswith(kind) for e in reads_after), kind

    def test_the_report_is_written(self, blocked):
        assert blocked.report is not None, blocked.run.output[-4000:]
        assert "See " in blocked.message and "rotation-report.md" in blocked.message

    def test_the_report_says_what_could_not_be_read_back(self, blocked):
        failure = blocked.report["failure"]
        assert failure.startswith("Apply | ")
        for kind in ("the custom hostnames", "the client certificates", "the zone custom certificates", "the certificate packs"):
            assert "Read back | %s: could not be read back" % kind in failure, failure
        assert "could not be read back" in blocked.markdown
        assert "could not be read back" in blocked.message

    def test_every_hostname_has_a_row(self, blocked):
        hostnames = {r["name"] for r in blocked.report["rows"] if r["kind"] == "custom_hostname"}
        assert hostnames == {name(i) for i in range(COUNT_B)}

    def test_no_hostname_written_before_the_block_is_called_not_attempted(self, blocked):
        # The apply task failed as a whole and the read-back was refused: whether each due hostname changed is unknown.
        written = [e for e in blocked.journal if e["method"] == "PATCH" and e["status"] == 200]
        rows = [r for r in blocked.report["rows"] if r["kind"] == "custom_hostname"]
        assert written and len(rows) == COUNT_B
        assert {r["outcome"] for r in rows} == {"unknown"}, sorted({r["outcome"] for r in rows})
        assert blocked.report["summary"]["unknown"] == COUNT_B
        assert "could not be read back after the failure" in rows[0]["detail"]

    def test_no_private_directory_is_left(self, blocked):
        assert blocked.dirs == []

    def test_the_zone_lock_is_released(self, blocked):
        assert [p for p in blocked.locks if p.name.startswith("rotation-") and p.name.endswith(".lock")] == []
