"""Throwaway certificates for tests, the demo and benchmarks, minted with cryptography at run time.

    from emulator.testcerts import make_ca, make_leaf

    ca = make_ca()                                   # an ECDSA P-256 root, valid ten years
    leaf = make_leaf(ca, ["app.example.com"])        # ECDSA P-256, valid from yesterday for 90 days
    rsa = make_leaf(ca, ["app.example.com"], key_type="rsa")
    old = make_leaf(ca, ["app.example.com"], days=-1, not_before_days=-90)   # expired yesterday
    leaf.cert_pem, leaf.key_pem, leaf.chain_pem      # PEM strings; chain_pem = leaf + CA certificates

`days` is when the certificate expires, in days from now (negative: already expired);
`not_before_days` is when it starts being valid, in days from now. Use ECDSA where the key type
does not matter: RSA keys are slow to generate (pass `key=` to reuse one).

The certificates carry what a public CA's do, so that they pass the web-PKI profile of
`cryptography.x509.verification` (the check the emulator makes of every upload): CAs have basic
constraints, key usage (keyCertSign, cRLSign) and subject and authority key identifiers; leaves have
SANs, key usage, extended key usage (serverAuth and clientAuth) and both key identifiers.

Trust: every CA `make_ca` creates is kept in a process-wide registry (`trusted_cas()`), unless
`make_ca(..., trusted=False)`. An in-process emulator treats the registry's roots, as the registry
is when it verifies an upload, as "publicly trusted" and its intermediates as the ones it may
complete a chain with. A test of a refusal makes its CA with `trusted=False`.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, field
import threading
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_REGISTRY: List["CA"] = []  # every trusted CA make_ca created in this process, oldest first
_REGISTRY_LOCK = threading.Lock()


@dataclass
class Issued:
    """A minted certificate with its private key, all as PEM text."""

    cert_pem: str
    key_pem: str
    chain_pem: str
    cert: x509.Certificate = field(repr=False)
    key: Any = field(repr=False)

    @property
    def serial_number(self) -> str:
        return str(self.cert.serial_number)

    @property
    def fingerprint_sha256(self) -> str:
        return hashlib.sha256(self.cert.public_bytes(serialization.Encoding.DER)).hexdigest()

    @property
    def not_after(self) -> datetime.datetime:
        return self.cert.not_valid_after_utc


@dataclass
class CA(Issued):
    """A certificate authority that can sign leaves (make_leaf) and intermediates (make_ca(parent=...))."""

    name: str = ""
    trusted: bool = True

    @property
    def is_root(self) -> bool:
        return self.cert.issuer == self.cert.subject


def new_key(key_type: str = "ecdsa") -> Any:
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError("key_type must be 'ecdsa' or 'rsa', not %r" % key_type)


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _key_pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")


def _name(common_name: str, org: Optional[str]) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _key_ids(key: Any, issuer: Optional[CA]) -> List[Any]:
    """Subject and authority key identifiers, as public CAs set them (RFC 5280, 4.2.1.1 and 4.2.1.2)."""
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    if issuer is None:
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    else:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key())
    return [(ski, False), (aki, False)]


def _key_usage(cert_sign: bool, key_encipherment: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _build(subject: x509.Name, key: Any, issuer: Optional[CA], days: float, not_before_days: float, extensions: List[Any]) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=not_before_days))
        .not_valid_after(now + datetime.timedelta(days=days))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(issuer.key if issuer else key, hashes.SHA256())


def make_ca(
    name: str = "Certops Test CA",
    org: Optional[str] = None,
    key_type: str = "ecdsa",
    days: float = 3650,
    parent: Optional[CA] = None,
    trusted: bool = True,
) -> CA:
    """A root CA, or an intermediate signed by `parent`. Its issuer fact is `org` if given, else `name`.

    `trusted` (default): kept in the registry an in-process emulator trusts (see the module docstring).
    """
    key = new_key(key_type)
    extensions = [(x509.BasicConstraints(ca=True, path_length=None), True), (_key_usage(True, False), True)] + _key_ids(key, parent)
    cert = _build(_name(name, org), key, parent, days, -2, extensions)
    chain = _pem(cert) + (parent.chain_pem if parent else "")
    ca = CA(cert_pem=_pem(cert), key_pem=_key_pem(key), chain_pem=chain, cert=cert, key=key, name=name, trusted=trusted)
    if trusted:
        with _REGISTRY_LOCK:
            _REGISTRY.append(ca)
    return ca


def trusted_cas() -> List[CA]:
    """The CAs of the registry as it is now (roots and intermediates), oldest first."""
    with _REGISTRY_LOCK:
        return list(_REGISTRY)


def make_leaf(
    ca: CA,
    hosts: Sequence[str],
    key_type: str = "ecdsa",
    days: float = 90,
    not_before_days: float = -1,
    key: Any = None,
    sans: Optional[Sequence[str]] = None,
    usages: Sequence[Any] = (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
) -> Issued:
    """A server certificate for `hosts` (SANs; the first is also the common name) signed by `ca`.

    `sans` replaces the SANs (an empty list: no subjectAltName extension, the common name only); `usages` are its
    extended key usages."""
    key = key or new_key(key_type)
    names = list(hosts if sans is None else sans)
    extensions = [(x509.SubjectAlternativeName([x509.DNSName(h) for h in names]), False)] if names else []
    extensions += [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (_key_usage(False, isinstance(key, rsa.RSAPrivateKey)), True),
        (x509.ExtendedKeyUsage(list(usages)), False),
    ] + _key_ids(key, ca)
    cert = _build(_name(hosts[0], None), key, ca, days, not_before_days, extensions)
    return Issued(cert_pem=_pem(cert), key_pem=_key_pem(key), chain_pem=_pem(cert) + ca.chain_pem, cert=cert, key=key)


def make_csr(hosts: Sequence[str], key_type: str = "ecdsa", key: Any = None) -> Tuple[str, Any]:
    """A PEM certificate signing request for `hosts` (SANs; the first is also the common name) and its key.

    `key` may be any key cryptography signs CSRs with (an Ed25519 key, a P-384 key ...), to test refusals."""
    key = key or new_key(key_type)
    builder = x509.CertificateSigningRequestBuilder().subject_name(_name(hosts[0], None))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    algorithm = None if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM).decode("ascii"), key


def generations(ca: CA, hosts: Sequence[str]) -> Dict[str, Issued]:
    """The certificates of a rotation test for `hosts`: `due` (10 of 90 days left), `fresh` (60 left) and `new`."""
    return dict(
        due=make_leaf(ca, hosts, days=10, not_before_days=-80),
        fresh=make_leaf(ca, hosts, days=60, not_before_days=-30),
        new=make_leaf(ca, hosts, days=90),
    )


def write_files(root: Any, leaves: Dict[str, Issued]) -> Dict[str, Dict[str, str]]:
    """Each leaf's chain and key as `<label>.pem` and `<label>.key` under `root` (a pathlib.Path), as the modules' path options take them."""
    files = {}
    for label, leaf in leaves.items():
        (root / (label + ".pem")).write_text(leaf.chain_pem)
        (root / (label + ".key")).write_text(leaf.key_pem)
        files[label] = {"certificate_path": str(root / (label + ".pem")), "private_key_path": str(root / (label + ".key"))}
    return files
