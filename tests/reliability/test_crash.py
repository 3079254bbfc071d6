"""Suite 2, crash and resume: the rotation killed by SIGKILL of ansible-playbook's whole process group at 20 seeded
points, each time followed by a re-run that must converge with the guarantees of suite 1.

The zone (tests/reliability/rotation_zone.py): 60 custom hostnames (4 with an RSA+ECDSA pair, 3 whose new material
is given inline), 2 client certificates with associations, 2 zone custom certificates (one edited in place, one
replaced by a certificate for one host more), all due.

* 5 points through the role, each while one write of a stage is in flight (a "slow" fault holds its answer; the
  emulator has applied it, the client never hears back): a client certificate uploaded but not yet active nor
  associated, hostnames switched to it but the old one not retired, a zone certificate uploaded but not prioritised,
  prioritised but the old one not retired, and the first retirement.
* 15 points inside the list form's task: after the k-th PATCH of a custom hostname shows in the journal (k seeded),
  polled from the test while the playbook runs.

After each kill no process of the run lives on: not the playbook's process group, nor ansible-core's task workers,
which detach into sessions of their own (so a kill of the group alone would leave the worker and its module
running). The re-run may meet every leftover (an upload not yet associated or prioritised, a hostname
mid-deployment, the private material directory of the killed run, whose keys are sealed with a passphrase that died
with it).
"""

from __future__ import annotations

import random
import re
import stat
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, List

import pytest

from reliability.rotation_zone import ROLE, Sizes, converged, mint, role_vars, run_killable, run_processes, seed

SIZES = Sizes(hostnames=60, pairs=4, clients=2, zone_certs=2, inline=3)
HOSTNAME_PATCH = r"/custom_hostnames/[0-9a-f]{32}$"
# (name, method, path): the write held in flight when the playbook is killed.
STAGE_POINTS = (
    ("client_uploaded", "POST", r"origin_tls_client_auth/hostnames/certificates$"),
    ("client_switched", "PUT", r"origin_tls_client_auth/hostnames$"),
    ("zone_uploaded", "POST", r"custom_certificates$"),
    ("zone_prioritised", "PUT", r"custom_certificates/prioritize$"),
    ("first_retirement", "DELETE", None),
)
pytestmark = pytest.mark.cut_requests
LIST_POINTS = sorted(random.Random(14).sample(range(1, SIZES.hostnames), 15))
PRIVATE_DIR = "certops-rotation-*"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    return mint(tmp_path_factory.mktemp("crash-pki"), SIZES)


def hostname_patches(emulator: Any) -> int:
    return sum(1 for e in emulator.journal() if e["method"] == "PATCH" and re.search(HOSTNAME_PATCH, e["path"]))


def gone(marker: str) -> bool:
    """Whether every process of the killed run has ended (SIGKILL is delivered asynchronously: allow it a moment)."""
    for _attempt in range(200):
        if not run_processes(marker):
            return True
        time.sleep(0.05)
    return False


def leftovers(tmpdir: Path) -> List[Path]:
    """Private material directories of killed runs and the key copies in them."""
    return sorted(tmpdir.glob(PRIVATE_DIR))


def kill_and_resume(ansible: Any, emulator: Any, pki: SimpleNamespace, tmp_path: Path, kill_when: Callable[[], bool]) -> Dict[str, Any]:
    seed(emulator, pki)
    report, tmpdir = tmp_path / "report", tmp_path / "tmp"
    play_vars = role_vars(pki, report, cert_rotation_api_timeout=10)

    killed = run_killable(ansible, play_vars, kill_when, tmpdir)
    assert killed.killed, "the playbook ended (rc %s) before the kill point:\n%s" % (killed.rc, killed.output[-3000:])
    assert gone(killed.marker), "a process of the killed playbook runs on: %s" % run_processes(killed.marker)
    assert emulator.history.violations() == []
    left = leftovers(tmpdir)
    for directory in left:  # the killed run's inline material: still private to the user
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in directory.iterdir())
    emulator.clear_faults()

    rerun = ansible.run_tasks(ROLE, play_vars=play_vars, env={"TMPDIR": str(tmpdir)})
    assert rerun.rc == 0, rerun.output[-4000:]
    assert "Traceback" not in rerun.output
    converged(emulator, pki, report)
    # The re-run removed its own private directory; the killed run's stays behind, its keys sealed (test below).
    assert leftovers(tmpdir) == left
    return {"left_behind": [str(p) for p in left]}


@pytest.mark.emulator(delay=0.02)
@pytest.mark.parametrize("point", [p[0] for p in STAGE_POINTS])
def test_killed_at_a_stage_boundary_then_resumed(ansible, emulator, pki, tmp_path, point):
    _name, method, path = next(p for p in STAGE_POINTS if p[0] == point)
    emulator.add_fault("slow", method=method, path=path, count=1, delay=5)

    def in_flight() -> bool:
        return any(rule["fired"] for rule in emulator.faults.rules())

    kill_and_resume(ansible, emulator, pki, tmp_path, in_flight)
    held = [e for e in emulator.journal() if e["fault"] == "slow"]
    assert len(held) <= 1


@pytest.mark.emulator(delay=0.02)
@pytest.mark.parametrize("k", LIST_POINTS)
def test_killed_inside_the_list_form_then_resumed(ansible, emulator, pki, tmp_path, k):
    kill_and_resume(ansible, emulator, pki, tmp_path, lambda: hostname_patches(emulator) >= k)
    # Every hostname was patched at most twice: once by the killed run (when it got that far), once by the re-run.
    patched: Dict[str, int] = {}
    for entry in emulator.journal():
        if entry["method"] == "PATCH" and re.search(HOSTNAME_PATCH, entry["path"]):
            patched[entry["path"]] = patched.get(entry["path"], 0) + 1
    assert max(patched.values()) <= 2
    assert hostname_patches(emulator) >= SIZES.hostnames


@pytest.mark.emulator(delay=0.02)
def test_a_killed_rotation_leaves_no_key_in_clear_behind(ansible, emulator, pki, tmp_path):
    """SIGKILL leaves the run no chance to remove its private directory: the inline keys in it are sealed with a
    passphrase that lived only in the killed run's memory, so no key is there in clear."""
    seed(emulator, pki)
    tmpdir = tmp_path / "tmp"
    killed = run_killable(ansible, role_vars(pki, tmp_path / "report"), lambda: hostname_patches(emulator) >= 1, tmpdir)
    assert killed.killed and gone(killed.marker)
    keys = [f for d in leftovers(tmpdir) for f in d.iterdir() if f.suffix == ".key"]
    # The kill came after the plan wrote them: one file, as the inline hostnames share one key (written once).
    assert len(keys) == 1 and SIZES.inline > 1
    inline_key = pki.leaves["new"].key_pem
    body = "".join(inline_key.strip().splitlines()[1:-1])
    for key in keys:
        text = key.read_text()
        assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----"), key
        assert body[40:80] not in text.replace("\n", "") and inline_key not in text
