"""rotation_lock, and the role's one rotation per zone at a time, through ansible-playbook against the emulator.

The module: taken, taken again (no change), released, released again (no change), check mode without a file, the diff,
bad input failing before the lock file is touched, a live holder named after the time-out, a gone holder taken over.
The role: two rotations of one zone started together write each due hostname once, and a rotation that cannot get the
lock fails naming its holder, with no write.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._lock import ZoneLock, holder_of
from emulator.testcerts import make_ca, make_leaf, write_files

# Role runs of many playbooks each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

MOD = "certops.cloudflare.rotation_lock"
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DUE = ["h%d.customer.example" % i for i in range(6)]
CA = make_ca("Certops Lock CA")  # made before any run: the trusted bundle is written from the registry


def task(name: str, args: Dict[str, Any], register: str) -> Dict[str, Any]:
    return {"name": name, MOD: args, "register": register, "ignore_errors": True}


def results(run: Any) -> List[Dict[str, Any]]:
    return [r["result"] for r in run.results]


@pytest.fixture
def lock(ansible: Any, emulator: Any) -> Any:
    """The zone's lock as the playbooks of `ansible` see it (under their TMPDIR)."""
    return ZoneLock(emulator.zone_id, ansible.lock_dir())


def test_taken_taken_again_released_and_released_again(ansible, emulator, lock):
    zone = {"zone": "example.com"}
    run = ansible.run_tasks(
        [
            task("take", zone, "a"),
            task("take again", {"zone_id": emulator.zone_id}, "b"),
            {"name": "held", "ansible.builtin.slurp": {"src": lock.path}, "register": "held"},
            task("release", {"zone_id": emulator.zone_id, "state": "absent"}, "c"),
            task("release again", {"zone_id": emulator.zone_id, "state": "absent"}, "d"),
        ],
        diff=True,
    )
    take, again, held, release, release_again = results(run)
    assert run.rc == 0, run.output[-3000:]
    assert take["changed"] and take["zone_id"] == emulator.zone_id
    assert isinstance(take["holder"]["pid"], int) and take["holder"]["pid"] != os.getpid() and take["holder"]["started"]
    assert take["diff"] == {"before": {"holder": None}, "after": {"holder": take["holder"]}}
    assert not again["changed"] and again["holder"] == take["holder"]
    assert str(take["holder"]["pid"]) in __import__("base64").b64decode(held["content"]).decode()
    assert release["changed"] and release["holder"] is None
    assert release["diff"] == {"before": {"holder": take["holder"]}, "after": {"holder": None}}
    assert not release_again["changed"]
    assert not os.path.exists(lock.path)
    assert [e for e in emulator.journal() if e["method"] in WRITE_METHODS] == []


def test_check_mode_says_it_would_take_the_lock_and_writes_no_file(ansible, emulator, lock):
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id}, check=True, diff=True).result
    assert result["changed"] and result["holder"]["pid"]
    assert result["diff"]["before"] == {"holder": None}
    assert not os.path.exists(lock.path)


@pytest.mark.parametrize(
    "args, words",
    [
        ({"wait_timeout": 0}, ["wait_timeout must be a positive number of seconds"]),
        ({"state": "held"}, ["state", "present, absent"]),
        ({"zone": "no-such-zone.example", "zone_id": None}, ["no-such-zone.example"]),
    ],
    ids=["zero-wait-timeout", "bad-state", "unknown-zone"],
)
def test_bad_input_fails_before_the_lock_file_is_touched(ansible, emulator, lock, args, words):
    given = dict({"zone_id": emulator.zone_id}, **args)
    result = ansible.run_module(MOD, {k: v for k, v in given.items() if v is not None}).result
    assert result["failed"], result
    for word in words:
        assert word in result["msg"], result["msg"]
    assert not os.path.exists(lock.path)


def test_a_lock_a_live_run_holds_is_waited_for_then_named(ansible, emulator, lock):
    live = holder_of(os.getpid())  # this test process: alive, and not the playbook's
    lock.acquire(live, timeout=0)
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "wait_timeout": 1}).result
    assert result["failed"], result
    assert "pid %d" % os.getpid() in result["msg"] and live["started"] in result["msg"], result["msg"]
    assert result["holder"] == {"pid": os.getpid(), "host": live["host"], "started": live["started"]}
    assert lock.holder() == live


def test_a_lock_whose_run_is_gone_is_taken_over(ansible, emulator, lock):
    first = ansible.run_module(MOD, {"zone_id": emulator.zone_id}).result  # its ansible-playbook has exited since
    assert first["changed"]
    second = ansible.run_module(MOD, {"zone_id": emulator.zone_id}).result
    assert second["changed"] and second["holder"]["pid"] != first["holder"]["pid"]


# -- the role ------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    leaves = dict(due=make_leaf(CA, ["*.customer.example"], days=10, not_before_days=-80), new=make_leaf(CA, ["*.customer.example"], days=90))
    return SimpleNamespace(files=write_files(tmp_path_factory.mktemp("lock-pki"), leaves), **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> None:
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    for name in DUE:
        emulator.state.add_custom_hostname(emulator.zone_id, name, ssl=ssl, certificates=[{"certificate": pki.due.chain_pem}])


def role_vars(pki: SimpleNamespace, report_dir: Path, **extra: Any) -> Dict[str, Any]:
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": name, "certificates": [pki.files["new"]]} for name in DUE],
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        **extra,
    )


@pytest.fixture(scope="module")
def together(scenario_emulator: Any, pki: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Two rotations of the zone started together (status steps of 1 s: each write is pending that long)."""
    emulator, first = scenario_emulator(delay=1)
    second = type(first)(tmp_path_factory.mktemp("second"), emulator)
    second.env["TMPDIR"] = first.temp_dir()  # one controller: the same temporary directory, so the same lock
    seed(emulator, pki)
    runs: Dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda: runs.update(first=first.run_tasks(ROLE, play_vars=role_vars(pki, first.tmp_path / "report")))),
        threading.Thread(target=lambda: runs.update(second=second.run_tasks(ROLE, play_vars=role_vars(pki, second.tmp_path / "report")))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    patches = [e for e in emulator.journal() if e["method"] == "PATCH" and "/custom_hostnames/" in e["path"]]
    return SimpleNamespace(emulator=emulator, runs=runs, patches=patches)


class TestTwoRotationsOfOneZoneStartedTogether:
    def test_both_succeed(self, together):
        for run in together.runs.values():
            assert run.rc == 0, run.output[-4000:]

    def test_each_due_hostname_is_written_once(self, together):
        assert sorted(e["path"].rsplit("/", 1)[1] for e in together.patches) == sorted(
            h.id for h in together.emulator.state.zone(together.emulator.zone_id).custom_hostnames.values()
        )

    def test_nothing_was_ever_without_a_valid_certificate(self, together):
        assert together.emulator.history.violations() == []


def test_a_rotation_that_cannot_get_the_lock_fails_naming_its_holder_and_writes_nothing(ansible, emulator, pki, lock, tmp_path):
    seed(emulator, pki)
    live = holder_of(os.getpid())
    lock.acquire(live, timeout=0)
    run = ansible.run_tasks(ROLE, play_vars=role_vars(pki, tmp_path / "report", cert_rotation_lock_timeout=1))
    assert run.rc != 0
    assert "pid %d" % os.getpid() in run.output and live["started"] in run.output, run.output[-3000:]
    assert [e for e in emulator.journal() if e["method"] in WRITE_METHODS] == []
    assert lock.holder() == live
