"""Custom hostnames and the custom certificates of their certificate pack (`ssl.id`).

Rules (Cloudflare's API reference pages "Replace Custom Certificate and Custom Key In Custom Hostname", "Delete Single
Certificate And Key For Custom Hostname" and "Edit Custom Hostname", operationIds
custom-hostname-for-a-zone-edit-custom-certificate-custom-hostname and custom-hostname-for-a-zone-edit-custom-hostname):
* a pack holds at most one RSA and one ECDSA certificate; PUT replaces "a single custom certificate within a
  certificate pack that contains two bundled certificates", RSA only with RSA and ECDSA only with ECDSA: on a pack
  holding one certificate it is refused, 400 + 1405 (the refusal and the code are guesses, unverified against the live
  API); DELETE refuses to remove the last certificate;
* `ssl.certificates[]` carries the fields cloudflare-go's (v0) `CustomHostnameSSLCertificates` declares (id, issuer,
  serial_number, signature, expires_on, issued_on, fingerprint_sha256) and no key type;
* the list's `hostname` filter is an exact match; State.hostname_filter "contains" (the admin API's hostname-filter
  switch) makes it match every name containing the value, as newer SDKs' `hostname.contain` would;
* PATCH replaces the stored SSL configuration with the one sent, except `method`, which is kept when
  none is sent, and keeps the custom certificates unless custom_certificate/custom_key/custom_cert_bundle
  are sent; a one-item custom_cert_bundle is bundled with the existing certificate of the other key type,
  two items replace the pack; without custom certificates a PATCH (also one equal to the stored config)
  restarts validation;
* a PATCH sending `method` to a hostname that holds custom certificates, without new ones, moves it to a
  Cloudflare certificate (Cloudflare's "Manage custom certificates", "Move to a Cloudflare certificate"): a
  managed certificate goes through validation (pending_validation, ..., active) while the custom ones are
  still served, and once it is active the custom certificates are removed and the managed one is served;
  the status answered meanwhile is the managed certificate's (a guess, unverified against the live API);
* custom_cert_bundle (two items, or one joining the other key type) needs bundle_method `force`
  ("Use certificate packs: RSA and ECDSA" says to set it); otherwise 400 + 1412 (enforcement and code
  unverified against the live API);
* every uploaded certificate must be trusted (trust.py): 400 + 1411 otherwise;
* custom_origin_server must be a hostname, custom_origin_sni a hostname or ':request_host_header:';
* a hostname without custom certificates answers `dcv_delegation_records` ("Edit Custom Hostname"), and its
  validation records while pending_validation or validation_timed_out;
* a new set of custom certificates is pending_deployment for `delay` seconds, and until then the
  previous set is what the hostname serves (see history.py).
"""

from __future__ import annotations

import uuid
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
from ..certs import CertInfo, cert_view, iso, parse_upload
from ..history import MANAGED

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

MANAGED_STAGES = ("initializing", "pending_validation", "pending_issuance", "pending_deployment", "active")
HOSTNAME_STAGES = ("pending", "active")
METHODS = ("http", "txt", "email")
BUNDLE_METHODS = ("ubiquitous", "optimal", "force")
CERTIFICATE_AUTHORITIES = ("digicert", "google", "lets_encrypt", "ssl_com")
ON_OFF = ("on", "off")
TLS_VERSIONS = ("1.0", "1.1", "1.2", "1.3")
EXTRA_FIELDS = ("custom_metadata", "custom_origin_server", "custom_origin_sni")
REQUEST_HOST_HEADER = ":request_host_header:"  # custom_origin_sni: send the request's Host header as SNI ("Edit Custom Hostname")


