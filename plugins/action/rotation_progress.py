# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waits for an async job of the list form of custom_hostname_cert, printing a progress line from its progress file
every `interval` seconds through Ansible's display (what the play output and AWX's job output show), then returns the
job's result as the task's own. Documented in plugins/modules/rotation_progress.py."""

from __future__ import annotations

import json
import shlex
import time
from typing import Any, Dict, Optional, Tuple

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

CHECK_EVERY = 1.0  # seconds between two looks at the job (one small command reading two files)
CHECK_FIRST = 0.2  # seconds between looks during the first FIRST_SECONDS: a short job is found finished at once
FIRST_SECONDS = 5.0
SEPARATOR = "--certops-progress--"
# What async_status adds to a job's result; the task returns the module's own result, as if it had not run async.
ASYNC_KEYS = ("ansible_job_id", "started", "finished", "results_file", "erased")
OUTPUT_KEYS = ("stdout", "stderr", "stdout_lines", "stderr_lines")  # async_status adds them empty to a module's result


def duration(seconds: float) -> str:
    """A time left as people say it: 45 s, 3 min 20 s, 1 h 05 min."""
    seconds = int(round(seconds))
    if seconds < 60:
        return "%d s" % seconds
    if seconds < 3600:
        return "%d min %02d s" % divmod(seconds, 60)
    return "%d h %02d min" % (seconds // 3600, seconds % 3600 // 60)


def progress_line(what: str, state: Optional[Dict[str, Any]], now: float) -> str:
    """One line of progress from the module's progress file (None: not written yet)."""
    if not isinstance(state, dict) or not state.get("total"):
        return "%s: starting" % what
    total, done, failed, waiting = (int(state.get(key) or 0) for key in ("total", "done", "failed", "waiting"))
    line = "%s: %d of %d done (%d %%), %d failed" % (what, done, total, 100 * done // total, failed)
    if state.get("phase") == "waiting":
        return line + "; waiting for %d to go live" % waiting
    if state.get("phase") == "finished":
        return line + ", in %s" % duration(float(state.get("updated") or now) - float(state.get("started") or now))
    elapsed = max(now - float(state.get("started") or now), 0.001)
    pace = done / elapsed
    if not done:
        return line + ", pace not known yet"
    return line + ", %.1f a second, about %s left" % (pace, duration((total - done) / pace))


def job_finished(text: str) -> bool:
    """Whether the async job file's text is a finished job's, by async_status' rule: JSON without `started` (or text
    that is no JSON, which async_status reports as a failure); an empty or missing file is a job still starting."""
    if not text.strip():
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return True
    return not isinstance(data, dict) or "started" not in data


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = False

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        del tmp  # no temporary directory of its own
        _validation, args = self.validate_argument_spec(
            argument_spec={
                "jid": {"type": "str", "required": True},
                "progress": {"type": "str"},
                "interval": {"type": "int", "default": 30},
                "what": {"type": "str", "default": "custom hostnames"},
            }
        )
        if args["interval"] < 0:
            raise AnsibleActionFail("interval must be 0 (no progress lines) or a number of seconds, not %d" % args["interval"])
        async_dir = self._remote_expand_user(self.get_shell_option("async_dir", default="~/.ansible_async"))
        job_file = self._connection._shell.join_path(async_dir, args["jid"])
        started = time.monotonic()
        next_line = started + args["interval"]
        while True:
            job, state = self.look(job_file, args["progress"])
            if job_finished(job):
                status = self.async_status(args["jid"], "status", async_dir, task_vars)
                break
            if not job.strip():  # no job file: async_status says why (an unknown jid fails), or that it is starting
                status = self.async_status(args["jid"], "status", async_dir, task_vars)
                if status.get("failed") or status.get("finished"):
                    break
            if args["interval"] and time.monotonic() >= next_line:
                display.display(progress_line(args["what"], state, time.time()))
                next_line += args["interval"]
            time.sleep(CHECK_FIRST if time.monotonic() - started < FIRST_SECONDS else CHECK_EVERY)
        # What async_status' cleanup mode removes (the job's file), and the watch file: in one command.
        leftovers = ([job_file] if status.get("finished") else []) + ([args["progress"] + ".watched"] if args["progress"] else [])
        if leftovers:
            self._low_level_execute_command("rm -f %s" % " ".join(shlex.quote(path) for path in leftovers), sudoable=False)
        if args["interval"] and state is not None:
            display.display(progress_line(args["what"], state, time.time()))
        result.update({key: value for key, value in status.items() if key not in ASYNC_KEYS and (key not in OUTPUT_KEYS or value)})
        return result

    def look(self, job_file: str, progress: Optional[str]) -> Tuple[str, Optional[Dict[str, Any]]]:
        """The job file's text and the progress file's state (None when absent or unreadable), in one command that
        also touches the progress file's watch file."""
        command = "cat %s 2>/dev/null; echo; echo %s" % (shlex.quote(job_file), SEPARATOR)
        if progress:  # the touch tells the job it is still watched (it stops after 15 s without one)
            command += "; touch %s; cat %s 2>/dev/null" % (shlex.quote(progress + ".watched"), shlex.quote(progress))
        out = self._low_level_execute_command(command, sudoable=False)
        job, _sep, rest = str(out.get("stdout") or "").partition(SEPARATOR)
        try:
            state = json.loads(rest) if rest.strip() else None
        except ValueError:
            state = None
        return job, state

    def async_status(self, jid: str, mode: str, async_dir: str, task_vars: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """ansible.builtin.async_status' module, as its own action runs it (its result is the job's)."""
        return self._execute_module(
            module_name="ansible.legacy.async_status",
            module_args={"jid": jid, "mode": mode, "_async_dir": async_dir},
            task_vars=task_vars,
        )
