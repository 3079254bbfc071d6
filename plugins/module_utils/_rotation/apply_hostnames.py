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

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, InputError, error_handling
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import (
    LocalCertificate,
    check_not_stuck,
    is_live,
    list_hostnames,
    load_local_certificates,
    view_of,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname_cert import CustomHostnameCert, check_pair_bundle_method
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_id, normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CertificateError
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import check_dest_dir, plan_entries, read_hostnames, write_json_file
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError, poll

SHOWN = 200  # entries of `switched` in the result with dest; the file holds them all


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

    def discovered(self) -> List[Dict[str, Any]]:
        """The hostnames the caller read: only well-formed entries are used (the rest count as not found)."""
        usable = []
        for item in self.params["discovered_hostnames"]:  # a list of dicts (validate() read a JSON text)
            ssl = item.get("ssl")
            if isinstance(item.get("hostname"), str) and is_id(item.get("id")) and isinstance(ssl, dict) and is_id(ssl.get("id")):
                if isinstance(ssl.get("certificates") or [], list):
                    usable.append(item)
        return usable

    def written_briefly(self) -> List[str]:
        """The writes for a message after an unexpected failure: a few, then a count (a list may make thousands)."""
        return self.written[:5] + (["and %d more writes" % (len(self.written) - 5)] if len(self.written) > 5 else [])

    def run(self) -> None:
        with error_handling(self.module, lambda: "manage %s" % self.describe(), self.written_briefly):
            self.client  # pylint: disable=pointless-statement  # bad credentials fail before anything else
            self.validate()
            # Every hostname of the zone by list pages, or as the caller read them: never a GET per hostname.
            found = self.discovered() if self.params["discovered_hostnames"] is not None else list_hostnames(self.client, self.zone_id, self.zone_label)
            by_name = {normalize_hostname(str(h.get("hostname") or "")): h for h in found}
            results, before, after = [], {}, {}
            for hostname, locals_ in self.entries:
                entry, old, new = self._one(hostname, locals_, by_name.get(hostname))
                results.append(entry)
                if entry["changed"]:
                    before[hostname], after[hostname] = old, new
            if self.params["wait"] and not self.module.check_mode:
                self.wait_live([e for e in results if e["changed"] and not e["failed"]], dict(self.entries))
            failed = [e for e in results if e["failed"]]
            changed = sum(1 for e in results if e["changed"] and not e["failed"])
            summary = {"total": len(results), "changed": changed, "unchanged": len(results) - changed - len(failed), "failed": len(failed)}
            switched = [] if self.module.check_mode else self.switched(results)
            result: Dict[str, Any] = {"changed": bool(self.written) or changed > 0, self.RESULT_KEY: results, "summary": summary}
            result.update(switched=switched, switched_count=len(switched), invocation={"module_args": self.echoed_args()})
            if self.params["dest"] is not None:
                self.write_dest(found, results, switched)
                result.update({self.RESULT_KEY: failed, "switched": switched[:SHOWN]})
            if self.module._diff:
                result["diff"] = {"before": before, "after": after}
            if failed:
                msg = "%d of %d custom hostnames failed: %s" % (len(failed), len(results), "; ".join("%s: %s" % (e["hostname"], e["msg"]) for e in failed))
                if result["changed"]:
                    msg += ". The other hostnames were handled (%d changed); running the task again is safe" % changed
                self.module.fail_json(msg=msg, **result)
            self.module.exit_json(**result)

    def echoed_args(self) -> Dict[str, Any]:
        """The arguments Ansible echoes back, without the lists of thousands it would copy again."""
        p = self.params
        args = dict(p)
        if p["discovered_hostnames"] is not None:
            args["discovered_hostnames"] = "%d hostnames, not repeated here" % len(p["discovered_hostnames"])
        if p["plan"] is not None:
            args["hostname_certificates"] = None  # read from the plan file
        return args

    def wait_live(self, pending_entries: List[Dict[str, Any]], locals_by_name: Dict[str, List[LocalCertificate]]) -> None:
        """Read list pages until every changed hostname is live; a stuck or late one fails alone (its entry says why)."""
        pending = {e["hostname"]: e for e in pending_entries}
        last: Dict[str, Dict[str, Any]] = {}

        def done(found: List[Dict[str, Any]]) -> bool:
            for host in found:
                name = normalize_hostname(str(host.get("hostname") or ""))
                entry = pending.get(name)
                if entry is None:
                    continue
                last[name] = host
                self.views[name] = view_of(host, locals_by_name[name])
                entry["certificates"] = compact_certificates(self.views[name])
                try:
                    check_not_stuck(host)  # fails at once on a status that waiting will not change
                except CloudflareError as exc:
                    entry.update(failed=True, msg=str(exc))
                if is_live(host) or entry["failed"]:
                    del pending[name]
            return not pending

        if not pending:
            return
        try:
            poll(lambda: list_hostnames(self.client, self.zone_id, self.zone_label), done, self.params["wait_timeout"], "custom hostnames to be live")
        except WaitTimeoutError as exc:
            for name, entry in pending.items():
                host = last.get(name) or {}
                entry.update(
                    failed=True,
                    msg="%s: custom hostname %s is not live yet (status %s, SSL status %s); Cloudflare keeps serving its old certificate until it is"
                    % (exc.message, name, host.get("status"), (host.get("ssl") or {}).get("status")),
                )

    def switched(self, results: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Each hostname whose new certificates were written (and, with wait, are live): what the edge must now serve."""
        locals_by_name = dict(self.entries)
        return [
            {
                "hostname": e["hostname"],
                "key_types": sorted(local.key_type for local in locals_by_name[e["hostname"]]),
                "fingerprints": sorted(local.fingerprint for local in locals_by_name[e["hostname"]]),
            }
            for e in results
            if e["changed"] and not e["failed"]
        ]

    def write_dest(self, found: List[Dict[str, Any]], results: List[Dict[str, Any]], switched: List[Dict[str, Any]]) -> None:
        """Every hostname of the zone as last seen: the read (made a view when it was raw), then each listed hostname's own."""
        listed = self.params["discovered_hostnames"] is None  # read here as raw API objects, not views
        views = {}
        for host in found:
            name = normalize_hostname(str(host.get("hostname") or ""))
            views[name] = self.views.get(name) or (view_of(host) if listed else host)
        data = {"zone_id": self.zone_id, "custom_hostnames": [v for v in views.values() if v is not None], "results": results, "switched": switched}
        write_json_file(self.params["dest"], data, "dest")

    def _one(self, hostname: str, locals_: List[LocalCertificate], current: Optional[Dict[str, Any]]) -> Tuple[Dict[str, Any], Any, Any]:
        """The result entry of one hostname, with its certificates before and after (key type to fingerprint) for the diff."""
        entry: Dict[str, Any] = {"hostname": hostname, "id": None, "changed": False, "failed": False, "certificates": []}
        if current is None:
            entry.update(failed=True, msg="custom hostname %s does not exist in zone %s; create it first" % (hostname, self.zone_label))
            return entry, None, None
        entry["id"] = current["id"]
        params = dict(self.params, hostname=hostname, custom_hostname_id=current["id"], certificates=None, hostname_certificates=None)
        if self.exclusive.get(hostname) is not None:
            params["exclusive"] = self.exclusive[hostname]
        one = CustomHostnameCert(self.module, params, locals_, shared=self)
        view = old_view = one.to_view(current)
        try:
            steps, predicted = one.plan(current)  # the single form's planning, as is
            if steps:
                view = predicted if self.module.check_mode else one.to_view(one.apply(steps, current))
        except (InputError, CertificateError, CloudflareError) as exc:
            entry.update(failed=True, changed=bool(one.written), msg=exc.detail() if isinstance(exc, CloudflareError) else str(exc))
            steps = []
        finally:
            self.written.extend("%s: %s" % (hostname, key) for key in one.written)
        entry["changed"] = entry["changed"] or bool(steps)
        self.views[hostname] = view
        entry["certificates"] = compact_certificates(view)
        return entry, fingerprints_of(compact_certificates(old_view)), fingerprints_of(entry["certificates"])