class PackCert:
    """One custom certificate in a hostname's certificate pack."""

    def __init__(self, info: CertInfo, uploaded_on: float, cert_id: Optional[str] = None) -> None:
        self.id = cert_id or new_id()
        self.info = info
        self.uploaded_on = uploaded_on

    def view(self) -> Dict[str, Any]:
        # The fields of cloudflare-go's (v0) `CustomHostnameSSLCertificates`, no more: no key type (kept in `info` only).
        view = {"id": self.id}
        view.update(cert_view(self.info), issued_on=iso(self.info.not_before), fingerprint_sha256=self.info.fingerprint_sha256)
        return view


def default_config() -> Dict[str, Any]:
    return {"method": None, "type": "dv", "settings": {}, "bundle_method": "ubiquitous", "wildcard": False, "certificate_authority": None}


class CustomHostname:
    def __init__(self, zone_id: str, name: str, now: float, hostname_id: Optional[str] = None) -> None:
        self.id = hostname_id or new_id()
        self.zone_id = zone_id
        self.hostname = name
        self.created_at = now
        self.extra: Dict[str, Any] = {}
        self.config = default_config()
        self.pack_id = new_id()
        self.certs: List[PackCert] = []
        self.deploy_at: Optional[float] = None  # when `certs` start being served
        self.served: Any = None  # what the hostname serves: a list of PackCert, MANAGED or None
        self.stage_start, self.stage_since = 0, now  # progression of a Cloudflare-managed certificate
        self.frozen_status: Optional[str] = None  # a seeded status that does not progress
        self.moving = False  # moving from custom certificates to a Cloudflare-managed one ("Move to a Cloudflare certificate")
        self.hostname_status: Optional[str] = None  # a seeded hostname status that does not progress
        self.token = str(uuid.uuid4())

    # -- status and serving ------------------------------------------------------------------

    def ssl_status(self, now: float, delay: float) -> str:
        if self.certs and not self.moving:
            return "pending_deployment" if self.deploy_at is not None and now < self.deploy_at else "active"
        return self.frozen_status or stage(MANAGED_STAGES, self.stage_start, self.stage_since, now, delay)

    def settle(self, state: "State", now: float) -> None:
        """Record in the history what became served up to `now`."""
        if self.certs and self.deploy_at is not None and now >= self.deploy_at:
            self.served = list(self.certs)
            state.history.serve(self.zone_id, self.id, self.hostname, self.deploy_at, [c.info for c in self.certs])
            self.deploy_at = None
        if self.moving and self.certs and self.deploy_at is None and self.frozen_status is None:
            at = reached_at(MANAGED_STAGES, self.stage_start, self.stage_since, state.delay)
            if now >= at:
                # The managed certificate is active: "Cloudflare will remove the old custom certificate and begin serving the new one".
                self.certs, self.moving, self.served = [], False, MANAGED
                state.history.serve(self.zone_id, self.id, self.hostname, at, MANAGED)
        elif not self.certs and self.served is None and self.ssl_status(now, state.delay) == "active":
            self.served = MANAGED
            at = reached_at(MANAGED_STAGES, self.stage_start, self.stage_since, state.delay)
            state.history.serve(self.zone_id, self.id, self.hostname, min(at, now), MANAGED)

    def set_certs(self, state: "State", certs: List[PackCert], now: float, new_pack: bool) -> None:
        self.settle(state, now)
        self.certs = certs
        self.frozen_status = None
        if new_pack:
            self.moving = False  # a new set of custom certificates ends a move (a guess, unverified against the live API)
        self.deploy_at = now + state.delay
        if new_pack:
            self.pack_id = new_id()
        self.settle(state, now)

    def restart_validation(self, now: float) -> None:
        self.frozen_status = None
        self.stage_start, self.stage_since = 1, now

    def start_move(self, state: "State", now: float) -> None:
        """Start moving to a Cloudflare-managed certificate; the custom ones are served until it is active."""
        self.settle(state, now)
        self.moving = True
        self.restart_validation(now)
        self.settle(state, now)

    # -- views -------------------------------------------------------------------------------

    def view(self, state: "State", now: float) -> Dict[str, Any]:
        self.settle(state, now)  # a completed move removes the custom certificates
        status = self.ssl_status(now, state.delay)
        ssl = {k: v for k, v in self.config.items() if v is not None}
        ssl.update(id=self.pack_id, status=status)
        if self.certs:
            first = self.certs[0]
            ssl.update(cert_view(first.info), custom_certificate=first.info.pem, hosts=first.info.hosts, uploaded_on=iso(first.uploaded_on))
            ssl["certificates"] = [c.view() for c in self.certs]
            if self.moving and status in ("pending_validation", "validation_timed_out"):
                ssl["validation_records"] = [self._validation_record()]
        else:
            # DCV delegation: a CNAME the customer may publish once so that Cloudflare validates every renewal itself.
            delegation = {"cname": "_acme-challenge." + self.hostname, "cname_target": "%s.%s.dcv.cloudflare.com" % (self.hostname, self.id)}
            ssl["dcv_delegation_records"] = [dict(delegation, status="active" if status == "active" else "pending")]
            if status in ("pending_validation", "validation_timed_out"):
                ssl["validation_records"] = [self._validation_record()]
            if status == "validation_timed_out":
                ssl["validation_errors"] = [{"message": "The validation record was not found before the validation timed out."}]
        host_status = self.hostname_status or stage(HOSTNAME_STAGES, 0, self.created_at, now, state.delay)
        result = {
            "id": self.id,
            "hostname": self.hostname,
            "created_at": iso(self.created_at),
            "status": host_status,
            "ssl": ssl,
            "ownership_verification": {"type": "txt", "name": "_cf-custom-hostname." + self.hostname, "value": self.token},
            "ownership_verification_http": {
                "http_url": "http://%s/.well-known/cf-custom-hostname-challenge/%s" % (self.hostname, self.id),
                "http_body": self.token,
            },
        }
        if host_status == "pending":
            result["verification_errors"] = [
                "None of the A or AAAA records are owned by this account and the pre-generated ownership verification token was not found."
            ]
        result.update(self.extra)
        return result

    def _validation_record(self) -> Dict[str, Any]:
        method = self.config.get("method") or "http"
        if method == "txt":
            return {"status": "pending", "txt_name": "_acme-challenge." + self.hostname, "txt_value": self.token.replace("-", "")}
        if method == "email":
            return {"status": "pending", "emails": ["administrator@" + self.hostname, "webmaster@" + self.hostname]}
        return {
            "status": "pending",
            "http_url": "http://%s/.well-known/pki-validation/%s.txt" % (self.hostname, self.token),
            "http_body": self.token.replace("-", ""),
        }

    def dump(self, state: "State", now: float) -> Dict[str, Any]:
        self.settle(state, now)
        ssl = {k: v for k, v in self.config.items() if v is not None}
        ssl.update(id=self.pack_id, status=self.ssl_status(now, state.delay))
        spec = {
            "id": self.id,
            "hostname": self.hostname,
            "ssl": ssl,
            "status": self.hostname_status or stage(HOSTNAME_STAGES, 0, self.created_at, now, state.delay),
        }
        spec["certificates"] = [{"id": c.id, "certificate": c.info.pem} for c in self.certs]
        spec.update(self.extra)
        return spec


