# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one wait every module uses: read until done, back off, and time out with one error type.

This is a private file: it may change in any release without notice.
No Ansible import. A module whose wait runs out of time fails with `timed_out: true` (see _base.error_handling),
so a playbook tests that flag, never the message.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError

FIRST_DELAY = 0.25
MAX_DELAY = 10.0


class WaitTimeoutError(CloudflareError):
    """A wait ran out of time: the state may still get there (a caller may report it per object rather than fail)."""


def poll(
    fetch: Callable[[], Any],
    done: Callable[[Any], bool],
    timeout: float,
    what: str,
    sleep: Callable[[float], None] = time.sleep,
    last_seen: Optional[Callable[[Any], str]] = None,
) -> Any:
    """Call `fetch` until `done(value)`, backing off from 0.25 s up to 10 s between reads; raise WaitTimeoutError after
    `timeout` seconds. `done` may raise to stop at once on a state that waiting will not change. `last_seen(value)`
    adds what the last read showed to the time-out's message."""
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    while True:
        value = fetch()
        if done(value):
            return value
        if time.monotonic() + delay > deadline:
            detail = "; %s" % last_seen(value) if last_seen else ""
            raise WaitTimeoutError("timed out after %ss waiting for %s%s" % (_seconds(timeout), what, detail))
        sleep(delay)
        delay = min(delay * 2, MAX_DELAY)


def _seconds(timeout: float) -> str:
    return "%d" % timeout if float(timeout).is_integer() else "%s" % timeout
