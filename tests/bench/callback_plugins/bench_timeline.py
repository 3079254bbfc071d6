# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark-only callback: appends when each task starts, so the benchmark can tell which task made each API call."""

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timeline
type: aggregate
short_description: Write the start time of each task to a JSON lines file for make bench
description:
  - Benchmark helper of certops.cloudflare, not shipped in the collection. Writes one JSON object per task start
    (and one at the end of the run) to the file named by the E(BENCH_TIMELINE) environment variable.
options: {}
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timeline"
    CALLBACK_NEEDS_ENABLED = True

    def _mark(self, name):
        path = os.environ.get("BENCH_TIMELINE")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps({"task": name, "start": time.time()}) + "\n")

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._mark(task.get_name())

    def v2_playbook_on_stats(self, stats):
        self._mark("(end of run)")
