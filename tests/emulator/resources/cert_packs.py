"""Certificate packs: Advanced Certificate Manager orders, quota, restart of validation, deletion.

Rules (Cloudflare's API reference "Restart Validation or Update Advanced Certificate Manager Certificate Pack",
operationId certificate-packs-restart-validation-for-advanced-certificate-manager-certificate-pack, and the
list's `status` parameter in certificate-packs-list-certificate-packs):
* an order has type advanced, 1 to 50 hosts including the zone apex, a validation_method,
  validity_days in 14/30/90/365 and a certificate_authority; it is refused once the quota is used;
  # rule: pack-order-fields
  # rule: pack-quota
* statuses go initializing -> pending_validation -> pending_issuance -> pending_deployment -> active,
  each for `delay` seconds; a seeded validation_timed_out (or other non-progressing status, pending_deletion and
  deleted included) stays;
  # rule: status-progressions
* PATCH {} restarts validation and is refused unless the pack is validation_timed_out;
  cloudflare_branding may be changed in any status, and on a timed-out pack also restarts validation;
  # rule: pack-patch-restarts-validation
* the list shows active packs only, unless status=all ("Include Certificate Packs of all statuses, not just active
  ones", certificate-packs-list-certificate-packs);
  # rule: pack-list-active-unless-all
* DELETE (certificate-packs-delete-advanced-certificate-manager-certificate-pack) answers {id}; the pack is then
  pending_deletion for `delay` seconds, deleted for `delay` more, then gone (404). Both statuses are in the
  document's status enum; that a deleted pack is listed with status=all for a while, and the length of each step,
  are unverified against the live API. While it is listed, GET answers it; a second DELETE answers {id} and changes
  nothing, a PATCH is refused (400 + 1410), and it no longer counts toward the quota (guesses, unverified against
  the live API). dump_state() keeps such a pack in the status it has then (loaded again, it stays in it);
  # rule: pack-delete-progression
* advanced packs carry dcv_delegation_records in every status: for each host (a wildcard counts as its base name),
  a CNAME _acme-challenge.<host> -> <host>.<token of the zone>.dcv.cloudflare.com. The target's shape follows
  Cloudflare's DCV delegation guide (unverified against the live API: the document gives only the field names).
  A record's `status` is `pending` until the pack is validated (initializing, pending_validation and their time-outs),
  then `active`: the example answer of "Restart Validation or Update Advanced Certificate Manager Certificate Pack"
  in Cloudflare's API reference shows `pending` for a pack initializing; `active` once validated is unverified against
  the live API. A pack being deleted keeps the records' status it had when it was deleted (a seeded pending_deletion
  or deleted pack: `active`).
  # rule: pack-dcv-delegation-records
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..api import (
    ApiError,
    Codes,
    Request,
    Route,
    check,
    hostname,
    invalid,
    new_id,
    not_found,
    optional,
    paginate,
    reached_at,
    required,
    require_body,
    stage,
    success,
)
from ..certs import iso

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

STAGES = ("initializing", "pending_validation", "pending_issuance", "pending_deployment", "active")
VALIDATION_METHODS = ("txt", "http", "email")
VALIDITY_DAYS = (14, 30, 90, 365)
CERTIFICATE_AUTHORITIES = ("google", "lets_encrypt", "ssl_com")
ISSUERS = {"google": "Google Trust Services", "lets_encrypt": "Let's Encrypt", "ssl_com": "SSL.com"}
MAX_HOSTS = 50
ENDED = ("pending_deletion", "deleted")
# Statuses of a pack whose hosts are not validated yet: its DCV delegation records are `pending`.
NOT_VALIDATED = ("initializing", "pending_validation", "initializing_timed_out", "validation_timed_out")


class CertPack:
    def __init__(self, zone_id: str, hosts: List[str], now: float, pack_type: str = "advanced", pack_id: Optional[str] = None) -> None:
        self.id = pack_id or new_id()
        self.zone_id = zone_id
        self.type = pack_type
        self.hosts = hosts
        self.validation_method = "txt"
        self.validity_days = 90
        self.certificate_authority = "lets_encrypt"
        self.cloudflare_branding = False
        self.start, self.since = 0, now
        self.frozen: Optional[str] = None
        self.deleted_at: Optional[float] = None  # set by DELETE: pending_deletion, then deleted, then gone
        self.cert_ids = [new_id(), new_id()]  # the ECDSA (primary) and RSA certificates issued for it

    def status(self, now: float, delay: float) -> str:
        if self.deleted_at is not None:
            return "pending_deletion" if now < self.deleted_at + delay else "deleted"
        return self.lifecycle(now, delay)

    def lifecycle(self, now: float, delay: float) -> str:
        """The status of the order itself, frozen when the pack was deleted."""
        at = now if self.deleted_at is None else min(now, self.deleted_at)
        return self.frozen or stage(STAGES, self.start, self.since, at, delay)

    def gone(self, now: float, delay: float) -> bool:
        """Deleted for `delay` seconds after its pending_deletion step: no longer listed, 404."""
        return self.deleted_at is not None and now >= self.deleted_at + 2 * delay

    def ended(self, now: float, delay: float) -> bool:
        return self.status(now, delay) in ENDED

    def restart_validation(self, now: float) -> None:
        self.frozen = None
        self.start, self.since = 1, now

    def view(self, now: float, delay: float) -> Dict[str, Any]:
        status = self.status(now, delay)
        result = {
            "id": self.id,
            "type": self.type,
            "hosts": self.hosts,
            "status": status,
            "validation_method": self.validation_method,
            "validity_days": self.validity_days,
            "certificate_authority": self.certificate_authority,
            "cloudflare_branding": self.cloudflare_branding,
            "primary_certificate": self.cert_ids[0],
            "certificates": self._certificates(status, delay),
        }
        if self.type == "advanced":
            validated = self.lifecycle(now, delay) not in NOT_VALIDATED
            result["dcv_delegation_records"] = self._dcv_delegation_records("active" if validated else "pending")
        if status in ("pending_validation", "validation_timed_out"):
            result["validation_records"] = [self._validation_record(h) for h in self.hosts]
        if status == "validation_timed_out":
            result["validation_errors"] = [{"message": "The validation records were not found before the validation timed out."}]
        return result

    def _certificates(self, status: str, delay: float) -> List[Dict[str, Any]]:
        certs = []
        for cert_id, signature in zip(self.cert_ids, ("ECDSAWithSHA256", "SHA256WithRSA")):
            cert = {
                "id": cert_id,
                "hosts": self.hosts,
                "status": status,
                "bundle_method": "ubiquitous",
                "signature": signature,
                "issuer": ISSUERS.get(self.certificate_authority, self.certificate_authority),
                "zone_id": self.zone_id,
                "priority": 0,
            }
            if status == "active":
                issued = reached_at(STAGES, self.start, self.since, delay)
                cert.update(uploaded_on=iso(issued), modified_on=iso(issued), expires_on=iso(issued + self.validity_days * 86400))
            certs.append(cert)
        return certs

    def _dcv_delegation_records(self, status: str) -> List[Dict[str, Any]]:
        # Source: https://developers.cloudflare.com/ssl/edge-certificates/changing-dcv-method/methods/delegated-dcv/
        token = hashlib.sha256(self.zone_id.encode("ascii")).hexdigest()[:16]
        names = dict.fromkeys(h[2:] if h.startswith("*.") else h for h in self.hosts)
        return [{"cname": "_acme-challenge." + name, "cname_target": "%s.%s.dcv.cloudflare.com" % (name, token), "status": status} for name in names]

    def _validation_record(self, host: str) -> Dict[str, Any]:
        name = host[2:] if host.startswith("*.") else host
        token = hashlib.sha256((self.id + name).encode("ascii")).hexdigest()[:32]
        if self.validation_method == "http":
            return {"status": "pending", "http_url": "http://%s/.well-known/acme-challenge/%s" % (name, token), "http_body": token}
        if self.validation_method == "email":
            return {"status": "pending", "emails": ["administrator@" + name, "webmaster@" + name]}
        return {"status": "pending", "txt_name": "_acme-challenge." + name, "txt_value": token}

    def dump(self, now: float, delay: float) -> Dict[str, Any]:
        keys = ("id", "type", "hosts", "validation_method", "validity_days", "certificate_authority", "cloudflare_branding")
        return dict({k: getattr(self, k) for k in keys}, status=self.status(now, delay))


def purge(zone: "Zone", now: float, delay: float) -> None:
    """Forget the packs whose deletion is over."""
    for pack_id in [k for k, p in zone.cert_packs.items() if p.gone(now, delay)]:
        del zone.cert_packs[pack_id]


def find(state: "State", zone: "Zone", pack_id: str) -> CertPack:
    purge(zone, state.now(), state.delay)
    found = zone.cert_packs.get(pack_id)
    if found is None:
        raise not_found("certificate pack")
    return found


def used(zone: "Zone", now: float, delay: float) -> int:
    """Advanced packs counted by the quota: those pending deletion or deleted no longer count (a guess)."""
    return sum(1 for p in zone.cert_packs.values() if p.type == "advanced" and not p.ended(now, delay))


def list_packs(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    show_all = req.query.enum("status", ("all",)) == "all"
    req.query.enum("deploy", ("staging", "production"))
    items = [p for p in zone.cert_packs.values() if show_all or p.status(now, state.delay) == "active"]
    page, info = paginate(items, req.query, 20, 5, 50)
    return 200, success([p.view(now, state.delay) for p in page], info)


def order_pack(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    required(body, "type", "string", choices=("advanced",))
    hosts = required(body, "hosts", "array")
    if not 1 <= len(hosts) <= MAX_HOSTS:
        raise invalid("hosts must hold between 1 and %d hostnames" % MAX_HOSTS)
    hosts = list(dict.fromkeys(hostname(h, "hosts[]", wildcard=True) for h in hosts))
    if zone.name not in hosts:
        raise invalid("hosts must contain the zone apex %s" % zone.name)
    outside = [h for h in hosts if h != zone.name and not h.endswith("." + zone.name)]
    if outside:  # guess: the live API's message is unknown
        raise invalid("hosts must belong to the zone %s: %s" % (zone.name, ", ".join(outside)))
    pack = CertPack(zone.id, hosts, now)
    pack.validation_method = required(body, "validation_method", "string", choices=VALIDATION_METHODS)
    pack.validity_days = required(body, "validity_days", "integer", choices=VALIDITY_DAYS)
    pack.certificate_authority = required(body, "certificate_authority", "string", choices=CERTIFICATE_AUTHORITIES)
    pack.cloudflare_branding = bool(optional(body, "cloudflare_branding", "boolean"))
    purge(zone, now, state.delay)
    if used(zone, now, state.delay) >= zone.pack_quota:
        raise ApiError(400, Codes.QUOTA, "The certificate pack quota of %d for this zone is used up." % zone.pack_quota)
    zone.cert_packs[pack.id] = pack
    return 200, success(pack.view(now, state.delay))


def get_quota(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    return 200, success({"advanced": {"allocated": zone.pack_quota, "used": used(zone, now, state.delay)}})


def get_pack(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    return 200, success(find(state, zone, req.params["certificate_pack_id"]).view(state.now(), state.delay))


def edit_pack(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    pack, body, now = find(state, zone, req.params["certificate_pack_id"]), require_body(req.body), state.now()
    if pack.type != "advanced":
        raise invalid("only advanced certificate packs can be edited")  # guess
    if pack.ended(now, state.delay):
        raise ApiError(400, Codes.BAD_STATE, "The certificate pack is %s and cannot be edited." % pack.status(now, state.delay))  # guess
    branding = optional(body, "cloudflare_branding", "boolean")
    timed_out = pack.status(now, state.delay) == "validation_timed_out"
    if branding is None and not timed_out:
        raise ApiError(400, Codes.BAD_STATE, "Validation can only be restarted for a certificate pack in status validation_timed_out.")
    if branding is not None:
        pack.cloudflare_branding = branding
    if timed_out:
        pack.restart_validation(now)
    return 200, success(pack.view(now, state.delay))


def delete_pack(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    pack, now = find(state, zone, req.params["certificate_pack_id"]), state.now()
    if pack.type != "advanced":
        raise invalid("only advanced certificate packs can be deleted")  # guess
    if not pack.ended(now, state.delay):  # a pack already being deleted stays as it is (a guess)
        pack.deleted_at = now
    return 200, success({"id": pack.id})


def seed(state: "State", zone: "Zone", spec: Dict[str, Any]) -> CertPack:
    pack = CertPack(zone.id, [h.lower() for h in spec["hosts"]], state.now(), spec.get("type", "advanced"), spec.get("id"))
    for key in ("validation_method", "validity_days", "certificate_authority", "cloudflare_branding"):
        if key in spec:
            setattr(pack, key, check(spec[key], key, {"validity_days": "integer", "cloudflare_branding": "boolean"}.get(key, "string")))
    status = spec.get("status", "active")
    if status in STAGES:
        pack.start = STAGES.index(status)
    else:
        pack.frozen = status
    zone.cert_packs[pack.id] = pack
    return pack


ROUTES = [
    Route("GET", "zones/{zone_id}/ssl/certificate_packs", list_packs),
    Route("POST", "zones/{zone_id}/ssl/certificate_packs/order", order_pack),
    Route("GET", "zones/{zone_id}/ssl/certificate_packs/quota", get_quota),
    Route("GET", "zones/{zone_id}/ssl/certificate_packs/{certificate_pack_id}", get_pack),
    Route("PATCH", "zones/{zone_id}/ssl/certificate_packs/{certificate_pack_id}", edit_pack),
    Route("DELETE", "zones/{zone_id}/ssl/certificate_packs/{certificate_pack_id}", delete_pack),
]
