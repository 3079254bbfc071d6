"""Request pacing shared between processes: private schedule directory, bounded values, lock time-out."""

from __future__ import annotations

import fcntl
import hashlib
import os
import stat
import threading
import time

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils import _pacer
from ansible_collections.certops.cloudflare.plugins.module_utils._pacer import Pacer

KEY = "token:SECRET123"
NOW = 1_000_000.0


class Clock:
    """A wall clock that only moves when the test says so, or when a pacer sleeps on it."""

    def __init__(self, now=NOW):
        self.now = now
        self.waits = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds


def file_name(key=KEY):
    return "pace-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


@pytest.fixture
def private_dir(tmp_path):
    path = tmp_path / "sched"
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


def make(directory, rate=2.0, key=KEY, clock=None, **kwargs):
    """A pacer whose sleeps are recorded and move its clock on, like real sleeps would."""
    clock = clock or Clock()
    logs = []
    pacer = Pacer(rate, key, sleep=clock.sleep, log=logs.append, directory=str(directory), clock=clock, **kwargs)
    return pacer, clock.waits, logs


def sent_at(pacers, clock):
    """Sends one request through each pacer in turn; returns when each went, from the start."""
    start = clock.now
    times = []
    for pacer in pacers:
        pacer.wait()
        times.append(clock.now - start)
    return times


def run_bounded(function, seconds=5.0):
    """Runs function in a thread so a pacer that hangs fails the test instead of hanging it."""
    errors = []

    def target():
        try:
            function()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "wait() hung"
    if errors:
        raise errors[0]


def all_names(root):
    return [str(p) for p in root.rglob("*")]


def test_two_pacers_with_the_same_key_share_one_schedule(private_dir):
    clock = Clock()
    first, waits, logs = make(private_dir, clock=clock)
    second, _waits, other_logs = make(private_dir, clock=clock)
    # three requests at 2 per second go 0, 0.5 and 1.0 s after the start, whichever pacer sends them
    assert sent_at([first, second, first], clock) == [0.0, 0.5, 1.0]
    assert waits == [0.5, 0.5]
    assert logs == other_logs == []
    assert first.path == second.path == str(private_dir / file_name())
    assert float((private_dir / file_name()).read_text()) == NOW + 1.5


def test_pacers_with_different_keys_do_not_share(private_dir):
    clock = Clock()
    first, waits, logs = make(private_dir, key="token:A", clock=clock)
    second = make(private_dir, key="token:B", clock=clock)[0]
    # each credential has its own schedule: B does not queue behind A
    assert sent_at([first, second, first], clock) == [0.0, 0.0, 0.5]
    assert waits == [0.5] and logs == []
    assert first.path != second.path
    assert sorted(os.listdir(private_dir)) == sorted([file_name("token:A"), file_name("token:B")])


def test_default_directory_is_per_user_and_created_0700(tmp_path, monkeypatch):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    old_umask = os.umask(0)  # the mode must come from the pacer, not from a strict umask
    try:
        clock, logs = Clock(), []
        pacer = Pacer(2.0, KEY, sleep=clock.sleep, log=logs.append, clock=clock)
        waits = clock.waits
        pacer.wait()
        pacer.wait()
    finally:
        os.umask(old_umask)
    directory = tmp_path / ("certops-cloudflare-%d" % os.getuid())
    info = os.lstat(directory)
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700
    assert stat.S_IMODE(os.lstat(directory / file_name()).st_mode) == 0o600
    assert pacer.path == str(directory / file_name())
    assert waits == [0.5] and logs == []


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o707, 0o755, 0o701])
def test_directory_open_to_others_is_refused_and_pacing_stays_per_process(private_dir, mode):
    private_dir.chmod(mode)
    pacer, waits, logs = make(private_dir, rate=4.0)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 0.25, 0.5]
    assert len(logs) == 1 and "per process" in logs[0] and "mode %04o" % mode in logs[0]
    assert os.listdir(private_dir) == []