# -- request parsing ------------------------------------------------------------------------


def parse_ssl(value: Any, now: float, stored_method: Optional[str] = None) -> Tuple[Dict[str, Any], Optional[List[PackCert]], bool]:
    """The SSL configuration sent, the certificates sent (None if none) and whether they came as a bundle.

    A `method` not sent is `stored_method` (PATCH keeps the stored one).
    """
    ssl = check(value, "ssl", "object")
    config = default_config()
    config["method"] = optional(ssl, "method", "string", "ssl.", choices=METHODS) if "method" in ssl else stored_method
    config["type"] = optional(ssl, "type", "string", "ssl.", choices=("dv",)) or "dv"
    config["bundle_method"] = optional(ssl, "bundle_method", "string", "ssl.", choices=BUNDLE_METHODS) or "ubiquitous"
    config["wildcard"] = bool(optional(ssl, "wildcard", "boolean", "ssl."))
    config["certificate_authority"] = optional(ssl, "certificate_authority", "string", "ssl.", choices=CERTIFICATE_AUTHORITIES)
    config["settings"] = parse_settings(ssl.get("settings", {}))
    cert = optional(ssl, "custom_certificate", "string", "ssl.")
    key = optional(ssl, "custom_key", "string", "ssl.")
    bundle = optional(ssl, "custom_cert_bundle", "array", "ssl.")
    if (cert is None) != (key is None):
        raise invalid("ssl.custom_certificate and ssl.custom_key must be sent together")
    if cert is not None and bundle is not None:
        raise invalid("send either ssl.custom_certificate or ssl.custom_cert_bundle, not both")
    if bundle is not None:
        if not 1 <= len(bundle) <= 2:
            raise invalid("ssl.custom_cert_bundle must hold one or two items")
        pairs = []
        for item in bundle:
            check(item, "ssl.custom_cert_bundle[]", "object")
            where = "ssl.custom_cert_bundle[]."
            pairs.append((required(item, "custom_certificate", "string", where), required(item, "custom_key", "string", where)))
        return config, upload(pairs, now), True
    return config, (upload([(cert, key)], now) if cert is not None else None), False


