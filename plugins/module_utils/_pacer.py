# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Request pacing shared by every process of one user on the controller: a sliding-window log.

This is a private file: it may change in any release without notice.

Cloudflare allows 1,200 requests per 300 s per user and blocks every call of a client that goes over
for the next five minutes ("Rate limits", https://developers.cloudflare.com/fundamentals/api/reference/limits/).
The pacer keeps the send times of the requests of the last window and lets a request go at once
while fewer than `limit` were sent in the trailing window (so bursts use the window), otherwise when
the oldest of them leaves it. No trailing window ever holds more than `limit`. The quota is shared
with the dashboard and other tools: while the API's answers show under 10 % of it left (its
`Ratelimit` header), this process sends at half its average rate (observe).

The log is a small file in a directory only the current user can write, guarded by flock with a
time-out. Nothing found there can make a single sleep longer than one window, hang a request on a
lock, or make it write through a symlink: on any doubt (a file this pacer did not write included)
pacing falls back to this process alone, and says so once through `log`.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import stat
import tempfile
import time
import warnings
from typing import Callable, List, Optional, Tuple

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX controller: pacing stays per process
    fcntl = None

# Cloudflare's limit: 1,200 requests per 300 s per user. The pacer keeps `headroom` of it free.
CLOUDFLARE_WINDOW = 300.0
CLOUDFLARE_WINDOW_LIMIT = 1200
DEFAULT_HEADROOM = 0.05
# Below this share of the quota left (the API's `Ratelimit` header against its `Ratelimit-Policy`), the pacer sends at
# half its average rate: the quota is shared with the dashboard and the other tools of the same user.
LOW_QUOTA_SHARE = 0.10
# How often a busy lock is tried again; short against the default 5 s time-out.
_LOCK_POLL = 0.02
# A float's repr is at most 24 characters, plus its newline; a longer file is not a log we wrote.
_ENTRY_BYTES = 25
# Send times are reserved at most one window ahead; an entry further ahead than that (and this much
# slack) comes from a clock that stepped back, and is dropped rather than waited for.
_CLOCK_SLACK = 1.0
_FILE_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _poll_sleep(seconds: float) -> None:
    """Waits between two lock attempts; its own function so tests can replace it."""
    time.sleep(seconds)


def window_cap(window_limit: int = CLOUDFLARE_WINDOW_LIMIT, headroom: float = DEFAULT_HEADROOM) -> int:
    """The most requests any pacer lets through per window: the API's limit less the headroom."""
    return max(1, int(math.floor(window_limit * (1.0 - headroom) + 1e-9)))


def window_count(rate: Optional[float], window: float = CLOUDFLARE_WINDOW, cap: Optional[int] = None) -> int:
    """Requests allowed per trailing window for an average `rate` per second; 0 means pacing is off.

    floor(rate * window), at least 1 and at most `cap`: 3.8/s gives 1,140 per 300 s.
    """
    if not rate or not rate > 0:  # None, 0, negative and NaN switch pacing off
        return 0
    cap = window_cap() if cap is None else cap
    # min() first: an infinite rate is capped, not an overflow; the epsilon keeps 3.8 * 300 at 1,140
    return max(1, int(math.floor(min(rate * window, cap) + 1e-9)))


# A typical answer time of the API, for estimates only (unverified against the live API; runs far from Cloudflare's
# edge take longer).
TYPICAL_ANSWER_SECONDS = 0.25


def estimated_seconds(calls: int, rate: Optional[float], window: float = CLOUDFLARE_WINDOW, answer_seconds: float = TYPICAL_ANSWER_SECONDS) -> float:
    """How long `calls` API calls made one after another take at least, at pace `rate` per second (0 or None: no pacing).

    The pacer lets one window's count through at once, then each further count one window later; the answers take
    their own time too. The longer of the two: at 3.8/s, 10,400 calls take 9 windows of 300 s, about 45 minutes.
    The role's plan and the benchmark estimate with this one function.
    """
    answers = max(0, calls) * answer_seconds
    count = window_count(rate, window)
    if not count or calls <= 0:
        return answers
    return max(answers, (math.ceil(calls / count) - 1) * window)


