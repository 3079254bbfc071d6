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
  - Writes the report of a Cloudflare certificate rotation as C(rotation-report.json), C(rotation-report.md) and
    C(rotation-report.html), one row per object with its old and new serial and expiry, the planned action, its
    outcome and why.
  - Use it at the end of a rotation, a preview or an audit to keep a record of the run for people and tools, as the role
    C(certops.cloudflare.cert_rotation) does.
options:
  rows:
    description:
      - One entry per object, as the role builds them from the plan M(certops.cloudflare.rotation_plan) returns and the
        outcome of applying it.
      - Each has C(kind), C(name), C(action), C(reason), C(outcome) (V(rotated), V(uploaded), V(up_to_date), V(skipped),
        V(failed), V(not_attempted), V(unknown), V(pending), V(deploying), V(restarted), V(revalidated), V(retired),
        V(missing), V(planned), V(kept) or V(due)), C(detail)
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
        result keys C(custom_hostnames), C(hostname_client_certs), C(custom_certs), C(cert_packs) and C(origin_pull_certs).
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
    description:
      - The directory the run folders and their pointers are written to (with O(history=false), the three files).
    type: path
    required: true
  failure:
    description: The message of a stage that failed, shown at the top of every file.
    type: str
  hostname_results:
    description:
      - With O(plan), the path of the file the list form of M(certops.cloudflare.custom_hostname_cert) wrote with its
        C(dest) option. A custom hostname whose entry in its C(results) failed and that still lacks its new certificates
        gets the outcome V(failed) with the entry's message, not V(not_attempted).
    type: path
    version_added: 0.1.0
  attempted:
    description:
      - With O(plan) and O(failure), the actions among V(restart) and V(revalidate) whose task ran. The objects of one
        not listed get the outcome V(not_attempted) (the stage failed before it), not V(pending).
      - Not given, both count as run.
    type: list
    elements: str
    choices: [restart, revalidate]
    version_added: 0.1.0
  unread:
    description:
      - With O(plan) and O(failure), the kinds of O(state) that could not be read back after the failure, so that
        O(state) holds them as the run first saw them.
      - The objects of those kinds that the plan meant to change get the outcome V(unknown) (they may or may not have
        changed; a re-run finds out), not V(not_attempted).
    type: list
    elements: str
    choices: [custom_hostnames, hostname_client_certs, custom_certs, cert_packs, origin_pull_certs]
    default: []
    version_added: 0.1.0
  mode:
    description:
      - What kind of run the report is for. It names the run folder and says which pointers move.
      - V(check) is a preview (a run in check mode). Its report carries C(preview) in the JSON and a banner at the top
        of the Markdown and the HTML saying that nothing was written, and it is written in check mode too (the report
        is a file about the run, not a change to the zone). With O(plan), every object to change gets the outcome
        V(planned), as in check mode.
      - V(rotate) is a run that changes the zone; only such a run moves C(latest-rotate).
      - V(audit) is a run that only reads the zone.
    type: str
    choices: [check, rotate, audit]
    default: rotate
    version_added: 0.1.0
  keep:
    description:
      - With O(history=true), how many run folders to keep (the newest by name, which sorts by time). The folders
        C(latest) and C(latest-rotate) point to are kept as well, even when older. At least V(1).
    type: int
    default: 30
    version_added: 0.1.0
  history:
    description:
      - Write each run into its own folder with the pointers C(latest) and C(latest-rotate), and prune old folders.
      - V(false) writes the three files straight into O(report_dir), replacing the previous run's, and ignores O(keep).
    type: bool
    default: true
    version_added: 0.1.0
extends_documentation_fragment:
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
notes:
  - It makes no API call and takes no credentials, so it is not in the action group C(certops.cloudflare.all).
  - With O(history=true) (the default) each run writes its own folder in O(report_dir), named by its UTC time and
    O(mode) (for example C(20261206T061500Z-rotate), then C(-2), C(-3) when that name is taken). C(latest) in
    O(report_dir) then points to the newest folder of any mode, and C(latest-rotate) to the newest of O(mode=rotate)
    (only a rotate run moves it). Each pointer is a relative symlink, replaced atomically; on a file system without
    symlinks it is a copy of the folder. The newest O(keep) run folders are kept, and the ones the pointers name.
    Nothing else in O(report_dir) is touched.
  - With O(history=false) the three files are written straight into O(report_dir), replacing the previous run's.
  - The Markdown and the HTML show a summary table (one row per kind, one column per outcome that occurs), and every
    time in UTC (V(2026-12-06 06:15:00 UTC)); the JSON keeps ISO 8601 times ending in C(Z).
  - The HTML page is self-contained (inline CSS, no JavaScript, no link or URL) and holds an expiry timeline drawn as
    inline SVG, one line per object, with the old and the new certificate's expiry. With more than 200 objects the
    timeline draws 200 (those that failed, changed or are due first, then the soonest to expire) and a note counts
    the rest per outcome. The table lists every object but those up to date, skipped or kept, which it counts per
    kind and outcome; the JSON holds every row, one per line.
  - With O(plan), a plan file that holds an audit (expiry buckets per kind, the objects not active and those due
    without new material) adds an C(Expiry) table and a C(Not active) list (the first 100) to the Markdown and the
    HTML, and the whole audit to the JSON.
  - Every text from the rows is escaped for its format. Any value holding C(PRIVATE KEY) is written as V([removed]).
  - The files are written whole and then renamed into place, so a reader never sees half a report. O(report_dir) is
    created with mode C(0700) when missing; a run folder has mode C(0755).
  - The result holds only the file paths, the counts and short lists, never the rows, which may be tens of thousands.
  - The task never reports a change; the report is an artifact, not managed state. In check mode it writes nothing and
    returns the paths it would write, except with O(mode=check), whose preview report it writes.
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

