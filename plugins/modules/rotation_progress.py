#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_progress
short_description: Wait for a long certificate task run with async, printing a progress line every few seconds
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Waits for an C(async) job of M(certops.cloudflare.custom_hostname_cert) in its list form (the rotation of thousands of
    custom hostnames) and prints a line of progress from the file its O(certops.cloudflare.custom_hostname_cert#module:progress)
    option writes, every O(interval) seconds; hostnames done and the total, failures so far, the pace and the time left.
  - The lines go through Ansible's display, so they reach the play output and AWX's job output while the job runs.
  - When the job ends, the task returns the job's result as its own (changed, failed, msg, diff and every return value of
    the job's module), as if that task had run without C(async), and removes the job's status file.
  - It makes no API call. It looks at the job's status file and the progress file once a second, with one small
    command, where the job runs.
  - The role C(certops.cloudflare.cert_rotation) uses it for its apply stage (C(cert_rotation_progress_interval)).
options:
  jid:
    description:
      - The job id, C(ansible_job_id) of the task started with C(async) and C(poll=0).
    type: str
    required: true
  progress:
    description:
      - The file the job's O(certops.cloudflare.custom_hostname_cert#module:progress) option names. Without it, each line
        only says the job is still running.
    type: str
  interval:
    description:
      - Seconds between two progress lines; V(0) prints none (the task still waits for the job and returns its result).
    type: int
    default: 30
  what:
    description:
      - What the lines count, as they name it.
    type: str
    default: custom hostnames
extends_documentation_fragment:
  - certops.cloudflare.attributes
attributes:
  check_mode:
    support: full
    details:
      - Waits for the job in check mode too (the job itself ran in check mode) and returns its prediction.
  diff_mode:
    support: full
    details:
      - Returns the job's diff.
  idempotent:
    support: N/A
    details:
      - Reports what the job did.
seealso:
  - module: certops.cloudflare.custom_hostname_cert
    description: Its list form writes the progress file.
  - module: ansible.builtin.async_status
    description: What this action runs once the job has ended.
"""

EXAMPLES = r"""
- name: Start the rotation of the custom hostnames of a plan, in the background
  certops.cloudflare.custom_hostname_cert:
    zone: example.com
    plan: /var/lib/certops/plan.json
    dest: /var/lib/certops/applied-hostnames.json
    progress: /var/lib/certops/progress.json
    wait: true
  async: 86400
  poll: 0
  register: job

- name: Wait for it, with a line of progress every 30 seconds
  certops.cloudflare.rotation_progress:
    jid: "{{ job.ansible_job_id }}"
    progress: /var/lib/certops/progress.json
    interval: 30
  register: applied
"""

RETURN = r"""
# The job's module's return values, as if it had run without async. The play output shows lines such as:
# custom hostnames: 4200 of 10000 done (42 %), 3 failed, 37.5 a second, about 2 min 35 s left
"""