def test_directory_owned_by_someone_else_is_refused(private_dir, monkeypatch):
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 4242)
    pacer, waits, logs = make(private_dir, rate=4.0)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 0.25, 0.5]
    assert len(logs) == 1 and "owned by uid %d" % real_uid in logs[0] and "per process" in logs[0]
    assert os.listdir(private_dir) == []


def test_default_directory_made_in_advance_by_someone_else_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    real_uid = os.getuid()
    # another user got there first: the directory carries our uid in its name but is theirs
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 4242)
    squatted = tmp_path / ("certops-cloudflare-%d" % (real_uid + 4242))
    squatted.mkdir(mode=0o700)
    clock, logs = Clock(), []
    pacer = Pacer(2.0, KEY, sleep=clock.sleep, log=logs.append, clock=clock)
    pacer.wait()
    pacer.wait()
    assert clock.waits == [0.5]
    assert len(logs) == 1 and "owned by" in logs[0]
    assert os.listdir(squatted) == []


def test_symlink_as_schedule_file_is_not_followed(private_dir, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious data\n")
    (private_dir / file_name()).symlink_to(victim)
    pacer, waits, logs = make(private_dir)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 0.5, 1.0]
    assert victim.read_text() == "precious data\n"
    assert os.path.islink(private_dir / file_name())
    assert len(logs) == 1 and "symlink" in logs[0] and "per process" in logs[0]


