"""Request pacing shared between processes: a sliding-window log in a private directory, bounded reads, lock time-out.

Nothing here depends on real timing: the clock is fake and sleeps only move it on.
"""

from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import os
import stat
import threading
import time

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils import _pacer
from ansible_collections.certops.cloudflare.plugins.module_utils._pacer import Pacer, duration_text, estimated_seconds, window_cap, window_count

KEY = "token:SECRET123"
NOW = 1_000_000.0
WINDOW = 10.0
CAP = 1140  # Cloudflare's 1,200 per window less 5 %


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


def file_name(key=KEY, window=WINDOW, keep=CAP):
    return "window-" + hashlib.sha256(("%s|%r|%d" % (key, window, keep)).encode("utf-8")).hexdigest()[:16]


@pytest.fixture
def private_dir(tmp_path):
    path = tmp_path / "sched"
    path.mkdir(mode=0o700)
    path.chmod(0o700)
    return path


def make(directory, rate=0.3, key=KEY, clock=None, window=WINDOW, **kwargs):
    """A pacer (3 requests per 10 s by default) whose sleeps are recorded and move its clock on."""
    clock = clock or Clock()
    logs = []
    pacer = Pacer(rate, key, sleep=clock.sleep, log=logs.append, directory=str(directory), clock=clock, window=window, **kwargs)
    return pacer, clock.waits, logs


def sent_at(pacers, clock, gap=0.0):
    """Sends one request through each pacer in turn, `gap` seconds apart; returns when each went, from the start."""
    start = clock.now
    times = []
    for pacer in pacers:
        pacer.wait()
        times.append(clock.now - start)
        clock.now += gap
    return times


def most_in_a_window(times, window=WINDOW):
    """The largest number of send times in any trailing window (t - window, t]."""
    ordered = sorted(times)
    return max(sum(1 for s in ordered if t - window < s <= t) for t in ordered)


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


# --- the window ---


@pytest.mark.parametrize(
    "rate, window, cap, count",
    [
        (3.8, 300, None, 1140),
        (4.0, 300, None, 1140),
        (float("inf"), 300, None, 1140),
        (1.0, 300, None, 300),
        (19, 5, None, 95),
        (50, 5, 95, 95),
        (0.001, 300, None, 1),
    ],
)
def test_window_count_derives_from_the_rate_and_is_capped(rate, window, cap, count):
    # floor(rate * window): the default 3.8/s is 1,140 per 300 s; never above the cap; at least one
    assert window_count(rate, window, cap) == count


@pytest.mark.parametrize("rate", [0, 0.0, None, -1.0, float("nan")])
def test_window_count_is_zero_when_pacing_is_off(rate):
    assert window_count(rate) == 0


def test_window_cap_is_the_limit_less_the_headroom():
    assert window_cap() == 1140
    assert window_cap(100, 0.05) == 95
    assert window_cap(1200, 0.0) == 1200


def test_a_burst_within_the_window_goes_at_once_and_the_next_waits_for_the_oldest_to_leave(private_dir):
    clock = Clock()
    pacer, waits, logs = make(private_dir, rate=0.5, clock=clock)  # 5 per 10 s
    assert pacer.limit == 5
    # five requests a second apart pass without sleeping; the sixth waits until the first leaves the window
    assert sent_at([pacer] * 7, clock, gap=1.0) == [0.0, 1.0, 2.0, 3.0, 4.0, 10.0, 11.0]
    assert waits == [5.0]
    assert logs == []
    written = [float(line) for line in (private_dir / file_name()).read_text().splitlines()]
    # the log holds the window's send times only
    assert written == [NOW + t for t in (2.0, 3.0, 4.0, 10.0, 11.0)]


def test_a_whole_window_burst_passes_without_sleeping(private_dir):
    clock = Clock()
    pacer, waits, logs = make(private_dir, rate=3.8, window=300.0, clock=clock)
    assert pacer.limit == 1140
    assert sent_at([pacer] * 1140, clock) == [0.0] * 1140
    assert waits == [] and logs == []
    pacer.wait()
    assert waits == [300.0]


