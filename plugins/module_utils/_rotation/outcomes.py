# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a rotation achieved: each planned object against the state read back, and against what the edge serves.

This is a private file: it may change in any release without notice.

The one place outcomes are computed (rotation_report; the filters rotation_outcomes, rotation_edge_targets and
rotation_edge wrap the same functions). A certificate counts as there by the identity rule of its kind, the one the
planner and the modules apply.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import is_identical
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import is_live
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import is_same_certificate as same_hostname_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import is_same_certificate as same_client_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import KEY_TYPES, normalize_fingerprint
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import CHANGES
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import ENDED_STATUSES

DONE_NAMES = {"rotate": "rotated", "upload": "uploaded", "restart": "restarted", "revalidate": "revalidated", "retire": "retired"}
# Outcomes after which a custom hostname must serve its new certificates (the others changed nothing at the edge).
SWITCHED = ("rotated", "uploaded")
EDGE_VERIFIED = "verified"
PENDING = "pending"  # the plan's action for a custom hostname still deploying its new certificates, and an outcome


def _new_hostname_certificates(obj: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The identities of a custom hostname's new certificates; a plan without them names fingerprints only."""
    return obj.get("new_certificates") or [{"fingerprint_sha256": f} for f in obj.get("new_fingerprints") or []]


def _serves(entries: Sequence[Dict[str, Any]], identity: Dict[str, Any]) -> bool:
    if "serial_number" in identity:
        return any(same_hostname_certificate(entry, identity) for entry in entries)
    return identity["fingerprint_sha256"] in {normalize_fingerprint(e.get("fingerprint_sha256")) for e in entries}


def _hostname_outcome(obj: Dict[str, Any], hosts: Dict[str, Dict[str, Any]]) -> Tuple[Optional[str], Optional[str]]:
    host = hosts.get(obj["name"]) or {}
    entries = (host.get("ssl") or {}).get("certificates") or []
    if not all(_serves(entries, identity) for identity in _new_hostname_certificates(obj)):
        return None, "still serves its old certificate"
    dropped = sorted({e.get("key_type") for e in entries} & set(obj.get("drop_key_types") or []))
    if dropped:
        return None, "still serves its %s certificate" % ", ".join(k.upper() for k in dropped)
    if is_live(host):
        return "done", None
    return "deploying", "serves the new certificate once live: status %s, SSL status %s" % (host.get("status"), (host.get("ssl") or {}).get("status"))


def _client_outcome(obj: Dict[str, Any], certs: List[Dict[str, Any]], failure: Optional[str] = None) -> Tuple[Optional[str], Optional[str]]:
    identity = obj.get("new_certificate") or {"fingerprint_sha256": (obj.get("new") or {}).get("fingerprint_sha256")}
    live = [c for c in certs if c.get("status") not in ENDED_STATUSES]
    if "serial_number" in identity:
        cert = next((c for c in live if same_client_certificate(c, identity)), None)
    else:
        cert = next((c for c in live if normalize_fingerprint(c.get("fingerprint_sha256")) == identity["fingerprint_sha256"]), None)
    if cert is None:
        return None, "the new certificate is not uploaded"
    using = {a.get("hostname") for a in cert.get("hostnames") or [] if a.get("enabled", True)}
    missing = sorted(set(obj.get("hostnames") or []) - using)
    if missing:
        return None, "not associated yet with %s" % ", ".join(missing)
    if cert.get("status") != "active":
        return "deploying", "status %s" % cert.get("status")
    kept = [c.get("id") for c in live if c.get("id") in (obj.get("retire") or [])]
    if kept:
        return None, "the replaced certificate %s is still there" % ", ".join(kept)
    kept = [str(c.get("id")) for c in live if c.get("id") in (obj.get("replaces") or [])]
    if kept and failure:
        return "done", "the replaced certificate %s is kept: nothing is retired after a failure" % ", ".join(kept)
    return "done", None


def _origin_pull_outcome(obj: Dict[str, Any], certs: List[Dict[str, Any]], failure: Optional[str] = None) -> Tuple[Optional[str], Optional[str]]:
    """The zone's origin pull certificate: the new one active, and the ones it replaces gone (origin_pull_cert deletes
    them once it is active; a failure before that keeps them)."""
    identity = obj.get("new_certificate") or {"fingerprint_sha256": (obj.get("new") or {}).get("fingerprint_sha256")}
    live = [c for c in certs if c.get("status") not in ENDED_STATUSES]
    cert = next((c for c in live if same_client_certificate(c, identity)), None)
    if cert is None:
        return None, "the new certificate is not uploaded"
    if cert.get("status") != "active":
        return "deploying", "status %s" % cert.get("status")
    kept = [str(c.get("id")) for c in live if c.get("id") in (obj.get("replaces") or [])]
    if kept:
        return (
            ("done", "the replaced certificate %s is kept: nothing is retired after a failure" % ", ".join(kept))
            if failure
            else (
                None,
                "the replaced certificate %s is still there" % ", ".join(kept),
            )
        )
    return "done", None


def _zone_outcome(obj: Dict[str, Any], certs: List[Dict[str, Any]]) -> Tuple[Optional[str], Optional[str]]:
    identity = obj.get("new_identity")
    for cert in certs:
        if cert.get("status") not in ENDED_STATUSES and identity and is_identical(cert, identity):
            return ("done", None) if cert.get("status") == "active" else ("deploying", "status %s" % cert.get("status"))
    return None, "the zone does not hold the new certificate"


def _retired_outcome(obj: Dict[str, Any], certs: List[Dict[str, Any]]) -> Tuple[Optional[str], Optional[str]]:
    there = [c for c in certs if c.get("id") == obj.get("id") and c.get("status") not in ENDED_STATUSES]
    return (None, "still there") if there else ("done", None)


def _status_outcome(status: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    # Packs and revalidated hostnames never fail the rotation: a validation still running is pending.
    return ("done", None) if status == "active" else ("pending", "status %s" % status)


UNKNOWN = "unknown"
# Where the state read back keeps each kind of planned object (rotation_report's `state` keys).
STATE_OF_KIND = {
    "custom_hostname": "custom_hostnames",
    "managed_hostname": "custom_hostnames",
    "client_cert": "hostname_client_certs",
    "zone_cert": "custom_certs",
    "cert_pack": "cert_packs",
    "origin_pull_cert": "origin_pull_certs",
}


class Outcomes:
    """The outcome of each planned object in turn against the state read back (`after`, indexed once), so that the
    objects of a plan file can be judged as they are read: none is kept."""

    def __init__(
        self,
        after: Optional[Dict[str, Any]],
        failure: Optional[str] = None,
        check_mode: bool = False,
        failed_hostnames: Optional[Dict[str, str]] = None,
        attempted: Optional[Iterable[str]] = None,
        unread: Iterable[str] = (),
    ) -> None:
        """`failed_hostnames`: the custom hostnames whose write failed, each with its reason (the apply task's failed
        results). `attempted`: after a failure, the actions among restart and revalidate whose task ran (None: unknown,
        as if they ran); one that did not run leaves its objects not_attempted, not pending. `unread`: the kinds of
        state (keys of `after`) that could not be read back after a failure, so `after` holds them as first seen: what
        this run meant to change among them is `unknown`, neither done nor not attempted."""
        self.after = after or {}
        self.unread = frozenset(unread)
        self.failure, self.check_mode = failure, check_mode
        self.failed_hostnames = {normalize_hostname(str(k)): v for k, v in (failed_hostnames or {}).items()}
        self.attempted = None if attempted is None else set(attempted)
        self.hosts = {normalize_hostname(str(h.get("hostname") or "")): h for h in self.after.get("custom_hostnames") or []}
        self.packs = {p.get("id"): p for p in self.after.get("cert_packs") or []}

    def row(self, obj: Dict[str, Any]) -> Dict[str, Any]:
        """The object's row: its plan entry plus `outcome` and `detail` (see outcomes())."""
        after, hosts = self.after, self.hosts
        action, kind = obj["action"], obj["kind"]
        outcome: Optional[str] = None
        detail: Optional[str] = None
        if action == PENDING and kind == "custom_hostname" and not self.check_mode:
            return self.pending_row(obj)
        if action not in CHANGES:
            outcome = action
        elif self.check_mode:
            outcome = "planned"
        elif STATE_OF_KIND.get(kind) in self.unread:
            outcome, detail = UNKNOWN, "could not be read back after the failure, so it may or may not have changed; a re-run finds out"
        elif self.failure and action in ("restart", "revalidate") and self.attempted is not None and action not in self.attempted:
            outcome, detail = "not_attempted", "an earlier stage failed before this step ran"
        elif action == "retire":
            outcome, detail = _retired_outcome(obj, after.get("hostname_client_certs" if kind == "client_cert" else "custom_certs") or [])
        elif kind == "custom_hostname":
            outcome, detail = _hostname_outcome(obj, hosts)
        elif kind == "client_cert":
            outcome, detail = _client_outcome(obj, after.get("hostname_client_certs") or [], self.failure)
        elif kind == "zone_cert":
            outcome, detail = _zone_outcome(obj, after.get("custom_certs") or [])
        elif kind == "origin_pull_cert":
            outcome, detail = _origin_pull_outcome(obj, after.get("origin_pull_certs") or [], self.failure)
        elif kind == "cert_pack":
            outcome, detail = _status_outcome((self.packs.get(obj.get("id")) or {}).get("status"))
        elif kind == "managed_hostname":
            outcome, detail = _status_outcome(((hosts.get(obj["name"]) or {}).get("ssl") or {}).get("status"))
        if outcome == "done":
            outcome = DONE_NAMES[action]
        elif outcome is None:
            outcome, detail = self.not_done(obj, detail)
        return dict(obj, outcome=outcome, detail=detail)

    def not_done(self, obj: Dict[str, Any], detail: Optional[str]) -> Tuple[str, str]:
        """An object still without its new certificate: `failed` with the write's reason when its write failed, or
        without a failed stage; `not_attempted` when a stage failed before it was reached."""
        reason = self.failed_hostnames.get(normalize_hostname(str(obj.get("name") or ""))) if obj.get("kind") == "custom_hostname" else None
        if reason is not None:
            return "failed", "its write failed: %s" % reason
        if self.failure:
            return "not_attempted", (detail or "") + " (kept: an earlier stage failed)"
        return "failed", detail or ""

    def pending_row(self, obj: Dict[str, Any]) -> Dict[str, Any]:
        """A custom hostname that held its new certificates before the run, still deploying them: up_to_date once live,
        else still pending (or failed, with the apply task's reason, when its wait failed)."""
        outcome, detail = _hostname_outcome(obj, self.hosts)
        if outcome == "done":
            return dict(obj, outcome="up_to_date", detail="live now")
        if outcome is None:
            outcome, detail = self.not_done(obj, detail)
        else:
            outcome = PENDING
            reason = self.failed_hostnames.get(normalize_hostname(str(obj.get("name") or "")))
            detail = "%s; %s" % (detail, reason) if reason else detail
        return dict(obj, outcome=outcome, detail=detail)


def outcomes(
    plan: Dict[str, Any],
    after: Optional[Dict[str, Any]],
    failure: Optional[str] = None,
    check_mode: bool = False,
    failed_hostnames: Optional[Dict[str, str]] = None,
    attempted: Optional[Iterable[str]] = None,
    unread: Iterable[str] = (),
) -> List[Dict[str, Any]]:
    """One row per planned object: its plan entry plus `outcome` and `detail`.

    Outcomes: the plan's own action for objects with nothing to do (up_to_date, skipped, missing); `planned` in check
    mode; else from the state read back: rotated/uploaded/restarted/revalidated, `deploying` (the new certificate is
    there, not live yet), `pending` (packs and revalidation still validating, and a custom hostname the plan found
    still deploying: `up_to_date` once live), and for an object still on its old certificate `failed` (its write failed,
    with the reason, or no stage failed) or, after a failed stage, `not_attempted` (also a restart or revalidation whose
    task did not run, when `attempted` says so), or `unknown` when its kind of state could not be read back (`unread`).
    """
    judge = Outcomes(after, failure, check_mode, failed_hostnames, attempted, unread)
    return [judge.row(obj) for obj in plan.get("objects") or []]


def still_replaced(plan: Dict[str, Any], after: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The certificates the role replaced (this run or an earlier one, as the plan records them) that the state read
    back still holds: what the report names, so that a later run may delete them and nothing else."""
    after = after or {}
    lists = {"client_cert": after.get("hostname_client_certs"), "zone_cert": after.get("custom_certs")}
    present = {(kind, c.get("id")) for kind, certs in lists.items() for c in certs or [] if c.get("status") not in ENDED_STATUSES}
    # A kind not read (None) cannot say the certificate is gone: the entry carries over.
    return [e for e in plan.get("replaced") or [] if isinstance(e, dict) and (lists.get(e.get("kind")) is None or (e.get("kind"), e.get("id")) in present)]


# -- the edge ------------------------------------------------------------------------------------------------------


def edge_expectations(entries: Iterable[Tuple[str, Sequence[str], Sequence[str]]]) -> Dict[str, Any]:
    """What to probe, as edge_cert_info takes it, for (hostname, key types, new fingerprints) entries: each hostname per
    key type of its new certificates, expecting any of them (a client offering one key type only gets its own)."""
    hostnames: List[str] = []
    expect: Dict[str, Dict[str, List[str]]] = {}
    wanted_types = set()
    for hostname, key_types, fingerprints in entries:
        types = list(key_types or KEY_TYPES)
        hostnames.append(str(hostname))
        expect[str(hostname)] = {key_type: list(fingerprints or []) for key_type in types}
        wanted_types.update(types)
    return {"hostnames": hostnames, "key_types": [k for k in KEY_TYPES if k in wanted_types], "expect": expect}


def switched_rows(rows: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [r for r in rows if r.get("kind") == "custom_hostname" and r.get("outcome") in SWITCHED]


def edge_targets(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """What to probe after a rotation: every custom hostname the outcome rows say was switched to new certificates."""
    return edge_expectations((r["name"], r.get("key_types") or (), r.get("new_fingerprints") or ()) for r in switched_rows(rows))


def _edge_verdict(row: Dict[str, Any], entries: Dict[Tuple[str, str], Dict[str, Any]]) -> str:
    """`verified` when each key type of the row serves one of its new certificates; else what is served instead."""
    wanted = set(row.get("new_fingerprints") or [])
    problems = []
    for key_type in row.get("key_types") or KEY_TYPES:
        entry = entries.get((str(row["name"]), key_type))
        if entry is None:
            problems.append("%s not probed" % key_type)
        elif entry.get("error"):
            problems.append("%s: %s" % (key_type, entry["error"]))
        elif entry.get("fingerprint_sha256") not in wanted or entry.get("key_type") != key_type:
            problems.append("%s: serves %s, not the new certificate" % (key_type, str(entry.get("fingerprint_sha256"))[:16]))
        elif entry.get("validates") is False:
            problems.append("%s: the edge serves an untrusted chain (%s)" % (key_type, entry.get("validation_error") or "it does not validate"))
    return EDGE_VERIFIED if not problems else "not verified (%s)" % "; ".join(problems)


# What _edge_verdict reads of an edge_cert_info entry: the rest (chain, names, times) is left out of the index.
EDGE_KEYS = ("key_type", "fingerprint_sha256", "error", "validates", "validation_error")


class EdgeOutcomes:
    """edge_outcomes row by row: the entries of edge_cert_info indexed once by (hostname, requested key type), each
    with the fields the verdict reads (`compact`, for a probe of 100,000 hostnames) or whole."""

    def __init__(self, edge_certs: Optional[Iterable[Dict[str, Any]]], compact: bool = False) -> None:
        self.entries: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for e in edge_certs or []:
            self.entries[(str(e.get("hostname")), str(e.get("requested_key_type")))] = {k: e[k] for k in EDGE_KEYS if k in e} if compact else e
        self.probed = {name for name, _key_type in self.entries}

    def row(self, row: Dict[str, Any]) -> Dict[str, Any]:
        switched = row.get("kind") == "custom_hostname" and row.get("outcome") in SWITCHED
        return dict(row, edge=_edge_verdict(row, self.entries) if switched and str(row.get("name")) in self.probed else None)


def edge_outcomes(rows: Sequence[Dict[str, Any]], edge_certs: Optional[Sequence[Dict[str, Any]]]) -> List[Dict[str, Any]]:
    """The rows with an `edge` column: the verdict for each switched custom hostname probed, None for the others."""
    judge = EdgeOutcomes(edge_certs)
    return [judge.row(row) for row in rows]
