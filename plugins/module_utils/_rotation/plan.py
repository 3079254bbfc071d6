# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning of a certificate rotation: new material against the discovered state, no API calls (rotation_plan).

This is a private file: it may change in any release without notice.

`Planner` checks every new certificate (each file once; server certificates verified as a browser would against one
trust store), decides per object whether to rotate, and collects every problem instead of stopping at the first one.
An object is rotated only when what is served is not the new material (by the identity rule of its kind, the one its
module applies) and it is due (or `force`); an object with no custom certificate yet gets one; new material that would
not outlive what is served is refused unless forced. Key types are explicit: the given ones rotate, the others stay
unless dropped. A certificate is retired only with proof (this run replaced it, an earlier run of the role did, or
the user names it); any other unused one is kept and listed. Nothing here holds or returns key material.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, read_file_option
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import identity_of, is_identical
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import is_same_certificate as same_hostname_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import hostname_limit_problem
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import is_same_certificate as same_client_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set, normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    DEFAULT_RENEW_BEFORE_DAYS,
    EXPIRY_BUCKETS,
    CertificateError,
    IncompleteChainError,
    check_certificate,
    client_certificate_problems,
    coverage_problem,
    expiry_bucket,
    leaf_identity,
    load_certificates,
    load_trust,
    parse_time,
    renewal_moment,
    verify_chain,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import CLIENT_CERT_QUOTA, ENDED_STATUSES, PACK_RESTARTABLE_STATUSES

BUCKET_KEYS = [key for key, _bound, _label in EXPIRY_BUCKETS]
SHOWN_KEYS = ("serial_number", "fingerprint_sha256", "expires_on")
CHANGES = ("rotate", "upload", "restart", "revalidate", "retire")  # actions that write
ACTIONS = ("rotate", "upload", "up_to_date", "pending", "skipped", "restart", "revalidate", "missing", "retire", "kept", "due")
# The audit's expiry buckets, by days left: each is the first whose bound the days left are under.
SHORTER_FORCED = "shorter-lived than served (forced)"
DUE_NAMED = 10  # objects due without material named in the warning; the report lists them all
CHECKED_KEPT = 1024  # the checked certificate file pairs whose facts the planner keeps, the latest used


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
# The name of the zone's origin pull certificate in the plan and the report: there is one per zone.
ORIGIN_PULL_NAME = "zone-level origin pull"


def new_priority(item: Dict[str, Any], old: Dict[str, Any]) -> int:
    """The priority of a zone certificate that replaces `old`: the one given, else the old one's (0 is a priority); the
    old one then gets the next number, so the new one is used first wherever the priority number decides."""
    for value in (item.get("priority"), old.get("priority")):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
    return DEFAULT_PRIORITY


def cert_name(cert: Dict[str, Any]) -> str:
    """A discovered client or zone certificate as the plan names it: its hosts, else its id."""
    return ", ".join(host_set(cert.get("hosts"))) or str(cert.get("id"))