def test_two_pacers_with_the_same_key_share_one_budget(private_dir):
    clock = Clock()
    first, waits, logs = make(private_dir, clock=clock)
    second, _waits, other_logs = make(private_dir, clock=clock)
    # three per 10 s, whichever pacer sends them: the fourth waits for the first to leave the window
    assert sent_at([first, second, first, second], clock) == [0.0, 0.0, 0.0, 10.0]
    assert waits == [10.0]
    assert logs == other_logs == []
    assert first.path == second.path == str(private_dir / file_name())


def test_pacers_sharing_a_log_never_exceed_the_window_count(private_dir):
    clock = Clock()
    pacers = [make(private_dir, rate=0.5, clock=clock)[0] for _index in range(3)]
    times = []
    for i in range(200):
        pacers[(i * 7) % 3].wait()
        times.append(clock.now)
        clock.now += (0.0, 0.3, 2.5, 0.0, 1.1)[i % 5]  # bursts and pauses
    assert most_in_a_window(times) == 5
    # and the budget is used: 200 requests at 5 per 10 s take about 400 s, not more
    assert times[-1] - times[0] <= 200 / 0.5


def test_more_waiters_than_a_window_holds_queue_without_overflowing(private_dir):
    # a frozen clock while five processes each ask at once: reservations go one window ahead at most,
    # and whoever finds the queue deeper sleeps at most one window and asks again
    clock = Clock()
    pacers = [make(private_dir, rate=0.2, clock=clock)[0] for _index in range(5)]  # 2 per 10 s
    times = []
    for pacer in pacers * 2:
        pacer.wait()
        times.append(clock.now)
    assert most_in_a_window(times) == 2
    assert all(0 < w <= WINDOW for w in clock.waits)


def _process_requests(directory, count, queue):
    # a frozen clock: the send time of each request is when its reserved slot comes, NOW + the sleep asked for
    sleeps = []
    pacer = Pacer(0.6, KEY, sleep=sleeps.append, log=sleeps.append, directory=directory, clock=lambda: NOW, window=WINDOW)
    sent = []
    for _index in range(count):
        before = len(sleeps)
        pacer.wait()
        sent.append(NOW + sum(s for s in sleeps[before:] if isinstance(s, float)))
    queue.put((sent, [s for s in sleeps if not isinstance(s, float)]))


def test_two_processes_share_one_budget(private_dir):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    # 6 per 10 s: two processes asking 6 each at the same frozen instant get 6 slots now and 6 one window later
    workers = [ctx.Process(target=_process_requests, args=(str(private_dir), 6, queue)) for _index in range(2)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=30) for _index in workers]
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0
    sent = [t for times, _logs in results for t in times]
    assert not any(logs for _times, logs in results)
    assert sorted(sent) == [NOW] * 6 + [NOW + WINDOW] * 6
    assert most_in_a_window(sent) == 6


def test_pacers_with_different_keys_do_not_share(private_dir):
    clock = Clock()
    first, waits, logs = make(private_dir, key="token:A", clock=clock, rate=0.1)
    second = make(private_dir, key="token:B", clock=clock, rate=0.1)[0]
    # each credential has its own budget: B does not queue behind A
    assert sent_at([first, second, first], clock) == [0.0, 0.0, 10.0]
    assert waits == [10.0] and logs == []
    assert first.path != second.path
    assert sorted(os.listdir(private_dir)) == sorted([file_name("token:A"), file_name("token:B")])


# --- clock steps ---


@pytest.mark.parametrize("step", [-86400.0, -3600.0, -2 * WINDOW, 2 * WINDOW, 86400.0])
def test_a_clock_step_does_not_stall(private_dir, step):
    clock = Clock()
    pacer, waits, logs = make(private_dir, clock=clock)
    sent_at([pacer] * 3, clock)  # the window is full
    clock.now += step  # the controller's clock jumps: the log now lies far ahead or far behind
    assert sent_at([pacer] * 3, clock) == [0.0, 0.0, 0.0]
    assert waits == [] and logs == []


