"""Zone custom certificates (Custom SSL for a zone) and their priority.

Rules (Cloudflare's API reference "Re-prioritize SSL Certificates", operationId
custom-ssl-for-a-zone-re-prioritize-ssl-certificates, and "Certificate and hostname priority"):
* upload takes certificate and private_key (both required by the document), type legacy_custom
  (default) or sni_custom, bundle_method, geo_restrictions and policy; `policy` is answered as
  `policy_restrictions`; facts come from the PEM;
  # rule: zone-custom-upload-fields
* PATCH edits a legacy_custom certificate in place and keeps its id; PATCHing an sni_custom one
  returns a new id and deletes the previous one, as the document's PATCH description says (the new
  one gets the default priority and a new `uploaded_on`: a guess, unverified against the live API);
  # rule: legacy-custom-patch-keeps-id
  # rule: sni-custom-patch-new-id
* the default priority is 20 (the 2024 OpenAPI document) or 0 (newer generated schemas): Emulator(default_priority=...);
  # rule: default-priority
* an upload (POST, or PATCH with a certificate) must be trusted (trust.py): refused with 400 + 1411 otherwise;
  a new certificate without a key must reuse the stored key; the type cannot change (guess);
  # rule: uploads-must-be-trusted
  # rule: patch-certificate-reuses-key
  # rule: zone-custom-type-fixed
* `type` is stored but never answered: the document's certificate object has no `type`;
  # rule: zone-custom-no-type
* lists come in the order "Re-prioritize SSL Certificates" describes: legacy_custom first, then the lower
  priority number, then the older upload; PUT prioritize leaves certificates it does not name unchanged; which
  certificate the edge serves is history.py's `served()` ("Certificate and hostname priority");
  # rule: custom-cert-list-order
  # rule: prioritize-leaves-others
* PUT prioritize: `certificates` is required, and its items' `id` and `priority` are both optional (the document's
  request body, and `id: Optional[str]`, `priority: Optional[float]` of the official Python SDK's
  `custom_certificates.prioritize.update`). An item without `id` names nothing to reprioritise and is ignored; an
  item with an `id` but no `priority` leaves that certificate's priority unchanged (an unknown `id` is 404 all the
  same); both are unverified against the live API. A value of the wrong type (null included) is refused (400 + 1004);
  # rule: prioritize-items-optional
* a new or replaced certificate is pending for `delay` seconds, then active (expired once past expiry).
  # rule: status-progressions
* the history (history.py) records when each certificate is served; after a PATCH the previous
  certificate is served until the new one is active (a guess, unverified against the live API).
  # rule: zone-custom-patch-serves-previous
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from ..api import ApiError, Codes, Request, Route, check, invalid, new_id, not_found, optional, paginate, required, require_body, stage, success, whole
from ..certs import CertInfo, check_key, iso, parse_upload

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

TYPES = ("legacy_custom", "sni_custom")
BUNDLE_METHODS = ("ubiquitous", "optimal", "force")
GEO_LABELS = ("us", "eu", "highest_security")
STATUSES = ("active", "expired", "deleted", "pending", "initializing")
# The default `priority` of a new certificate: 20 in the 2024 OpenAPI document, 0 in newer generated schemas (the
# Terraform provider's). Emulator(default_priority=...) or EMULATOR_DEFAULT_PRIORITY picks one (state.default_priority).
DEFAULT_PRIORITY = 20


class CustomCert:
    def __init__(self, info: CertInfo, now: float, cert_type: str = "legacy_custom", cert_id: Optional[str] = None, priority: float = DEFAULT_PRIORITY) -> None:
        self.id = cert_id or new_id()
        self.info = info
        self.type = cert_type
        self.bundle_method = "ubiquitous"
        self.geo_restrictions: Optional[Dict[str, Any]] = None
        self.policy: Optional[str] = None
        self.priority: float = priority
        self.uploaded_on = self.modified_on = self.since = now
        self.frozen: Optional[str] = None

    def status(self, now: float, delay: float) -> str:
        if self.info.not_after <= now:
            return "expired"
        return self.frozen or stage(("pending", "active"), 0, self.since, now, delay)

    def view(self, zone: "Zone", now: float, delay: float) -> Dict[str, Any]:
        result = {
            "id": self.id,
            "zone_id": zone.id,
            "hosts": self.info.hosts,
            "issuer": self.info.issuer,
            "signature": self.info.signature,
            "status": self.status(now, delay),
            "bundle_method": self.bundle_method,
            "priority": self.priority,
            "expires_on": iso(self.info.not_after),
            "uploaded_on": iso(self.uploaded_on),
            "modified_on": iso(self.modified_on),
        }
        if self.geo_restrictions is not None:
            result["geo_restrictions"] = self.geo_restrictions
        if self.policy is not None:
            result["policy_restrictions"] = self.policy
        return result

    def dump(self, now: float, delay: float) -> Dict[str, Any]:
        spec = {
            "id": self.id,
            "certificate": self.info.pem,
            "type": self.type,
            "bundle_method": self.bundle_method,
            "priority": self.priority,
            "status": self.status(now, delay),
        }
        if self.geo_restrictions is not None:
            spec["geo_restrictions"] = self.geo_restrictions
        if self.policy is not None:
            spec["policy"] = self.policy
        return spec


def in_use_order(zone: "Zone") -> List[CustomCert]:
    """Certificates in the order they are used: legacy_custom first, then lower priority, then older."""
    return sorted(zone.custom_certs.values(), key=lambda c: (c.type != "legacy_custom", c.priority, c.uploaded_on, c.id))


def find(zone: "Zone", cert_id: str) -> CustomCert:
    found = zone.custom_certs.get(cert_id)
    if found is None:
        raise not_found("custom certificate")
    return found


def _options(cert: CustomCert, body: Dict[str, Any]) -> None:
    """Apply bundle_method, geo_restrictions and policy when sent."""
    bundle_method = optional(body, "bundle_method", "string", choices=BUNDLE_METHODS)
    geo = optional(body, "geo_restrictions", "object")
    if geo is not None:
        optional(geo, "label", "string", "geo_restrictions.", choices=GEO_LABELS)
    policy = optional(body, "policy", "string")
    cert.bundle_method = bundle_method or cert.bundle_method
    cert.geo_restrictions = geo if geo is not None else cert.geo_restrictions
    cert.policy = policy if policy is not None else cert.policy


def list_certs(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    req.query.enum("match", ("any", "all"))
    wanted, now = req.query.enum("status", STATUSES), state.now()
    items = [c for c in in_use_order(zone) if wanted in (None, c.status(now, state.delay))]
    page, info = paginate(items, req.query, 20, 5, 50)
    return 200, success([c.view(zone, now, state.delay) for c in page], info)


def upload_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    info = parse_upload(required(body, "certificate", "string"), required(body, "private_key", "string"), now)
    cert = CustomCert(info, now, optional(body, "type", "string", choices=TYPES) or "legacy_custom", priority=state.default_priority)
    _options(cert, body)
    state.trust.check(info, cert.bundle_method, now)
    zone.custom_certs[cert.id] = cert
    state.history.zone_cert(zone, cert, now + state.delay)  # served once pending is over
    return 200, success(cert.view(zone, now, state.delay))


def get_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    return 200, success(find(zone, req.params["custom_certificate_id"]).view(zone, state.now(), state.delay))


def edit_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    cert, body, now = find(zone, req.params["custom_certificate_id"]), require_body(req.body), state.now()
    if "type" in body and body["type"] != cert.type:
        raise invalid("the type of a custom certificate cannot be changed; upload a new one")  # guess
    pem, key = optional(body, "certificate", "string"), optional(body, "private_key", "string")
    old_id = cert.id
    if pem is not None:
        info = parse_upload(pem, key, now)
        if key is None and info.public_key != cert.info.public_key:
            raise ApiError(400, Codes.KEY_MISMATCH, "The new certificate does not match the stored private key; send private_key too.")
        state.trust.check(info, optional(body, "bundle_method", "string", choices=BUNDLE_METHODS) or cert.bundle_method, now)
        info.private_key = info.private_key or cert.info.private_key  # the same key pair: the edge keeps serving with it
        cert.info, cert.since, cert.frozen = info, now, None
    elif key is not None:
        check_key(cert.info, key)
    _options(cert, body)
    cert.modified_on = now
    if cert.type == "sni_custom":
        # "PATCHing a configuration for sni_custom certificates will result in a new resource id being returned,
        # and the previous one being deleted." (the document's PATCH description)
        del zone.custom_certs[cert.id]
        cert.id, cert.priority, cert.uploaded_on = new_id(), state.default_priority, now
        zone.custom_certs[cert.id] = cert
    if old_id != cert.id or pem is not None:
        # The previous certificate is served until the new one is deployed, as for custom hostnames (a guess).
        at = max(now, cert.since + state.delay)
        state.history.zone_cert_end(old_id, at)
        if cert.frozen is None:
            state.history.zone_cert(zone, cert, at)
    return 200, success(cert.view(zone, now, state.delay))


def delete_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    cert = find(zone, req.params["custom_certificate_id"])
    del zone.custom_certs[cert.id]
    state.history.zone_cert_end(cert.id, state.now())
    return 200, success({"id": cert.id})


def prioritize(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body = require_body(req.body)
    changes = []
    for item in required(body, "certificates", "array"):
        check(item, "certificates[]", "object")
        cert_id = optional(item, "id", "string", "certificates[].", max_len=32)
        priority = optional(item, "priority", "number", "certificates[].")
        if cert_id is None:  # names no certificate: nothing to reprioritise (unverified against the live API)
            continue
        cert = find(zone, cert_id)
        if priority is not None:  # without a priority the certificate keeps its own (unverified against the live API)
            changes.append((cert, priority))
    now = state.now()
    for cert, priority in changes:
        if cert.priority != priority:
            cert.priority = priority
            if cert.frozen is None:
                state.history.zone_cert(zone, cert, now)
    items = [c.view(zone, now, state.delay) for c in in_use_order(zone)]
    return 200, success(items, whole(items))


def seed(state: "State", zone: "Zone", spec: Dict[str, Any]) -> CustomCert:
    now = state.now()
    cert = CustomCert(state.seed_certificate(spec), now, spec.get("type", "legacy_custom"), spec.get("id"))
    # A seed may date its upload (Unix time), as a zone's long-standing certificate has an old uploaded_on.
    cert.uploaded_on = cert.modified_on = float(spec.get("uploaded_on", now))
    _options(cert, spec)
    cert.priority = spec.get("priority", state.default_priority)
    status = spec.get("status", "active")
    if status == "active":
        cert.since = now - state.delay
    elif status not in ("pending", "expired"):
        cert.frozen = status
    zone.custom_certs[cert.id] = cert
    if cert.frozen is None:
        state.history.zone_cert(zone, cert, cert.since + state.delay)
    return cert


ROUTES = [
    Route("GET", "zones/{zone_id}/custom_certificates", list_certs),
    Route("POST", "zones/{zone_id}/custom_certificates", upload_cert),
    Route("PUT", "zones/{zone_id}/custom_certificates/prioritize", prioritize),
    Route("GET", "zones/{zone_id}/custom_certificates/{custom_certificate_id}", get_cert),
    Route("PATCH", "zones/{zone_id}/custom_certificates/{custom_certificate_id}", edit_cert),
    Route("DELETE", "zones/{zone_id}/custom_certificates/{custom_certificate_id}", delete_cert),
]
