"""Certificate facts the emulator derives from uploaded PEM, as Cloudflare does.

Conventions (unverified against the live API, stated in README.md):
issuer is the issuer's organizationName, else its commonName; signature reads like
"SHA256WithRSA" or "ECDSAWithSHA256"; serial_number is a decimal string; fingerprint_sha256 is
lowercase hex over the DER leaf; times are ISO 8601 UTC with a Z.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
from typing import List, Optional

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from .api import ApiError, Codes


def iso(ts: float) -> str:
    """Epoch seconds as ISO 8601 UTC with a Z (microseconds when there are any), like Cloudflare's timestamps."""
    moment = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    fraction = ".%06d" % moment.microsecond if moment.microsecond else ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def parse_iso(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class CertInfo:
    """What the emulator keeps of an uploaded certificate.

    `private_key` is kept in memory only, for the TLS edge (edge.py): no view, dump or journal entry holds it.
    """

    pem: str  # the whole upload: leaf first, then any intermediates
    leaf_pem: str
    issuer: str
    serial_number: str
    signature: str
    not_before: float
    not_after: float
    hosts: List[str]
    fingerprint_sha256: str
    key_type: str  # "rsa" or "ecdsa"
    public_key: bytes = field(repr=False)
    private_key: Optional[str] = field(default=None, repr=False, compare=False)
    served_pem: Optional[str] = field(default=None, repr=False, compare=False)  # the chain the edge sends; None: `pem`

    def covers(self, hostname: str) -> bool:
        return covers(self.hosts, hostname)


def covers(hosts: List[str], hostname: str) -> bool:
    """True when one of `hosts` matches `hostname`; a wildcard covers exactly one label."""
    hostname = hostname.lower().rstrip(".")
    for host in hosts:
        host = host.lower()
        if host == hostname:
            return True
        if host.startswith("*.") and "." in hostname and hostname.split(".", 1)[1] == host[2:]:
            return True
    return False


def _name_attr(name: x509.Name, oid) -> Optional[str]:
    attrs = name.get_attributes_for_oid(oid)
    return str(attrs[0].value) if attrs else None


_ECDSA_SIGNATURES = {
    SignatureAlgorithmOID.ECDSA_WITH_SHA1,
    SignatureAlgorithmOID.ECDSA_WITH_SHA224,
    SignatureAlgorithmOID.ECDSA_WITH_SHA256,
    SignatureAlgorithmOID.ECDSA_WITH_SHA384,
    SignatureAlgorithmOID.ECDSA_WITH_SHA512,
}
_RSA_SIGNATURES = {
    SignatureAlgorithmOID.RSA_WITH_SHA1,
    SignatureAlgorithmOID.RSA_WITH_SHA224,
    SignatureAlgorithmOID.RSA_WITH_SHA256,
    SignatureAlgorithmOID.RSA_WITH_SHA384,
    SignatureAlgorithmOID.RSA_WITH_SHA512,
}


def _signature_name(cert: x509.Certificate) -> str:
    digest = cert.signature_hash_algorithm.name.upper() if cert.signature_hash_algorithm else "NONE"
    oid = cert.signature_algorithm_oid
    if oid in _ECDSA_SIGNATURES:
        return "ECDSAWith" + digest
    if oid == SignatureAlgorithmOID.RSASSA_PSS:
        return digest + "WithRSAPSS"
    if oid in _RSA_SIGNATURES:
        return digest + "WithRSA"
    return digest + "With" + oid.dotted_string


def _key_type(public_key) -> str:
    if isinstance(public_key, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ecdsa"
    # Guess: Cloudflare accepts only RSA and ECDSA keys for these endpoints.
    raise ApiError(400, Codes.BAD_CERTIFICATE, "The certificate must carry an RSA or ECDSA public key.")


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def parse_certificate(pem: str) -> CertInfo:
    """Facts of the leaf (first certificate) of a PEM upload; ApiError 400 when it does not parse."""
    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        raise ApiError(400, Codes.BAD_CERTIFICATE, "The certificate is not a PEM encoded X.509 certificate.")
    try:
        chain = x509.load_pem_x509_certificates(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ApiError(400, Codes.BAD_CERTIFICATE, "The certificate could not be parsed.") from None
    leaf = chain[0]
    leaf_pem = leaf.public_bytes(serialization.Encoding.PEM).decode("ascii")
    try:
        sans = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        hosts = [h.lower() for h in sans.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        common_name = _name_attr(leaf.subject, NameOID.COMMON_NAME)
        hosts = [common_name.lower()] if common_name else []
    public_key = leaf.public_key()
    return CertInfo(
        pem="".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain),
        leaf_pem=leaf_pem,
        issuer=_name_attr(leaf.issuer, NameOID.ORGANIZATION_NAME) or _name_attr(leaf.issuer, NameOID.COMMON_NAME) or "",
        serial_number=str(leaf.serial_number),
        signature=_signature_name(leaf),
        not_before=leaf.not_valid_before_utc.timestamp(),
        not_after=leaf.not_valid_after_utc.timestamp(),
        hosts=hosts,
        fingerprint_sha256=hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
        key_type=_key_type(public_key),
        public_key=_spki(public_key),
    )


def check_key(info: CertInfo, key_pem: str) -> None:
    """ApiError 400 unless `key_pem` is an unencrypted private key matching the certificate."""
    if not isinstance(key_pem, str) or "PRIVATE KEY-----" not in key_pem:
        raise ApiError(400, Codes.BAD_KEY, "The private key is not a PEM encoded private key.")
    try:
        # Full RSA validation costs ~40 ms a key; comparing the public keys is the check we need.
        key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        raise ApiError(400, Codes.BAD_KEY, "The private key is encrypted; upload it unencrypted.") from None
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm):
        raise ApiError(400, Codes.BAD_KEY, "The private key could not be parsed.") from None
    if _spki(key.public_key()) != info.public_key:
        raise ApiError(400, Codes.KEY_MISMATCH, "The private key does not match the certificate.")


def parse_upload(cert_pem: str, key_pem: Optional[str], now: float) -> CertInfo:
    """Parse an upload, check its key (when given) and refuse an expired certificate."""
    info = parse_certificate(cert_pem)
    if key_pem is not None:
        check_key(info, key_pem)
        info.private_key = key_pem
    if info.not_after <= now:
        raise ApiError(400, Codes.CERT_EXPIRED, "The certificate has expired.")
    return info


def cert_view(info: CertInfo) -> dict:
    """The certificate facts shared by several result shapes."""
    return {
        "issuer": info.issuer,
        "serial_number": info.serial_number,
        "signature": info.signature,
        "expires_on": iso(info.not_after),
    }
