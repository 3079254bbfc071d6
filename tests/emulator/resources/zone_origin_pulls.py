"""Zone-level authenticated origin pulls: the zone's client certificates and the zone's enablement setting.

Modelled on the per-hostname ones (origin_pulls.py), whose status machinery it reuses. Rules (OpenAPI operations
zone-level-authenticated-origin-pulls-*; "Zone-level", https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/set-up/zone-level/):
* an upload needs `certificate` and `private_key` (the key must match; an expired certificate is refused; neither is
  checked against public trust, as for per-hostname client certificates); the key is never answered;
* a certificate goes pending_deployment -> active, a deleted one pending_deletion -> deleted -> gone, each step
  `delay` seconds (the status enum of the document; the timing is a guess); no limit on the count ("it is
  important to keep only one certificate active" is advice, not a refusal);
  # rule: zone-aop-certificates
* the setting `enabled` is false until a PUT sets it ("It is false by default", the GET's description); the PUT
  needs `enabled`, a boolean; each certificate answers the zone's setting as its `enabled` (the field of the
  document's zone-authenticated-origin-pull schema; that it mirrors the setting is unverified).
  # rule: zone-aop-setting
* what the edge presents to the origin follows history.py: a hostname's enabled association first, then, while the
  setting is on, the zone's active certificate, else Cloudflare's own.
  # rule: zone-aop-presented
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Tuple

from ..api import Request, Route, check, not_found, reached_at, require_body, required, success, whole
from ..certs import iso, parse_upload
from .origin_pulls import ClientCert

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

STAGES = ("pending_deployment", "active")


class ZoneCert(ClientCert):
    stages = STAGES

    def zone_view(self, zone: "Zone", now: float, delay: float) -> Dict[str, Any]:
        return {
            "id": self.id,
            "certificate": self.info.pem,
            "issuer": self.info.issuer,
            "signature": self.info.signature,
            "expires_on": iso(self.info.not_after),
            "status": self.status(now, delay),
            "uploaded_on": iso(self.uploaded_on),
            "enabled": zone.origin_pulls_enabled,
        }


def purge(zone: "Zone", now: float, delay: float) -> None:
    """Forget the certificates whose deletion is over."""
    for cert_id in [k for k, c in zone.zone_client_certs.items() if c.status(now, delay) == "deleted"]:
        del zone.zone_client_certs[cert_id]


def _find(zone: "Zone", cert_id: str) -> ZoneCert:
    found = zone.zone_client_certs.get(cert_id)
    if found is None:
        raise not_found("zone client certificate")
    return found


def list_certs(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    items = [c.zone_view(zone, now, state.delay) for c in zone.zone_client_certs.values()]
    return 200, success(items, whole(items))


def upload_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    info = parse_upload(required(body, "certificate", "string"), required(body, "private_key", "string"), now)
    purge(zone, now, state.delay)
    cert = ZoneCert(info, now)
    zone.zone_client_certs[cert.id] = cert
    state.history.zone_client_cert(zone, cert.id, info, now, reached_at(STAGES, 0, now, state.delay))
    return 200, success(cert.zone_view(zone, now, state.delay))


def get_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    return 200, success(_find(zone, req.params["certificate_id"]).zone_view(zone, now, state.delay))


def delete_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    now = state.now()
    purge(zone, now, state.delay)
    cert = _find(zone, req.params["certificate_id"])
    if cert.deleted_at is None:
        cert.deleted_at = now
        state.history.zone_client_cert_end(cert.id, now)
    return 200, success(cert.zone_view(zone, now, state.delay))


def get_setting(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    return 200, success({"enabled": zone.origin_pulls_enabled})


def put_setting(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body = require_body(req.body)
    zone.origin_pulls_enabled = check(required(body, "enabled", "boolean"), "enabled", "boolean")
    state.history.zone_pulls(zone, zone.origin_pulls_enabled, state.now())
    return 200, success({"enabled": zone.origin_pulls_enabled})


# After the per-hostname routes, and `settings` before `{certificate_id}`: literal paths are matched first.
ROUTES = [
    Route("GET", "zones/{zone_id}/origin_tls_client_auth/settings", get_setting),
    Route("PUT", "zones/{zone_id}/origin_tls_client_auth/settings", put_setting),
    Route("GET", "zones/{zone_id}/origin_tls_client_auth", list_certs),
    Route("POST", "zones/{zone_id}/origin_tls_client_auth", upload_cert),
    Route("GET", "zones/{zone_id}/origin_tls_client_auth/{certificate_id}", get_cert),
    Route("DELETE", "zones/{zone_id}/origin_tls_client_auth/{certificate_id}", delete_cert),
]
