# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # wait and wait_timeout (_base.wait_argument_spec); every wait is _wait.poll. A module says what it waits for in
    # its own O(wait), which replaces this one.
    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the resource is ready, also when the task had nothing to change. Never waits in check mode.
      - Reads again with a backoff from a quarter of a second doubling up to 10 seconds.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait when O(wait=true); must be positive.
      - When the wait runs out of time the task fails with C(timed_out=true) in its result (test that flag, for
        example in C(failed_when), rather than the message), and with C(changed=true) and what was already changed
        when it changed something before.
    type: int
    default: 300
"""
