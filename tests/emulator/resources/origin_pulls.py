"""Per-hostname authenticated origin pulls: client certificates and hostname associations.

Rules (Cloudflare's API reference "List Certificates" of per-hostname authenticated origin pulls, operationId
per-hostname-authenticated-origin-pull-list-certificates, and the association list's `status` parameter):
* at most 10 certificates per zone, those in pending_deletion included;
  # rule: aop-ten-certificates-per-zone
* certificates go initializing -> pending_deployment -> active, each for `delay` seconds;
  a deleted one is pending_deletion for `delay`, then gone;
  # rule: status-progressions
* associations are set with PUT .../hostnames {config: [{hostname, cert_id, enabled}]}, `enabled: null`
  removes one (pending_deletion, then gone); they go pending_deployment -> active;
  # rule: aop-associations-put
* at most 100 associations on one certificate: "100 maximum associations on a single certificate are allowed"
  ("Enable or Disable a Hostname for Client Authentication", operationId
  per-hostname-authenticated-origin-pull-enable-or-disable-a-hostname-for-client-authentication). Counted after the
  whole PUT: the certificate's associations not being removed (enabled true or false), plus those the PUT moves to it,
  minus those it moves away or removes. A PUT that would leave a certificate it adds a hostname to with more than 100
  is refused as a whole (400 + 1408); the code and message are guesses, unverified against the live API;
  # rule: aop-hundred-associations
* a certificate a hostname still uses cannot be deleted: invalidate the hostname first;
  # rule: aop-certificate-in-use
* the association list shows active ones unless asked for other statuses or `all`.
  # rule: aop-list-active-unless-status
* the history (history.py) records which certificate each hostname presents to the origin; a moved
  association presents the previous certificate until the move is deployed (a guess, unverified).
  # rule: association-move-presents-previous
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..api import ApiError, Codes, Request, Route, check, hostname, invalid, new_id, not_found, paginate, required, require_body, stage, success, whole
from ..certs import CertInfo, cert_view, iso, parse_upload

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

MAX_CERTS = 10
MAX_ASSOCIATIONS = 100  # per certificate
CERT_STAGES = ("initializing", "pending_deployment", "active")
ASSOC_STAGES = ("pending_deployment", "active")
ASSOC_STATUSES = ("active", "pending_deployment", "pending_deletion", "deleted", "deployment_timed_out", "deletion_timed_out")


def _status(stages, start: int, since: float, removed_at: Optional[float], frozen: Optional[str], now: float, delay: float) -> str:
    if removed_at is not None:
        return "pending_deletion" if now < removed_at + delay else "deleted"
    return frozen or stage(stages, start, since, now, delay)


class ClientCert:
    stages = CERT_STAGES

    def __init__(self, info: CertInfo, now: float, cert_id: Optional[str] = None) -> None:
        self.id = cert_id or new_id()
        self.info = info
        self.uploaded_on = now
        self.start = 0
        self.frozen: Optional[str] = None
        self.deleted_at: Optional[float] = None

    def status(self, now: float, delay: float) -> str:
        return _status(self.stages, self.start, self.uploaded_on, self.deleted_at, self.frozen, now, delay)

    def view(self, now: float, delay: float) -> Dict[str, Any]:
        return dict(cert_view(self.info), id=self.id, certificate=self.info.pem, status=self.status(now, delay), uploaded_on=iso(self.uploaded_on))


class Association:
    def __init__(self, name: str, cert_id: str, enabled: bool, now: float) -> None:
        self.hostname = name
        self.cert_id = cert_id
        self.enabled: Optional[bool] = enabled
        self.created_at = self.updated_at = now
        self.start = 0
        self.frozen: Optional[str] = None
        self.removed_at: Optional[float] = None

    def status(self, now: float, delay: float) -> str:
        return _status(ASSOC_STAGES, self.start, self.updated_at, self.removed_at, self.frozen, now, delay)

    def view(self, zone: "Zone", now: float, delay: float) -> Dict[str, Any]:
        result = {
            "hostname": self.hostname,
            "cert_id": self.cert_id,
            "enabled": self.enabled,
            "status": self.status(now, delay),
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        cert = zone.client_certs.get(self.cert_id)
        if cert is not None:
            result.update(
                cert_view(cert.info),
                certificate=cert.info.pem,
                cert_status=cert.status(now, delay),
                cert_uploaded_on=iso(cert.uploaded_on),
                cert_updated_at=iso(cert.uploaded_on),
            )
        return result


def purge(zone: "Zone", now: float, delay: float) -> None:
    """Forget what finished its deletion."""
    for cert_id in [k for k, c in zone.client_certs.items() if c.status(now, delay) == "deleted"]:
        del zone.client_certs[cert_id]
    for name in [k for k, a in zone.associations.items() if a.status(now, delay) == "deleted"]:
        del zone.associations[name]


def _live_association(zone: "Zone", name: str) -> Optional[Association]:
    found = zone.associations.get(name)
    return found if found is not None and found.removed_at is None else None


# -- certificates ---------------------------------------------------------------------------


def find_cert(zone: "Zone", cert_id: str) -> ClientCert:
    found = zone.client_certs.get(cert_id)
    if found is None:
        raise not_found("hostname client certificate")
    return found


def list_certs(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    items = [c.view(now, state.delay) for c in zone.client_certs.values()]
    return 200, success(items, whole(items))


def upload_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    info = parse_upload(required(body, "certificate", "string"), required(body, "private_key", "string"), now)
    purge(zone, now, state.delay)
    if len(zone.client_certs) >= MAX_CERTS:
        raise ApiError(400, Codes.QUOTA, "You have reached the limit of %d hostname client certificates for this zone." % MAX_CERTS)
    cert = ClientCert(info, now)
    zone.client_certs[cert.id] = cert
    return 200, success(cert.view(now, state.delay))


def get_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    return 200, success(find_cert(zone, req.params["certificate_id"]).view(now, state.delay))


def delete_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    cert = find_cert(zone, req.params["certificate_id"])
    users = sorted(a.hostname for a in zone.associations.values() if a.cert_id == cert.id and a.removed_at is None)
    if users:
        raise ApiError(400, Codes.IN_USE, "The certificate is in use by %s; invalidate the hostname first (PUT enabled: null)." % ", ".join(users))
    if cert.deleted_at is None:
        cert.deleted_at = now
    return 200, success(cert.view(now, state.delay))


# -- associations ---------------------------------------------------------------------------


def put_associations(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    purge(zone, now, state.delay)
    config = required(body, "config", "array")
    items: List[Tuple[str, Optional[str], Optional[bool]]] = []
    for item in config:
        check(item, "config[]", "object")
        name = hostname(required(item, "hostname", "string", "config[]."))
        if "enabled" not in item:
            raise invalid("config[].enabled is required: true, false, or null to remove the association")  # guess
        enabled = check(item["enabled"], "config[].enabled", "boolean", nullable=True)
        cert_id = check(item["cert_id"], "config[].cert_id", "string", max_len=36) if item.get("cert_id") is not None else None
        if enabled is not None:
            if cert_id is None:
                raise invalid("config[].cert_id is required unless enabled is null")
            if find_cert(zone, cert_id).deleted_at is not None:
                raise ApiError(400, Codes.BAD_STATE, "Certificate %s is being deleted." % cert_id)
        if any(name == other[0] for other in items):
            raise invalid("hostname %s appears more than once in config" % name)
        items.append((name, cert_id, enabled))
    _check_association_limit(zone, items)
    results = [_apply(state, zone, name, cert_id, enabled, now) for name, cert_id, enabled in items]
    return 200, success(results)


def _check_association_limit(zone: "Zone", items: List[Tuple[str, Optional[str], Optional[bool]]]) -> None:
    """Refuse a PUT that leaves a certificate it adds a hostname to with more than MAX_ASSOCIATIONS associations."""
    after = {name: a.cert_id for name, a in zone.associations.items() if a.removed_at is None}
    gaining = set()
    for name, cert_id, enabled in items:
        if enabled is None:
            after.pop(name, None)
            continue
        if after.get(name) != cert_id:
            gaining.add(cert_id)
        after[name] = cert_id
    for cert_id in sorted(c for c in gaining if c is not None):
        count = sum(1 for held in after.values() if held == cert_id)
        if count > MAX_ASSOCIATIONS:
            raise ApiError(
                400,
                Codes.QUOTA,
                "At most %d hostnames can be associated with one certificate; certificate %s would have %d." % (MAX_ASSOCIATIONS, cert_id, count),
            )


def _apply(state: "State", zone: "Zone", name: str, cert_id: Optional[str], enabled: Optional[bool], now: float) -> Dict[str, Any]:
    """Apply one config item; return the association as the answer shows it."""
    live = _live_association(zone, name)
    if enabled is None:
        if live is None:  # nothing to remove
            return {"hostname": name, "cert_id": cert_id, "enabled": None, "status": "deleted"}
        live.enabled, live.removed_at, live.updated_at = None, now, now
        state.history.unassociate(zone.id, name, now)
    elif live is None or live.cert_id != cert_id or live.enabled != enabled:
        live = live or Association(name, cert_id, enabled, now)
        live.cert_id, live.enabled, live.updated_at, live.frozen, live.start = cert_id, enabled, now, None, 0
        zone.associations[name] = live
        if enabled:  # the previous certificate is presented until this one is deployed
            state.history.associate(zone.id, name, cert_id, zone.client_certs[cert_id].info, now + state.delay)
        else:
            state.history.unassociate(zone.id, name, now)
    return live.view(zone, now, state.delay)


def list_associations(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    wanted = set((req.query.get("status") or "active").split(","))
    if not wanted <= set(ASSOC_STATUSES + ("all",)):
        raise invalid("status must be a comma-separated list of %s, or all" % ", ".join(ASSOC_STATUSES))
    items = [a for a in zone.associations.values() if "all" in wanted or a.status(now, state.delay) in wanted]
    page, info = paginate(items, req.query, 50, 1, 1000)
    return 200, success([a.view(zone, now, state.delay) for a in page], info)


def get_association(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    found = _live_association(zone, req.params["hostname"].lower())
    if found is None:
        raise not_found("hostname association")
    return 200, success(found.view(zone, now, state.delay))


# -- seeding --------------------------------------------------------------------------------


def seed_cert(state: "State", zone: "Zone", spec: Dict[str, Any]) -> ClientCert:
    cert = ClientCert(state.seed_certificate(spec), state.now(), spec.get("id"))
    status = spec.get("status", "active")
    if status in CERT_STAGES:
        cert.start = CERT_STAGES.index(status)
    elif status == "pending_deletion":
        cert.deleted_at = state.now()
    else:
        cert.frozen = status
    zone.client_certs[cert.id] = cert
    return cert


def seed_association(state: "State", zone: "Zone", spec: Dict[str, Any]) -> Association:
    found = find_cert(zone, spec["cert_id"])
    assoc = Association(hostname(spec["hostname"]), found.id, spec.get("enabled", True), state.now())
    status = spec.get("status", "active")
    if status in ASSOC_STAGES:
        assoc.start = ASSOC_STAGES.index(status)
    else:
        assoc.frozen = status
    zone.associations[assoc.hostname] = assoc
    if assoc.enabled and assoc.frozen is None:
        state.history.associate(zone.id, assoc.hostname, found.id, found.info, state.now() + state.delay * (1 - assoc.start))
    return assoc


def dump(zone: "Zone", now: float, delay: float) -> Dict[str, Any]:
    purge(zone, now, delay)
    return {
        "hostname_client_certs": [{"id": c.id, "certificate": c.info.pem, "status": c.status(now, delay)} for c in zone.client_certs.values()],
        "hostname_associations": [
            {"hostname": a.hostname, "cert_id": a.cert_id, "enabled": a.enabled, "status": a.status(now, delay)}
            for a in zone.associations.values()
            if a.removed_at is None
        ],
    }


ROUTES = [
    Route("GET", "zones/{zone_id}/origin_tls_client_auth/hostnames/certificates", list_certs),
    Route("POST", "zones/{zone_id}/origin_tls_client_auth/hostnames/certificates", upload_cert),
    Route("GET", "zones/{zone_id}/origin_tls_client_auth/hostnames/certificates/{certificate_id}", get_cert),
    Route("DELETE", "zones/{zone_id}/origin_tls_client_auth/hostnames/certificates/{certificate_id}", delete_cert),
    Route("PUT", "zones/{zone_id}/origin_tls_client_auth/hostnames", put_associations),
    Route("GET", "zones/{zone_id}/origin_tls_client_auth/hostnames", list_associations),
    Route("GET", "zones/{zone_id}/origin_tls_client_auth/hostnames/{hostname}", get_association),
]
