# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One rotation per zone at a time on a controller: a lock file per zone id, held by an ansible-playbook process.

This is a private file: it may change in any release without notice. No Ansible import.

The lock outlives the module that takes it (the role's stages are separate processes), so it is not a flock but a
file naming its holder: the ansible-playbook process above the module (its pid, the kernel's start time of that
process, so a reused pid is not taken for the holder, and the start time in UTC), written whole and linked into place,
so a reader never sees half of it. A lock whose holder process is gone (a run killed before it released it) is stale
and taken over. It lives beside the pacer's shared window, in a directory only the current user can write.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import tempfile
import time
from typing import Any, Callable, Dict, Optional, Tuple

POLL_SECONDS = 1.0


class LockBusyError(Exception):
    """The lock is held by a live run after the time-out; `holder` says whose."""

    def __init__(self, message: str, holder: Dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def default_directory() -> str:
    """The pacer's directory: one per user, beside the shared request window."""
    return os.path.join(tempfile.gettempdir(), "certops-cloudflare-%d" % os.getuid())


def _stat_fields(pid: int) -> Optional[Tuple[int, int]]:
    """(parent pid, start time in clock ticks since boot) from /proc, or None where there is no such process or /proc."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[19])


def _is_ansible(pid: int) -> bool:
    """Whether the process runs ansible-playbook (or ansible): its program, or the script its Python runs."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")[:2]
    except OSError:
        return False
    return any(os.path.basename(arg.decode("utf-8", "replace")) in ("ansible-playbook", "ansible") for arg in argv)


def playbook_process(pid: Optional[int] = None) -> int:
    """The topmost ansible-playbook (or ansible) process above `pid` (default: this one): its workers are forks of it
    that come and go per task. Where /proc is missing, or no such ancestor exists, this process's parent."""
    pid = os.getpid() if pid is None else pid
    found = None
    for _depth in range(64):
        if pid <= 1:
            break
        if _is_ansible(pid):
            found = pid
        fields = _stat_fields(pid)
        if fields is None:
            break
        pid = fields[0]
    return found if found is not None else os.getppid()


def holder_of(pid: int) -> Dict[str, Any]:
    """What the lock file says about the process `pid`."""
    fields = _stat_fields(pid)
    ticks = fields[1] if fields else None
    started = None
    if ticks is not None:
        try:
            with open("/proc/stat", "rb") as handle:
                boot = next(int(line.split()[1]) for line in handle if line.startswith(b"btime "))
            seconds = boot + ticks / float(os.sysconf("SC_CLK_TCK"))
            started = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        except (OSError, StopIteration, ValueError):
            started = None
    return {"pid": pid, "start_ticks": ticks, "started": started, "host": socket.gethostname()}


def is_alive(holder: Dict[str, Any]) -> bool:
    """Whether the holder's process still runs (the same process: its start time matches, where /proc tells)."""
    if holder.get("host") != socket.gethostname():
        return True  # another controller's process cannot be checked from here: its lock stands until it is released
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False  # not a lock this module wrote
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # another user's process, alive
    fields = _stat_fields(pid)
    return fields is None or holder.get("start_ticks") in (None, fields[1])


def same_holder(one: Dict[str, Any], other: Dict[str, Any]) -> bool:
    return all(one.get(key) == other.get(key) for key in ("pid", "start_ticks", "host"))


def describe(holder: Dict[str, Any]) -> str:
    return "pid %s on %s, started %s" % (holder.get("pid"), holder.get("host"), holder.get("started") or "at an unknown time")


class ZoneLock:
    """The lock file of one zone in `directory`."""

    def __init__(self, zone_id: str, directory: Optional[str] = None) -> None:
        self.directory = directory or default_directory()
        self.path = os.path.join(self.directory, "rotation-%s.lock" % zone_id)

    def holder(self) -> Optional[Dict[str, Any]]:
        """Who holds the lock, or None when it is free; a file that is not a lock we wrote counts as a stale holder."""
        try:
            with open(self.path, "r", encoding="utf-8") as handle:
                data = json.loads(handle.read(4096))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {"pid": None, "host": socket.gethostname(), "started": None, "start_ticks": None}
        return data if isinstance(data, dict) else {"pid": None, "host": socket.gethostname()}

    def acquire(self, me: Dict[str, Any], timeout: float, sleep: Callable[[float], None] = time.sleep) -> Tuple[bool, float]:
        """Take the lock for `me`: (whether it was taken now rather than held already, seconds waited).

        Waits while a live run holds it, up to `timeout` seconds, then raises LockBusyError naming the holder."""
        self._make_directory()
        started = time.monotonic()
        while True:
            current = self.holder()
            if current is not None and same_holder(current, me):
                return False, time.monotonic() - started
            if current is not None and not is_alive(current):
                self._remove_stale(current)
                continue
            if current is None and self._create(me):
                return True, time.monotonic() - started
            waited = time.monotonic() - started
            if current is not None and waited + POLL_SECONDS > timeout:
                raise LockBusyError(
                    "another rotation of this zone holds its lock (%s) after waiting %d s; it stops on its own when it ends, "
                    "or remove %s if that process is gone" % (describe(current), int(waited), self.path),
                    current,
                )
            sleep(POLL_SECONDS)

    def release(self, me: Dict[str, Any]) -> bool:
        """Remove the lock when `me` holds it; whether it did."""
        current = self.holder()
        if current is None or not same_holder(current, me):
            return False
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return False
        return True

    def _make_directory(self) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        info = os.lstat(self.directory)
        if not os.path.isdir(self.directory) or os.path.islink(self.directory) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise OSError("the lock directory %s must be a directory of this user that no one else can write" % self.directory)

    def _create(self, me: Dict[str, Any]) -> bool:
        """Write the holder to a temporary file and link it into place: fails when a lock exists, never half written."""
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".rotation-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(json.dumps(me))
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return False
            return True
        finally:
            os.unlink(tmp)

    def _remove_stale(self, stale: Dict[str, Any]) -> None:
        """Move a stale lock aside, then delete it; when another run took it over meanwhile, leave theirs alone."""
        aside = "%s.stale-%d" % (self.path, os.getpid())
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            with open(aside, "r", encoding="utf-8") as handle:
                moved = json.loads(handle.read(4096))
        except (OSError, ValueError):
            moved = None
        if isinstance(moved, dict) and moved != stale and is_alive(moved):
            try:
                os.link(aside, self.path)  # a live holder's lock was moved by mistake: put it back
            except FileExistsError:
                pass
        os.unlink(aside)