def parse_settings(value: Any) -> Dict[str, Any]:
    settings = check(value, "ssl.settings", "object")
    ciphers = optional(settings, "ciphers", "array", "ssl.settings.")
    if ciphers is not None and (not all(isinstance(c, str) for c in ciphers) or len(set(ciphers)) != len(ciphers)):
        raise invalid("ssl.settings.ciphers must be a list of distinct strings")
    for key in ("early_hints", "http2", "tls_1_3"):
        optional(settings, key, "string", "ssl.settings.", choices=ON_OFF)
    optional(settings, "min_tls_version", "string", "ssl.settings.", choices=TLS_VERSIONS)
    return dict(settings)


def require_force(config: Dict[str, Any]) -> None:
    """custom_cert_bundle goes with bundle_method force ("Use certificate packs: RSA and ECDSA"; enforcement unverified)."""
    if config["bundle_method"] != "force":
        raise ApiError(
            400,
            Codes.FORCE_REQUIRED,
            "ssl.custom_cert_bundle requires ssl.bundle_method force (bundle_method is %s)." % config["bundle_method"],
        )


def upload(pairs: List[Tuple[str, str]], now: float) -> List[PackCert]:
    certs = [PackCert(parse_upload(cert, key, now), now) for cert, key in pairs]
    if len({c.info.key_type for c in certs}) != len(certs):
        raise ApiError(400, Codes.KEY_TYPE, "A certificate pack holds at most one RSA and one ECDSA certificate.")
    return certs


def parse_extra(body: Dict[str, Any]) -> Dict[str, Any]:
    """custom_metadata, custom_origin_server and custom_origin_sni, refused when "Edit Custom Hostname" says they are invalid.

    custom_origin_server must be a valid hostname; custom_origin_sni a hostname or the string
    ':request_host_header:'. That the origin server is a DNS record of the zone is not modelled.
    """
    extra = {}
    for key in EXTRA_FIELDS:
        if key in body:
            extra[key] = check(body[key], key, "object" if key == "custom_metadata" else "string")
    if "custom_origin_server" in extra:
        extra["custom_origin_server"] = hostname(extra["custom_origin_server"], "custom_origin_server")
    if extra.get("custom_origin_sni") not in (None, REQUEST_HOST_HEADER):
        extra["custom_origin_sni"] = hostname(extra["custom_origin_sni"], "custom_origin_sni")
    return extra


# -- handlers -------------------------------------------------------------------------------