@pytest.mark.parametrize("step", [-0.5, -WINDOW / 2, -WINDOW])
def test_a_small_step_back_costs_at_most_a_window_a_sleep(private_dir, step):
    clock = Clock()
    pacer, waits, logs = make(private_dir, clock=clock)
    sent_at([pacer] * 3, clock)
    clock.now += step
    run_bounded(lambda: sent_at([pacer] * 6, clock))
    assert waits and all(0 < w <= WINDOW for w in waits) and logs == []
    # the clock moves on normally from here; the steps only postpone, never block
    assert clock.now - (NOW + step) <= 3 * WINDOW + _pacer._CLOCK_SLACK


def test_far_future_entries_in_the_log_are_dropped(private_dir):
    (private_dir / file_name()).write_text("".join("%r\n" % (NOW + 3600 + i) for i in range(3)))
    (private_dir / file_name()).chmod(0o600)
    pacer, waits, logs = make(private_dir)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 0.0, 0.0]
    assert waits == [] and logs == []
    assert (private_dir / file_name()).read_text() == "%r\n" % NOW * 3


# --- the file is ours or it is not used ---


def test_default_directory_is_per_user_and_created_0700(tmp_path, monkeypatch):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    old_umask = os.umask(0)  # the mode must come from the pacer, not from a strict umask
    try:
        clock, logs = Clock(), []
        pacer = Pacer(0.1, KEY, sleep=clock.sleep, log=logs.append, clock=clock, window=WINDOW)
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
    assert waits == [10.0] and logs == []


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o707, 0o755, 0o701])
def test_directory_open_to_others_is_refused_and_pacing_stays_per_process(private_dir, mode):
    private_dir.chmod(mode)
    pacer, waits, logs = make(private_dir, rate=0.1)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 10.0, 20.0]
    assert len(logs) == 1 and "per process" in logs[0] and "mode %04o" % mode in logs[0]
    assert os.listdir(private_dir) == []


def test_directory_owned_by_someone_else_is_refused(private_dir, monkeypatch):
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 4242)
    pacer, waits, logs = make(private_dir, rate=0.1)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 10.0, 20.0]
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
    pacer = Pacer(0.1, KEY, sleep=clock.sleep, log=logs.append, clock=clock, window=WINDOW)
    pacer.wait()
    pacer.wait()
    assert clock.waits == [10.0]
    assert len(logs) == 1 and "owned by" in logs[0]
    assert os.listdir(squatted) == []


def test_symlink_as_log_file_is_not_followed(private_dir, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious data\n")
    (private_dir / file_name()).symlink_to(victim)
    pacer, waits, logs = make(private_dir, rate=0.1)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 10.0, 20.0]
    assert victim.read_text() == "precious data\n"
    assert os.path.islink(private_dir / file_name())
    assert len(logs) == 1 and "symlink" in logs[0] and "per process" in logs[0]


