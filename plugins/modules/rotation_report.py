#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_report
short_description: Write the report of a Cloudflare certificate rotation as JSON, Markdown and HTML
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Writes C(rotation-report.json), C(rotation-report.md) and C(rotation-report.html) in O(report_dir), one row per object
    with its old and new serial and expiry, the planned action, its outcome and why. It makes no API call and takes no
    credentials, so it is not in the action group C(certops.cloudflare.all).
  - The HTML page is self-contained (inline CSS, no JavaScript, no link or URL) and holds an expiry timeline drawn as
    inline SVG, one line per object, with the old and the new certificate's expiry. With more than 500 objects the
    timeline shows the first 500 that changed or failed and says so; the table always lists every object.
  - Every text from the rows is escaped for its format. Any value holding C(PRIVATE KEY) is written as V([removed]).
  - The files are written whole and then renamed into place, so a reader never sees half a report. O(report_dir) is
    created with mode C(0700) when missing.
  - The result holds only the file paths and the counts, never the rows, which may be tens of thousands.
options:
  rows:
    description:
      - One entry per object, as the role builds them from the plan M(certops.cloudflare.rotation_plan) returns and the
        outcome of applying it.
      - Each has C(kind), C(name), C(action), C(reason), C(outcome) (V(rotated), V(uploaded), V(up_to_date), V(skipped),
        V(failed), V(not_attempted), V(pending), V(deploying), V(restarted), V(revalidated), V(retired), V(missing) or V(planned)), C(detail)
        (why it failed, is pending or deploying, or V(null)), and C(old) and C(new) (each V(null) or a dict with C(serial_number),
        C(fingerprint_sha256) and C(expires_on) in ISO 8601).
      - Other keys (for example C(key_types) or C(id)) are kept in the JSON file.
      - Or give O(plan) and O(state) instead, and the module builds the rows itself.
    type: list
    elements: dict
  plan:
    description:
      - Instead of O(rows), the path of the plan file M(certops.cloudflare.rotation_plan) wrote
        (O(certops.cloudflare.rotation_plan#module:dest)). Each planned object is compared with O(state) to find its
        outcome, as the filter C(certops.cloudflare.rotation_outcomes) does, and with O(edge_certs) for the edge column.
      - In check mode every object to change gets the outcome V(planned).
      - The role C(certops.cloudflare.cert_rotation) works so, keeping 10,000-entry lists out of Ansible's variables.
    type: path
    version_added: 0.1.0
  state:
    description:
      - With O(plan), the zone's state read back after the rotation, as the C(_info) modules return it, under their
        result keys C(custom_hostnames), C(hostname_client_certs), C(custom_certs) and C(cert_packs).
      - C(custom_hostnames) may also be the path of a file written by
        O(certops.cloudflare.custom_hostname_cert_info#module:dest) or O(certops.cloudflare.custom_hostname_cert#module:dest).
    type: dict
    default: {}
    version_added: 0.1.0
  edge_certs:
    description:
      - With O(plan), the RV(certops.cloudflare.edge_cert_info#module:edge_certs) of the probe after the rotation, for
        the report's edge column (as the filter C(certops.cloudflare.rotation_edge) adds it).
      - Either that list, or the path of the file the probe wrote with O(certops.cloudflare.edge_cert_info#module:dest),
        which holds every entry (the role C(certops.cloudflare.cert_rotation) works so).
    type: raw
    version_added: 0.1.0
  zone:
    description: The zone's name, shown in the title.
    type: str
  report_dir:
    description: The directory the three files are written to.
    type: path
    required: true
  failure:
    description: The message of a stage that failed, shown at the top of every file.
    type: str
extends_documentation_fragment:
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
notes:
  - The task never reports a change; the report is an artifact, not managed state. In check mode it writes nothing and
    returns the paths it would write.
  - Run it where the report should land (the controller, in the role).
seealso:
  - module: certops.cloudflare.rotation_plan
"""

EXAMPLES = r"""
- name: Write the rotation report
  certops.cloudflare.rotation_report:
    zone: example.com
    report_dir: /var/lib/cert-rotation/example.com
    rows:
      - kind: custom_hostname
        name: app.customer.com
        action: rotate
        reason: "due: expires in 10 days, window 30 days"
        outcome: rotated
        detail: null
        old: {serial_number: "12", fingerprint_sha256: "3f1c", expires_on: "2027-01-29T10:00:00Z"}
        new: {serial_number: "13", fingerprint_sha256: "9a2b", expires_on: "2027-04-01T10:00:00Z"}
  register: report

- name: Show where it is
  ansible.builtin.debug:
    msg: "{{ report.summary.total }} objects, {{ report.summary.failed }} failed: {{ report.files.html }}"
"""

RETURN = r"""
files:
  description: The path of each file, written or (in check mode) that would be written.
  returned: always
  type: dict
  contains:
    json:
      description: The rows, the summary, the zone, the failure, the time and RV(replaced), as JSON with sorted keys.
      type: str
    markdown:
      description: The summary and a table of the rows.
      type: str
    html:
      description: The summary, the expiry timeline and the table.
      type: str
  sample: {"json": "/reports/rotation-report.json", "markdown": "/reports/rotation-report.md", "html": "/reports/rotation-report.html"}
unverified:
  description: The names of the objects to change whose new certificate is not served (outcome V(failed) or V(deploying)).
  returned: always
  type: list
  elements: str
  sample: [app.customer.com]
replaced:
  description:
    - With O(plan), the client and zone certificates the role replaced (in this run, or in an earlier one as the plan
      carried over) that the zone still holds, each with C(kind) (V(client_cert) or V(zone_cert)), C(id), C(hosts),
      C(expires_on) and C(replaced_by) (the SHA-256 fingerprint of its replacement). Also in the JSON file.
    - The proof a later run of the role deletes them by (M(certops.cloudflare.rotation_plan)'s
      O(certops.cloudflare.rotation_plan#module:replaced)); an unused certificate not named here is kept. Empty with O(rows).
  returned: always
  type: list
  elements: dict
  version_added: 0.1.0
  sample: [{"kind": "client_cert", "id": "4f1c2b", "hosts": ["origin.example.com"], "expires_on": "2027-01-29T10:00:00Z", "replaced_by": "9a2b"}]
summary:
  description: The number of objects per outcome (every outcome, zero included) and C(total).
  returned: always
  type: dict
  sample: {"total": 22, "rotated": 5, "uploaded": 1, "up_to_date": 14, "skipped": 2, "failed": 0, "not_attempted": 0, "pending": 0,
           "restarted": 0, "revalidated": 0, "missing": 0, "planned": 0, "deploying": 0, "retired": 0, "kept": 0}
"""

import os
from typing import Any, Dict, List, Tuple

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, NamingModule, check_inputs
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import read_json_file, read_plan, read_zone_state, write_atomically
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import edge_outcomes, outcomes, still_replaced
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import FILE_NAMES, build_report, render_all


def rows_from_plan(params: Dict[str, Any], check_mode: bool) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """The rows for a plan file (each object against the state read back, and against the edge when probed), and the
    replaced certificates the state still holds."""
    plan = read_plan(params["plan"])
    state = read_zone_state(params["state"], "state")
    try:
        rows = outcomes(plan, state, params["failure"] or None, check_mode)
    except (KeyError, TypeError, AttributeError) as exc:  # a hand-edited file: say so rather than crash
        raise InputError("plan: %s holds an object without %s; make the plan again" % (params["plan"], exc)) from None
    replaced = still_replaced(plan, state)
    return (edge_outcomes(rows, read_edge_certs(params["edge_certs"])) if params["edge_certs"] is not None else rows), replaced


def read_edge_certs(value: Any) -> List[Dict[str, Any]]:
    """edge_certs as the list edge_cert_info returns, or the path of the file its dest wrote; shape-checked."""
    hint = "edge_certs must be the edge_certs list of certops.cloudflare.edge_cert_info, or the path of the file its dest option wrote"
    if isinstance(value, str):
        path = value
        data = read_json_file(path, "edge_certs")
        value = data.get("edge_certs") if isinstance(data, dict) else None
        if not isinstance(value, list):
            raise InputError("edge_certs: %s holds no edge_certs list; give the path edge_cert_info's dest option wrote" % path)
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise InputError(hint)
    return value


def main() -> None:
    spec = dict(
        rows=dict(type="list", elements="dict"),
        plan=dict(type="path"),
        state=dict(type="dict", default={}),
        edge_certs=dict(type="raw"),  # a list, or the path of edge_cert_info's dest file
        zone=dict(type="str"),
        report_dir=dict(type="path", required=True),
        failure=dict(type="str"),
    )
    # No API call and no credentials: no build_module (it would add the auth options).
    module = NamingModule(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[["rows", "plan"]], required_one_of=[["rows", "plan"]])
    p = module.params
    try:
        check_inputs(module, spec, p, frozenset())
        rows, replaced = (p["rows"], []) if p["rows"] is not None else rows_from_plan(p, module.check_mode)
    except InputError as exc:
        module.fail_json(msg=str(exc))
    report_dir = os.path.abspath(p["report_dir"])
    files = {fmt: os.path.join(report_dir, name) for fmt, name in FILE_NAMES.items()}
    report = build_report(rows, zone=p["zone"], failure=p["failure"], replaced=replaced)
    unverified = [str(r.get("name")) for r in rows if r.get("outcome") in ("failed", "deploying")]
    # Ansible echoes the arguments in the result; rows can be tens of thousands, so echo their number instead.
    echoed = dict(p, rows="%d rows, not repeated here" % len(rows), state="not repeated here", edge_certs="not repeated here")
    result = dict(files=files, summary=report["summary"], unverified=unverified, replaced=report["replaced"], invocation={"module_args": echoed})
    if not module.check_mode:
        try:
            os.makedirs(report_dir, mode=0o700, exist_ok=True)
            for fmt, text in render_all(report).items():
                write_atomically(files[fmt], text, 0o644)  # the report holds no secret
        except OSError as exc:
            module.fail_json(msg="Failed to write the rotation report in %s: %s" % (report_dir, to_native(exc)), **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
