#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_metrics
short_description: Write the Prometheus metrics of a Cloudflare certificate rotation, and push them to a Pushgateway
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Writes the Prometheus metrics of a Cloudflare certificate rotation (when each certificate expires, and what the
    run did) into O(dest) for node_exporter's textfile collector, pushes them to a Prometheus Pushgateway, or both.
  - Use it after M(certops.cloudflare.rotation_report) to alert on expiring certificates and failed rotations, as the
    role C(certops.cloudflare.cert_rotation) does after its report.
options:
  zone:
    description:
      - The zone's name, the C(zone) label and part of the file name.
    type: str
    required: true
  mode:
    description:
      - What the run was, the C(mode) label. A preview (check mode) writes no metrics, so it is not a choice.
    type: str
    choices: [rotate, audit]
    default: rotate
  success:
    description:
      - Whether the run completed (no failed stage, every rotated object verified).
    type: bool
    required: true
  report:
    description:
      - The run's C(rotation-report.json), as M(certops.cloudflare.rotation_report) wrote it (its C(files.json)).
        Read as it goes, so a report of 10,000 objects is never whole in memory.
    type: path
  api_usage:
    description:
      - The file the run's modules added their API requests and HTTP 429 answers to (their C(api_usage_file)
        option). Missing means none.
    type: path
  dest:
    description:
      - The folder of the metrics file, for example the one node_exporter's C(--collector.textfile.directory) names.
        It must exist.
    type: path
  end_time:
    description:
      - When the run ended, as Unix time. The default is when the module runs.
    type: float
  pushgateway_url:
    description:
      - The Pushgateway to push the metrics to, for example V(http://pushgateway.example:9091), with C(POST) into the
        group of O(pushgateway_job) and the zone (grouping key C(zone)). Each metric pushed replaces the group's metric
        of that name whole; one not pushed stays, so the group keeps its last success after a failed run and its
        expiries after a run without O(report).
    type: str
  pushgateway_job:
    description:
      - The C(job) of the pushed group.
    type: str
    default: certops_cloudflare_rotation
  pushgateway_username:
    description:
      - A user for HTTP basic authentication at the Pushgateway.
    type: str
  pushgateway_password:
    description:
      - The password of O(pushgateway_username).
    type: str
  pushgateway_timeout:
    description:
      - Seconds to wait for the Pushgateway.
    type: float
    default: 30
extends_documentation_fragment:
  - certops.cloudflare.attributes
attributes:
  check_mode:
    support: full
    details: Nothing is written or pushed; the result says what would be.
  diff_mode:
    support: full
    details: The counts before (the zone's previous file) and after.
  idempotent:
    support: partial
    details:
      - With the same inputs and O(end_time), a second run leaves the file as it is and reports no change. Without
        O(end_time) each run has its own end time, so the file changes. A push is a change every time.
requirements:
  - prometheus_client (an optional dependency of the collection, needed for this module only)
notes:
  - Writes C(certops_cloudflare_<zone>.prom) into O(dest), in the text format node_exporter's textfile collector reads,
    and pushes the same metrics to a Prometheus Pushgateway when O(pushgateway_url) is given. The Python library
    C(prometheus_client) writes and pushes them.
  - For every object of the rotation report (O(report)), C(certops_cloudflare_certificate_expiry_timestamp_seconds)
    gives when the certificate it serves after the run expires (the new one once in service, else the old one), with
    the labels C(zone), C(kind), C(name), C(key_type) (the object's key types, comma-separated) and C(id). An object
    without a known expiry has no sample.
  - For the run, C(certops_cloudflare_rotation_objects) counts the objects per C(outcome), and
    C(certops_cloudflare_rotation_due_without_material), C(certops_cloudflare_rotation_api_requests),
    C(certops_cloudflare_rotation_api_rate_limited), C(certops_cloudflare_rotation_end_timestamp_seconds) and
    C(certops_cloudflare_rotation_success) (labels C(zone) and C(mode)) say the rest.
    C(certops_cloudflare_rotation_last_success_timestamp_seconds) is the end of the last rotation (O(mode=rotate))
    that completed, this one or, when this one did not (or is an audit), the value in the zone's previous file.
  - Without O(report) (a run that failed before its plan), the expiry samples of the zone's previous file are kept,
    so an alert on expiry does not go quiet because discovery failed.
  - Label values are names and ids only. The file is written whole and renamed into place; one zone is one file, also
    at 10,000 objects. It makes no API call and takes no credentials.
  - C(docs/metrics.md) in the collection has alert rules and dashboard queries for these metrics.
  - O(dest) or O(pushgateway_url) must be given, or both.
  - C(changed) is true when the file's text changed (each run has its own end time) or the metrics were pushed.
seealso:
  - module: certops.cloudflare.rotation_report
  - name: node_exporter's textfile collector
    description: How node_exporter reads C(.prom) files from a folder.
    link: https://github.com/prometheus/node_exporter#textfile-collector
"""

EXAMPLES = r"""
- name: Write the zone's metrics for node_exporter, and push them
  certops.cloudflare.rotation_metrics:
    zone: example.com
    success: "{{ rotation_failed is not defined }}"
    report: "{{ report.files.json }}"
    dest: /var/lib/node_exporter/textfile_collector
    pushgateway_url: http://pushgateway.example:9091
"""

RETURN = r"""
file:
  description: The metrics file written (or that would be, in check mode).
  returned: when O(dest) is given
  type: str
  sample: /var/lib/node_exporter/textfile_collector/certops_cloudflare_example.com.prom
pushed:
  description: Whether the metrics were pushed to O(pushgateway_url).
  returned: always
  type: bool
expiry_samples:
  description: How many objects have an expiry sample.
  returned: always
  type: int
  sample: 10000
kept_expiries:
  description: Whether the expiry samples came from the previous file (no O(report)).
  returned: always
  type: bool
outcomes:
  description: The objects per outcome, those that occur.
  returned: always
  type: dict
  sample: {"rotated": 9990, "failed": 10}
api_requests:
  description: The API requests of the run (O(api_usage)).
  returned: always
  type: int
api_rate_limited:
  description: The requests of the run that Cloudflare answered with HTTP 429.
  returned: always
  type: int
last_success:
  description: The Unix time of the last rotation (O(mode=rotate)) that completed, or V(null) when none is known.
  returned: always
  type: float
"""

import os
import time
from typing import Any, Dict

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, NamingModule, check_inputs
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import metrics


def main() -> None:
    spec = dict(
        zone=dict(type="str", required=True),
        mode=dict(type="str", choices=["rotate", "audit"], default="rotate"),
        success=dict(type="bool", required=True),
        report=dict(type="path"),
        api_usage=dict(type="path"),
        dest=dict(type="path"),
        end_time=dict(type="float"),
        pushgateway_url=dict(type="str"),
        pushgateway_job=dict(type="str", default="certops_cloudflare_rotation"),
        pushgateway_username=dict(type="str"),
        pushgateway_password=dict(type="str", no_log=True),
        pushgateway_timeout=dict(type="float", default=30.0),
    )
    module = NamingModule(
        argument_spec=spec,
        supports_check_mode=True,
        required_one_of=[["dest", "pushgateway_url"]],
        required_together=[["pushgateway_username", "pushgateway_password"]],
    )
    if not metrics.HAS_PROMETHEUS_CLIENT:
        module.fail_json(msg=missing_required_lib("prometheus_client"), exception=str(metrics.PROMETHEUS_CLIENT_IMPORT_ERROR))
    p = module.params
    try:
        check_inputs(module, spec, p, frozenset())
        if p["dest"] is not None and not os.path.isdir(p["dest"]):
            raise InputError("dest: %s is not a folder; create it (node_exporter's textfile collector reads the folder it is given)" % p["dest"])
        if p["report"] is not None and not os.path.isfile(p["report"]):
            raise InputError("report: %s is not a file; give the rotation-report.json certops.cloudflare.rotation_report wrote" % p["report"])
        if p["pushgateway_url"] is not None and not p["pushgateway_url"].startswith(("http://", "https://")):
            raise InputError("pushgateway_url must start with http:// or https://, not %r" % p["pushgateway_url"])
        path = os.path.join(p["dest"], metrics.file_name(p["zone"])) if p["dest"] is not None else None
        run = metrics.Run(p["zone"], p["mode"], p["success"], p["end_time"] if p["end_time"] is not None else time.time(), metrics.read_usage(p["api_usage"]))
        before = metrics.previous(path)
        registry, facts = metrics.registry_for(run, p["report"], before)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    changed = path is None or before.text != metrics.exposition(registry)
    result: Dict[str, Any] = dict(facts, changed=changed, pushed=False)
    if path is not None:
        result["file"] = path
    if module._diff:
        result["diff"] = {
            "before": {"expiry_samples": len(before.expiries), "last_success": before.last_success},
            "after": {"expiry_samples": facts["expiry_samples"], "last_success": facts["last_success"]},
        }
    if module.check_mode:
        module.exit_json(**result)
    try:
        if path is not None and changed:
            metrics.write(registry, p["dest"], p["zone"])
    except OSError as exc:
        module.fail_json(msg="Failed to write %s: %s" % (path, to_native(exc)), **result)
    if p["pushgateway_url"] is not None:
        try:
            metrics.push(
                registry, p["pushgateway_url"], p["pushgateway_job"], p["zone"], p["pushgateway_timeout"], p["pushgateway_username"], p["pushgateway_password"]
            )
        except (OSError, ValueError) as exc:  # urllib's URLError and HTTPError are OSErrors
            result["changed"] = changed and path is not None
            module.fail_json(msg="Failed to push the metrics to the Pushgateway %s: %s" % (p["pushgateway_url"], to_native(exc)), **result)
        result.update(pushed=True, changed=True)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