def test_symlink_to_a_directory_as_log_file_is_refused(private_dir, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (private_dir / file_name()).symlink_to(elsewhere, target_is_directory=True)
    pacer, waits, logs = make(private_dir, rate=0.1)
    pacer.wait()
    pacer.wait()
    assert os.listdir(elsewhere) == []
    assert waits == [10.0] and len(logs) == 1 and "per process" in logs[0]


def test_log_file_that_is_not_a_regular_file_is_refused(private_dir):
    os.mkfifo(private_dir / file_name(), 0o600)
    pacer, waits, logs = make(private_dir, rate=0.1)
    run_bounded(pacer.wait)
    run_bounded(pacer.wait)
    assert waits == [10.0]
    assert len(logs) == 1 and "not a regular file" in logs[0]


def test_symlink_as_directory_is_refused(private_dir, tmp_path):
    link = tmp_path / "link"
    link.symlink_to(private_dir, target_is_directory=True)
    pacer, waits, logs = make(link, rate=0.1)
    pacer.wait()
    pacer.wait()
    assert os.listdir(private_dir) == []
    assert waits == [10.0]
    assert len(logs) == 1 and "symlink" in logs[0] and "per process" in logs[0]


def test_default_directory_planted_as_symlink_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    target = tmp_path / "attacker"
    target.mkdir(mode=0o700)
    (tmp_path / ("certops-cloudflare-%d" % os.getuid())).symlink_to(target, target_is_directory=True)
    logs = []
    pacer = Pacer(0.1, KEY, sleep=lambda _seconds: None, log=logs.append, clock=Clock(), window=WINDOW)
    pacer.wait()
    assert os.listdir(target) == []
    assert len(logs) == 1 and "symlink" in logs[0]


KEEP = 4  # a small cap, so the size bound is small too


@pytest.mark.parametrize(
    "content",
    [
        b"garbage\n",
        b"\xff\xfe\n",
        b"1e400\n",
        b"inf\n",
        b"nan\n",
        repr(NOW).encode("ascii"),  # no final newline: cut short while written
        b"%r\n" % NOW * (KEEP + 1),  # more entries than any pacer keeps
        b"9" * (KEEP * 25 + 1),  # more bytes than the bound: not even read whole
        b"1\n\n2\n",
    ],
)
def test_log_not_written_by_a_pacer_is_left_alone_and_pacing_stays_per_process(private_dir, content):
    (private_dir / file_name(keep=KEEP)).write_bytes(content)
    (private_dir / file_name(keep=KEEP)).chmod(0o600)
    pacer, waits, logs = make(private_dir, rate=0.1, cap=KEEP)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 10.0, 20.0]
    assert len(logs) == 1 and "not written by this pacer" in logs[0] and "per process" in logs[0]
    assert (private_dir / file_name(keep=KEEP)).read_bytes() == content


def test_empty_log_is_an_empty_window(private_dir):
    (private_dir / file_name()).write_bytes(b"")
    pacer, waits, logs = make(private_dir)
    assert sent_at([pacer] * 3, pacer.clock) == [0.0, 0.0, 0.0]
    assert logs == []


def test_log_holds_at_most_the_cap(private_dir):
    clock = Clock()
    pacer, waits, logs = make(private_dir, rate=100.0, cap=KEEP, clock=clock)
    assert pacer.limit == KEEP
    sent_at([pacer] * 20, clock, gap=1.0)
    assert len((private_dir / file_name(keep=KEEP)).read_text().splitlines()) <= KEEP
    assert logs == []


# --- lock and fallback ---


def test_lock_held_elsewhere_times_out_and_falls_back(private_dir, monkeypatch):
    polls = []

    def poll_sleep(seconds):
        polls.append(seconds)
        time.sleep(seconds)

    monkeypatch.setattr(_pacer, "_poll_sleep", poll_sleep)
    pacer, waits, logs = make(private_dir, rate=0.1, lock_timeout=0.2)
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
    # lock polling is not pacing: the injected sleep only sees the per-process window
    assert waits == [10.0, 10.0] and clock.now == NOW + 20.0
    assert len(logs) == 1 and "locked" in logs[0] and "per process" in logs[0]


def test_fallback_is_logged_once_for_many_waits(tmp_path):
    pacer, waits, logs = make(tmp_path / "missing" / "sched", rate=0.2)
    assert sent_at([pacer] * 5, pacer.clock) == [0.0, 0.0, 10.0, 10.0, 20.0]
    assert len(logs) == 1 and "per process" in logs[0]


