"""Suite 6, concurrency: two rotations of one zone started at once, as two `ansible-playbook` processes.

The zone (tests/reliability/rotation_zone.py): 40 custom hostnames (2 with an RSA+ECDSA pair), 2 client
certificates with associations and 2 zone custom certificates, all due. Both runs use one API token against the
emulator's rate limit scaled down to 40 requests per 4 s window, and pace to match (CERTOPS_RATE_WINDOW*): the pacer's
state is per user on the controller, so the two runs share one budget.

Each run either finishes or fails with a message naming what happened (no traceback); after at most one re-run the
guarantees of suite 1 hold. Besides: no certificate was uploaded twice (the journal's uploads, counted per certificate
sent), and no answer was a 429 of the rate limit: in no trailing window did the two runs together send more than
the API's limit, where each run's pacer alone would allow its cap (38) per window, two together 76.
"""

from __future__ import annotations

import datetime
import threading
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from integration.conftest import Ansible
from reliability.rotation_zone import ROLE, Sizes, converged, fingerprint, mint, role_vars, run_killable, seed

SIZES = Sizes(hostnames=40, pairs=2, clients=2, zone_certs=2)
WINDOW, WINDOW_LIMIT, HEADROOM = 4.0, 40, 0.05
CAP = 38  # WINDOW_LIMIT less the headroom: what the pacer lets through in any window
UPLOADS = (r"origin_tls_client_auth/hostnames/certificates", r"custom_certificates")


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return mint(tmp_path_factory.mktemp("concurrency-pki"), SIZES)


def paced(ansible: Ansible) -> Ansible:
    ansible.env.update(
        CLOUDFLARE_API_RATE_LIMIT=str(CAP / WINDOW),
        CERTOPS_RATE_WINDOW=str(WINDOW),
        CERTOPS_RATE_WINDOW_LIMIT=str(WINDOW_LIMIT),
        CERTOPS_RATE_HEADROOM=str(HEADROOM),
    )
    return ansible


def busiest_window(seconds: List[float]) -> int:
    """The most requests sent within any WINDOW seconds (by the journal's time of arrival)."""
    seconds = sorted(seconds)
    most, start = 0, 0
    for end, moment in enumerate(seconds):
        while moment - seconds[start] >= WINDOW:
            start += 1
        most = max(most, end - start + 1)
    return most


def arrival(entry: Dict[str, Any]) -> float:
    """When the request arrived: the journal's time is that of the answer, duration_ms later."""
    answered = datetime.datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
    return answered - entry["duration_ms"] / 1000.0


@pytest.mark.emulator(delay=0.02)
def test_two_rotations_of_one_zone_at_once(emulator, pki, tmp_path):
    seed(emulator, pki)
    emulator.set_rate_limit(WINDOW_LIMIT, WINDOW)
    tmpdir = tmp_path / "tmp"  # one temp directory: the pacer's state is shared through it, as for one user
    runs: Dict[str, Any] = {}

    def rotate(name: str) -> None:
        ansible = paced(Ansible(tmp_path / name, emulator))
        (tmp_path / name).mkdir()
        runs[name] = run_killable(ansible, role_vars(pki, tmp_path / ("report-" + name)), lambda: False, tmpdir)

    threads = [threading.Thread(target=rotate, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(runs) == ["first", "second"]
    for name, run in runs.items():
        assert "Traceback" not in run.output, run.output[-3000:]
        if run.rc != 0:  # allowed, if it says why
            assert "fatal:" in run.output and "msg" in run.output, "%s failed without a message:\n%s" % (name, run.output[-3000:])
    assert emulator.history.violations() == []

    journal = emulator.journal()
    assert [e for e in journal if e["fault"] == "rate_limit"] == []
    # The pacer lets CAP through per window as the requests leave the controller; where they arrive, under load, a few
    # may bunch up, but never past the API's limit (unshared, the two runs' pacers would allow 2 x CAP per window).
    assert busiest_window([arrival(e) for e in journal]) <= WINDOW_LIMIT
    uploads = [e for e in journal if e["method"] == "POST" and any(e["path"].endswith(p) for p in UPLOADS) and e["status"] == 200]
    sent = [fingerprint(e["request_body"]["certificate"]) for e in uploads]
    assert len(sent) == len(set(sent)), "a certificate was uploaded twice: %s" % sent

    failed = [name for name, run in runs.items() if run.rc != 0]
    print("concurrency: runs failed: %s; requests %d" % (failed or "none", len(journal)))
    report = tmp_path / ("report-" + (failed[0] if failed else "second"))
    if failed:
        rerun = paced(Ansible(tmp_path / "rerun", emulator))
        (tmp_path / "rerun").mkdir()
        again = rerun.run_tasks(ROLE, play_vars=role_vars(pki, report), env={"TMPDIR": str(tmpdir)})
        assert again.rc == 0, again.output[-4000:]
    converged(emulator, pki, report)
