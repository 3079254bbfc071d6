# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning of a certificate rotation: new material against the discovered state, no API calls (rotation_plan).

This is a private file: it may change in any release without notice.

`Planner` checks every new certificate (each file once), decides per object whether to rotate, and collects every
problem instead of stopping at the first one. An object is rotated only when what is served is not the new material
(by the identity rule of its kind, the one its module applies) and it is due (or `force`); an object with no custom
certificate yet gets one; new material that would not outlive what is served is refused. Nothing here holds or
returns key material.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, read_file_option
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import identity_of, is_identical
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import is_same_certificate as same_hostname_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import is_same_certificate as same_client_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set, normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CertificateError, check_certificate, coverage_problem, leaf_identity, parse_time
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import CLIENT_CERT_QUOTA, ENDED_STATUSES, PACK_RESTARTABLE_STATUSES

DEFAULT_RENEW_BEFORE_DAYS = 30
SHOWN_KEYS = ("serial_number", "fingerprint_sha256", "expires_on")
CHANGES = ("rotate", "upload", "restart", "revalidate", "retire")  # actions that write


def shown_facts(obj: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """What the plan shows of a certificate: serial, fingerprint and expiry (from the API view or from the PEM's facts)."""
    if not obj:
        return None
    out = {key: obj.get(key) for key in SHOWN_KEYS}
    if out["expires_on"] is None:
        out["expires_on"] = obj.get("not_after")
    return out


def parsed_time(value: Optional[str]) -> Optional[datetime.datetime]:
    """An API time as a datetime; None when it is missing or unreadable."""
    try:
        return parse_time(value) if value else None
    except ValueError:
        return None


def days_text(days: float) -> str:
    """Days as a person writes them: "1 day", "30 days", "1.5 days"."""
    text = ("%d" % days) if days == int(days) else ("%.1f" % days)
    return text + (" day" if text == "1" else " days")


# The priority Cloudflare gives a new zone certificate in the 2024 API document (newer schemas say 0).
DEFAULT_PRIORITY = 20


def new_priority(item: Dict[str, Any], old: Dict[str, Any]) -> int:
    """The priority of a zone certificate that replaces `old`: the one given, else the old one's (0 is a priority); the
    old one then gets the next number, so the new one is used first wherever the priority number decides."""
    for value in (item.get("priority"), old.get("priority")):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return DEFAULT_PRIORITY


def pack_hosts(item: Any) -> List[str]:
    """The hosts of a listed pack: a list of hosts, or a pack as cert_pack_info returns it."""
    return host_set(item.get("hosts") if isinstance(item, dict) else item)


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
            renew_before_days = DEFAULT_RENEW_BEFORE_DAYS  # the default window, only when neither is set
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
        """When renewal is due: the earlier moment of the two windows (days before expiry, a share of the lifetime)."""
        moments = []
        if self.days is not None:
            moments.append(expires - datetime.timedelta(days=self.days))
        if self.percentage is not None and start is not None and start < expires:
            moments.append(expires - (expires - start) * (self.percentage / 100.0))
        return min(moments) if moments else None

    def not_due_reason(self, served: Dict[str, Any]) -> Optional[str]:
        """Why the served certificate is not due for renewal yet; None when it is due (or `force`)."""
        if self.force:
            return None
        expires = parsed_time(served.get("expires_on"))
        if expires is None:
            return None  # no expiry known: renewing is the safe side
        # Lifetime from notBefore when known, else from uploaded_on (unverified: it may differ from notBefore).
        start = parsed_time(served.get("not_before")) or parsed_time(served.get("uploaded_on"))
        moment = self.renewal_moment(expires, start)
        if moment is None:
            return "not due: the served certificate's lifetime is unknown, so renew_before_percentage cannot apply; set renew_before_days"
        if self.now >= moment:
            return None
        left = (expires - self.now).total_seconds() / 86400
        window = (expires - moment).total_seconds() / 86400
        return "not due: expires in %s, window %s" % (days_text(int(left)), days_text(window))

    def outlives(self, label: str, new: Dict[str, Any], served: Sequence[Dict[str, Any]]) -> bool:
        """New material that would not outlive what is served is refused: a rotation must never shorten a lifetime."""
        new_end = parsed_time(new["not_after"])
        for old in served:
            old_end = parsed_time(old.get("expires_on"))
            if old_end is not None and new_end is not None and new_end <= old_end:
                self.problems.append(
                    "%s: the new certificate (serial %s) expires on %s, not after the served one (expires %s); it would not outlive what is served"
                    % (label, new["serial_number"], new["not_after"], old.get("expires_on"))
                )
                return False
        return True

    def entry(self, kind: str, name: str, action: str, reason: str, old: Any = None, new: Any = None, **extra: Any) -> Dict[str, Any]:
        item = dict(kind=kind, name=name, action=action, reason=reason, old=shown_facts(old), new=shown_facts(new), **extra)
        self.objects.append(item)
        return item

    def decide(self, served: Optional[Dict[str, Any]], identical: bool, what: str) -> Any:
        """(action, reason): up to date when identical, a first upload when nothing is served, else rotate when due."""
        if identical:
            return "up_to_date", "already serves the new certificate"
        if served is None:
            return "upload", "no %s yet: first upload" % what
        not_due = self.not_due_reason(served)
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
            identical = all(any(same_hostname_certificate(s, n) for s in served_all) for n in news)
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
                new_certificates=[leaf_identity(n) for n in news],
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
            uploaded = next((c for c in discovered if c.get("status") not in ENDED_STATUSES and same_client_certificate(c, new)), None)
            associated = {
                c.get("id"): c
                for c in discovered
                if c.get("status") not in ENDED_STATUSES and any(a.get("hostname") in hostnames and a.get("enabled", True) for a in c.get("hostnames") or [])
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
                # A run that failed after the switch retired nothing (nothing is retired after a failure): this run finishes it.
                action, reason = "retire", "the certificate it replaced (%s) is no longer used: delete it" % ", ".join(leftovers)
                self.retire_client += leftovers
            self.entry("client_cert", name, action, reason, soonest, new, hostnames=hostnames, retire=leftovers, new_certificate=leaf_identity(new))
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
        held = len(discovered)  # one pending deletion still counts toward the quota
        if uploads and held + uploads > CLIENT_CERT_QUOTA:
            self.problems.append(
                "client certificate quota: the zone holds %d of %d client certificates (pending_deletion ones included) and the plan uploads %d more "
                "before retiring any; delete unused ones first" % (held, CLIENT_CERT_QUOTA, uploads)
            )
        return steps

    @staticmethod
    def leftovers(new: Dict[str, Any], uploaded: Optional[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[str]:
        """Ids of client certificates for the same hosts as `new` that expire before it and no hostname uses."""
        new_end = parsed_time(new["not_after"])
        found = []
        for cert in discovered:
            if cert.get("status") in ENDED_STATUSES or not cert.get("id") or (uploaded and cert.get("id") == uploaded.get("id")):
                continue
            in_use = any(a.get("enabled", True) for a in cert.get("hostnames") or [])
            end = parsed_time(cert.get("expires_on"))
            if not in_use and cert.get("hosts") and host_set(cert["hosts"]) == host_set(new["hosts"]) and end and new_end and end < new_end:
                found.append(cert["id"])
        return sorted(found)

    def zone_certs(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Returns the zone certificate steps: edit in place when the hosts match, else upload, prioritise above the old, retire."""
        live = [c for c in discovered if c.get("status") not in ENDED_STATUSES]
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
                    matches = [c for c in live if is_identical(c, new)]
                if len(matches) != 1:
                    found = ", ".join(c["id"] for c in matches) or "none"
                    self.problems.append("%s: replaces %s must name exactly one zone certificate, found %s" % (label, replaces, found))
                    continue
            old = matches[0] if matches else None
            identical = old is not None and is_identical(old, new)
            action, reason = self.decide(old, identical, "zone certificate for these hosts")
            if action == "rotate" and not self.outlives(label, new, [old]):
                action, reason = "skipped", "the new material would not outlive what is served"
            self.entry("zone_cert", name, action, reason, old, new, id=old and old.get("id"), new_identity=identity_of(new))
            if action not in ("rotate", "upload"):
                continue
            step = {k: item.get(k) for k in ("certificate_path", "private_key_path", "type", "bundle_method", "priority")}
            if old is None:
                step["mode"] = "upload"
            elif host_set(old.get("hosts")) == hosts:
                step.update(mode="edit", id=old["id"])
            else:
                step.update(mode="replace", above=old["id"], above_priority=old.get("priority"), retire=old["id"], new_priority=new_priority(item, old))
            steps.append(step)
        return steps

    def cert_packs(self, items: List[Any], discovered: List[Dict[str, Any]]) -> List[str]:
        """Returns the ids of the listed packs to restart; a pack not found is reported, not a problem (the role never orders packs)."""
        live = [p for p in discovered if p.get("status") not in ENDED_STATUSES]
        restart = []
        for item in items:
            hosts = pack_hosts(item)
            name = ", ".join(hosts)
            packs = [p for p in live if host_set(p.get("hosts")) == hosts]
            if not packs:
                self.entry("cert_pack", name, "missing", "no certificate pack for these hosts (the role never orders packs)")
            for pack in packs:
                status = pack.get("status")
                if status in PACK_RESTARTABLE_STATUSES:
                    restart.append(pack["id"])
                    self.entry("cert_pack", name, "restart", "status %s" % status, pack, None, id=pack["id"])
                else:
                    self.entry("cert_pack", name, "up_to_date", "status %s" % status, pack, None, id=pack["id"])
        return restart

    def managed_hostnames(self, discovered: List[Dict[str, Any]]) -> List[str]:
        """Hostnames whose validation timed out, when revalidation is on: only those, so a second run changes nothing."""
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
