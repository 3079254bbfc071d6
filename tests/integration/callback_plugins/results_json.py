# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: appends each task result, as Ansible hands it to callbacks, to a JSON lines file."""

from __future__ import annotations

DOCUMENTATION = r"""
name: results_json
type: aggregate
short_description: Write task results to a JSON lines file for the integration tests
description:
  - Test helper of certops.cloudflare, not shipped in the collection. Writes one JSON object per task result to the file
    named by the E(RESULTS_JSON_PATH) environment variable.
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "results_json"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("RESULTS_JSON_PATH")
        if not path:
            return
        task_result = dict(result._result)
        if status == "failed":
            # ansible-core 2.19 hands callbacks the result without its `failed` flag.
            task_result["failed"] = True
        entry = {"task": result._task.get_name(), "status": status, "result": task_result}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")
