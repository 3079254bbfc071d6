"""Origin CA certificates: created from a CSR, signed by the emulator's Origin CA (origin_ca.py), listed by zone, revoked.

They belong to the account, not to a zone (the paths are /certificates); a certificate lists under each zone one of
its hostnames falls in. Rules (OpenAPI operations origin-ca-create-certificate, origin-ca-list-certificates,
origin-ca-get-certificate and origin-ca-revoke-certificate; the official Python SDK's `OriginCACertificate` and
`OriginCACertificateCreateParams`; "Origin CA certificates", https://developers.cloudflare.com/ssl/origin-configuration/origin-ca/):
* a POST needs `csr`, `hostnames` and `request_type` (origin-rsa, origin-ecc, keyless-certificate);
  `requested_validity` is one of 7, 30, 90, 365, 730, 1095, 5475 days, 5475 when left out;
  # rule: origin-ca-request
* each hostname is a name in one of the account's zones, or a `*.` wildcard of one level over a name of two labels
  or more (no `*.*.`, no interior `*`, no `*.com`); at most 200 of them; one outside every zone is refused
  (400 + 1010: the code and message are what users report, unverified against the live API);
  # rule: origin-ca-hostnames
* the CSR must parse, be signed by its key, and carry an RSA key of 2048 bits or more or an ECDSA P-256 or P-384
  key (the dashboard's key types, RSA and ECC; other keys refused with 1413, a guess). The certificate carries the
  CSR's key and the hostnames (as SANs), is signed by the root `request_type` names (the signature type, whatever the
  CSR's key) and expires `requested_validity` days from now;
  # rule: origin-ca-signing
* the id is the certificate's serial number (the SDK: "The x509 serial number"), here 32 hex digits, as every
  emulator id and the document's identifier (maxLength 32);
  # rule: origin-ca-id-is-serial
* the list needs `zone_id` (400 + 1012, the message users report), is paged with `page` and `per_page` (20 a page
  unless asked, at most 50: unverified), and holds revoked certificates too, with `revoked_at`;
  # rule: origin-ca-list
* DELETE revokes: `revoked_at` is set and the answer is `{"id": ...}` (the document's
  certificate_response_single_id); a revoked certificate still answers GET; revoking it again answers the same.
  # rule: origin-ca-revoke
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ..api import ApiError, Codes, Request, Route, check, hostname, invalid, new_id, not_found, paginate, required, require_body, success
from ..certs import iso

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

REQUEST_TYPES = ("origin-rsa", "origin-ecc", "keyless-certificate")
VALIDITIES = (7, 30, 90, 365, 730, 1095, 5475)
DEFAULT_VALIDITY = 5475
MAX_HOSTNAMES = 200
_CURVES = ("secp256r1", "secp384r1")


@dataclass
class OriginCert:
    id: str
    certificate: str
    csr: str
    hostnames: List[str]
    request_type: str
    requested_validity: int
    expires_on: float
    zone_ids: List[str] = field(default_factory=list)
    revoked_at: Optional[float] = None

    def view(self) -> Dict[str, Any]:
        result = {
            "id": self.id,
            "certificate": self.certificate,
            "csr": self.csr,
            "expires_on": iso(self.expires_on),
            "hostnames": list(self.hostnames),
            "request_type": self.request_type,
            "requested_validity": self.requested_validity,
        }
        if self.revoked_at is not None:
            result["revoked_at"] = iso(self.revoked_at)
        return result


def _csr_key(text: str) -> Any:
    """The public key of a PEM CSR, checked; ApiError 400 + 1413 otherwise."""
    if "-----BEGIN CERTIFICATE REQUEST-----" not in text:
        raise ApiError(400, Codes.BAD_CSR, "The CSR is not a PEM encoded certificate signing request.")
    try:
        csr = x509.load_pem_x509_csr(text.encode("ascii"))
        key = csr.public_key()
        signed = csr.is_signature_valid
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise ApiError(400, Codes.BAD_CSR, "The CSR could not be parsed.") from None
    if not signed:
        raise ApiError(400, Codes.BAD_CSR, "The CSR's signature does not verify with its key.")
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048:
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
        return key
    raise ApiError(400, Codes.BAD_CSR, "The CSR must carry an RSA key of at least 2048 bits or an ECDSA P-256 or P-384 key.")


def _zone_of(state: "State", name: str) -> Optional["Zone"]:
    """The most specific zone `name` (a `*.` wildcard counts as its base name) falls in."""
    base = name[2:] if name.startswith("*.") else name
    found = [z for z in state.zones.values() if base == z.name or base.endswith("." + z.name)]
    return max(found, key=lambda z: len(z.name)) if found else None


def _hostnames(state: "State", body: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    """The hostnames (lower-cased, in order, once each) and the ids of the zones they fall in."""
    values = required(body, "hostnames", "array")
    if not values:
        raise invalid("hostnames must hold at least one hostname")
    if len(values) > MAX_HOSTNAMES:
        raise invalid("hostnames may hold at most %d names" % MAX_HOSTNAMES)
    names: List[str] = []
    zone_ids: List[str] = []
    for value in values:
        name = hostname(value, "hostnames[]", wildcard=True)
        zone = _zone_of(state, name)
        if zone is None:
            raise ApiError(
                400,
                Codes.ORIGIN_CA_HOSTNAME,
                "Failed to validate requested hostname %s: This zone is either not part of your account, or you do not have access to it." % name,
            )
        if name not in names:
            names.append(name)
        if zone.id not in zone_ids:
            zone_ids.append(zone.id)
    return names, zone_ids


def create(state: "State", zone: Any, req: Request) -> Tuple[int, Any]:
    body, now = require_body(req.body), state.now()
    csr = required(body, "csr", "string")
    request_type = required(body, "request_type", "string", choices=REQUEST_TYPES)
    validity = body.get("requested_validity", DEFAULT_VALIDITY)
    check(validity, "requested_validity", "number", choices=VALIDITIES)
    names, zone_ids = _hostnames(state, body)
    key = _csr_key(csr)
    cert_id = new_id()
    while cert_id in state.origin_ca_certs or cert_id[0] == "0":  # a serial number's hex digits, without a leading zero
        cert_id = new_id()
    pem = state.origin_ca.sign(key, names, request_type, int(cert_id, 16), now, int(validity))
    info = x509.load_pem_x509_certificate(pem.encode("ascii"))
    cert = OriginCert(cert_id, pem, csr, names, request_type, int(validity), info.not_valid_after_utc.timestamp(), zone_ids)
    state.origin_ca_certs[cert.id] = cert
    return 200, success(cert.view())


def find(state: "State", cert_id: str) -> OriginCert:
    found = state.origin_ca_certs.get(cert_id)
    if found is None:
        raise not_found("Origin CA certificate")
    return found


def list_certs(state: "State", zone: Any, req: Request) -> Tuple[int, Any]:
    zone_id = req.query.get("zone_id")
    if not zone_id:
        raise ApiError(400, Codes.ORIGIN_CA_ZONE_REQUIRED, "Please provide a zone id when requesting a stored certificate, or fetch by serial number")
    state.zone(zone_id)
    items = [c for c in state.origin_ca_certs.values() if zone_id in c.zone_ids]
    page, info = paginate(items, req.query, 20, 1, 50)
    return 200, success([c.view() for c in page], info)


def get(state: "State", zone: Any, req: Request) -> Tuple[int, Any]:
    return 200, success(find(state, req.params["certificate_id"]).view())


def revoke(state: "State", zone: Any, req: Request) -> Tuple[int, Any]:
    cert = find(state, req.params["certificate_id"])
    if cert.revoked_at is None:
        cert.revoked_at = state.now()
    return 200, success({"id": cert.id})


ROUTES = [
    Route("GET", "certificates", list_certs, service_key=True),
    Route("POST", "certificates", create, service_key=True),
    Route("GET", "certificates/{certificate_id}", get, service_key=True),
    Route("DELETE", "certificates/{certificate_id}", revoke, service_key=True),
]