def find(zone: "Zone", hostname_id: str) -> CustomHostname:
    found = zone.custom_hostnames.get(hostname_id)
    if found is None:
        raise not_found("custom hostname")
    return found


def list_hostnames(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    query, now = req.query, state.now()
    wanted_host, wanted_id = query.get("hostname"), query.get("id")
    if wanted_host is not None and wanted_id is not None:
        raise invalid("hostname and id cannot be used together")
    query.enum("order", ("ssl", "ssl_status"))
    direction = query.enum("direction", ("asc", "desc"))
    ssl_filter = query.enum("ssl", ("0", "1"), "0")
    items = list(zone.custom_hostnames.values())
    if wanted_host is not None:
        wanted = wanted_host.lower().rstrip(".")
        if state.hostname_filter == "contains":  # the loose mode of the admin API, for tests of lookups by name
            items = [h for h in items if wanted in h.hostname]
        else:
            items = [h for h in items if h.hostname == wanted]  # exact match
    if wanted_id is not None:
        items = [h for h in items if h.id == wanted_id]
    if ssl_filter == "1":
        items = [h for h in items if h.ssl_status(now, state.delay) == "active"]
    if direction == "desc":
        items.reverse()
    page, info = paginate(items, query, 20, 5, 50)
    return 200, success([h.view(state, now) for h in page], info)


def create_hostname(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    name = hostname(required(body, "hostname", "string"))
    if any(h.hostname == name for h in zone.custom_hostnames.values()):
        raise ApiError(409, Codes.DUPLICATE, "Duplicate custom hostname found.")
    extra = parse_extra(body)
    config, certs, bundle = parse_ssl(body["ssl"], now) if "ssl" in body else (default_config(), None, False)
    if certs and bundle and len(certs) == 2:
        require_force(config)
    for cert in certs or ():
        state.trust.check(cert.info, config["bundle_method"], now)
    created = CustomHostname(zone.id, name, now)
    created.extra, created.config = extra, config
    if certs:
        created.set_certs(state, certs, now, new_pack=False)
    zone.custom_hostnames[created.id] = created
    return 200, success(created.view(state, now))


def get_hostname(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    return 200, success(find(zone, req.params["custom_hostname_id"]).view(state, state.now()))


def edit_hostname(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    found, body, now = find(zone, req.params["custom_hostname_id"]), require_body(req.body), state.now()
    extra = parse_extra(body)
    if "ssl" in body:
        found.settle(state, now)
        config, certs, bundle = parse_ssl(body["ssl"], now, stored_method=found.config.get("method"))
        others: List[PackCert] = []
        if certs is not None and bundle:
            if len(certs) == 1:
                others = [c for c in found.certs if c.info.key_type != certs[0].info.key_type]
                if not others:
                    raise ApiError(400, Codes.KEY_TYPE, "A one-item custom_cert_bundle needs an existing certificate of the other key type to bundle with.")
            require_force(config)
        for cert in certs or ():
            state.trust.check(cert.info, config["bundle_method"], now)
        if others:
            found.set_certs(state, others + certs, now, new_pack=False)
        elif certs is not None:
            found.set_certs(state, certs, now, new_pack=True)
        elif found.certs and "method" in body["ssl"]:
            found.start_move(state, now)
        elif not found.certs:
            found.restart_validation(now)
        found.config = config
    found.extra.update(extra)
    return 200, success(found.view(state, now))


def delete_hostname(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    found, now = find(zone, req.params["custom_hostname_id"]), state.now()
    found.settle(state, now)
    state.history.end(found.id, now)
    del zone.custom_hostnames[found.id]
    return 200, {"id": found.id}  # bare answer: the document's 200 response of "Delete Custom Hostname" holds only the id


def _pack_cert(zone: "Zone", req: Request) -> Tuple[CustomHostname, PackCert]:
    found = find(zone, req.params["custom_hostname_id"])
    if req.params["certificate_pack_id"] != found.pack_id:
        raise not_found("certificate pack")
    for cert in found.certs:
        if cert.id == req.params["certificate_id"]:
            return found, cert
    raise not_found("certificate")


def replace_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    found, old = _pack_cert(zone, req)
    body, now = require_body(req.body), state.now()
    pair = (required(body, "custom_certificate", "string"), required(body, "custom_key", "string"))
    if len(found.certs) < 2:
        # "Replace a single custom certificate within a certificate pack that contains two bundled certificates."
        raise ApiError(
            400, Codes.KEY_TYPE, "A single certificate can only be replaced within a certificate pack of two; edit the custom hostname to replace this one."
        )
    new = upload([pair], now)[0]
    if new.info.key_type != old.info.key_type:
        raise ApiError(
            400, Codes.KEY_TYPE, "An RSA certificate can only be replaced with an RSA certificate and an ECDSA certificate with an ECDSA certificate."
        )
    state.trust.check(new.info, found.config["bundle_method"], now)
    found.set_certs(state, [new if c is old else c for c in found.certs], now, new_pack=False)
    return 202, success(found.view(state, now))


def delete_cert(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    found, old = _pack_cert(zone, req)
    if len(found.certs) == 1:
        raise ApiError(400, Codes.LAST_CERTIFICATE, "You cannot delete the only remaining certificate in the pack.")
    found.set_certs(state, [c for c in found.certs if c is not old], state.now(), new_pack=False)
    return 202, {"id": old.id}  # bare answer, as "Delete Single Certificate And Key For Custom Hostname" shows


# -- seeding --------------------------------------------------------------------------------


def seed(state: "State", zone: "Zone", spec: Dict[str, Any], infos: Optional[List[CertInfo]] = None) -> CustomHostname:
    """Add a custom hostname from a seed entry (the format dump() writes).

    `infos`: its certificates already parsed, one per entry of `certificates` (State.add_custom_hostnames shares one).
    """
    now = state.now()
    created = CustomHostname(zone.id, hostname(spec["hostname"]), now, spec.get("id"))
    created.extra = {k: spec[k] for k in EXTRA_FIELDS if k in spec}
    ssl = dict(spec.get("ssl") or {})
    status = ssl.pop("status", None)
    created.pack_id = ssl.pop("id", None) or created.pack_id
    created.config.update({k: ssl[k] for k in created.config if k in ssl})
    if spec.get("status", "active") != "pending":
        created.hostname_status = spec.get("status", "active")
    if spec.get("certificates"):
        infos = infos or [state.seed_certificate(c, [created.hostname]) for c in spec["certificates"]]
        created.certs = [PackCert(info, now, c.get("id")) for info, c in zip(infos, spec["certificates"])]
        created.deploy_at = now + state.delay if status == "pending_deployment" else now
    elif status in MANAGED_STAGES:
        created.stage_start = MANAGED_STAGES.index(status)
    elif status is not None:
        created.frozen_status = status
    created.settle(state, now)
    zone.custom_hostnames[created.id] = created
    return created


ROUTES = [
    Route("GET", "zones/{zone_id}/custom_hostnames", list_hostnames),
    Route("POST", "zones/{zone_id}/custom_hostnames", create_hostname),
    Route("GET", "zones/{zone_id}/custom_hostnames/{custom_hostname_id}", get_hostname),
    Route("PATCH", "zones/{zone_id}/custom_hostnames/{custom_hostname_id}", edit_hostname),
    Route("DELETE", "zones/{zone_id}/custom_hostnames/{custom_hostname_id}", delete_hostname),
    Route("PUT", "zones/{zone_id}/custom_hostnames/{custom_hostname_id}/certificate_pack/{certificate_pack_id}/certificates/{certificate_id}", replace_cert),
    Route("DELETE", "zones/{zone_id}/custom_hostnames/{custom_hostname_id}/certificate_pack/{certificate_pack_id}/certificates/{certificate_id}", delete_cert),
]
