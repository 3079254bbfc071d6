# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""custom_hostname_cert runs as any module does; with progress_interval (the list form, where the task runs on this
machine) it runs in a thread of this worker while the worker prints a line of progress every progress_interval seconds
from the file the module writes (its `progress` option), through Ansible's display: what the play output and AWX's
job output show while the task works. Documented in plugins/modules/custom_hostname_cert.py."""

from __future__ import annotations

import contextvars
import json
import os
import tempfile
import threading
import time
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display
from ansible.utils.vars import merge_hash

display = Display()

LOOK_EVERY = 0.5  # seconds between two looks at the module's thread and the clock


def duration(seconds: float) -> str:
    """A time as people say it: 45 s, 3 min 20 s, 1 h 05 min."""
    seconds = int(round(seconds))
    if seconds < 60:
        return "%d s" % seconds
    if seconds < 3600:
        return "%d min %02d s" % divmod(seconds, 60)
    return "%d h %02d min" % (seconds // 3600, seconds % 3600 // 60)


def progress_line(state: Optional[Dict[str, Any]], now: float) -> str:
    """One line of progress from the module's progress file (None: not written yet)."""
    what = "custom hostnames"
    if not isinstance(state, dict) or not state.get("total"):
        return "%s: starting" % what
    total, done, failed, waiting = (int(state.get(key) or 0) for key in ("total", "done", "failed", "waiting"))
    line = "%s: %d of %d done (%d %%), %d failed" % (what, done, total, 100 * done // total, failed)
    if state.get("phase") == "waiting":
        return line + "; waiting for %d to go live" % waiting
    if state.get("phase") == "finished":
        return line + ", in %s" % duration(float(state.get("updated") or now) - float(state.get("started") or now))
    if not done:
        return line + ", pace not known yet"
    pace = done / max(now - float(state.get("started") or now), 0.001)
    return line + ", %.1f a second, about %s left" % (pace, duration((total - done) / pace))


def lines_every(value: Any) -> int:
    """progress_interval as seconds: an int, or its text (a templated value is text on older ansible-core); 0 for
    anything else, which the module itself refuses with a message."""
    if isinstance(value, bool):
        return 0
    try:
        return max(int(value or 0), 0)
    except (TypeError, ValueError):
        return 0


def read_state(path: str) -> Optional[Dict[str, Any]]:
    """The progress file's counts; None before the module wrote it (it replaces the file whole: never half read)."""
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


class ActionModule(ActionBase):
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp  # no temporary directory of its own
        wrap_async = self._task.async_val and not self._connection.has_native_async
        args = dict(self._task.args)
        interval = lines_every(args.get("progress_interval"))
        listed = args.get("plan") is not None or args.get("hostname_certificates") is not None
        # Lines only where the module's file can be read as it writes it: the list form, on this machine, in the
        # foreground. Anything else runs as the plain module.
        lines = interval > 0 and listed and not wrap_async and self._connection.transport == "local"
        if lines:
            result = merge_hash(result, self.with_lines(args, interval, task_vars))
        else:
            result = merge_hash(result, self._execute_module(task_vars=task_vars, wrap_async=wrap_async))
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def with_lines(self, args: Dict[str, Any], interval: int, task_vars: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """The module in a thread, a line every `interval` seconds from its progress file, and one when it ends."""
        made = None
        if not args.get("progress"):
            fd, made = tempfile.mkstemp(prefix=".certops-progress-", suffix=".json")
            os.close(fd)
            args["progress"] = made
        outcome: Dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["result"] = self._execute_module(module_args=args, task_vars=task_vars)
            except BaseException as exc:  # pylint: disable=broad-exception-caught  # raised again below, in this thread
                outcome["error"] = exc

        # The worker's context variables go with the module's thread, as if it ran in the worker's own.
        thread = threading.Thread(target=contextvars.copy_context().run, args=(work,), name="certops-custom-hostname-cert", daemon=True)
        next_line = time.monotonic() + interval
        try:
            thread.start()
            while thread.is_alive():
                thread.join(LOOK_EVERY)
                if thread.is_alive() and time.monotonic() >= next_line:
                    display.display(progress_line(read_state(args["progress"]), time.time()))
                    next_line += interval
            state = read_state(args["progress"])
            if state is not None:
                display.display(progress_line(state, time.time()))
        finally:
            if made is not None:
                os.unlink(made)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]