def duration_text(seconds: float) -> str:
    """A duration as a person says it: "under a minute", "about 7 minutes", "about 1 hour 5 minutes"."""
    minutes = int(round(seconds / 60.0))
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return "about %d minute%s" % (minutes, "" if minutes == 1 else "s")
    return "about %d hour%s %d minutes" % (minutes // 60, "" if minutes // 60 == 1 else "s", minutes % 60)


class _Unusable(Exception):
    """The shared log cannot be trusted or reached; the message says why (never the key)."""


class Pacer:
    """Lets at most `limit` requests through per trailing `window` seconds for every process of this user.

    Each module run is its own process, so the log lives in a file named after a hash of `key`
    (base URL and credential identity, or a user-set label; the key itself never appears in a name
    or a log). `rate` is the average rate in requests per second; `cap` bounds the window's count
    (see window_count).
    """

    def __init__(
        self,
        rate: Optional[float],
        key: str,
        sleep: Callable[[float], None] = time.sleep,
        log: Optional[Callable[[str], None]] = None,
        directory: Optional[str] = None,
        lock_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        window: float = CLOUDFLARE_WINDOW,
        cap: Optional[int] = None,
    ) -> None:
        self.window = float(window)
        # every pacer on this log keeps at most `keep` entries: enough for any limit up to the cap
        self.keep = window_cap() if cap is None else cap
        self.limit = window_count(rate, self.window, self.keep)
        self.sleep = sleep
        self.log = log
        self.lock_timeout = lock_timeout
        self.clock = clock
        self._local: List[float] = []
        self._fallback: Optional[str] = None
        self.low_quota = False
        self.directory: Optional[str] = None
        self.path: Optional[str] = None
        # pacers that disagree on the window or the cap would cut each other's log short: keep them apart
        named = "%s|%r|%d" % (key, self.window, self.keep)
        self._name = "window-%s" % hashlib.sha256(named.encode("utf-8")).hexdigest()[:16]
        self._read_limit = self.keep * _ENTRY_BYTES
        if not self.limit:
            return
        if fcntl is None:
            self._fall_back("this platform has no flock")
            return
        # nothing is created here: a disabled or never used pacer touches no file
        self.directory = directory if directory is not None else os.path.join(tempfile.gettempdir(), "certops-cloudflare-%d" % os.getuid())
        self.path = os.path.join(self.directory, self._name)

    def wait(self) -> None:
        """Sleeps until this request may go: at once while the window has room, never more than one window a sleep."""
        if not self.limit:
            return
        while True:
            slot, now = self._reserve()
            if slot <= now + self.window:
                if slot > now:
                    self.sleep(slot - now)
                return
            # more requests are queued than one window holds: ask again when this one would fit
            self.sleep(min(self.window, slot - self.window - now))

    def observe(self, quota: Optional[Tuple[int, int]]) -> None:
        """What the API's latest answer says of its quota, (remaining, quota), or None when it says nothing.

        Under LOW_QUOTA_SHARE left, requests go at half the average rate, one at most every 2 * window / limit seconds
        (no burst), until an answer shows the quota recovered; each change is logged once.
        """
        if not self.limit or quota is None:
            return
        remaining, total = quota
        low = remaining < LOW_QUOTA_SHARE * total
        if low == self.low_quota:
            return
        self.low_quota = low
        if low:
            message = "API request pacing: Cloudflare shows %d of %d requests left in its window (under %d %%); half pace until the quota recovers"
        else:
            message = "API request pacing: Cloudflare shows %d of %d requests left in its window again; full pace"
        self._say(message % (remaining, total, int(LOW_QUOTA_SHARE * 100)) if low else message % (remaining, total))

    def admit(self, times: List[float], now: float) -> Tuple[List[float], float]:
        """The log with this request reserved in it, and when the request may go.

        Entries that left the window, or lie further ahead than any reservation could (the clock
        stepped back), are dropped. A slot more than one window ahead is not reserved. While the quota
        is low (observe), the request also goes no sooner than half the pace after the latest one.
        """
        live = sorted(t for t in times if now - self.window < t <= now + self.window + _CLOCK_SLACK)
        slot = now
        if len(live) >= self.limit:
            # when the oldest of the last `limit` requests leaves the window, and after every
            # reservation already made (so processes queue in order)
            slot = max(now, live[-1], live[-self.limit] + self.window)
        if self.low_quota and live:
            slot = max(slot, live[-1] + 2.0 * self.window / self.limit)
        if slot <= now + self.window:
            live.append(slot)
            live.sort()
        return live[-int(self.keep) :], slot

    def _reserve(self) -> Tuple[float, float]:
        if self._fallback is None:
            try:
                return self._reserve_shared()
            except _Unusable as exc:
                self._fall_back(str(exc))
            except OSError as exc:
                # strerror only: str(exc) repeats the path, and which path failed is not always the file
                self._fall_back("cannot use pacing log %s: %s" % (self.path, exc.strerror or exc.__class__.__name__))
        now = self.clock()
        self._local, slot = self.admit(self._local, now)
        return slot, now

    def _fall_back(self, reason: str) -> None:
        # sticky: a lock someone holds on purpose would otherwise cost lock_timeout on every request
        self._fallback = reason
        self._say("API request pacing: %s; pacing is now per process, not shared with other runs" % reason)

    def _say(self, message: str) -> None:
        if self.log is not None:
            self.log(message)
        else:
            warnings.warn(message, RuntimeWarning, stacklevel=3)

    def _reserve_shared(self) -> Tuple[float, float]:
        dir_fd = self._open_directory()
        try:
            fd = self._open_file(dir_fd)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        try:
            self._lock(fd)
            times = self._parse(self._read(fd))
            # read the clock once the lock is ours: time spent waiting for it is not a head start
            now = self.clock()
            log, slot = self.admit(times, now)
            # the file is only ever touched under the lock, so rewriting it in place is safe
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, "".join("%r\n" % t for t in log).encode("ascii"))
            # should the file become unusable later, this process keeps the log it had
            self._local = log
            return slot, now
        finally:
            os.close(fd)  # closing drops the flock

    def _read(self, fd: int) -> bytes:
        """At most one byte more than a log of `keep` entries can take: enough to tell it is too long."""
        os.lseek(fd, 0, os.SEEK_SET)
        chunks, size = [], 0
        while size <= self._read_limit:
            chunk = os.read(fd, self._read_limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def _parse(self, raw: bytes) -> List[float]:
        """Send times, one finite float a line; anything else was not written by this pacer."""
        if len(raw) > self._read_limit:
            raise _Unusable("pacing log %s is larger than %d entries; it was not written by this pacer (remove it)" % (self.path, self.keep))
        try:
            text = raw.decode("ascii")
            if text and not text.endswith("\n"):
                raise ValueError("unterminated")
            times = [float(line) for line in text.splitlines()]
        except ValueError:  # UnicodeDecodeError is a ValueError too
            times = None
        if times is None or len(times) > self.keep or not all(math.isfinite(t) for t in times):
            raise _Unusable("pacing log %s is not in the expected format; it was not written by this pacer (remove it)" % self.path)
        return times

    def _open_directory(self) -> Optional[int]:
        """Checks the log's directory is ours alone; returns a descriptor when dir_fd works."""
        if self.directory is None:
            raise _Unusable("no pacing directory")
        try:
            os.mkdir(self.directory, 0o700)
        except FileExistsError:
            pass  # checked below, whoever made it
        before = os.lstat(self.directory)
        self._check_directory(before)
        if os.open not in os.supports_dir_fd:  # pragma: no cover - every POSIX platform CPython runs on has it
            return None
        # the name could be swapped between lstat and use (a directory= outside a sticky /tmp):
        # hold the checked directory itself and open the file relative to it
        dir_fd = os.open(self.directory, _DIR_FLAGS)
        try:
            after = os.fstat(dir_fd)
            if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
                raise _Unusable("pacing directory %s changed while it was checked" % self.directory)
            self._check_directory(after)
        except BaseException:
            os.close(dir_fd)
            raise
        return dir_fd

    def _check_directory(self, info: os.stat_result) -> None:
        if not stat.S_ISDIR(info.st_mode):
            # lstat: a symlink shows as itself, so a link to somewhere else is refused here
            raise _Unusable("pacing directory %s is not a directory (or is a symlink)" % self.directory)
        if info.st_uid != os.getuid():
            raise _Unusable("pacing directory %s is owned by uid %d, not by this user" % (self.directory, info.st_uid))
        if info.st_mode & 0o077:
            raise _Unusable("pacing directory %s has mode %04o; other users could replace the file" % (self.directory, stat.S_IMODE(info.st_mode)))

    def _open_file(self, dir_fd: Optional[int]) -> int:
        if self.path is None:
            raise _Unusable("no pacing log")
        try:
            if dir_fd is not None:
                fd = os.open(self._name, _FILE_FLAGS, 0o600, dir_fd=dir_fd)
            else:  # pragma: no cover - see supports_dir_fd above
                fd = os.open(self.path, _FILE_FLAGS, 0o600)
        except OSError as exc:
            # O_NOFOLLOW on a symlink: ELOOP on Linux and macOS, EMLINK on FreeBSD
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise _Unusable("pacing log %s is a symlink; it was not followed" % self.path) from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Unusable("pacing log %s is not a regular file" % self.path)
            if info.st_uid != os.getuid():
                raise _Unusable("pacing log %s is owned by uid %d, not by this user" % (self.path, info.st_uid))
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _lock(self, fd: int) -> None:
        """Takes the flock, giving up after lock_timeout: a holder that never lets go cannot hang a run."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Unusable("pacing log %s stayed locked for more than %.1fs" % (self.path, self.lock_timeout))
            _poll_sleep(min(_LOCK_POLL, remaining))