def test_fallback_keeps_the_window_it_had(private_dir):
    clock = Clock()
    pacer, waits, logs = make(private_dir, clock=clock)
    sent_at([pacer] * 2, clock)
    private_dir.chmod(0o777)  # the shared log becomes unusable mid-run
    assert sent_at([pacer] * 2, clock) == [0.0, 10.0]
    assert len(logs) == 1 and "per process" in logs[0]


def test_fallback_without_log_is_not_silent(tmp_path):
    waits = []
    pacer = Pacer(0.1, KEY, sleep=waits.append, directory=str(tmp_path / "missing" / "sched"), clock=Clock(), window=WINDOW)
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
        assert pacer.limit == 0 and pacer.path is None
    assert waits == [] and logs == []
    assert list(tmp_path.iterdir()) == []


def test_key_never_appears_in_a_name_or_a_log_line(tmp_path, private_dir, monkeypatch):
    logs = []
    monkeypatch.setattr(_pacer.tempfile, "gettempdir", lambda: str(tmp_path))
    shared = Pacer(0.1, KEY, sleep=lambda _: None, log=logs.append, clock=Clock(), window=WINDOW)
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
    garbled = tmp_path / "garbled"
    garbled.mkdir(mode=0o700)
    (garbled / file_name()).write_text("garbage\n")
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        for directory in (open_dir, linked, locked, garbled, tmp_path / "missing" / "x"):
            pacer = Pacer(0.1, KEY, sleep=lambda _: None, log=logs.append, directory=str(directory), lock_timeout=0.05, clock=Clock(), window=WINDOW)
            run_bounded(pacer.wait)
            assert "SECRET123" not in (pacer.path or "")
    finally:
        os.close(holder)
    assert len(logs) == 5
    assert "SECRET123" not in shared.path
    assert not any("SECRET123" in line or KEY in line for line in logs)
    assert not any("SECRET123" in name for name in all_names(tmp_path))


def test_estimate_of_ten_thousand_calls_at_the_default_pace_is_nine_windows():
    assert estimated_seconds(10400, 3.8) == 9 * 300


def test_estimate_of_one_burst_is_the_answer_time():
    assert estimated_seconds(1000, 3.8, answer_seconds=0.25) == 250


def test_estimate_without_pacing_is_the_answer_time():
    assert estimated_seconds(400, 0, answer_seconds=0.5) == 200


def test_duration_text_rounds_to_minutes():
    assert [duration_text(s) for s in (20, 60, 2700, 3900)] == ["under a minute", "about 1 minute", "about 45 minutes", "about 1 hour 5 minutes"]


# -- the quota the API reports (its Ratelimit header) -----------------------------------------------------------------


def test_under_a_tenth_of_the_quota_left_the_pace_halves_until_it_recovers(private_dir):
    pacer, waits, logs = make(private_dir, rate=1.0)  # 10 per 10 s: one a second on average
    pacer.wait()
    assert waits == []
    pacer.observe((119, 1200))  # under 10 % left: the quota is shared with the dashboard and other tools
    for _index in range(3):
        pacer.wait()
    # half the average rate, without bursts: one request every 2 s although the window has room
    assert waits == [2.0, 2.0, 2.0]
    pacer.observe((5, 1200))  # still low: no new log line
    pacer.observe((120, 1200))  # a tenth left again: full pace, the window's room used at once
    pacer.wait()
    pacer.wait()
    assert waits == [2.0, 2.0, 2.0]
    assert len(logs) == 2 and "119 of 1200" in logs[0] and "half pace" in logs[0] and "full pace" in logs[1]


def test_an_answer_without_the_headers_changes_nothing(private_dir):
    pacer, waits, logs = make(private_dir, rate=1.0)
    pacer.observe((0, 100))
    pacer.observe(None)
    assert pacer.low_quota and len(logs) == 1


def test_with_pacing_off_the_quota_is_not_acted_on(private_dir):
    pacer, waits, logs = make(private_dir, rate=0)
    pacer.observe((0, 1200))
    pacer.wait()
    assert not pacer.low_quota and waits == [] and logs == []
