# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The list form of custom_hostname_cert: the custom hostnames' changes of a rotation, applied by list pages.

This is a private file: it may change in any release without notice.

Every hostname of the list is planned and written as the single form does (_custom_hostname_cert), from the zone's
list pages, in one process and one HTTP session; a failed hostname does not stop the others. It returns what it
switched (hostname, key types, new fingerprints), so the role's edge stage needs nothing else.
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, InputError, error_handling
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError, NotFoundError
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import (
    LocalCertificate,
    check_not_stuck,
    PER_PAGE,
    hostnames_path,
    is_live,
    load_local_certificates,
    stream_hostnames,
    view_of,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname_cert import CustomHostnameCert, check_pair_bundle_method
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_id, normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CertificateError
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import (
    JsonListWriter,
    check_dest_dir,
    plan_entries,
    read_hostnames,
    write_atomically,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError, poll

SHOWN = 200  # entries of `switched` in the result with dest; the file holds them all
WRITES_NAMED = 5  # writes named in a message after an unexpected failure; the rest are counted
SHOWN_FAILURES = 20  # failed hostnames named in the message; the result lists them all
PROGRESS_EVERY = 1.0  # seconds between two writes of the progress file, at most


class Progress:
    """The progress file (option `progress`): counts and times, rewritten whole at most every PROGRESS_EVERY seconds
    and when the task ends, so a reader (the action plugin's progress lines) always finds a whole file. No file: no-op."""

    def __init__(self, path: Optional[str], total: int) -> None:
        self.path, self.written_at = path, 0.0
        self.state: Dict[str, Any] = {"total": total, "done": 0, "failed": 0, "waiting": 0, "phase": "writing", "started": time.time()}
        self.write(force=True)

    def update(self, force: bool = False, **counts: Any) -> None:
        self.state.update(counts)
        self.write(force)

    def finish(self) -> None:
        """The last write, whatever ended the task."""
        self.update(force=True, phase="finished")

    def write(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.path is None or not force and now - self.written_at < PROGRESS_EVERY:
            return
        self.written_at = now
        try:
            write_atomically(self.path, json.dumps(dict(self.state, updated=time.time())))
        except OSError:  # progress is for people watching; the task's work does not depend on it
            self.path = None


def is_id(value: Any) -> bool:
    try:
        return isinstance(value, str) and check_id(value, "id") == value
    except ValueError:
        return False


def compact_certificates(view: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The few facts of each certificate the list form returns (its results stay small at 10,000 hostnames)."""
    certificates = ((view or {}).get("ssl") or {}).get("certificates") or []
    return [{key: cert.get(key) for key in ("key_type", "fingerprint_sha256", "serial_number", "expires_on")} for cert in certificates]


def fingerprints_of(certificates: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Key type to SHA-256 fingerprint: the list form's compact diff of a hostname."""
    return {c["key_type"] or "unknown": c["fingerprint_sha256"] for c in certificates}


class Output:
    """Where each hostname goes once final: with dest, straight to the file (JsonListWriter), keeping only counts, the
    failed entries and the first `switched`; without dest, in memory for the task's result, in the order listed."""

    def __init__(self, dest: Optional[str], zone_id: str) -> None:
        self.writer = JsonListWriter(dest, "dest", {"zone_id": zone_id}, ("custom_hostnames", "results", "switched")) if dest else None
        self.total = self.changed = self.switched_count = 0
        self.results: List[Dict[str, Any]] = []
        self.failed: List[Dict[str, Any]] = []
        self.switched: List[Dict[str, Any]] = []
        self.before: Dict[str, Any] = {}
        self.after: Dict[str, Any] = {}

    def __enter__(self) -> "Output":
        if self.writer is not None:
            self.writer.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.writer is not None:
            self.writer.__exit__(*exc_info)
        self.failed.sort(key=lambda e: e["_order"])  # failed entries are also in results (the same dicts)
        self.results.sort(key=lambda e: e.pop("_order"))

    def view(self, view: Optional[Dict[str, Any]]) -> None:
        if self.writer is not None and view is not None:
            self.writer.add("custom_hostnames", view)

    def done(self, entry: Dict[str, Any], view: Optional[Dict[str, Any]], switched: Optional[Dict[str, Any]]) -> None:
        self.total += 1
        self.changed += entry["changed"] and not entry["failed"]
        self.view(view)
        if entry["failed"]:
            self.failed.append(entry)
        if switched is not None:
            self.switched_count += 1
            if self.writer is None or len(self.switched) < SHOWN:
                self.switched.append(switched)
            if self.writer is not None:
                self.writer.add("switched", switched)
        if self.writer is None:
            self.results.append(entry)
        else:
            self.writer.add("results", {k: v for k, v in entry.items() if k != "_order"})
            if entry["failed"]:
                self.results.append(entry)


class CustomHostnameCertList(CloudflareResource):
    """The list form: every hostname of `hostname_certificates` (or of a plan file) planned and written as the single
    form does."""

    RESULT_KEY = "custom_hostnames"
    NOUN = "custom hostname certificates"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.entries: List[Tuple[str, List[LocalCertificate]]] = []
        self.views: Dict[str, Optional[Dict[str, Any]]] = {}  # each listed hostname's view after the task
        self.exclusive: Dict[str, Optional[bool]] = {}  # an entry's own exclusive (the plan's), else the task's
        self.writes = 0  # the writes the API accepted; self.written names the first WRITES_NAMED

    def describe(self) -> str:
        entries = self.params["hostname_certificates"]
        what = "%d hostnames" % len(entries) if entries is not None else "the hostnames of plan %s" % self.params["plan"]
        return "%s of %s in zone %s" % (self.NOUN, what, self.zone_label)

    def validate(self) -> None:
        """Every entry checked locally before any API call; every bad one is named."""
        p = self.params
        if p["state"] != "present":
            raise InputError("hostname_certificates takes state=present only; remove certificates one hostname at a time with hostname and state=absent")
        if p["discovered_hostnames"] is not None:
            p["discovered_hostnames"] = read_hostnames(p["discovered_hostnames"], "discovered_hostnames")
        if p["plan"] is not None:
            p["hostname_certificates"] = plan_entries(p["plan"])
        if p["dest"] is not None:
            check_dest_dir(p["dest"])
        cache: Dict[Any, Any] = {}  # a certificate file shared by many hostnames (a wildcard) is checked once
        seen: Dict[str, int] = {}
        problems = []
        for index, item in enumerate(p["hostname_certificates"]):
            hostname = normalize_hostname(item["hostname"])
            label = "hostname_certificates[%d] (%s)" % (index, hostname)
            if hostname in seen:
                problems.append("%s: listed already as hostname_certificates[%d]" % (label, seen[hostname]))
                continue
            seen[hostname] = index
            for certificate in item["certificates"]:
                if certificate.get("private_key_passphrase") is None:
                    certificate["private_key_passphrase"] = p["private_key_passphrase"]
            try:
                if not item["certificates"]:
                    raise InputError("certificates must hold one or two certificates")
                if len(item["certificates"]) == 2:
                    check_pair_bundle_method(p["bundle_method"])
                self.entries.append((hostname, load_local_certificates(item["certificates"], hostname, self.module.no_log_values, cache)))
                self.exclusive[hostname] = item.get("exclusive")
            except (InputError, CertificateError) as exc:
                problems.append("%s: %s" % (label, exc))
        if problems:
            raise InputError(
                "%d of %d entries of hostname_certificates are bad, so nothing was sent: %s"
                % (len(problems), len(p["hostname_certificates"]), "; ".join(problems))
            )
        if p["plan"] is not None:
            p["hostname_certificates"] = None  # what the plan listed lives on as self.entries only

    def zone_hostnames(self) -> Iterator[Dict[str, Any]]:
        """The zone's custom hostnames: read page by page as they are handled (each page's writes go out before the
        next page is read, so the SSL settings a write sends back are at most one page of writes old), or, when the
        caller gives its own read (discovered_hostnames), its well-formed entries (the rest count as not found)."""
        if self.params["discovered_hostnames"] is None:
            yield from stream_hostnames(self.client, self.zone_id, self.zone_label)
            return
        for item in self.params["discovered_hostnames"]:  # a list of dicts (validate() read a JSON text)
            ssl = item.get("ssl")
            if isinstance(item.get("hostname"), str) and is_id(item.get("id")) and isinstance(ssl, dict) and is_id(ssl.get("id")):
                if isinstance(ssl.get("certificates") or [], list):
                    yield item

    def written_briefly(self) -> List[str]:
        """The writes for a message after an unexpected failure: a few, then a count (a list may make thousands)."""
        return self.written + (["and %d more writes" % (self.writes - len(self.written))] if self.writes > len(self.written) else [])

    def run(self) -> None:
        progress = Progress(self.params["progress"], 0)
        try:
            self.work(progress)
        finally:  # on success, on failure and on a crash alike: a watcher must see the end
            progress.finish()

    def work(self, progress: Progress) -> None:
        with error_handling(self.module, lambda: "manage %s" % self.describe(), self.written_briefly):
            self.client  # pylint: disable=pointless-statement  # bad credentials fail before anything else
            self.validate()
            progress.update(force=True, total=len(self.entries), started=time.time())
            out = Output(self.params["dest"], self.zone_id)
            with out:
                self.handle_zone(out, progress)
            progress.update(done=out.total, failed=len(out.failed), waiting=0)
            summary = {"total": out.total, "changed": out.changed, "unchanged": out.total - out.changed - len(out.failed), "failed": len(out.failed)}
            result: Dict[str, Any] = {"changed": self.writes > 0 or out.changed > 0, self.RESULT_KEY: out.results, "summary": summary}
            result.update(switched=out.switched, switched_count=out.switched_count, invocation={"module_args": self.echoed_args()})
            if self.resent:
                result["resent"] = True
            if self.module._diff:
                result["diff"] = {"before": out.before, "after": out.after}
            if out.failed:
                shown = "; ".join("%s: %s" % (e["hostname"], e["msg"]) for e in out.failed[:SHOWN_FAILURES])
                more = " and %d more (see custom_hostnames)" % (len(out.failed) - SHOWN_FAILURES) if len(out.failed) > SHOWN_FAILURES else ""
                msg = "%d of %d custom hostnames failed: %s%s" % (len(out.failed), out.total, shown, more)
                if result["changed"]:
                    msg += ". The other hostnames were handled (%d changed); running the task again is safe" % out.changed
                self.module.fail_json(msg=msg, **result)
            self.module.exit_json(**result)

    def handle_zone(self, out: "Output", progress: Progress) -> None:
        """Each listed hostname planned and written as its page is read; then the wait for those not live yet."""
        todo = dict(self.entries)
        order = {hostname: index for index, (hostname, _locals) in enumerate(self.entries)}
        raw = self.params["discovered_hostnames"] is None  # read here as raw API objects, not views
        pending: Dict[str, Tuple[Dict[str, Any], List[LocalCertificate]]] = {}  # written, not live yet
        zone_size = 0
        for host in self.zone_hostnames():
            zone_size += 1
            name = normalize_hostname(str(host.get("hostname") or ""))
            locals_ = todo.pop(name, None)
            if locals_ is None:
                out.view(view_of(host) if raw else host)
                continue
            entry, old, new, live = self._one(name, locals_, host)
            entry["_order"] = order[name]
            if entry["changed"] and self.module._diff:
                out.before[name], out.after[name] = old, new
            # Waited for: a hostname just written that is not live yet, and one whose certificates were already these
            # but still deploying (a wait that timed out before): it stays pending until it is live or fails.
            deploying = (host.get("ssl") or {}).get("status") == "pending_deployment"
            if not entry["failed"] and not live and (entry["changed"] or deploying) and self.params["wait"] and not self.module.check_mode:
                pending[name] = (entry, locals_)
            else:
                out.done(entry, self.views.pop(name), self.switched_entry(entry, locals_))
            progress.update(done=out.total + len(pending), failed=len(out.failed), waiting=len(pending))
        for name, locals_ in todo.items():  # listed, not in the zone
            entry, _old, _new, _live = self._one(name, locals_, None)
            entry["_order"] = order[name]
            out.done(entry, None, None)
        progress.update(force=True, done=out.total + len(pending), failed=len(out.failed), waiting=len(pending), phase="waiting" if pending else "writing")
        if pending:
            self.wait_live(pending, zone_size, progress)
            for name, (entry, locals_) in pending.items():
                out.done(entry, self.views.pop(name), self.switched_entry(entry, locals_))

    def echoed_args(self) -> Dict[str, Any]:
        """The arguments Ansible echoes back, without the lists of thousands it would copy again."""
        p = self.params
        args = dict(p)
        if p["discovered_hostnames"] is not None:
            args["discovered_hostnames"] = "%d hostnames, not repeated here" % len(p["discovered_hostnames"])
        if p["plan"] is not None:
            args["hostname_certificates"] = None  # read from the plan file
        return args

    def wait_live(self, pending: Dict[str, Tuple[Dict[str, Any], List[LocalCertificate]]], zone_size: int, progress: Progress) -> None:
        """Read until every written hostname not yet live is; a stuck or late one fails alone (its entry says why).

        Only those are polled, each by its own GET while they are fewer than the zone's list pages, else by list pages.
        """
        waiting = set(pending)
        last: Dict[str, Dict[str, Any]] = {}
        pages = -(-zone_size // PER_PAGE)  # the reads of one pass of list pages

        def read() -> Iterator[Dict[str, Any]]:
            if len(waiting) > pages:
                return stream_hostnames(self.client, self.zone_id, self.zone_label)
            return (host for host in map(read_one, sorted(waiting)) if host is not None)

        def read_one(name: str) -> Optional[Dict[str, Any]]:
            entry = pending[name][0]
            try:
                return self.client.get(hostnames_path(self.zone_id, entry["id"]), expect=dict)
            except NotFoundError:
                entry.update(failed=True, msg="custom hostname %s was deleted while waiting for its new certificate to go live" % name)
                waiting.discard(name)
                return None

        def done(found: Iterator[Dict[str, Any]]) -> bool:
            for host in found:
                name = normalize_hostname(str(host.get("hostname") or ""))
                if name not in waiting:
                    continue
                entry, locals_ = pending[name]
                last[name] = host
                self.views[name] = view_of(host, locals_)
                entry["certificates"] = compact_certificates(self.views[name])
                try:
                    check_not_stuck(host)  # fails at once on a status that waiting will not change
                except CloudflareError as exc:
                    entry.update(failed=True, msg=str(exc))
                if is_live(host) or entry["failed"]:
                    waiting.discard(name)
            progress.update(waiting=len(waiting))
            return not waiting

        try:
            poll(read, done, self.params["wait_timeout"], "custom hostnames to be live")
        except WaitTimeoutError as exc:
            for name in waiting:
                entry, _locals = pending[name]
                host = last.get(name) or {}
                entry.update(
                    failed=True,
                    msg="%s: custom hostname %s is not live yet (status %s, SSL status %s); Cloudflare keeps serving its old certificate until it is"
                    % (exc.message, name, host.get("status"), (host.get("ssl") or {}).get("status")),
                )

    def switched_entry(self, entry: Dict[str, Any], locals_: List[LocalCertificate]) -> Optional[Dict[str, Any]]:
        """For a hostname whose new certificates were written (and, with wait, are live): what the edge must now serve."""
        if not entry["changed"] or entry["failed"] or self.module.check_mode:
            return None
        return {
            "hostname": entry["hostname"],
            "key_types": sorted(local.key_type for local in locals_),
            "fingerprints": sorted(local.fingerprint for local in locals_),
        }

    def _one(self, hostname: str, locals_: List[LocalCertificate], current: Optional[Dict[str, Any]]) -> Tuple[Dict[str, Any], Any, Any, bool]:
        """The result entry of one hostname, with its certificates before and after (key type to fingerprint) for the diff,
        and whether its view after the task is live."""
        entry: Dict[str, Any] = {"hostname": hostname, "id": None, "changed": False, "failed": False, "certificates": []}
        if current is None:
            entry.update(failed=True, msg="custom hostname %s does not exist in zone %s; create it first" % (hostname, self.zone_label))
            return entry, None, None, False
        entry["id"] = current["id"]
        params = dict(self.params, hostname=hostname, custom_hostname_id=current["id"], certificates=None, hostname_certificates=None)
        if self.exclusive.get(hostname) is not None:
            params["exclusive"] = self.exclusive[hostname]
        one = CustomHostnameCert(self.module, params, locals_, shared=self)
        view = None  # the view before (as read) unless written: made once, a view per hostname costs
        try:
            steps, predicted = one.plan(current)  # the single form's planning, as is
            if steps:
                view = predicted if self.module.check_mode else one.to_view(one.apply(steps, current))
        except (InputError, CertificateError, CloudflareError) as exc:
            entry.update(failed=True, changed=bool(one.written), msg=exc.detail() if isinstance(exc, CloudflareError) else str(exc))
            steps = []
        finally:
            if one.resent:
                entry["resent"] = self.resent = True
            # The first writes by name (for a message after a failure), the rest counted: a list may make 100,000.
            self.written.extend("%s: %s" % (hostname, key) for key in one.written[: max(0, WRITES_NAMED - len(self.written))])
            self.writes += len(one.written)
        entry["changed"] = entry["changed"] or bool(steps)
        if view is None:
            view = one.to_view(current)
        self.views[hostname] = view
        entry["certificates"] = compact_certificates(view)
        live = view is not None and is_live(view)
        before = None
        if entry["changed"] and self.module._diff:  # the view before: for the diff only
            before = fingerprints_of(compact_certificates(one.to_view(current)))
        return entry, before, fingerprints_of(entry["certificates"]), live