def replaced_entry(kind: str, cert: Dict[str, Any], replaced_by: str) -> Dict[str, Any]:
    """What the plan, then the report, records of a certificate the role replaces: the proof that lets a later run
    delete it when this one could not (a failure, or retire_old off)."""
    return {"kind": kind, "id": cert["id"], "hosts": host_set(cert.get("hosts")), "expires_on": cert.get("expires_on"), "replaced_by": replaced_by}


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
        ca_path: Optional[str] = None,
        roots: Optional[Sequence[Any]] = None,
        lists: Optional[Callable[[str], Any]] = None,
    ) -> None:
        if renew_before_days is None and renew_before_percentage is None:
            renew_before_days = DEFAULT_RENEW_BEFORE_DAYS  # the default window, only when neither is set
        self.days = renew_before_days
        self.percentage = renew_before_percentage
        self.force = force
        self.revalidate = revalidate
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        self.problems: List[str] = []
        self.warnings: List[str] = []
        # The lists that grow with the zone: whole lists, or what `lists` makes of each (a spool to the plan file, that
        # keeps the first entries and the count), appended to in order and never read back.
        self._list: Callable[[str], Any] = lists or (lambda _key: [])
        self.objects: Any = self._list("objects")
        self.changes: Any = self._list("changes")
        self.actions: Dict[str, int] = dict.fromkeys(ACTIONS, 0)
        self.replaced: List[Dict[str, Any]] = []  # certificates this run replaces: the proof a later run may retire them by
        self.switched_away: Dict[str, List[str]] = {}  # client certificate id -> the hostnames this run moves off it
        self.uploaded_client_ids: Set[Any] = set()  # client certificates that are new material of this run
        # What the given material targets, so the audit lists only what is due without any.
        self.given_hostnames: Set[str] = set()
        self.origin_pull_given = False  # new material for the zone's origin pull certificate
        self.client_material_hosts: Set[str] = set()
        self.zone_touched: Set[Any] = set()
        # The facts of the file pairs checked last (each pair is read and checked once while it is used): a pair
        # several entries share (a wildcard) stays, a zone of 100,000 pairs of their own does not keep every one.
        self._checked: "OrderedDict[Any, Any]" = OrderedDict()
        self.passphrase = passphrase
        self.ca_path = ca_path
        # The trusted roots (and whether the private-CA profile applies), loaded on the first certificate to verify.
        self._trust: Optional[Tuple[List[Any], bool]] = (list(roots), ca_path is not None) if roots is not None else None

    # -- helpers -------------------------------------------------------------------------------

    def trust(self) -> Tuple[List[Any], bool]:
        if self._trust is None:
            self._trust = load_trust(self.ca_path)
        return self._trust

    def material(self, item: Dict[str, Any], label: str, hostnames: Sequence[str] = (), client: bool = False) -> Optional[Dict[str, Any]]:
        """The facts of a new certificate, or None after recording its problems. Each file pair is checked once while
        it is in use (the facts of the CHECKED_KEPT pairs used last are kept: a wildcard's stay).

        A server certificate (custom hostname, zone) is verified as a browser would: names from its subjectAltName
        only, not self-signed, not a CA, its chain leading to a trusted root. Whether a missing intermediate is an
        error depends on how it is sent (trusted()). A client certificate for origin pulls follows its own rule."""
        key = (item.get("certificate_path"), item.get("private_key_path"))
        if key in self._checked:
            self._checked.move_to_end(key)
        else:
            self._checked[key] = self._check(item, client)
            if len(self._checked) > CHECKED_KEPT:
                self._checked.popitem(last=False)
        facts = self._checked[key]
        if isinstance(facts, str):
            self.problems.append("%s: %s" % (label, facts))
            return None
        uncovered = [p for p in (coverage_problem(facts["sans"], h) for h in hostnames) if p]
        for problem in uncovered:
            self.problems.append("%s: %s: %s" % (label, item.get("certificate_path"), problem))
        return None if uncovered else facts

    def _check(self, item: Dict[str, Any], client: bool) -> Any:
        """The facts of one certificate file pair, or the text of its problems."""
        name = item.get("certificate_path") or "certificate"
        try:
            cert = read_file_option(item, "certificate", "certificate_path")
            private_key = read_file_option(item, "private_key", "private_key_path")
            passphrase = self.passphrase if item.get("material_sealed") else None  # a key the run sealed (files.seal_key)
            facts, _key = check_certificate(cert, private_key, passphrase, name=name, now=self.now)
            if client:
                problems = client_certificate_problems(load_certificates(cert, name)[0])
                if problems:
                    raise CertificateError("%s: %s" % (name, "; ".join(problems)))
                return facts
            roots, relaxed = self.trust()
            try:
                verify_chain(cert, roots, now=self.now, relaxed=relaxed, name=name)
            except IncompleteChainError as exc:
                facts = dict(facts, chain_problem=str(exc), missing_issuer=exc.issuer)
            return facts
        except (InputError, CertificateError) as exc:
            return str(exc)

    def trusted(self, label: str, facts: Dict[str, Any], as_uploaded: bool, bundle_method: Optional[str]) -> bool:
        """Whether a certificate whose chain lacks an intermediate may be sent as planned: never with bundle_method
        force, which serves the chain as uploaded; with ubiquitous or optimal Cloudflare completes it (a warning)."""
        if not facts.get("chain_problem"):
            return True
        if as_uploaded:
            self.problems.append("%s: %s (it is sent with bundle_method force, which serves the chain as uploaded)" % (label, facts["chain_problem"]))
            return False
        warning = "%s: %s does not verify as uploaded: its issuer %s is not in the chain; Cloudflare completes the chain (bundle_method %s)" % (
            label,
            facts.get("certificate_path") or "the certificate",
            facts["missing_issuer"],
            bundle_method or "ubiquitous",
        )
        if warning not in self.warnings:
            self.warnings.append(warning)
        return True

    def renewal_moment(self, expires: datetime.datetime, start: Optional[datetime.datetime]) -> Optional[datetime.datetime]:
        return renewal_moment(expires, start, self.days, self.percentage)

    def not_due_reason(self, served: Dict[str, Any]) -> Optional[str]:
        """Why the served certificate is not due for renewal yet; None when it is due (or `force`)."""
        return None if self.force else self.window_reason(served)

    def window_reason(self, served: Dict[str, Any]) -> Optional[str]:
        """Why the served certificate is not within the renewal window yet; None when it is (force aside)."""
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

    def outlives(self, label: str, new: Dict[str, Any], served: Sequence[Dict[str, Any]]) -> Optional[bool]:
        """True when the new material outlives what is served; without force, None after refusing it (a rotation must
        not shorten a lifetime by accident); with force, False: an emergency may need a shorter-lived certificate."""
        new_end = parsed_time(new["not_after"])
        for old in served:
            old_end = parsed_time(old.get("expires_on"))
            if old_end is not None and new_end is not None and new_end <= old_end:
                if self.force:
                    return False
                self.problems.append(
                    "%s: the new certificate (serial %s) expires on %s, not after the served one (expires %s); it would not outlive what is served "
                    "(force replaces it anyway)" % (label, new["serial_number"], new["not_after"], old.get("expires_on"))
                )
                return None
        return True

    def entry(self, kind: str, name: str, action: str, reason: str, old: Any = None, new: Any = None, **extra: Any) -> Dict[str, Any]:
        item = dict(kind=kind, name=name, action=action, reason=reason, old=shown_facts(old), new=shown_facts(new), **extra)
        self.objects.append(item)
        self.actions[action] += 1
        if action in CHANGES:
            self.changes.append(change_line(item))
        return item

    def decide(self, label: str, served: Optional[Dict[str, Any]], identical: bool, what: str, new: Dict[str, Any]) -> Any:
        """(action, reason): up to date when identical, a first upload when nothing is served, else rotate when due."""
        if identical:
            return "up_to_date", "already serves the new certificate"
        if served is None:
            return "upload", "no %s yet: first upload" % what
        not_due = self.not_due_reason(served)
        if not_due:
            return "skipped", not_due
        longer = self.outlives(label, new, [served])
        if longer is None:
            return "skipped", "the new material would not outlive what is served"
        if not longer:
            return "rotate", SHORTER_FORCED
        return "rotate", "forced" if self.force else "due: expires on %s" % served.get("expires_on")

    # -- kinds ---------------------------------------------------------------------------------

    def custom_hostnames(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> Any:
        """Returns the list form's `hostname_certificates` for the hostnames to change.

        Key types are explicit: the given ones are rotated (each by its own renewal window), a given one not served yet
        is added beside the served ones, and the others are kept unless `drop_key_types` names them."""
        by_name = {normalize_hostname(h.get("hostname") or ""): h for h in discovered}
        apply = self._list("hostname_certificates")
        for item in items:
            name = normalize_hostname(item["hostname"])
            self.given_hostnames.add(name)
            label = "custom hostname %s" % name
            news = [self.material(c, label, [name]) for c in item["certificates"]]
            kinds = [n["key_type"] for n in news if n is not None]
            drops = sorted(set(item.get("drop_key_types") or []))
            # A problem of the material alone is reported even when the hostname is missing too: every problem at once.
            paired = len(set(kinds)) == len(kinds)
            if not paired:
                self.problems.append("%s: two new certificates of key type %s; give one certificate or one RSA and one ECDSA" % (label, kinds[0]))
            clash = [k for k in drops if k in kinds]
            if clash:
                self.problems.append(
                    "%s: drop_key_types names %s, the key type of its new certificate; drop only a key type it gets no new certificate of"
                    % (label, ", ".join(k.upper() for k in clash))
                )
            host = by_name.get(name)
            if host is None:
                self.problems.append("%s: not found in the zone (create it with certops.cloudflare.custom_hostname first)" % label)
                self.entry("custom_hostname", name, "missing", "not found in the zone")
                continue
            if None in news:
                self.entry("custom_hostname", name, "skipped", "the new material has problems (see problems)")
                continue
            if not paired or clash:
                continue
            step = self.hostname_change(label, name, host, dict(zip(kinds, zip(item["certificates"], news))), drops)
            if step:
                apply.append(step)
        return apply

    def hostname_change(self, label: str, name: str, host: Dict[str, Any], given: Dict[str, Tuple[Dict[str, Any], Dict[str, Any]]], drops: List[str]) -> Any:
        """The plan entry of one custom hostname, decided per key type; returns its list-form entry when it changes.

        `given` maps each new key type to its (certificate option, facts)."""
        news = {key_type: facts for key_type, (_option, facts) in given.items()}
        served_all = ((host.get("ssl") or {}).get("certificates")) or []
        served_types = sorted({s.get("key_type") for s in served_all if s.get("key_type")})
        changing, added, parts, olds = [], [], [], []
        for key_type, new in news.items():
            if self._serves(served_all, new):
                continue  # already served: nothing to do for this key type
            # A served certificate of an unknown key type is compared with every new one.
            served = [s for s in served_all if s.get("key_type") in (key_type, None)]
            if not served:
                changing.append(key_type)
                added.append(key_type)
                continue
            soonest = min(served, key=lambda s: s.get("expires_on") or "")
            action, reason = self.decide(label, soonest, False, "custom certificate", new)
            parts.append(("%s: " % key_type.upper() if len(news) > 1 else "") + reason)
            if action == "rotate":
                changing.append(key_type)
                olds.append(soonest)
        # A drop goes with the rotation: while a given key type waits (not due), the one to drop stays too.
        waiting = [k for k in news if k not in changing and not self._serves(served_all, news[k])]
        dropping = [] if waiting else [k for k in drops if k in served_types]
        # Serving the new certificates already but still deploying them (an earlier run's wait timed out): pending, and
        # listed for the apply task, which writes nothing for it and waits until it is live.
        deploying = not waiting and (host.get("ssl") or {}).get("status") == "pending_deployment"
        if not changing and not dropping:
            self.entry(
                "custom_hostname",
                name,
                "skipped" if waiting else "pending" if deploying else "up_to_date",
                "; ".join(parts)
                or (
                    "already holds the new certificate, still deploying (SSL status pending_deployment)" if deploying else "already serves the new certificate"
                ),
                min(served_all, key=lambda s: s.get("expires_on") or "") if served_all else None,
                min(news.values(), key=lambda n: n["not_after"]),
                key_types=sorted(news),
                new_fingerprints=sorted(n["fingerprint_sha256"] for n in news.values()),
                new_certificates=[leaf_identity(n) for n in news.values()],
            )
            if deploying:
                return {
                    "hostname": name,
                    "certificates": [{k: c[k] for k in ("certificate_path", "private_key_path")} for c, _facts in given.values()],
                    "exclusive": False,
                }
            return None
        stays = sorted({s.get("key_type") or "unknown" for s in served_all if s.get("key_type") not in changing and s.get("key_type") not in dropping})
        # How a certificate is sent decides whether its chain must verify as uploaded: a pair, or one added beside a
        # certificate that stays, goes with bundle_method force; a single one with the hostname's own bundle_method.
        bundle_method = (host.get("ssl") or {}).get("bundle_method")
        as_uploaded = len(changing) > 1 or bool(added and stays) or bundle_method == "force"
        trusted = [self.trusted(label, news[k], as_uploaded, bundle_method) for k in changing]  # each says its own problem
        if not all(trusted):
            self.entry("custom_hostname", name, "skipped", "the new material has problems (see problems)")
            return None
        if not served_all:
            reason = "no custom certificate yet: first upload"
        else:
            adds = ["add %s%s" % (k.upper(), " beside " + ", ".join(t.upper() for t in stays) if stays else "") for k in added]
            reason = "; ".join(
                adds
                + parts
                + ["keeps %s" % k.upper() for k in stays if k in served_types and k not in news and not added]
                + ["drops %s" % k.upper() for k in dropping]
            )
        changed = [news[k] for k in changing] or list(news.values())
        self.entry(
            "custom_hostname",
            name,
            "rotate" if olds or dropping else "upload",
            reason,
            min(olds or served_all, key=lambda s: s.get("expires_on") or "") if served_all else None,
            min(changed, key=lambda n: n["not_after"]),
            key_types=sorted(changing or news),
            new_fingerprints=sorted(n["fingerprint_sha256"] for n in changed),
            # What it must serve afterwards: the new certificates sent, and those it served already (one not due waits).
            new_certificates=[leaf_identity(n) for k, n in news.items() if k not in waiting],
            drop_key_types=dropping,
        )
        sent = [option for key_type, (option, _facts) in given.items() if key_type in (changing or news)]
        # exclusive: the hostname then serves exactly what is sent, so a dropped key type goes; else the others stay.
        return {"hostname": name, "certificates": [{k: c[k] for k in ("certificate_path", "private_key_path")} for c in sent], "exclusive": bool(dropping)}

    @staticmethod
    def _serves(served_all: Sequence[Dict[str, Any]], new: Dict[str, Any]) -> bool:
        return any(same_hostname_certificate(s, new) for s in served_all)

    def client_certs(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Returns the client certificate steps: upload (unless uploaded), associate `hostnames`, retire the ones it replaces."""
        steps, uploads = [], 0
        for index, item in enumerate(items):
            hostnames = host_set(item.get("hostnames"))
            name = ", ".join(hostnames) or "client_certs[%d]" % index
            label = "client certificate for %s" % name
            self.client_material_hosts.update(hostnames)
            new = self.material(item, label, client=True)
            if new is None:
                self.entry("client_cert", name, "skipped", "the new material has problems (see problems)")
                continue
            uploaded = next((c for c in discovered if c.get("status") not in ENDED_STATUSES and same_client_certificate(c, new)), None)
            self.uploaded_client_ids.add((uploaded or {}).get("id"))
            # The switch task keeps what an uploaded certificate holds: refuse here, before the upload, what it would refuse.
            kept = {a.get("hostname") for a in (uploaded or {}).get("hostnames") or [] if a.get("hostname")}
            too_many = hostname_limit_problem((uploaded or {}).get("id") or "client_certs[%d]" % index, len(kept), len(kept | set(hostnames)))
            if too_many:
                self.problems.append("client_certs[%d].%s" % (index, too_many))
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
            action, reason = self.decide(label, soonest, covered and not olds, "client certificate", new)
            if action == "upload" and uploaded is not None:
                reason = "already uploaded (id %s): associate it" % uploaded.get("id")
            # replaces: the certificates its switch frees, which the report names while they are still there after a failure.
            replaces = sorted(c["id"] for c in retire if c.get("id")) if action in ("rotate", "upload") else []
            self.entry("client_cert", name, action, reason, soonest, new, hostnames=hostnames, retire=[], replaces=replaces, new_certificate=leaf_identity(new))
            if action in ("rotate", "upload"):
                uploads += uploaded is None
                for cert in olds:
                    self.switched_away.setdefault(cert["id"], []).extend(hostnames)
                for cert in retire:
                    self.replaced.append(replaced_entry("client_cert", cert, new["fingerprint_sha256"]))
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

    def origin_pull_cert(self, item: Optional[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The zone-level origin pull step (none or one): origin_pull_cert uploads the new certificate, waits until it is
        active, turns the setting on, then deletes the zone's others (`replaces`) itself, so they are not retired here."""
        if not item:
            return []
        self.origin_pull_given = True
        label = "zone origin pull certificate"
        new = self.material(item, label, client=True)
        if new is None:
            self.entry("origin_pull_cert", ORIGIN_PULL_NAME, "skipped", "the new material has problems (see problems)")
            return []
        live = [c for c in discovered if c.get("status") not in ENDED_STATUSES]
        uploaded = next((c for c in live if same_client_certificate(c, new)), None)
        olds = [c for c in live if c is not uploaded]
        soonest = min(olds, key=lambda c: c.get("expires_on") or "") if olds else None
        action, reason = self.decide(label, soonest, uploaded is not None and not olds, "origin pull certificate", new)
        if action == "upload" and uploaded is not None:
            reason = "already uploaded (id %s): make it the zone's only one" % uploaded.get("id")
        replaces = sorted(c["id"] for c in olds if c.get("id")) if action in ("rotate", "upload") else []
        self.entry("origin_pull_cert", ORIGIN_PULL_NAME, action, reason, soonest, new, replaces=replaces, new_certificate=leaf_identity(new))
        if action not in ("rotate", "upload"):
            return []
        return [
            {
                "certificate_path": item["certificate_path"],
                "private_key_path": item["private_key_path"],
                "fingerprint_sha256": new["fingerprint_sha256"],
                "replaces": replaces,
            }
        ]

    def zone_certs(self, items: List[Dict[str, Any]], discovered: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Returns the zone certificate steps: edit in place when the hosts match, else upload, prioritise above the old, retire."""
        live = [c for c in discovered if c.get("status") not in ENDED_STATUSES]
        steps = []
        for index, item in enumerate(items):
            label = "zone certificate %s" % (item.get("certificate_path") or index)
            replaces = item.get("replaces")
            if isinstance(replaces, str):
                self.zone_touched.add(replaces)  # targeted even when its material has problems
            new = self.material(item, label)
            if new is None:
                self.entry("zone_cert", label, "skipped", "the new material has problems (see problems)")
                continue
            hosts = host_set(new["sans"])
            name = ", ".join(hosts)
            # The few zone certificates a zone holds: what this material already is counts as targeted too.
            self.zone_touched.update(c.get("id") for c in live if is_identical(c, new))
            if replaces is None:
                matches = [c for c in live if host_set(c.get("hosts")) == hosts]
                self.zone_touched.update(c.get("id") for c in matches)
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
                self.zone_touched.update(c.get("id") for c in matches)
                if len(matches) != 1:
                    found = ", ".join(c["id"] for c in matches) or "none"
                    self.problems.append("%s: replaces %s must name exactly one zone certificate, found %s" % (label, replaces, found))
                    continue
            old = matches[0] if matches else None
            identical = old is not None and is_identical(old, new)
            action, reason = self.decide(label, old, identical, "zone certificate for these hosts", new)
            edit = old is not None and host_set(old.get("hosts")) == hosts
            bundle_method = item.get("bundle_method") or (old.get("bundle_method") if edit else None)
            if action in ("rotate", "upload") and not self.trusted(label, new, bundle_method == "force", bundle_method):
                action, reason = "skipped", "the new material has problems (see problems)"
            self.entry("zone_cert", name, action, reason, old, new, id=old and old.get("id"), new_identity=identity_of(new))
            if action not in ("rotate", "upload"):
                continue
            step = {k: item.get(k) for k in ("certificate_path", "private_key_path", "type", "bundle_method", "priority")}
            if old is None:
                step["mode"] = "upload"
            elif edit:
                step.update(mode="edit", id=old["id"])
            else:
                step.update(mode="replace", above=old["id"], above_priority=old.get("priority"), retire=old["id"], new_priority=new_priority(item, old))
                self.replaced.append(replaced_entry("zone_cert", old, new["fingerprint_sha256"]))
            steps.append(step)
        return steps

    def retirements(
        self,
        found_client: Optional[List[Dict[str, Any]]],
        found_zone: Optional[List[Dict[str, Any]]],
        proof: Sequence[Any],
        named: Sequence[str],
        retire_replaced: bool,
    ) -> Dict[str, List[str]]:
        """The ids to delete once every switch is done, each with its proof; every other unused client certificate is kept.

        A certificate is deleted when this run switched its hostnames away from it, when an earlier run of the role
        replaced it (`proof`: that run's report or set_stats, while the certificate is still there), or when `named`
        (retire) lists it. Anything else unused, a standby uploaded by hand for instance, is kept and listed with its id.
        A kind not discovered (None) is not judged: what the proof names of it is carried over as it is."""
        out: Dict[str, List[str]] = {"client_cert": [], "zone_cert": []}
        found = {"client_cert": found_client, "zone_cert": found_zone}
        live = {kind: {c["id"]: c for c in certs or [] if c.get("id") and c.get("status") not in ENDED_STATUSES} for kind, certs in found.items()}
        for replaced in self.replaced:  # this run's
            if retire_replaced:
                out[replaced["kind"]].append(replaced["id"])
            else:
                cert = live[replaced["kind"]].get(replaced["id"]) or replaced
                self.entry(replaced["kind"], cert_name(cert), "kept", "replaced by this run: kept (retire_old is off)", cert, None, id=replaced["id"])
        seen = {(e["kind"], e["id"]) for e in self.replaced}
        for earlier in proof:
            kind, cid = (earlier.get("kind"), earlier.get("id")) if isinstance(earlier, dict) else (None, None)
            if kind not in found or (kind, cid) in seen:
                continue  # not a kind of certificate, or replaced again by this run
            seen.add((kind, cid))
            if found[kind] is None:
                self.replaced.append(dict(earlier))  # not read this run: carried over, judged by a run that reads it
                continue
            cert = live[kind].get(cid)
            if cert is None:
                continue  # deleted since: the proof is spent
            self.replaced.append(dict(earlier))  # the proof carries over until the certificate is gone
            self.retire_one(kind, cert, "replaced by an earlier run of the role", out, retire_replaced, named=False)
        for cid in named:
            kinds = [kind for kind in live if cid in live[kind]]
            if not kinds:
                self.entry("certificate", cid, "up_to_date", "listed in retire, not in the zone (deleted already)", id=cid)
            for kind in kinds:
                if (kind, cid) not in seen:
                    seen.add((kind, cid))
                    self.retire_one(kind, live[kind][cid], "listed in retire", out, True, named=True)
        for cid, cert in live["client_cert"].items():
            unused = not any(a.get("enabled", True) for a in cert.get("hostnames") or [])
            if unused and ("client_cert", cid) not in seen and cid not in self.uploaded_client_ids and cid not in self.switched_away:
                self.entry(
                    "client_cert",
                    cert_name(cert),
                    "kept",
                    "unused, kept: this role did not replace it (id %s, expires %s); list its id in retire to delete it" % (cid, cert.get("expires_on")),
                    cert,
                    None,
                    id=cid,
                )
        return out

    def retire_one(self, kind: str, cert: Dict[str, Any], why: str, out: Dict[str, List[str]], allowed: bool, named: bool) -> None:
        """Plan the deletion of one certificate, or say why it stays: a client certificate still used by hostnames this
        run does not switch away stays (an error when retire names it), and retire_old=false keeps what was replaced."""
        cid = cert["id"]
        users = {a.get("hostname") for a in cert.get("hostnames") or [] if a.get("enabled", True)}
        still = sorted(users - set(self.switched_away.get(cid, [])))
        if kind == "client_cert" and still:
            if named:
                self.problems.append(
                    "client certificate %s is listed in retire but %s still use it; give them another certificate first" % (cid, ", ".join(still))
                )
            else:
                self.entry(kind, cert_name(cert), "kept", "%s, but %s still use it: kept" % (why, ", ".join(still)), cert, None, id=cid)
            return
        if not allowed:
            self.entry(kind, cert_name(cert), "kept", "%s: kept (retire_old is off)" % why, cert, None, id=cid)
            return
        out[kind].append(cid)
        self.entry(kind, cert_name(cert), "retire", "%s: delete it" % why, cert, None, id=cid, retire=[cid])

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

    # -- audit ---------------------------------------------------------------------------------

    def audit(self, found: Dict[str, Any], retired: Dict[str, Sequence[Any]]) -> Tuple[Any, Dict[str, Any]]:
        """(due_without_material, audit) over every discovered object, one pass per kind; call it after retirements().

        Due uses the renewal window without force: force decides what the given material replaces, not what is due.
        Managed hostname certificates and packs are never due here (Cloudflare renews them); a kind not discovered
        (None) is left out, and a certificate whose expiry is unknown is neither counted nor listed."""
        due = self._list("due_without_material")
        buckets: Dict[str, Dict[str, int]] = {}
        not_active: List[Dict[str, Any]] = []
        hostnames = found.get("custom_hostnames")
        if hostnames is not None:
            counts = buckets["custom_hostname"] = dict.fromkeys(BUCKET_KEYS, 0)
            for host in hostnames:
                ssl = host.get("ssl") or {}
                certs = ssl.get("certificates") or []
                soonest: Optional[Tuple[datetime.datetime, Dict[str, Any]]] = None
                for cert in certs:
                    expires = self.count(counts, cert)
                    if expires is not None and (soonest is None or expires < soonest[0]):
                        soonest = (expires, cert)
                if ssl.get("status") != "active":
                    kind = "custom_hostname" if certs else "managed_hostname"
                    not_active.append({"kind": kind, "name": host.get("hostname"), "id": host.get("id"), "status": ssl.get("status")})
                if soonest is not None and normalize_hostname(host.get("hostname") or "") not in self.given_hostnames:
                    self.due_entry(due, "custom_hostname", host.get("hostname"), host.get("id"), soonest, [host.get("hostname")])
        clients = found.get("hostname_client_certs")
        if clients is not None:
            counts = buckets["client_cert"] = dict.fromkeys(BUCKET_KEYS, 0)
            for cert in clients:
                if cert.get("status") in ENDED_STATUSES:
                    continue
                expires = self.count(counts, cert)
                users = {normalize_hostname(str(a.get("hostname") or "")) for a in cert.get("hostnames") or [] if a.get("enabled", True)}
                cid = cert.get("id")
                # What this plan replaces or retires has all its hostnames (none, when unused) given new material; one an
                # earlier run replaced that some hostname still uses is listed: that hostname needs material.
                if expires is None or cid in self.uploaded_client_ids or users <= self.client_material_hosts:
                    continue
                self.due_entry(due, "client_cert", cert_name(cert), cid, (expires, cert), cert.get("hosts"))
        zone = found.get("custom_certs")
        if zone is not None:
            counts = buckets["zone_cert"] = dict.fromkeys(BUCKET_KEYS, 0)
            # Targeted by the given material, retired by this plan, or replaced by an earlier run (a newer one is there).
            skip = self.zone_touched | set(retired.get("zone_cert") or []) | {e.get("id") for e in self.replaced if e.get("kind") == "zone_cert"}
            for cert in zone:
                if cert.get("status") in ENDED_STATUSES:
                    continue
                expires = self.count(counts, cert)
                cid = cert.get("id")
                if expires is None or cid in skip:
                    continue
                self.due_entry(due, "zone_cert", cert_name(cert), cid, (expires, cert), cert.get("hosts"))
        pulls = found.get("origin_pull_certs")
        if pulls is not None:
            counts = buckets["origin_pull_cert"] = dict.fromkeys(BUCKET_KEYS, 0)
            for cert in pulls:
                if cert.get("status") in ENDED_STATUSES:
                    continue
                expires = self.count(counts, cert)
                # Material given for the zone's origin pull certificate targets every one the zone holds.
                if expires is not None and not self.origin_pull_given:
                    self.due_entry(due, "origin_pull_cert", ORIGIN_PULL_NAME, cert.get("id"), (expires, cert))
        # Going or gone packs are not the ones a zone serves from.
        for pack in found.get("cert_packs") or []:
            status = pack.get("status")
            if status != "active" and status not in ENDED_STATUSES:
                not_active.append({"kind": "cert_pack", "name": cert_name(pack), "id": pack.get("id"), "status": status})
        return due, {"buckets": buckets, "not_active": not_active, "due_without_material_count": len(due)}

    def count(self, counts: Dict[str, int], cert: Dict[str, Any]) -> Optional[datetime.datetime]:
        """Counts a certificate in its expiry bucket; returns its expiry (None when unknown: not counted)."""
        expires = parsed_time(cert.get("expires_on"))
        if expires is None:
            return None
        counts[expiry_bucket(expires, self.now)] += 1
        return expires

    def due_entry(self, due: Any, kind: str, name: Any, cid: Any, soonest: Tuple[datetime.datetime, Dict[str, Any]], hosts: Any = None) -> None:
        """Lists one object with no new material when its certificate is within the renewal window, with the hosts a
        new certificate must cover (what an issuing play orders: certops.cloudflare.issue_and_rotate)."""
        expires, cert = soonest
        if self.window_reason(cert) is not None:
            return
        when = cert.get("expires_on")
        reason = ("expired on %s, no new material" % when) if expires <= self.now else "due, no new material: expires on %s" % when
        covers = host_set(hosts)
        due.append({"kind": kind, "name": name, "id": cid, "expires_on": when, "hosts": covers})
        self.entry(kind, name, "due", reason, cert, None, id=cid, hosts=covers)


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


def first(entries: Any, count: int) -> List[Any]:
    """The first `count` entries of a list the planner grew: a list, or a spool that keeps its first ones (`head`)."""
    return list(getattr(entries, "head", entries)[:count])


def plan_rotation(
    params: Dict[str, Any], now: Optional[datetime.datetime] = None, roots: Optional[Sequence[Any]] = None, lists: Optional[Callable[[str], Any]] = None
) -> Dict[str, Any]:
    """The whole plan for the module's params: {plan, problems, warnings, summary}. `roots` replaces the trust store (tests).

    `lists` makes each list that grows with the zone (objects, changes, hostname_certificates, due_without_material)
    from its key, for the module to write to the plan file as it grows (files.JsonSpool); by default plain lists."""
    planner = Planner(
        params.get("renew_before_days"),
        params.get("renew_before_percentage"),
        bool(params.get("force")),
        params.get("revalidate", True),
        now,
        params.get("material_passphrase"),
        params.get("ca_path"),
        roots,
        lists,
    )
    found = params.get("discovered") or {}
    hostnames = found.get("custom_hostnames") or []
    plan: Dict[str, Any] = {}
    plan["hostname_certificates"] = planner.custom_hostnames(params.get("custom_hostnames") or [], hostnames)
    plan["client_cert_steps"] = planner.client_certs(params.get("client_certs") or [], found.get("hostname_client_certs") or [])
    plan["zone_cert_steps"] = planner.zone_certs(params.get("zone_certs") or [], found.get("custom_certs") or [])
    plan["origin_pull_steps"] = planner.origin_pull_cert(params.get("origin_pull_cert"), found.get("origin_pull_certs") or [])
    retire = planner.retirements(
        found.get("hostname_client_certs"),
        found.get("custom_certs"),
        params.get("replaced") or [],
        params.get("retire") or [],
        params.get("retire_replaced", True),
    )
    plan["retire_client_certs"] = sorted(set(retire["client_cert"]))
    plan["retire_zone_certs"] = sorted(set(retire["zone_cert"]))
    plan["replaced"] = planner.replaced
    plan["restart_cert_packs"] = planner.cert_packs(params.get("cert_packs") or [], found.get("cert_packs") or [])
    plan["revalidate_hostnames"] = planner.managed_hostnames(hostnames)
    plan["due_without_material"], plan["audit"] = planner.audit(found, retire)
    due = plan["due_without_material"]
    if due:
        names = ", ".join(str(d["name"]) for d in first(due, DUE_NAMED))
        planner.warnings.append(
            "%d object%s due within the renewal window without new material: %s%s (see the report)"
            % (len(due), " is" if len(due) == 1 else "s are", names, ", and %d more" % (len(due) - DUE_NAMED) if len(due) > DUE_NAMED else "")
        )
    plan["objects"] = planner.objects
    plan["changes"] = planner.changes
    plan["counts"] = {key: len(plan[key]) for key in ("objects", "hostname_certificates", "changes", "due_without_material")}
    summary: Dict[str, int] = {"total": len(planner.objects), "problems": len(planner.problems)}
    summary.update(planner.actions)  # counted as each object was planned
    plan["estimate"] = {"calls": apply_calls(plan, len(hostnames))}
    return {"plan": plan, "problems": planner.problems, "warnings": planner.warnings, "summary": summary}


def apply_calls(plan: Dict[str, Any], zone_hostnames: int) -> int:
    """The API calls the apply stage makes for `plan`, at least: one write per custom hostname and a pass of list pages
    (50 a page) for their wait, and for each other step the few calls its module makes (read, write, wait, delete)."""
    hostnames = len(plan["hostname_certificates"])
    pages = -(-zone_hostnames // 50) if hostnames else 0
    return (
        hostnames
        + pages
        + 4 * len(plan["client_cert_steps"])  # upload, wait until active, read the associations, associate
        + 4 * len(plan["zone_cert_steps"])  # upload or edit, wait, prioritise
        + sum(4 + len(step["replaces"]) for step in plan["origin_pull_steps"])  # read, upload, wait, turn on, delete each
        + 2 * len(plan["retire_client_certs"])  # detach, delete
        + len(plan["retire_zone_certs"])
        + 2 * len(plan["restart_cert_packs"])  # restart, wait
        + 2 * len(plan["revalidate_hostnames"])  # read, refresh
    )