- name: Show the summary table
  ansible.builtin.debug:
    msg: "{{ report.table }}"

- name: Preview a rotation (also in check mode), keeping the last 10 runs
  certops.cloudflare.rotation_report:
    zone: example.com
    report_dir: /var/lib/cert-rotation/example.com
    plan: /var/lib/cert-rotation/example.com-work/plan.json
    mode: check
    keep: 10
  check_mode: true

- name: Write the report straight into report_dir, as one file set
  certops.cloudflare.rotation_report:
    zone: example.com
    report_dir: /var/lib/cert-rotation/example.com
    history: false
    rows: []
"""

RETURN = r"""
files:
  description:
    - The path of each file, written or (in check mode) that would be written. In the run folder RV(folder).
  returned: always
  type: dict
  contains:
    json:
      description:
        - The rows, the summary, the zone, the failure, the time and RV(replaced), as JSON with sorted keys. Also
          C(mode) and C(preview) (true for O(mode=check)), and C(audit) when the plan holds one.
      type: str
    markdown:
      description: The summary, the summary table, the audit (when the plan holds one) and a table of the rows.
      type: str
    html:
      description: The summary, the summary table, the audit (when the plan holds one), the expiry timeline and the table.
      type: str
  sample:
    json: /reports/20261206T061500Z-rotate/rotation-report.json
    markdown: /reports/20261206T061500Z-rotate/rotation-report.md
    html: /reports/20261206T061500Z-rotate/rotation-report.html
folder:
  description:
    - The run folder the files are (or in check mode would be) written to. With O(history=false), O(report_dir).
  returned: always
  type: str
  version_added: 0.1.0
  sample: /reports/20261206T061500Z-rotate
latest:
  description:
    - The pointer C(latest) in O(report_dir), to the newest run folder of any mode. With O(history=false),
      O(report_dir) itself, so RV(latest) followed by the file name names the newest report either way.
  returned: always
  type: str
  version_added: 0.1.0
  sample: /reports/latest
table:
  description:
    - The summary as fixed-width lines of text (the first is the header). One line per kind present, one column per
      outcome that occurs, and the total. The Markdown and the HTML show the same table.
  returned: always
  type: list
  elements: str
  version_added: 0.1.0
  sample:
    - "kind              rotated  up_to_date  skipped  total"
    - "custom_hostname         5          14        2     21"
    - "client_cert             0           1        0      1"
due_without_material:
  description:
    - From the plan's audit, the objects due within the renewal window for which no new material was given (the first
      100), each with C(kind), C(name), C(id) and C(expires_on). Empty without an audit (a plan file of an older
      release, or O(rows)).
  returned: always
  type: list
  elements: dict
  version_added: 0.1.0
  sample: [{"kind": "zone_cert", "name": "example.com", "id": "7e0b2c", "expires_on": "2026-12-20T10:00:00Z"}]
due_without_material_count:
  description: How many objects RV(due_without_material) has in all, past the first 100 too. V(0) without an audit.
  returned: always
  type: int
  version_added: 0.1.0
  sample: 1
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
           "restarted": 0, "revalidated": 0, "missing": 0, "planned": 0, "deploying": 0, "retired": 0, "kept": 0, "due": 0}
