# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: appends the size of each task result, loop items and retries included, to a JSON lines file."""

from __future__ import annotations

DOCUMENTATION = r"""
name: result_sizes
type: aggregate
short_description: Write the size of every task result to a JSON lines file for the integration tests
description:
  - Test helper of certops.cloudflare, not shipped in the collection. Writes one JSON object per task result (each loop
    item and each retry of an C(until) loop too) with the task's name, the kind of result and the size in bytes of the
    result as JSON, to the file named by the E(RESULT_SIZES_PATH) environment variable.
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "result_sizes"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, kind):
        path = os.environ.get("RESULT_SIZES_PATH")
        if not path:
            return
        size = len(json.dumps(result._result, default=str))
        entry = {"task": result._task.get_name(), "kind": kind, "bytes": size}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._record(result, "unreachable")

    def v2_runner_item_on_ok(self, result):
        self._record(result, "item ok")

    def v2_runner_item_on_failed(self, result):
        self._record(result, "item failed")

    def v2_runner_item_on_skipped(self, result):
        self._record(result, "item skipped")

    def v2_runner_retry(self, result):
        self._record(result, "retry")