def test_symlink_to_a_directory_as_schedule_file_is_refused(private_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (private_dir / file_name()).symlink_to(elsewhere, target_is_directory=True)
    pacer, waits, logs = make(private_dir)
    pacer.wait()
    pacer.wait()
    assert os.listdir(elsewhere) == []
    assert waits == [0.5] and len(logs) == 1 and "per process" in logs[0]


def test_schedule_file_that_is_not_a_regular_file_is_refused(private_dir):
    os.mkfifo(private_dir / file_name(), 0o600)
    pacer, waits, logs = make(private_dir)
    run_bounded(pacer.wait)
    run_bounded(pacer.wait)
    assert waits == [0.5]
    assert len(logs) == 1 and "not a regular file" in logs[0]


def test_symlink_as_directory_is_refused(private_dir, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(private_dir, target_is_directory=True)
    pacer, waits, logs = make(link)
    pacer.wait()
    pacer.wait()
    assert os.listdir(private_dir) == []
    assert waits == [0.5]
    assert len(logs) == 1 and "symlink" in logs[0] and "per process" in logs[0]


def test_default_directory_planted_as_symlink_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    target = tmp_path / "attacker"
    target.mkdir(mode=0o700)
    (tmp_path / ("certops-cloudflare-%d" % os.getuid())).symlink_to(target, target_is_directory=True)
    logs = []
    pacer = Pacer(2.0, KEY, sleep=lambda _seconds: None, log=logs.append, clock=Clock())
    pacer.wait()
    assert os.listdir(target) == []
    assert len(logs) == 1 and "symlink" in logs[0]


@pytest.mark.parametrize(
    "content",
    [b"1e18", b"1e400", b"inf", b"-inf", b"nan", b"-nan", b"garbage", b"", b"\xff\xfe", b"9" * 200, repr(NOW + 3600).encode("ascii")],
)
def test_schedule_value_never_delays_more_than_one_interval(private_dir, content):
    (private_dir / file_name()).write_bytes(content)
    (private_dir / file_name()).chmod(0o600)
    pacer, waits, logs = make(private_dir)
    pacer.wait()
    assert all(0 < delay <= pacer.interval for delay in waits)
    assert logs == []
    # what is written back is a sane time again, and pacing goes on from it
    written = float((private_dir / file_name()).read_text())
    assert NOW <= written <= NOW + 2 * pacer.interval
    pacer.wait()
    assert all(0 < delay <= pacer.interval for delay in waits)
    assert waits[-1] == pacer.interval


def test_clock_stepped_back_costs_at_most_one_interval(private_dir):
    clock = Clock()
    pacer, waits, logs = make(private_dir, clock=clock)
    pacer.wait()
    pacer.wait()
    clock.now -= 86400.0  # the controller's clock jumps back a day: the file is now far ahead
    pacer.wait()
    pacer.wait()
    assert waits == [0.5, 0.5, 0.5] and logs == []


def test_lock_held_elsewhere_times_out_and_falls_back(private_dir, monkeypatch):
    polls = []

    def poll_sleep(seconds):
        polls.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(_pacer, "_poll_sleep", poll_sleep)
    pacer, waits, logs = make(private_dir, rate=4.0, lock_timeout=0.2)
    clock = pacer.clock
    holder = os.open(pacer.path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        started = time.monotonic()
        run_bounded(pacer.wait)
        first_wait = time.monotonic() - started
        started = time.monotonic()
        run_bounded(pacer.wait)
        run_bounded(pacer.wait)
        later_waits = time.monotonic() - started
    finally:
        os.close(holder)
    assert 0.2 <= first_wait < 2.0
    # once fallen back, the lock is not tried again: later requests do not pay the time-out
    assert later_waits < 0.15
    assert polls and all(0 < p <= 0.2 for p in polls)
    # lock polling is not pacing: the injected sleep only sees the per-process spacing
    assert waits == [0.25, 0.25] and clock.now == NOW + 0.5
    assert len(logs) == 1 and "locked" in logs[0] and "per process" in logs[0]


def test_fallback_is_logged_once_for_many_waits(tmp_path):
    pacer, waits, logs = make(tmp_path / "missing" / "sched", rate=10.0)
    assert sent_at([pacer] * 5, pacer.clock) == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert len(logs) == 1 and "per process" in logs[0]


def test_fallback_without_log_is_not_silent(tmp_path):
    waits = []
    pacer = Pacer(2.0, KEY, sleep=waits.append, directory=str(tmp_path / "missing" / "sched"), clock=Clock())
    with pytest.warns(RuntimeWarning, match="per process"):
        pacer.wait()


@pytest.mark.parametrize("rate", [0, 0.0, None, -1.0, float("nan")])
def test_rate_off_never_sleeps_and_touches_no_file(tmp_path, monkeypatch, rate):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))

    def clock():
        raise AssertionError("a disabled pacer has no reason to read the clock")

    waits, logs = [], []
    pacers = [
        Pacer(rate, KEY, sleep=waits.append, log=logs.append, clock=clock),
        Pacer(rate, KEY, sleep=waits.append, log=logs.append, clock=clock, directory=str(tmp_path / "sched")),
    ]
    for pacer in pacers:
        for _attempt in range(5):
            pacer.wait()
        assert pacer.interval == 0.0 and pacer.path is None
    assert waits == [] and logs == []
    assert list(tmp_path.iterdir()) == []


def test_key_never_appears_in_a_name_or_a_log_line(tmp_path, private_dir, monkeypatch):
    logs = []
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    shared = Pacer(2.0, KEY, sleep=lambda _: None, log=logs.append, clock=Clock())
    shared.wait()
    # every way of falling back, each with its own message
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    linked = tmp_path / "linked"
    linked.mkdir(mode=0o700)
    (linked / file_name()).symlink_to(tmp_path / "victim")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    holder = os.open(locked / file_name(), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        for directory in (open_dir, linked, locked, tmp_path / "missing" / "x"):
            pacer = Pacer(2.0, KEY, sleep=lambda _: None, log=logs.append, directory=str(directory), lock_timeout=0.05, clock=Clock())
            run_bounded(pacer.wait)
            assert "SECRET123" not in (pacer.path or "")
    finally:
        os.close(holder)
    assert len(logs) == 4
    assert "SECRET123" not in shared.path
    assert not any("SECRET123" in line or KEY in line for line in logs)
    assert not any("SECRET123" in name for name in all_names(tmp_path))
