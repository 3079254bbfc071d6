# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Request pacing shared by every process of one user on the controller.

This is a private file: it may change in any release without notice.

The schedule is a small file in a directory only the current user can write, guarded by flock
with a time-out. Nothing another local user writes can make a request wait more than one
interval, hang it on a lock, or make it write through a symlink: on any doubt pacing falls back
to this process alone, and says so once through `log`.
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
from typing import Callable, Optional, Tuple

try:
    import fcntl
except ImportError:  # pragma: no cover - non-POSIX controller: pacing stays per process
    fcntl = None

# How often a busy lock is tried again; short against the default 5 s time-out.
_LOCK_POLL = 0.02
# A float's repr is at most 24 characters; more than this is not a schedule we wrote.
_READ_LIMIT = 64
_FILE_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _poll_sleep(seconds: float) -> None:
    """Waits between two lock attempts; its own function so tests can replace it."""
    time.sleep(seconds)


class _Unusable(Exception):
    """The shared schedule cannot be trusted or reached; the message says why (never the key)."""


class Pacer:
    """Spaces requests out to at most `rate` per second for every process of this user.

    Each module run is its own process, so the schedule lives in a file named after a hash of
    `key` (base URL and credential identity; the key itself never appears in a name or a log).
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
    ) -> None:
        # `rate > 0` is False for NaN too; an infinite rate gives 0.0, which is off as well
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.sleep = sleep
        self.log = log
        self.lock_timeout = lock_timeout
        self.clock = clock
        self._next_local = 0.0
        self._fallback: Optional[str] = None
        self.directory: Optional[str] = None
        self.path: Optional[str] = None
        self._name = "pace-%s" % hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
        if not self.interval:
            return
        if fcntl is None:
            self._fall_back("this platform has no flock")
            return
        # nothing is created here: a disabled or never used pacer touches no file
        self.directory = directory if directory is not None else os.path.join(tempfile.gettempdir(), "certops-cloudflare-%d" % os.getuid())
        self.path = os.path.join(self.directory, self._name)

    def wait(self) -> None:
        """Sleeps until this request's slot: at most one interval from now, whatever the file says."""
        if not self.interval:
            return
        slot, now = self._reserve()
        if slot > now:
            self.sleep(slot - now)

    def _reserve(self) -> Tuple[float, float]:
        if self._fallback is None:
            try:
                return self._reserve_shared()
            except _Unusable as exc:
                self._fall_back(str(exc))
            except OSError as exc:
                # strerror only: str(exc) repeats the path, and which path failed is not always the file
                self._fall_back("cannot use schedule file %s: %s" % (self.path, exc.strerror or exc.__class__.__name__))
        now = self.clock()
        slot = self._bounded(now, self._next_local)
        self._next_local = slot + self.interval
        return slot, now

    def _bounded(self, now: float, next_free: float) -> float:
        # a slot far ahead (stepped clock, corrupt or hostile value) costs one interval, never more
        if not math.isfinite(next_free):
            next_free = now
        return max(now, min(next_free, now + self.interval))

    def _fall_back(self, reason: str) -> None:
        # sticky: a lock someone holds on purpose would otherwise cost lock_timeout on every request
        self._fallback = reason
        message = "API request pacing: %s; pacing is now per process, not shared with other runs" % reason
        if self.log is not None:
            self.log(message)
        else:
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    def _reserve_shared(self) -> Tuple[float, float]:
        dir_fd = self._open_directory()
        try:
            fd = self._open_file(dir_fd)
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        try:
            self._lock(fd)
            os.lseek(fd, 0, os.SEEK_SET)
            raw = os.read(fd, _READ_LIMIT)
            try:
                next_free = float(raw.decode("ascii").strip() or 0)
            except ValueError:  # UnicodeDecodeError is a ValueError too
                next_free = 0.0
            # read the clock once the lock is ours: time spent waiting for it is not a head start
            now = self.clock()
            slot = self._bounded(now, next_free)
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            os.write(fd, repr(float(slot + self.interval)).encode("ascii"))
            # should the file become unusable later, this process keeps the spacing it had
            self._next_local = slot + self.interval
            return slot, now
        finally:
            os.close(fd)  # closing drops the flock

    def _open_directory(self) -> Optional[int]:
        """Checks the schedule directory is ours alone; returns a descriptor when dir_fd works."""
        if self.directory is None:
            raise _Unusable("no schedule directory")
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
                raise _Unusable("schedule directory %s changed while it was checked" % self.directory)
            self._check_directory(after)
        except BaseException:
            os.close(dir_fd)
            raise
        return dir_fd

    def _check_directory(self, info: os.stat_result) -> None:
        if not stat.S_ISDIR(info.st_mode):
            # lstat: a symlink shows as itself, so a link to somewhere else is refused here
            raise _Unusable("schedule directory %s is not a directory (or is a symlink)" % self.directory)
        if info.st_uid != os.getuid():
            raise _Unusable("schedule directory %s is owned by uid %d, not by this user" % (self.directory, info.st_uid))
        if info.st_mode & 0o077:
            raise _Unusable("schedule directory %s has mode %04o; other users could replace the file" % (self.directory, stat.S_IMODE(info.st_mode)))

    def _open_file(self, dir_fd: Optional[int]) -> int:
        if self.path is None:
            raise _Unusable("no schedule file")
        try:
            if dir_fd is not None:
                fd = os.open(self._name, _FILE_FLAGS, 0o600, dir_fd=dir_fd)
            else:  # pragma: no cover - see supports_dir_fd above
                fd = os.open(self.path, _FILE_FLAGS, 0o600)
        except OSError as exc:
            # O_NOFOLLOW on a symlink: ELOOP on Linux and macOS, EMLINK on FreeBSD
            if exc.errno in (errno.ELOOP, errno.EMLINK):
                raise _Unusable("schedule file %s is a symlink; it was not followed" % self.path) from None
            raise
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise _Unusable("schedule file %s is not a regular file" % self.path)
            if info.st_uid != os.getuid():
                raise _Unusable("schedule file %s is owned by uid %d, not by this user" % (self.path, info.st_uid))
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
                raise _Unusable("schedule file %s stayed locked for more than %.1fs" % (self.path, self.lock_timeout))
            _poll_sleep(min(_LOCK_POLL, remaining))
