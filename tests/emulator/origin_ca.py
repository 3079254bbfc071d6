"""The emulator's Origin CA: two throwaway roots, as Cloudflare has an RSA and an ECC Origin CA root.

`request_type` is the signature type of the certificate ("origin-rsa" (rsa), "origin-ecc" (ecdsa), the OpenAPI
schema `tls-certificates-and-hostnames_request_type`), so it picks the root that signs, whatever the CSR's key.
The roots are not publicly trusted, as Cloudflare's are not: they stay out of the test CA registry (trust.py), so
an Origin CA certificate uploaded as an edge certificate is refused. Tests trust them through the admin API
(`GET /__emulator/origin-ca`) or `Emulator.origin_ca_roots()`.
  # rule: origin-ca-roots
"""

from __future__ import annotations

import datetime
import threading
from typing import Any, Dict, List

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .testcerts import CA, make_ca

ORG = "Certops Emulator"
# keyless-certificate: which root signs it is not documented; the RSA one (unverified against the live API).
ROOT_OF = {"origin-rsa": "rsa", "origin-ecc": "ecc", "keyless-certificate": "rsa"}


class OriginCA:
    """The two roots, made on first use (an RSA key takes a moment)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._roots: Dict[str, CA] = {}

    def root(self, kind: str) -> CA:
        with self._lock:
            if kind not in self._roots:
                name = "Certops Emulator Origin %s Certificate Authority" % kind.upper()
                self._roots[kind] = make_ca(name, org=ORG, key_type="rsa" if kind == "rsa" else "ecdsa", days=20 * 365, trusted=False)
            return self._roots[kind]

    def roots_pem(self) -> Dict[str, str]:
        return {kind: self.root(kind).cert_pem for kind in ("rsa", "ecc")}

    def sign(self, public_key: Any, hostnames: List[str], request_type: str, serial: int, now: float, days: int) -> str:
        """A leaf for `hostnames` (SANs) carrying `public_key`, valid from `now` for `days` days; PEM."""
        issuer = self.root(ROOT_OF[request_type])
        start = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).replace(microsecond=0)
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Emulator Origin CA"),
                x509.NameAttribute(NameOID.COMMON_NAME, "Certops Emulator Origin Certificate"),
            ]
        )
        rsa_key = isinstance(public_key, rsa.RSAPublicKey)
        usage = x509.KeyUsage(True, False, rsa_key, False, False, False, False, False, False)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer.cert.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
        )
        return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode("ascii")
