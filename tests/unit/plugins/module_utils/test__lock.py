"""The zone lock: taken, held, waited for, released, and taken over from a run that is gone."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils import _lock
from ansible_collections.certops.cloudflare.plugins.module_utils._lock import LockBusyError, ZoneLock, holder_of, is_alive, playbook_process

ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


@pytest.fixture
def lock(tmp_path):
    directory = tmp_path / "locks"
    return ZoneLock(ZONE, str(directory))


def dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_free_lock_is_taken_and_names_its_holder(lock):
    me = holder_of(os.getpid())
    assert lock.acquire(me, timeout=0) == (True, pytest.approx(0, abs=1))
    assert lock.holder() == me
    assert me["started"] and me["started"].endswith("Z") and me["pid"] == os.getpid()
    assert oct(os.stat(lock.directory).st_mode & 0o777) == "0o700"


def test_taking_a_lock_already_held_changes_nothing(lock):
    me = holder_of(os.getpid())
    lock.acquire(me, timeout=0)
    assert lock.acquire(me, timeout=0)[0] is False


def test_a_lock_held_by_a_live_run_is_waited_for_then_fails_naming_it(lock):
    other = holder_of(os.getppid())  # a live process that is not this one
    lock.acquire(other, timeout=0)
    sleeps = []
    with pytest.raises(LockBusyError) as caught:
        lock.acquire(holder_of(os.getpid()), timeout=3, sleep=sleeps.append)
    assert caught.value.holder == other
    assert "pid %d" % os.getppid() in str(caught.value) and other["started"] in str(caught.value)
    assert lock.holder() == other


def test_a_lock_released_while_waiting_is_taken(lock, monkeypatch):
    other = holder_of(os.getppid())
    lock.acquire(other, timeout=0)
    me = holder_of(os.getpid())
    assert lock.acquire(me, timeout=30, sleep=lambda seconds: lock.release(other))[0] is True
    assert lock.holder() == me


def test_a_lock_whose_process_is_gone_is_taken_over(lock):
    gone = holder_of(os.getpid())
    gone["pid"] = dead_pid()
    lock.acquire(gone, timeout=0)
    assert not is_alive(gone)
    me = holder_of(os.getpid())
    assert lock.acquire(me, timeout=0)[0] is True
    assert lock.holder() == me
    assert sorted(os.listdir(lock.directory)) == [os.path.basename(lock.path)]


def test_a_reused_pid_is_not_the_holder(lock):
    reused = dict(holder_of(os.getpid()), start_ticks=1)  # this pid, but a process started at another time
    assert not is_alive(reused)


def test_a_file_that_is_not_a_lock_is_taken_over(lock):
    os.makedirs(lock.directory, mode=0o700)
    with open(lock.path, "w", encoding="utf-8") as handle:
        handle.write("not json")
    assert lock.acquire(holder_of(os.getpid()), timeout=0)[0] is True


def test_release_removes_only_this_runs_lock(lock):
    me, other = holder_of(os.getpid()), holder_of(os.getppid())
    lock.acquire(other, timeout=0)
    assert lock.release(me) is False and lock.holder() == other
    assert lock.release(other) is True and lock.holder() is None
    assert lock.release(other) is False


def test_a_directory_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    with pytest.raises(OSError, match="no one else can write"):
        ZoneLock(ZONE, str(shared)).acquire(holder_of(os.getpid()), timeout=0)


def test_the_holder_is_the_topmost_ansible_process(monkeypatch):
    # pid 30 (a module) <- 20 (a worker, a fork of ansible-playbook) <- 10 (ansible-playbook) <- 1
    tree = {30: (20, 3), 20: (10, 2), 10: (1, 1)}
    programs = {30: False, 20: True, 10: True}
    monkeypatch.setattr(_lock, "_stat_fields", tree.get)
    monkeypatch.setattr(_lock, "_is_ansible", lambda pid: programs.get(pid, False))
    assert playbook_process(30) == 10


def test_without_an_ansible_ancestor_the_parent_holds_it(monkeypatch):
    monkeypatch.setattr(_lock, "_stat_fields", lambda pid: None)
    assert playbook_process(12345) == os.getppid()


def test_the_lock_file_holds_no_more_than_the_holder(lock):
    me = holder_of(os.getpid())
    lock.acquire(me, timeout=0)
    with open(lock.path, encoding="utf-8") as handle:
        assert json.load(handle) == me
    assert sorted(me) == ["host", "pid", "start_ticks", "started"]
