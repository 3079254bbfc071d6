#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_lock
short_description: Take or release the lock that lets one rotation of a Cloudflare zone run at a time on a controller
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Takes (O(state=present)) or releases (O(state=absent)) the lock of one zone, so that two rotations of the same zone
    started on one controller do not both write every hostname.
  - The role C(certops.cloudflare.cert_rotation) takes it before it reads the zone and releases it after its report;
    a playbook of your own that rotates a zone can use it the same way.
options:
  state:
    description:
      - V(present) takes the lock (waiting while another run holds it); V(absent) releases it when this run holds it.
    type: str
    choices: [present, absent]
    default: present
  wait_timeout:
    description:
      - Seconds to wait for a lock a live run holds before failing.
    type: int
    default: 600
notes:
  - The lock is a file per zone id, in the directory of the collection's shared request pacing (C(certops-cloudflare-<uid>)
    under the temporary directory), naming its holder, the C(ansible-playbook) process that runs the task (its pid,
    host and start time). It outlives the task, and is released by a later task of the same C(ansible-playbook) run.
  - While a live run holds the lock, the task waits up to O(wait_timeout) seconds, then fails naming the holder. A lock
    whose holder process is gone (a run that was killed) is stale and taken over.
  - One controller only. Rotations of one zone from several controllers (several AWX execution nodes) are not
    serialised by this lock; run one job per zone there, with concurrent jobs not allowed on the job template.
  - The zone is resolved by O(zone) or O(zone_id); the result's RV(zone_id) serves the tasks after it.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.action_group
attributes:
  check_mode:
    support: full
    details:
      - Says whether the lock would be taken or released, and who holds it, without taking, releasing or waiting.
  diff_mode:
    support: full
    details:
      - The diff shows the holder before and after.
  idempotent:
    support: full
    details:
      - Taking a lock this run already holds, or releasing one it does not hold, changes nothing.
seealso:
  - module: certops.cloudflare.rotation_plan
    description: Plans the rotation this lock keeps to one run at a time.
"""

EXAMPLES = r"""
- name: One rotation of the zone at a time on this controller
  block:
    - name: Take the zone's lock (waits up to 10 minutes for another run of this zone)
      certops.cloudflare.rotation_lock:
        zone: example.com
        wait_timeout: 600
      register: lock

    - name: Rotate
      ansible.builtin.debug:
        msg: "zone {{ lock.zone_id }} is ours"
  always:
    - name: Release it
      certops.cloudflare.rotation_lock:
        zone_id: "{{ lock.zone_id }}"
        state: absent
      when: lock.zone_id is defined
"""

RETURN = r"""
zone_id:
  description: The id of the zone, resolved from O(zone) when that was given.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
holder:
  description:
    - Who holds the lock after the task (predicted in check mode), V(null) when it is free.
  returned: success
  type: dict
  contains:
    pid:
      description: The pid of the C(ansible-playbook) process holding the lock.
      type: int
      sample: 4242
    host:
      description: The controller it runs on.
      type: str
      sample: awx-ee-7f9c
    started:
      description: When that process started, in UTC, or V(null) where the system does not tell.
      type: str
      sample: "2026-12-06T06:15:00Z"
waited:
  description: Seconds the task waited for another run to release the lock.
  returned: success
  type: float
  sample: 12.5
"""

from typing import Any, Dict, Optional

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._lock import LockBusyError, ZoneLock, holder_of, playbook_process, same_holder


def shown(holder: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The holder as the result shows it (the kernel's start ticks are for the lock file only)."""
    return None if holder is None else {key: holder.get(key) for key in ("pid", "host", "started")}


def main() -> None:
    module = build_module(
        dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            wait_timeout=dict(type="int", default=600),
        )
    )
    p = module.params
    zone_label = p.get("zone_id") or p.get("zone")
    with error_handling(module, lambda: "%s the rotation lock of zone %s" % ("take" if p["state"] == "present" else "release", zone_label)):
        zone_id = resolve_zone_id(client_from_module(module), p)
        lock = ZoneLock(zone_id)
        me = holder_of(playbook_process())
        before = lock.holder()
        mine = before is not None and same_holder(before, me)
        waited = 0.0
        if p["state"] == "present":
            changed, after = not mine, me
            if changed and not module.check_mode:
                try:
                    changed, waited = lock.acquire(me, p["wait_timeout"])
                except LockBusyError as exc:
                    module.fail_json(msg="Failed to take the rotation lock of zone %s: %s" % (zone_label, exc), holder=shown(exc.holder), zone_id=zone_id)
        else:
            changed, after = mine, (None if mine else before)
            if changed and not module.check_mode:
                changed = lock.release(me)
        result: Dict[str, Any] = {"changed": changed, "zone_id": zone_id, "holder": shown(after), "waited": round(waited, 1)}
        if module._diff:
            result["diff"] = {"before": {"holder": shown(before)}, "after": {"holder": shown(after)}}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
