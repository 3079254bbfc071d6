# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning of a certificate rotation: new material against the discovered state, no API calls.

This is a private file: it may change in any release without notice.

`Planner` checks every new certificate (each file once), decides per object whether to rotate
(clarification 22: what is served differs AND it is due, or `force`), and collects every problem
instead of stopping at the first one. Nothing here holds or returns key material.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, read_file_option
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import sorted_hosts
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import read_hostnames
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    CertificateError,
    check_certificate,
    coverage_problem,
    normalize_fingerprint,
    normalize_hostname,
    parse_time,
    serial_matches,
)

DEFAULT_RENEW_BEFORE_DAYS = 30
CLIENT_CERT_QUOTA = 10
GONE = ("deleted", "pending_deletion")
# Pack statuses a restart can cure (clarification 26: only timed-out ones; deletion_timed_out is not one of them).
RESTARTABLE = ("initializing_timed_out", "validation_timed_out", "issuance_timed_out", "deployment_timed_out")
FACT_KEYS = ("serial_number", "fingerprint_sha256", "expires_on")
CHANGES = ("rotate", "upload", "restart", "revalidate", "retire")  # actions that write


def _facts(obj: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The identity shown in the plan: serial, fingerprint and expiry (from the API view or from the PEM's facts)."""
    if not obj:
        return None
    out = {key: obj.get(key) for key in FACT_KEYS}
    if out["expires_on"] is None:
        out["expires_on"] = obj.get("not_after")
    return out


def _time(value: Optional[str]) -> Optional[datetime.datetime]:
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def same_certificate(new: Dict[str, Any], served: Dict[str, Any]) -> bool:
    """Fingerprint when the API gives one, else serial number (the same facts custom_hostname_cert compares)."""
    fingerprint = normalize_fingerprint(served.get("fingerprint_sha256"))
    if fingerprint:
        return fingerprint == new["fingerprint_sha256"]
    return serial_matches(served.get("serial_number"), new)


def host_set(hosts: Any) -> List[str]:
    if isinstance(hosts, dict):
        hosts = hosts.get("hosts") or []
    if isinstance(hosts, str):
        hosts = [hosts]
    return sorted_hosts(hosts)


class Planner:
    def __init__(
        self,
        renew_before_days: Optional[int] = None,
        renew_before_percentage: Optional[float] = None,
        force: bool = False,
        revalidate: bool = True,
        now: Optional[datetime.datetime] = None,
        passphrase: Optional[str] = None,
    ) -> None:
        if renew_before_days is None and renew_before_percentage is None:
            renew_before_days = DEFAULT_RENEW_BEFORE_DAYS  # clarification 34: only when neither is set
        self.days = renew_before_days
        self.percentage = renew_before_percentage
        self.force = force
        self.revalidate = revalidate
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        self.problems: List[str] = []
        self.retire_client: List[str] = []  # replaced client certificates no hostname uses any more
        self.objects: List[Dict[str, Any]] = []
        self._checked: Dict[Any, Any] = {}
        self.passphrase = passphrase

    # -- helpers -------------------------------------------------------------------------------

    def material(self, item: Dict[str, Any], label: str, hostnames: Sequence[str] = ()) -> Optional[Dict[str, Any]]:
        """The facts of a new certificate, or None after recording its problems. Each file pair is checked once."""
        key = (item.get("certificate_path"), item.get("private_key_path"))
        if key not in self._checked:
            try:
                cert = read_file_option(item, "certificate", "certificate_path")
                private_key = read_file_option(item, "private_key", "private_key_path")
                passphrase = self.passphrase if item.get("material_sealed") else None  # a key given as content, sealed for the run
                facts, _key = check_certificate(cert, private_key, passphrase, name=item.get("certificate_path") or "certificate", now=self.now)
                self._checked[key] = facts
            except (InputError, CertificateError) as exc:
                self._checked[key] = str(exc)
        facts = self._checked[key]
        if isinstance(facts, str):
            self.problems.append("%s: %s" % (label, facts))
            return None
        uncovered = [p for p in (coverage_problem(facts["hosts"], h) for h in hostnames) if p]
        for problem in uncovered:
            self.problems.append("%s: %s: %s" % (label, item.get("certificate_path"), problem))
        return None if uncovered else facts

    def renewal_moment(self, expires: datetime.datetime, start: Optional[datetime.datetime]) -> Optional[datetime.datetime]:
        """When renewal is due: the earlier moment of the two windows (clarification 34)."""
        moments = []
        if self.days is not None:
            moments.append(expires - datetime.timedelta(days=self.days))
        if self.percentage is not None and start is not None and start < expires:
            moments.append(expires - (expires - start) * (self.percentage / 100.0))
        return min(moments) if moments else None

    def due(self, served: Dict[str, Any]) -> Optional[str]:
        """None when the served certificate is due for renewal (or `force`), else why not."""
        if self.force:
            return None
        expires = _time(served.get("expires_on"))
        if expires is None:
            return None  # no expiry known: renewing is the safe side
        # Lifetime from notBefore when known, else from uploaded_on (unverified: it may differ from notBefore).
        start = _time(served.get("not_before")) or _time(served.get("uploaded_on"))
        moment = self.renewal_moment(expires, start)
        if moment is None:
            return "not due: the served certificate's lifetime is unknown, so renew_before_percentage cannot apply; set renew_before_days"
        if self.now >= moment:
            return None
        left = (expires - self.now).total_seconds() / 86400
        window = (expires - moment).total_seconds() / 86400
        return "not due: expires in %d days, window %s days" % (int(left), ("%d" % window) if window == int(window) else ("%.1f" % window))

    def outlives(self, label: str, new: Dict[str, Any], served: Sequence[Dict[str, Any]]) -> bool:
        """Clarification 22: new material that would not outlive what is served is refused."""
        new_end = _time(new["not_after"])
        for old in served:
            old_end = _time(old.get("expires_on"))
            if old_end is not None and new_end is not None and new_end <= old_end:
                self.problems.append(
                    "%s: the new certificate (serial %s) expires on %s, not after the served one (expires %s); it would not outlive what is served"
                    % (label, new["serial_number"], new["not_after"], old.get("expires_on"))
                )
                return False
        return True

    def entry(self, kind: str, name: str, action: str, reason: str, old: Any = None, new: Any = None, **extra: Any) -> Dict[str, Any]:
        item = dict(kind=kind, name=name, action=action, reason=reason, old=_facts(old), new=_facts(new), **extra)
        self.objects.append(item)
        return item

    def decide(self, served: Optional[Dict[str, Any]], identical: bool, what: str) -> Any:
        """(action, reason) from clarification 22."""
        if identical:
            return "up_to_date", "already serves the new certificate"
        if served is None:
            return "upload", "no %s yet: first upload" % what
        not_due = self.due(served)
        if not_due:
            return "skipped", not_due
        return "rotate", "forced" if self.force else "due: expires on %s" % served.get("expires_on")

    # -- kinds ---------------------------------------------------------------------------------

    def custom_hostnames(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Returns the list form's `hostname_certificates` for the hostnames to rotate or upload."""
        by_name = {normalize_hostname(h.get("hostname") or ""): h for h in discovered}
        apply = []
        for item in items:
            name = normalize_hostname(item["hostname"])
            label = "custom hostname %s" % name
            news = [self.material(c, label, [name]) for c in item["certificates"]]
            kinds = [n["key_type"] for n in news if n is not None]
            # A problem of the material alone is reported even when the hostname is missing too: every problem at once.
            paired = len(set(kinds)) == len(kinds)
            if not paired:
                self.problems.append("%s: two new certificates of key type %s; give one certificate or one RSA and one ECDSA" % (label, kinds[0]))
            host = by_name.get(name)
            if host is None:
                self.problems.append("%s: not found in the zone (create it with certops.cloudflare.custom_hostname first)" % label)
                self.entry("custom_hostname", name, "missing", "not found in the zone")
                continue
            if None in news:
                self.entry("custom_hostname", name, "skipped", "the new material has problems (see problems)")
                continue
            if not paired:
                continue
            served_all = ((host.get("ssl") or {}).get("certificates")) or []
            # A served certificate of an unknown key type is compared with every new one.
            served = [s for s in served_all if s.get("key_type") in kinds or s.get("key_type") is None]
            soonest = min(served, key=lambda s: s.get("expires_on") or "") if served else None
            identical = all(any(same_certificate(n, s) for s in served_all) for n in news)
            action, reason = self.decide(soonest, identical, "custom certificate")
            if action in ("rotate", "upload") and not self.outlives(label, min(news, key=lambda n: n["not_after"]), served):
                action, reason = "skipped", "the new material would not outlive what is served"
            self.entry(
                "custom_hostname",
                name,
                action,
                reason,
                soonest,
                min(news, key=lambda n: n["not_after"]),
                key_types=kinds,
                new_fingerprints=sorted(n["fingerprint_sha256"] for n in news),
            )
            if action in ("rotate", "upload"):
                certs = [{k: c[k] for k in ("certificate_path", "private_key_path")} for c in item["certificates"]]
                apply.append({"hostname": name, "certificates": certs})
        return apply

    def client_certs(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Returns the client certificate steps: upload (unless uploaded), associate `hostnames`, retire the old ones."""
        steps, uploads = [], 0
        for index, item in enumerate(items):
            hostnames = host_set(item.get("hostnames"))
            name = ", ".join(hostnames) or "client_certs[%d]" % index
            label = "client certificate for %s" % name
            new = self.material(item, label)
            if new is None:
                self.entry("client_cert", name, "skipped", "the new material has problems (see problems)")
                continue
            uploaded = next((c for c in discovered if c.get("status") not in GONE and same_certificate(new, c)), None)
            associated = {
                c.get("id"): c
                for c in discovered
                if c.get("status") not in GONE and any(a.get("hostname") in hostnames and a.get("enabled", True) for a in c.get("hostnames") or [])
            }
            olds = [c for cid, c in associated.items() if not uploaded or cid != uploaded.get("id")]
            # Only a certificate no other hostname uses is retired: the others keep theirs.
            retire = [c for c in olds if {a.get("hostname") for a in c.get("hostnames") or [] if a.get("enabled", True)} <= set(hostnames)]
            soonest = min(olds, key=lambda c: c.get("expires_on") or "") if olds else None
            covered = uploaded is not None and {a.get("hostname") for a in uploaded.get("hostnames") or [] if a.get("enabled", True)} >= set(hostnames)
            action, reason = self.decide(soonest, covered and not olds, "client certificate")
            if action == "upload" and uploaded is not None:
                reason = "already uploaded (id %s): associate it" % uploaded.get("id")
            if action in ("rotate", "upload") and not self.outlives(label, new, olds):
                action, reason = "skipped", "the new material would not outlive what is served"
            leftovers = self.leftovers(new, uploaded, discovered) if action == "up_to_date" else []
            if leftovers:
                # A run that failed after the switch retired nothing (clarification 25): this run finishes it.
                action, reason = "retire", "the certificate it replaced (%s) is no longer used: delete it" % ", ".join(leftovers)
                self.retire_client += leftovers
            self.entry("client_cert", name, action, reason, soonest, new, hostnames=hostnames, retire=leftovers)
            if action in ("rotate", "upload"):
                uploads += uploaded is None
                steps.append(
                    {
                        "certificate_path": item["certificate_path"],
                        "private_key_path": item["private_key_path"],
                        "hostnames": hostnames,
                        "fingerprint_sha256": new["fingerprint_sha256"],
                        "upload": uploaded is None,
                        "retire": sorted(c["id"] for c in retire if c.get("id")),
                    }
                )
        held = len(discovered)  # clarification 17/24: pending_deletion counts toward the quota
        if uploads and held + uploads > CLIENT_CERT_QUOTA:
            self.problems.append(
                "client certificate quota: the zone holds %d of %d client certificates (pending_deletion ones included) and the plan uploads %d more "
                "before retiring any; delete unused ones first" % (held, CLIENT_CERT_QUOTA, uploads)
            )
        return steps

    @staticmethod
    def leftovers(new: Dict[str, Any], uploaded: Optional[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[str]:
        """Ids of client certificates for the same hosts as `new` that expire before it and no hostname uses."""
        new_end = _time(new["not_after"])
        found = []
        for cert in discovered:
            if cert.get("status") in GONE or not cert.get("id") or (uploaded and cert.get("id") == uploaded.get("id")):
                continue
            in_use = any(a.get("enabled", True) for a in cert.get("hostnames") or [])
            end = _time(cert.get("expires_on"))
            if not in_use and cert.get("hosts") and host_set(cert["hosts"]) == host_set(new["hosts"]) and end and new_end and end < new_end:
                found.append(cert["id"])
        return sorted(found)

    @staticmethod
    def same_zone_cert(cert: Dict[str, Any], new: Dict[str, Any]) -> bool:
        """Whether a zone certificate is the new material (clarification 15: hosts, issuer and expiry)."""
        return (
            host_set(cert.get("hosts")) == host_set(new["hosts"])
            and _time(cert.get("expires_on")) == _time(new["not_after"])
            and cert.get("issuer") == new["issuer"]
        )

    def zone_certs(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Returns the zone certificate steps: edit in place when the hosts match, else upload, prioritise above the old, retire."""
        live = [c for c in discovered if c.get("status") not in GONE]
        steps = []
        for index, item in enumerate(items):
            label = "zone certificate %s" % (item.get("certificate_path") or index)
            new = self.material(item, label)
            if new is None:
                self.entry("zone_cert", label, "skipped", "the new material has problems (see problems)")
                continue
            hosts = host_set(new["hosts"])
            name = ", ".join(hosts)
            replaces = item.get("replaces")
            if replaces is None:
                matches = [c for c in live if host_set(c.get("hosts")) == hosts]
                if len(matches) > 1:
                    self.problems.append(
                        "%s: zone certificates %s all hold %s; name the one to replace with replaces" % (label, ", ".join(c["id"] for c in matches), name)
                    )
                    continue
            else:
                matches = [c for c in live if (c.get("id") == replaces if isinstance(replaces, str) else host_set(c.get("hosts")) == host_set(replaces))]
                if not matches:
                    # A re-run after the replacement: the one it replaced is gone and the new material is what is there.
                    matches = [c for c in live if self.same_zone_cert(c, new)]
                if len(matches) != 1:
                    found = ", ".join(c["id"] for c in matches) or "none"
                    self.problems.append("%s: replaces %s must name exactly one zone certificate, found %s" % (label, replaces, found))
                    continue
            old = matches[0] if matches else None
            identical = old is not None and self.same_zone_cert(old, new)
            action, reason = self.decide(old, identical, "zone certificate for these hosts")
            if action == "rotate" and not self.outlives(label, new, [old]):
                action, reason = "skipped", "the new material would not outlive what is served"
            self.entry("zone_cert", name, action, reason, old, new, id=old and old.get("id"))
            if action not in ("rotate", "upload"):
                continue
            step = {k: item.get(k) for k in ("certificate_path", "private_key_path", "type", "bundle_method", "priority")}
            if old is None:
                step["mode"] = "upload"
            elif host_set(old.get("hosts")) == hosts:
                step.update(mode="edit", id=old["id"])
            else:
                step.update(mode="replace", above=old["id"], above_priority=old.get("priority"), retire=old["id"])
            steps.append(step)
        return steps

    def cert_packs(self, items: List[Any], discovered: List[Dict[str, Any]]) -> List[str]:
        """Returns the ids of the listed packs to restart; a pack not found is reported, not a problem (clarification 24)."""
        live = [p for p in discovered if p.get("status") not in GONE]
        restart = []
        for item in items:
            hosts = host_set(item)
            name = ", ".join(hosts)
            packs = [p for p in live if host_set(p.get("hosts")) == hosts]
            if not packs:
                self.entry("cert_pack", name, "missing", "no certificate pack for these hosts (the role never orders packs)")
            for pack in packs:
                status = pack.get("status")
                if status in RESTARTABLE:
                    restart.append(pack["id"])
                    self.entry("cert_pack", name, "restart", "status %s" % status, pack, None, id=pack["id"])
                else:
                    self.entry("cert_pack", name, "up_to_date", "status %s" % status, pack, None, id=pack["id"])
        return restart

    def managed_hostnames(self, discovered: List[Dict[str, Any]]) -> List[str]:
        """Hostnames whose validation timed out (clarification 26), when revalidation is on."""
        if not self.revalidate:
            return []
        names = []
        for host in discovered:
            if (host.get("ssl") or {}).get("status") == "validation_timed_out":
                names.append(host["hostname"])
                self.entry("managed_hostname", host["hostname"], "revalidate", "SSL status validation_timed_out")
        return names


def change_line(obj: Dict[str, Any]) -> str:
    """One line a person reads in the play output: what changes, why, and the serials and expiries."""
    line = "%s %s %s: %s" % (obj["action"], obj["kind"].replace("_", " "), obj["name"], obj["reason"])
    old, new = obj.get("old") or {}, obj.get("new") or {}
    if new:
        line += " [%s (%s) -> %s (%s)]" % (
            old.get("serial_number") or "none",
            old.get("expires_on") or "-",
            new.get("serial_number") or "-",
            new.get("expires_on") or "-",
        )
    return line


def plan_rotation(params: Dict[str, Any], now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """The whole plan for the module's params: {plan, problems, summary}."""
    planner = Planner(
        params.get("renew_before_days"),
        params.get("renew_before_percentage"),
        bool(params.get("force")),
        params.get("revalidate", True),
        now,
        params.get("material_passphrase"),
    )
    found = params.get("discovered") or {}
    hostnames = found.get("custom_hostnames") or []
    plan: Dict[str, Any] = {}
    plan["hostname_certificates"] = planner.custom_hostnames(params.get("custom_hostnames") or [], hostnames)
    plan["client_cert_steps"] = planner.client_certs(params.get("client_certs") or [], found.get("hostname_client_certs") or [])
    plan["retire_client_certs"] = sorted(set(planner.retire_client + [i for step in plan["client_cert_steps"] for i in step["retire"]]))
    plan["zone_cert_steps"] = planner.zone_certs(params.get("zone_certs") or [], found.get("custom_certs") or [])
    plan["restart_cert_packs"] = planner.cert_packs(params.get("cert_packs") or [], found.get("cert_packs") or [])
    plan["revalidate_hostnames"] = planner.managed_hostnames(hostnames)
    plan["objects"] = planner.objects
    plan["changes"] = [change_line(o) for o in planner.objects if o["action"] in CHANGES]
    plan["counts"] = {key: len(plan[key]) for key in ("objects", "hostname_certificates", "changes")}
    summary: Dict[str, int] = {"total": len(planner.objects), "problems": len(planner.problems)}
    for action in ("rotate", "upload", "up_to_date", "skipped", "restart", "revalidate", "missing"):
        summary[action] = sum(1 for o in planner.objects if o["action"] == action)
    return {"plan": plan, "problems": planner.problems, "summary": summary}


# -- outcomes: the plan against the state read back after the apply stage ---------------------------


def _hostname_outcome(obj: Dict[str, Any], hosts: Dict[str, Dict[str, Any]]) -> Any:
    host = hosts.get(obj["name"]) or {}
    ssl = host.get("ssl") or {}
    served = {normalize_fingerprint(c.get("fingerprint_sha256")) for c in ssl.get("certificates") or []}
    if not set(obj.get("new_fingerprints") or []) <= served:
        return None, "still serves its old certificate"
    if host.get("status") == "active" and ssl.get("status") == "active":  # clarification 33
        return "done", None
    return "deploying", "serves the new certificate once live: status %s, SSL status %s" % (host.get("status"), ssl.get("status"))


def _client_outcome(obj: Dict[str, Any], certs: List[Dict[str, Any]]) -> Any:
    fingerprint = (obj.get("new") or {}).get("fingerprint_sha256")
    cert = next((c for c in certs if normalize_fingerprint(c.get("fingerprint_sha256")) == fingerprint and c.get("status") not in GONE), None)
    if cert is None:
        return None, "the new certificate is not uploaded"
    using = {a.get("hostname") for a in cert.get("hostnames") or [] if a.get("enabled", True)}
    missing = sorted(set(obj.get("hostnames") or []) - using)
    if missing:
        return None, "not associated yet with %s" % ", ".join(missing)
    return ("done", None) if cert.get("status") == "active" else ("deploying", "status %s" % cert.get("status"))


def _zone_outcome(obj: Dict[str, Any], certs: List[Dict[str, Any]]) -> Any:
    new = obj.get("new") or {}
    hosts = host_set(obj["name"].split(", "))
    for cert in certs:
        if cert.get("status") not in GONE and host_set(cert.get("hosts")) == hosts and _time(cert.get("expires_on")) == _time(new.get("expires_on")):
            return ("done", None) if cert.get("status") == "active" else ("deploying", "status %s" % cert.get("status"))
    return None, "the zone does not hold the new certificate"


def _status_outcome(status: Optional[str]) -> Any:
    # Packs and revalidated hostnames never fail the rotation: a validation still running is pending.
    return ("done", None) if status == "active" else ("pending", "status %s" % status)


def outcomes(plan: Dict[str, Any], after: Optional[Dict[str, Any]], failure: Optional[str] = None, check_mode: bool = False) -> List[Dict[str, Any]]:
    """One row per planned object: its plan entry plus `outcome` and `detail`.

    Outcomes: the plan's own action for objects with nothing to do (up_to_date, skipped, missing); `planned` in check
    mode; else from the state read back: rotated/uploaded/restarted/revalidated, `deploying` (the new certificate is
    there, not live yet), `pending` (packs and revalidation still validating), and for an object still on its old
    certificate `failed` or, after a failed stage, `not_attempted`.
    """
    after = after or {}
    hosts = {normalize_hostname(str(h.get("hostname") or "")): h for h in after.get("custom_hostnames") or []}
    packs = {p.get("id"): p for p in after.get("cert_packs") or []}
    done_names = {"rotate": "rotated", "upload": "uploaded", "restart": "restarted", "revalidate": "revalidated", "retire": "retired"}
    rows = []
    for obj in plan.get("objects") or []:
        action, kind = obj["action"], obj["kind"]
        outcome, detail = None, None
        if action not in CHANGES:
            outcome = action
        elif check_mode:
            outcome = "planned"
        elif kind == "custom_hostname":
            outcome, detail = _hostname_outcome(obj, hosts)
        elif kind == "client_cert":
            outcome, detail = _client_outcome(obj, after.get("hostname_client_certs") or [])
            kept = [c.get("id") for c in after.get("hostname_client_certs") or [] if c.get("id") in (obj.get("retire") or []) and c.get("status") not in GONE]
            if outcome == "done" and kept:
                outcome, detail = None, "the replaced certificate %s is still there" % ", ".join(kept)
        elif kind == "zone_cert":
            outcome, detail = _zone_outcome(obj, after.get("custom_certs") or [])
        elif kind == "cert_pack":
            outcome, detail = _status_outcome((packs.get(obj.get("id")) or {}).get("status"))
        elif kind == "managed_hostname":
            outcome, detail = _status_outcome(((hosts.get(obj["name"]) or {}).get("ssl") or {}).get("status"))
        if outcome == "done":
            outcome = done_names[action]
        elif outcome is None:
            outcome = "not_attempted" if failure else "failed"
            detail = detail + (" (kept: an earlier stage failed)" if failure else "")
        rows.append(dict(obj, outcome=outcome, detail=detail))
    return rows


def read_zone_state(state: Dict[str, Any], option: str) -> Dict[str, Any]:
    """The zone's state as the _info modules return it (the planner's `discovered`, the report's `state`), checked:
    `custom_hostnames` as a list, its JSON text or the file a `dest` wrote, and the other kinds as lists of dicts."""
    state = dict(state)
    if state.get("custom_hostnames") is not None:
        state["custom_hostnames"] = read_hostnames(state["custom_hostnames"], "%s.custom_hostnames" % option)
    for key in ("hostname_client_certs", "custom_certs", "cert_packs"):
        if not isinstance(state.get(key) or [], list) or not all(isinstance(item, dict) for item in state.get(key) or []):
            raise InputError("%s.%s must be the list the _info module returns as %s" % (option, key, key))
    return state