"""

import datetime
import json
import os
import tempfile
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, NamingModule, check_inputs
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import (
    JsonReader,
    atomic_files,
    failed_results,
    read_compact_zone_state,
    scan_plan,
    write_atomically,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import EdgeOutcomes, Outcomes, still_replaced
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.history import LATEST, MODES, next_run_name, prune, write_run_files
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import (
    FILE_NAMES,
    Totals,
    build_report,
    due_without_material,
    render_all,
    summary_table,
    without_key_strings,
    write_streams,
)


class SpooledRows:
    """The report's rows in a temporary file, a JSON line each, as they are made; read back (a new pass per call)
    for each format, so the rows of a large zone are never whole in memory."""

    def __init__(self) -> None:
        self.handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", prefix=".certops-rows-", suffix=".jsonl")

    def add(self, line: str) -> None:
        """A row as one line of JSON."""
        self.handle.write(line + "\n")

    def __call__(self) -> Iterator[Dict[str, Any]]:
        self.handle.flush()
        with open(self.handle.name, encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)

    def close(self) -> None:
        self.handle.close()


class Rows:
    """The rows of the report as they are made: the cleaned rows (build_report's) to their spool and their totals,
    and the names of the rows not verified (failed or deploying)."""

    def __init__(self, spool: SpooledRows, now: datetime.datetime) -> None:
        self.spool, self.totals = spool, Totals(now)
        self.unverified: List[str] = []

    def add(self, row: Dict[str, Any]) -> None:
        if row.get("outcome") in ("failed", "deploying"):
            self.unverified.append(str(row.get("name")))
        line = json.dumps(row, separators=(",", ":"))
        if "PRIVATE KEY" in line:  # the marker without_key_strings looks for, in a value (JSON writes it as it is)
            row = without_key_strings(row)
            line = json.dumps(row, separators=(",", ":"))
        self.totals.add(row)
        self.spool.add(line)


def write_whole(texts: Dict[str, str]) -> Callable[[Dict[str, str]], None]:
    """What writes the report's files from their texts."""

    def write(paths: Dict[str, str]) -> None:
        for fmt, text in texts.items():
            write_atomically(paths[fmt], text, 0o644)  # the report holds no secret

    return write


def write_streamed(report: Dict[str, Any], made: Rows) -> Callable[[Dict[str, str]], None]:
    """What writes the report's files in one pass over the spooled rows, each renamed into place when all are written."""

    def write(paths: Dict[str, str]) -> None:
        with atomic_files(paths, 0o644) as out:  # the report holds no secret
            write_streams(out, report, made.totals, made.spool())

    return write


def rows_from_plan(params: Dict[str, Any], check_mode: bool, rows: Rows) -> Tuple[List[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """The rows for a plan file, made as its objects are read (each against the state read back, and against the edge
    when probed) and handed to `rows`; returns the replaced certificates the state still holds, and the plan's audit
    (None from a planner without one). Of the state and the probe only what the outcomes read is kept."""
    state = read_compact_zone_state(params["state"], "state")
    failed = failed_results(params["hostname_results"], "hostname_results") if params["hostname_results"] else None
    judge = Outcomes(state, params["failure"] or None, check_mode, failed, params["attempted"], params["unread"] if params["failure"] else ())
    edge = EdgeOutcomes(scan_edge_certs(params["edge_certs"]), compact=True) if params["edge_certs"] is not None else None

    def add(obj: Dict[str, Any]) -> None:
        try:
            row = judge.row(obj)
        except (KeyError, TypeError, AttributeError) as exc:  # a hand-edited file: say so rather than crash
            raise InputError("plan: %s holds an object without %s; make the plan again" % (params["plan"], exc)) from None
        rows.add(edge.row(row) if edge is not None else row)

    plan = scan_plan(params["plan"], add)
    return still_replaced(plan, state), plan_audit(plan)


def plan_audit(plan: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The plan's audit with its list of objects due without material: the planner keeps that list beside the audit
    (plan["due_without_material"]), so it joins the audit here when the audit holds none. None without an audit."""
    audit = plan.get("audit")
    if not isinstance(audit, dict):
        return None
    if not isinstance(audit.get("due_without_material"), list) and isinstance(plan.get("due_without_material"), list):
        audit = dict(audit, due_without_material=plan["due_without_material"])
    return audit


def scan_edge_certs(value: Any) -> Iterator[Dict[str, Any]]:
    """edge_certs as the list edge_cert_info returns, or the path of the file its dest wrote, entry by entry and
    shape-checked; the file is read as it goes (a message may come after entries: read them all before acting)."""
    hint = "edge_certs must be the edge_certs list of certops.cloudflare.edge_cert_info, or the path of the file its dest option wrote"
    if isinstance(value, str):
        path, found = value, False
        with JsonReader(path, "edge_certs") as reader:
            if reader.kind() != "{":
                reader.value()  # not an object: read to check that it is JSON
            for key in reader.members() if reader.kind() == "{" else ():
                if key == "edge_certs" and not found and reader.kind() == "[":
                    found = True
                    for entry in reader.items():
                        if not isinstance(entry, dict):
                            raise InputError(hint)
                        yield entry
            reader.end()
        if not found:
            raise InputError("edge_certs: %s holds no edge_certs list; give the path edge_cert_info's dest option wrote" % path)
        return
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise InputError(hint)
    yield from value


def main() -> None:
    spec = dict(
        rows=dict(type="list", elements="dict"),
        plan=dict(type="path"),
        state=dict(type="dict", default={}),
        edge_certs=dict(type="raw"),  # a list, or the path of edge_cert_info's dest file
        zone=dict(type="str"),
        report_dir=dict(type="path", required=True),
        failure=dict(type="str"),
        hostname_results=dict(type="path"),
        attempted=dict(type="list", elements="str", choices=["restart", "revalidate"]),
        unread=dict(
            type="list", elements="str", choices=["custom_hostnames", "hostname_client_certs", "custom_certs", "cert_packs", "origin_pull_certs"], default=[]
        ),
        mode=dict(type="str", choices=list(MODES), default="rotate"),
        keep=dict(type="int", default=30),
        history=dict(type="bool", default=True),
    )
    # No API call and no credentials: no build_module (it would add the auth options).
    module = NamingModule(argument_spec=spec, supports_check_mode=True, mutually_exclusive=[["rows", "plan"]], required_one_of=[["rows", "plan"]])
    p = module.params
    try:
        spool = SpooledRows() if p["plan"] is not None else None
    except OSError as exc:
        module.fail_json(msg="Failed to make a temporary file for the rows of the rotation report: %s" % to_native(exc))
    try:
        run(module, spool)
    finally:
        if spool is not None:
            spool.close()


def run(module: NamingModule, spool: Optional[SpooledRows]) -> None:
    """The module's work; with a plan, the rows go to `spool` as they are made, and every file is written from it."""
    p = module.params
    now = datetime.datetime.now(datetime.timezone.utc)  # one time for the report, its expiry histogram and its folder's name
    made = Rows(spool, now) if spool is not None else None
    try:
        check_inputs(module, module.argument_spec, p, frozenset())
        if p["keep"] < 1:
            raise InputError("keep must be at least 1 (the run folder just written), not %d" % p["keep"])
        # A check run's report shows what would be done (outcome planned), in check mode or not.
        rows, replaced, audit = (p["rows"], [], None) if made is None else ([], *rows_from_plan(p, module.check_mode or p["mode"] == "check", made))
    except InputError as exc:
        module.fail_json(msg=str(exc))
    report_dir = os.path.abspath(p["report_dir"])
    if p["history"]:
        folder, latest = os.path.join(report_dir, next_run_name(report_dir, p["mode"], now)), os.path.join(report_dir, LATEST)
    else:
        folder = latest = report_dir
    files = {fmt: os.path.join(folder, name) for fmt, name in FILE_NAMES.items()}
    report = build_report(rows, zone=p["zone"], failure=p["failure"], now=now, replaced=replaced, audit=audit, mode=p["mode"])
    if made is None:
        unverified = [str(r.get("name")) for r in rows if r.get("outcome") in ("failed", "deploying")]
        count, table = len(rows), summary_table(report["rows"])
    else:  # the rows are in the spool: the report holds what the heads say of them
        del report["rows"]
        report["summary"] = made.totals.summary()
        unverified, count, table = made.unverified, made.totals.total, summary_table((), made.totals.counts)
    due, due_count = due_without_material(report)
    # Ansible echoes the arguments in the result; rows can be tens of thousands, so echo their number instead.
    echoed = dict(p, rows="%d rows, not repeated here" % count, state="not repeated here", edge_certs="not repeated here")
    result = dict(
        files=files,
        folder=folder,
        latest=latest,
        summary=report["summary"],
        table=table,
        unverified=unverified,
        replaced=report["replaced"],
        due_without_material=due,
        due_without_material_count=due_count,
        invocation={"module_args": echoed},
    )
    # A check run's report is a file on the controller about the run, not a change to the zone: written in check mode too.
    if not module.check_mode or p["mode"] == "check":
        try:
            write = write_whole(render_all(report)) if made is None else write_streamed(report, made)
            if p["history"]:
                written = write_run_files(report_dir, p["mode"], write, FILE_NAMES, now)
                result.update(files={fmt: written[fmt] for fmt in FILE_NAMES}, folder=written["folder"])
            else:
                os.makedirs(report_dir, mode=0o700, exist_ok=True)
                write(files)
        except OSError as exc:
            module.fail_json(msg="Failed to write the rotation report in %s: %s" % (report_dir, to_native(exc)), **result)
        if p["history"]:
            try:
                prune(report_dir, p["keep"])
            except OSError as exc:  # the report is written; an old folder left behind is no reason to fail the run
                module.warn("Could not remove old report folders in %s: %s" % (report_dir, to_native(exc)))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
