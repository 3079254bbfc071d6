# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Certificate and key facts, as pure functions over PEM text.

This is a private file: it may change in any release without notice.
No Ansible import: the emulator tests and benchmarks use it too. Nothing here returns key material.
"""

from __future__ import annotations

import datetime
import functools
import os
import re
import ssl
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
    from cryptography.x509.oid import ExtensionOID, NameOID

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - reported by the module through missing_required_lib
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

try:  # cryptography 45 or later: the web-PKI verifier with configurable extension policies (verify_chain only)
    from cryptography.x509 import verification as x509_verification

    x509_verification.ExtensionPolicy  # pylint: disable=pointless-statement
    HAS_X509_VERIFICATION = True
except (ImportError, AttributeError):  # pragma: no cover - an older cryptography; verify_chain says so when called
    x509_verification = None
    HAS_X509_VERIFICATION = False

try:  # the CA bundle requests uses by default: certifi is a dependency of requests
    import certifi
except ImportError:  # pragma: no cover - default_ca_bundle falls back to OpenSSL's default CA file
    certifi = None

_BEGIN = "-----BEGIN CERTIFICATE-----"
_END = "-----END CERTIFICATE-----"
_CERT_RE = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")
_KEY_RE = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.+?-----END \1PRIVATE KEY-----", re.S)
# Any private key header, even without its end line: enough to refuse a certificate option holding one.
_KEY_HEADER_RE = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")
# Smaller RSA keys are breakable and refused by public CAs (CA/Browser Forum baseline requirements).
MIN_RSA_KEY_BITS = 2048

# Cloudflare's names for signature algorithms, as its API reports them.
_SIGNATURE_NAMES = {
    ("rsa", "sha256"): "SHA256WithRSA",
    ("rsa", "sha384"): "SHA384WithRSA",
    ("rsa", "sha512"): "SHA512WithRSA",
    ("rsa", "sha1"): "SHA1WithRSA",
    ("ecdsa", "sha256"): "ECDSAWithSHA256",
    ("ecdsa", "sha384"): "ECDSAWithSHA384",
    ("ecdsa", "sha512"): "ECDSAWithSHA512",
}


class CertificateError(ValueError):
    """A certificate or key cannot be used. The message names what and why, never key material."""


class IncompleteChainError(CertificateError):
    """verify_chain: the leaf's issuer is neither a trusted root nor in the chain, so an intermediate is missing.
    `issuer` is that issuer's distinguished name (RFC 4514): Cloudflare can complete such a chain unless it is sent with
    bundle_method force."""

    def __init__(self, message: str, issuer: str) -> None:
        super().__init__(message)
        self.issuer = issuer


def _utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def _now(now: Optional[datetime.datetime] = None) -> datetime.datetime:
    return _utc(now) if now else datetime.datetime.now(datetime.timezone.utc)


def isoformat(value: datetime.datetime) -> str:
    return _utc(value).astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# Expiry buckets, in days left (the upper bound, exclusive; None: no bound), with the words a report shows them by.
EXPIRY_BUCKETS = (
    ("expired", 0, "expired"),
    ("under_7", 7, "under 7 days"),
    ("under_30", 30, "under 30 days"),
    ("under_90", 90, "under 90 days"),
    ("later", None, "later"),
)


def expiry_bucket(expires: datetime.datetime, now: datetime.datetime) -> str:
    """The key of the EXPIRY_BUCKETS bucket a certificate expiring at `expires` falls in at `now`."""
    left = (expires - now).total_seconds() / 86400
    return next(key for key, bound, _label in EXPIRY_BUCKETS if bound is None or left < bound)


def serial_hex(value: object) -> str:
    """A serial number as `openssl x509 -noout -serial` prints it: uppercase hex, no colons, an even number of digits.
    An int, or all-digit text (the API gives serials as decimal), is read as decimal; hex with colons (as browsers and
    some tools show it) loses them; anything else is shown as it is. None is empty."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    text = str(value).strip()
    if isinstance(value, int) or text.isdigit():
        digits = "%X" % int(text)
    elif text and all(c in "0123456789abcdefABCDEF:" for c in text):
        digits = text.replace(":", "").upper()
    else:
        return text
    return ("0" + digits) if len(digits) % 2 else digits


def parse_time(value: str) -> datetime.datetime:
    """Parse the API's ISO 8601 times (`Z` or an offset, with or without fractions)."""
    text = value.strip().replace("Z", "+00:00")
    return _utc(datetime.datetime.fromisoformat(text))


def normalize_pem(text: str) -> str:
    """Certificates of a PEM bundle, one block each, line endings and stray text removed."""
    return "\n".join(split_pem(text)) + "\n"


def split_pem(text: str) -> List[str]:
    """Each certificate block of `text`, re-wrapped at 64 columns."""
    blocks = []
    for block in _CERT_RE.findall(text or ""):
        body = re.sub(r"\s+", "", block[len(_BEGIN) : -len(_END)])
        blocks.append("\n".join([_BEGIN] + [body[i : i + 64] for i in range(0, len(body), 64)] + [_END]))
    return blocks


def load_certificates(text: str, name: str = "certificate") -> List[Any]:
    """Leaf first, then the chain as given. Raises CertificateError naming `name`."""
    if not HAS_CRYPTOGRAPHY:
        raise CertificateError("the Python library cryptography is required: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    blocks = split_pem(text)
    if not blocks:
        raise CertificateError("%s: no PEM certificate found (expected a -----BEGIN CERTIFICATE----- block)" % name)
    certs = []
    for index, block in enumerate(blocks):
        try:
            certs.append(x509.load_pem_x509_certificate(block.encode("ascii")))
        except ValueError:
            which = "the leaf certificate" if index == 0 else "chain certificate %d" % index
            raise CertificateError("%s: %s is not a valid PEM certificate" % (name, which)) from None
    return certs


def is_encrypted_key(match: Any) -> bool:
    """Whether a PEM key block (a match of _KEY_RE) is encrypted: PKCS#8 or traditional OpenSSL encryption."""
    return "ENCRYPTED" in match.group(1) or "Proc-Type: 4,ENCRYPTED" in match.group(0)


def load_private_key(text: str, passphrase: Optional[str] = None, name: str = "private key") -> Any:
    """An RSA or EC private key from PEM (PKCS#1, PKCS#8 or SEC1)."""
    if not HAS_CRYPTOGRAPHY:
        raise CertificateError("the Python library cryptography is required: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    match = _KEY_RE.search(text or "")
    if not match:
        raise CertificateError("%s: no PEM private key found (expected a -----BEGIN ... PRIVATE KEY----- block)" % name)
    data = match.group(0).encode("ascii", "replace")
    encrypted = is_encrypted_key(match)
    if encrypted and not passphrase:
        raise CertificateError("%s is encrypted; give its passphrase (private_key_passphrase)" % name)
    password = passphrase.encode("utf-8") if passphrase and encrypted else None  # a clear key ignores a passphrase
    try:
        # Full RSA validation costs ~40 ms a key; the match check compares public keys instead.
        key = serialization.load_pem_private_key(data, password=password, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        # Passphrase given for a clear key: use it without one.
        key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, UnsupportedAlgorithm):
        reason = "wrong passphrase or damaged key" if encrypted else "not a valid RSA or EC private key"
        raise CertificateError("%s: %s" % (name, reason)) from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise CertificateError("%s: only RSA and ECDSA keys are supported by Cloudflare" % name)
    return key


def private_key_to_pem(key: Any, passphrase: Optional[str] = None) -> str:
    """The key in PKCS#8 PEM: clear (to upload a key decrypted locally), or encrypted with `passphrase`."""
    encryption = serialization.BestAvailableEncryption(passphrase.encode("utf-8")) if passphrase else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode("ascii")


# The key types Cloudflare takes for custom certificates: a custom hostname holds at most one of each.
KEY_TYPES = ("rsa", "ecdsa")


def key_type(public_key: Any) -> str:
    if isinstance(public_key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "rsa"
    if isinstance(public_key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "ecdsa"
    if isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return "eddsa"
    return "unknown"


def _name_attr(name: Any, oid: Any) -> Optional[str]:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else None


def cloudflare_issuer(cert: Any) -> str:
    """The issuer as Cloudflare reports it: organisation name, else common name (unverified against the live API)."""
    return _name_attr(cert.issuer, NameOID.ORGANIZATION_NAME) or _name_attr(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string()


def subject_alt_names(cert: Any) -> List[str]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return []
    return [name.lower() for name in ext.value.get_values_for_type(x509.DNSName)]


def certificate_hosts(cert: Any) -> List[str]:
    """DNS names the certificate is for: SANs, or the subject CN when it has none."""
    sans = subject_alt_names(cert)
    if sans:
        return sans
    cn = _name_attr(cert.subject, NameOID.COMMON_NAME)
    return [cn.lower()] if cn else []


def fingerprint_sha256(cert: Any) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def normalize_fingerprint(value: Optional[str]) -> Optional[str]:
    if isinstance(value, str) and value:
        return _hex_digits(value)
    return re.sub(r"[^0-9a-f]", "", value.lower()) if value else None


@functools.lru_cache(maxsize=4096)
def _hex_digits(value: str) -> str:
    # Cached: a rotation compares the same few fingerprints once per hostname, several times each.
    return re.sub(r"[^0-9a-f]", "", value.lower())


def not_valid_after(cert: Any) -> datetime.datetime:
    return _utc(getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after)


def not_valid_before(cert: Any) -> datetime.datetime:
    return _utc(getattr(cert, "not_valid_before_utc", None) or cert.not_valid_before)


def days_remaining(not_after: datetime.datetime, now: Optional[datetime.datetime] = None) -> int:
    return int((_utc(not_after) - _now(now)).total_seconds() // 86400)


def certificate_facts(cert: Any, now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """Everything a user or a comparison needs to know about a certificate, and nothing secret."""
    public_key = cert.public_key()
    ktype = key_type(public_key)
    hash_name = cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None
    not_after = not_valid_after(cert)
    return {
        "serial_number": str(cert.serial_number),
        "serial_hex": format(cert.serial_number, "x"),
        "fingerprint_sha256": fingerprint_sha256(cert),
        "issuer": cloudflare_issuer(cert),
        "issuer_dn": cert.issuer.rfc4514_string(),
        "subject": cert.subject.rfc4514_string(),
        "sans": subject_alt_names(cert),
        "hosts": certificate_hosts(cert),
        "not_before": isoformat(not_valid_before(cert)),
        "not_after": isoformat(not_after),
        "days_remaining": days_remaining(not_after, now),
        "key_type": ktype,
        "key_size": public_key.key_size if ktype == "rsa" else None,
        "curve": public_key.curve.name if ktype == "ecdsa" else None,
        "signature_algorithm": _SIGNATURE_NAMES.get((_signature_key_family(cert), hash_name), cert.signature_algorithm_oid._name),
    }


def _signature_key_family(cert: Any) -> str:
    name = cert.signature_algorithm_oid._name.lower()
    return "ecdsa" if "ecdsa" in name else "rsa" if "rsa" in name else name


def public_key_der(holder: Any) -> bytes:
    """The public key of a certificate, a CSR or a private key, as DER SubjectPublicKeyInfo: the form keys compare in."""
    return holder.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(cert: Any, key: Any) -> bool:
    """Whether `key` is the private key of `cert` (public keys compared explicitly)."""
    return public_key_der(cert) == public_key_der(key)


def serial_matches(api_serial: Any, facts: Dict[str, Any]) -> bool:
    """Whether a serial number as the API reports it (decimal, or hex with or without colons) is the one in `facts`."""
    text = str(api_serial or "").strip().lower().replace(":", "")
    return bool(text) and text in (facts["serial_number"], facts["serial_hex"], facts["serial_hex"].zfill(len(text)))


# What identifies a leaf when the API gives no fingerprint; a plan entry keeps these of each new certificate.
LEAF_IDENTITY_KEYS = ("fingerprint_sha256", "serial_number", "serial_hex", "issuer", "issuer_dn")


def leaf_identity(facts: Dict[str, Any]) -> Dict[str, Any]:
    """The facts `same_leaf` compares, from certificate_facts (nothing secret)."""
    return {key: facts[key] for key in LEAF_IDENTITY_KEYS}


def issuer_matches(api_issuer: Any, facts: Dict[str, Any]) -> bool:
    """Whether an issuer as the API reports it, a name or a DN in any case, is the issuer in `facts`."""
    text = str(api_issuer or "").strip().lower()
    return bool(text) and text in (facts["issuer"].lower(), facts["issuer_dn"].lower())


def same_leaf(api_fingerprint: Optional[str], api_serial: Any, api_issuer: Any, facts: Dict[str, Any]) -> bool:
    """Whether a certificate the API reports is the leaf whose facts (or leaf_identity) are `facts`.

    The same SHA-256 fingerprint when the API gives one (an identical leaf implies an identical key); else the same
    serial number and the same issuer: a serial is unique per issuer only (RFC 5280, section 4.1.2.2).
    """
    fingerprint = normalize_fingerprint(api_fingerprint)
    if fingerprint:
        return fingerprint == normalize_fingerprint(facts["fingerprint_sha256"])
    return serial_matches(api_serial, facts) and issuer_matches(api_issuer, facts)


def days_until(expires_on: Optional[str], now: Optional[datetime.datetime] = None) -> Optional[int]:
    """Whole days until an API time such as `expires_on`; None when it is missing or unreadable."""
    try:
        return days_remaining(parse_time(expires_on), now) if expires_on else None
    except ValueError:
        return None


def expires_on_within(expires_on: Optional[str], days: int, now: Optional[datetime.datetime] = None) -> bool:
    """Whether an API time such as `expires_on` falls within `days` days from now (past times included)."""
    try:
        return bool(expires_on) and parse_time(expires_on) <= _now(now) + datetime.timedelta(days=days)
    except ValueError:
        return False


def host_matches(pattern: str, hostname: str) -> bool:
    """RFC 6125 matching: a leading `*.` stands for exactly one label."""
    pattern = pattern.lower().rstrip(".")
    hostname = hostname.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _dot, rest = hostname.partition(".")
        return bool(head) and rest == pattern[2:]
    return pattern == hostname


def covers_hostname(cert: Any, hostname: str) -> bool:
    return any(host_matches(pattern, hostname) for pattern in certificate_hosts(cert))


def is_expired(cert: Any, now: Optional[datetime.datetime] = None) -> bool:
    return not_valid_after(cert) <= _now(now)


def is_not_yet_valid(cert: Any, now: Optional[datetime.datetime] = None) -> bool:
    return not_valid_before(cert) > _now(now)


def rsa_key_too_small(public_key: Any) -> Optional[str]:
    """Why an RSA key is too small to use; None for a big enough RSA key or another key type."""
    if isinstance(public_key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)) and public_key.key_size < MIN_RSA_KEY_BITS:
        return "its RSA key has %d bits; at least %d are required" % (public_key.key_size, MIN_RSA_KEY_BITS)
    return None


def private_key_blocks(text: Optional[str]) -> List[str]:
    """The PEM private key blocks in `text` (to hide them from output)."""
    return [match.group(0) for match in _KEY_RE.finditer(text or "")]


def holds_private_key(text: Optional[str]) -> bool:
    """Whether `text` holds a PEM private key block (refused where a certificate is expected)."""
    return bool(text) and bool(_KEY_HEADER_RE.search(text))


# Renew 30 days before expiry when no window is given (as the rotation role does).
DEFAULT_RENEW_BEFORE_DAYS = 30


def renewal_moment(
    expires: datetime.datetime, start: Optional[datetime.datetime], days: Optional[float], percentage: Optional[float]
) -> Optional[datetime.datetime]:
    """When renewal is due: the earlier moment of the two windows (`days` before expiry, `percentage` of the lifetime
    from `start` left); None when neither applies."""
    moments = []
    if days is not None:
        moments.append(expires - datetime.timedelta(days=days))
    if percentage is not None and start is not None and start < expires:
        moments.append(expires - (expires - start) * (percentage / 100.0))
    return min(moments) if moments else None


def expires_within(cert: Any, days: int, now: Optional[datetime.datetime] = None) -> bool:
    return not_valid_after(cert) <= _now(now) + datetime.timedelta(days=days)


def chain_order_problems(certs: Sequence[Any]) -> List[str]:
    """What is wrong with the order of a leaf-first chain; empty when each cert is signed by the next."""
    problems = []
    for index in range(len(certs) - 1):
        child, parent = certs[index], certs[index + 1]
        if child.issuer != parent.subject or not _signed_by(child, parent):
            problems.append(
                "certificate %d (%s) is not issued by certificate %d (%s); put the chain in order, leaf first"
                % (index, child.subject.rfc4514_string(), index + 1, parent.subject.rfc4514_string())
            )
    return problems


def _signed_by(child: Any, parent: Any) -> bool:
    public_key = parent.public_key()
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            # RSA-PSS signatures carry their own padding parameters; older cryptography has no accessor for them.
            pss = getattr(child, "signature_algorithm_parameters", None)
            pad = pss if isinstance(pss, padding.PSS) else padding.PKCS1v15()
            public_key.verify(child.signature, child.tbs_certificate_bytes, pad, child.signature_hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
        else:
            return True
    except InvalidSignature:
        return False
    return True


def coverage_problem(hosts: Sequence[str], hostname: str) -> Optional[str]:
    """Why a certificate for `hosts` cannot serve `hostname`; None when one of them matches it."""
    if any(host_matches(pattern, hostname) for pattern in hosts):
        return None
    return "it does not cover %s (it is for %s)" % (hostname, ", ".join(hosts) or "no hostname")


def check_certificate(
    cert_pem: str,
    key_pem: Optional[str] = None,
    passphrase: Optional[str] = None,
    hostname: Optional[str] = None,
    name: str = "certificate",
    now: Optional[datetime.datetime] = None,
) -> Tuple[Dict[str, Any], Optional[str]]:
    """Validate a certificate (and its key) for upload; return the leaf's facts and the key to upload.

    The key comes back as given, or, with a passphrase, decrypted to clear PKCS#8 PEM (it is loaded
    once: decrypting is slow). Raises CertificateError with one message naming `name` and every problem found.
    """
    certs = load_certificates(cert_pem, name)
    leaf = certs[0]
    problems = []
    upload_key = None
    if key_pem is not None:
        key = load_private_key(key_pem, passphrase, name="%s private key" % name)
        if not key_matches(leaf, key):
            problems.append("the private key does not belong to this certificate")
        match = _KEY_RE.search(key_pem)
        upload_key = private_key_to_pem(key) if passphrase and match and is_encrypted_key(match) else key_pem
    if is_expired(leaf, now):
        problems.append("it expired on %s" % isoformat(not_valid_after(leaf)))
    if is_not_yet_valid(leaf, now):
        problems.append("it is not valid yet (valid from %s); upload it once that time has come" % isoformat(not_valid_before(leaf)))
    small = rsa_key_too_small(leaf.public_key())
    if small:
        problems.append(small)
    uncovered = coverage_problem(certificate_hosts(leaf), hostname) if hostname else None
    if uncovered:
        problems.append(uncovered)
    problems.extend(chain_order_problems(certs))
    if problems:
        raise CertificateError("%s: %s" % (name, "; ".join(problems)))
    return certificate_facts(leaf, now), upload_key


def _cryptography_version() -> str:
    try:
        import cryptography  # pylint: disable=import-outside-toplevel

        return cryptography.__version__
    except ImportError:  # pragma: no cover
        return "none"


def _is_ca(cert: Any) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _probe_name(cert: Any) -> Optional[str]:
    """A DNS name the leaf is for, to verify it against when no hostname is given (a wildcard's label filled in)."""
    for host in subject_alt_names(cert):
        name = "wildcard" + host[1:] if host.startswith("*.") else host
        try:
            x509.DNSName(name)
            return name
        except ValueError:
            continue
    return None


def _verification_problem(message: str) -> str:
    """cryptography's reason, without the certificate dump it appends."""
    return re.sub(r"^validation failed: ", "", message.split(" (encountered processing", 1)[0]).strip()


def _outdated_issuer(leaf: Any, candidates: Sequence[Any], moment: datetime.datetime) -> Optional[Any]:
    """A certificate on the leaf's issuer path that is expired or not yet valid at `moment`, when no valid one has its name."""
    issuer, seen = leaf.issuer, []
    while issuer not in seen:
        seen.append(issuer)
        named = [c for c in candidates if c.subject == issuer]
        current = [c for c in named if not is_expired(c, moment) and not is_not_yet_valid(c, moment)]
        if not current:
            return named[0] if named else None
        issuer = current[0].issuer
    return None


# Trust stores by the identity of their roots: a plan verifies thousands of chains against one list of about 150 roots,
# and building the store is most of a verification's cost. The roots are kept with it, so their ids stay theirs.
_STORES: Dict[Tuple[int, ...], Tuple[List[Any], Any]] = {}


def _store(roots: Sequence[Any]) -> Any:
    key = tuple(id(root) for root in roots)
    if key not in _STORES:
        if len(_STORES) > 8:
            _STORES.clear()
        _STORES[key] = (list(roots), x509_verification.Store(list(roots)))
    return _STORES[key][1]


def verify_chain(
    chain_pem: str,
    roots: Sequence[Any],
    hostname: Optional[str] = None,
    complete_from: Sequence[Any] = (),
    now: Optional[datetime.datetime] = None,
    relaxed: bool = False,
    name: str = "certificate",
) -> List[Any]:
    """Verify a server certificate chain as Cloudflare checks an upload; return the verified chain.

    `chain_pem` is the upload: the leaf first, then any intermediates (a root in it is allowed and ignored).
    `roots` are the trusted roots (x509.Certificate). `complete_from` are intermediates the upload may lack:
    give them for bundle_method `ubiquitous`/`optimal`, which build the chain; leave it empty for `force`, which
    "verifies the chain, but does not otherwise modify it" (the OpenAPI description of `bundle_method`), so the
    chain must verify as uploaded. `hostname`, when given, must be covered by the leaf's SANs.

    The profile is `cryptography.x509.verification`'s web PKI (CA/Browser Forum baseline requirements), as
    for publicly trusted certificates; `relaxed=True` allows the authority and subject key identifier
    extensions to be absent, for private CAs (a user's own trust store).

    Returns the verified chain as x509.Certificate objects: the leaf first, then the intermediates, and the
    trusted root last (included; drop the last item for the chain a server sends). Raises CertificateError
    naming `name` and what to do: a self-signed leaf, a CA certificate as the leaf, a leaf expired or not yet
    valid, a hostname it does not cover, no DNS name in its SANs, or a chain that does not reach a trusted root.
    Needs cryptography 45 or later; an older one raises CertificateError saying so (only when called).
    """
    if not HAS_CRYPTOGRAPHY:
        raise CertificateError("the Python library cryptography is required: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    if not HAS_X509_VERIFICATION:
        raise CertificateError(
            "%s: verifying a certificate chain needs the Python library cryptography 45 or later (installed: %s); upgrade it" % (name, _cryptography_version())
        )
    certs = load_certificates(chain_pem, name)
    leaf, moment = certs[0], _now(now)
    if _is_ca(leaf):
        raise CertificateError(
            "%s: the first certificate (%s) is a CA certificate, not a server certificate; put the server certificate first"
            % (name, leaf.subject.rfc4514_string())
        )
    if leaf.issuer == leaf.subject and _signed_by(leaf, leaf):
        raise CertificateError(
            "%s: the certificate (%s) is self-signed; use one issued by a trusted certificate authority" % (name, leaf.subject.rfc4514_string())
        )
    if is_expired(leaf, moment):
        raise CertificateError("%s: it expired on %s" % (name, isoformat(not_valid_after(leaf))))
    if is_not_yet_valid(leaf, moment):
        raise CertificateError("%s: it is not valid yet (valid from %s)" % (name, isoformat(not_valid_before(leaf))))
    # Browsers match the hostname against the SANs only, never the common name (RFC 6125, section 6.4.4).
    no_san = "%s: it names no DNS hostname in its subject alternative name extension, which browsers require; reissue it with the hostnames as SANs" % name
    if not subject_alt_names(leaf):
        raise CertificateError(no_san)
    if hostname:
        uncovered = coverage_problem(subject_alt_names(leaf), hostname)
        if uncovered:
            raise CertificateError("%s: %s" % (name, uncovered))
    probe = hostname.lower().rstrip(".") if hostname else _probe_name(leaf)
    if not probe:
        raise CertificateError(no_san)
    if not roots:
        raise CertificateError("%s: no trusted root certificates to verify it against" % name)
    intermediates = [c for c in certs[1:] if c.issuer != c.subject] + [c for c in complete_from if c not in certs]
    verification = x509_verification
    builder = verification.PolicyBuilder().store(_store(roots)).time(moment)
    if relaxed:
        agnostic = verification.Criticality.AGNOSTIC
        ca_policy = (
            verification.ExtensionPolicy.webpki_defaults_ca()
            .may_be_present(x509.AuthorityKeyIdentifier, agnostic, None)
            .may_be_present(x509.SubjectKeyIdentifier, agnostic, None)
        )
        ee_policy = verification.ExtensionPolicy.webpki_defaults_ee().may_be_present(x509.AuthorityKeyIdentifier, agnostic, None)
        builder = builder.extension_policies(ca_policy=ca_policy, ee_policy=ee_policy)
    try:
        verifier = builder.build_server_verifier(x509.DNSName(probe))
    except ValueError:
        raise CertificateError("%s: %s is not a DNS name a certificate can be verified for" % (name, probe)) from None
    try:
        return list(verifier.verify(leaf, intermediates))
    except verification.VerificationError as exc:
        problem = _verification_problem(str(exc))
    if "candidates exhausted" in problem:
        stale = _outdated_issuer(leaf, intermediates + list(roots), moment)
        if stale is not None:
            when = (
                "expired on %s" % isoformat(not_valid_after(stale))
                if is_expired(stale, moment)
                else "is not valid before %s" % isoformat(not_valid_before(stale))
            )
            raise CertificateError(
                "%s: its issuing certificate %s %s; use the current one from the certificate authority" % (name, stale.subject.rfc4514_string(), when)
            )
        # A root given in the upload is known too: its chain is complete, only not trusted.
        known = {c.subject for c in certs[1:]} | {c.subject for c in intermediates} | {r.subject for r in roots}
        if leaf.issuer not in known:
            issuer = leaf.issuer.rfc4514_string()
            raise IncompleteChainError(
                "%s: its issuer (%s) is neither a trusted root nor in the chain; add the intermediate certificates after the leaf" % (name, issuer), issuer
            )
        raise CertificateError(
            "%s: the chain (issuer %s) does not lead to a trusted root certificate; use a certificate from a trusted certificate authority"
            % (name, leaf.issuer.rfc4514_string())
        )
    raise CertificateError("%s: the chain does not verify: %s" % (name, problem))


# -- trust: the roots verify_chain checks against -------------------------------------------------------------------

# The environment variables requests reads for its CA bundle, in its order (requests.Session.merge_environment_settings).
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
# The default bundle parsed once per process: {(path, mtime): roots}. A plan verifies thousands of chains.
_DEFAULT_ROOTS: Dict[Tuple[str, float], List[Any]] = {}


def default_ca_bundle() -> str:
    """The path of the CA bundle requests uses by default: the file named by REQUESTS_CA_BUNDLE, else by
    CURL_CA_BUNDLE (an empty variable counts as unset, as requests reads them), else certifi's bundle, else the
    CA file of the OpenSSL Python is linked with. Raises CertificateError saying what to set when there is none.
    """
    for variable in CA_BUNDLE_VARIABLES:
        path = os.environ.get(variable)
        if path:
            if not os.path.isfile(path):
                raise CertificateError(
                    "the environment variable %s names %s, which is not a file; set it to a PEM file of trusted CA certificates, or unset it" % (variable, path)
                )
            return path
    path = certifi.where() if certifi is not None else None
    if path and os.path.isfile(path):
        return path
    path = ssl.get_default_verify_paths().cafile  # None when that file does not exist
    if path and os.path.isfile(path):
        return path
    raise CertificateError(
        "no CA bundle found (no REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, no certifi, no OpenSSL default CA file); "
        "set REQUESTS_CA_BUNDLE to a PEM file of trusted CA certificates, install certifi, or give ca_path"
    )


def _read_roots(path: str, label: str, skip_invalid: bool = False) -> List[Any]:
    """Every certificate of the PEM file `path` (empty when it holds none); CertificateError naming `label` when it is
    unreadable, or when a certificate is not valid unless `skip_invalid`."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError as exc:
        raise CertificateError("%s: cannot read %s (%s); make it readable or name another file" % (label, path, exc.strerror or exc)) from None
    roots = []
    with warnings.catch_warnings():
        # A public bundle holds a few roots older than RFC 5280 (a negative serial number): they load with a warning
        # now, and fail in a later cryptography; either way they are not the user's to fix.
        if skip_invalid:
            warnings.simplefilter("ignore")
        for index, block in enumerate(split_pem(text)):
            try:
                roots.append(x509.load_pem_x509_certificate(block.encode("ascii")))
            except ValueError:
                if not skip_invalid:
                    raise CertificateError("%s: certificate %d of %s is not a valid PEM certificate; remove or replace it" % (label, index + 1, path)) from None
    return roots


def load_trust(ca_path: Optional[str] = None) -> Tuple[List[Any], bool]:
    """The trusted roots and whether verify_chain may take them `relaxed`.

    With `ca_path` (a PEM file, or a directory whose regular files are read in name order, those holding no PEM
    certificate skipped): its certificates, relaxed True, since a private CA may omit the key identifiers the
    web-PKI profile requires. Without it: the certificates of default_ca_bundle(), relaxed False (public CAs
    follow the web-PKI profile); that parse is kept per path and modification time for the life of the process.
    Raises CertificateError naming ca_path when it is missing, unreadable or holds no certificate.
    """
    if not HAS_CRYPTOGRAPHY:
        raise CertificateError("the Python library cryptography is required: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    hint = "give a PEM file, or a directory of PEM files, of the certificate authorities to trust"
    if ca_path is None:
        bundle = default_ca_bundle()
        key = (bundle, os.path.getmtime(bundle))
        roots = _DEFAULT_ROOTS.get(key)
        if roots is None:
            roots = _read_roots(bundle, "the default CA bundle", skip_invalid=True)
            if not roots:
                raise CertificateError(
                    "the default CA bundle %s holds no PEM certificate; set REQUESTS_CA_BUNDLE to a PEM file of CA certificates, or give ca_path" % bundle
                )
            _DEFAULT_ROOTS.clear()  # only the bundle in use is kept
            _DEFAULT_ROOTS[key] = roots
        return list(roots), False
    label = "ca_path %s" % ca_path
    if os.path.isdir(ca_path):
        try:
            names = sorted(os.listdir(ca_path))
        except OSError as exc:
            raise CertificateError("%s: cannot list the directory (%s); %s" % (label, exc.strerror or exc, hint)) from None
        roots = [cert for name in names if os.path.isfile(os.path.join(ca_path, name)) for cert in _read_roots(os.path.join(ca_path, name), label)]
    elif os.path.isfile(ca_path):
        roots = _read_roots(ca_path, label)
    else:
        raise CertificateError("%s is neither a file nor a directory; %s" % (label, hint))
    if not roots:
        raise CertificateError("%s holds no PEM certificate; %s" % (label, hint))
    return roots, True


# Names of the extended key usages, as certificate tools print them (RFC 5280, section 4.2.1.12).
_EKU_NAMES = {
    "1.3.6.1.5.5.7.3.1": "serverAuth",
    "1.3.6.1.5.5.7.3.2": "clientAuth",
    "1.3.6.1.5.5.7.3.3": "codeSigning",
    "1.3.6.1.5.5.7.3.4": "emailProtection",
    "1.3.6.1.5.5.7.3.8": "timeStamping",
    "1.3.6.1.5.5.7.3.9": "OCSPSigning",
    "2.5.29.37.0": "anyExtendedKeyUsage",
}
# A TLS server checks a client certificate's extended key usage, when it has one, for one of these (RFC 5280, 4.2.1.12).
_CLIENT_EKUS = ("1.3.6.1.5.5.7.3.2", "2.5.29.37.0")


def client_certificate_problems(cert: Any) -> List[str]:
    """Why `cert` cannot be a per-hostname authenticated origin pull client certificate; empty when it can.

    A CA certificate is not a client certificate. An extended key usage extension, when present, must allow
    clientAuth (or anyExtendedKeyUsage): a TLS server refuses a client certificate whose usages exclude it.
    A certificate without that extension may be used for any purpose.
    """
    problems = []
    if _is_ca(cert):
        problems.append("it is a CA certificate (basic constraints CA=true); use a client certificate that CA issued instead")
    try:
        usages = [oid.dotted_string for oid in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value]
    except x509.ExtensionNotFound:
        usages = []
    if usages and not any(oid in _CLIENT_EKUS for oid in usages):
        allowed = ", ".join(_EKU_NAMES.get(oid, oid) for oid in usages)
        problems.append("its extended key usage does not allow client authentication (it allows %s); issue it with the clientAuth extended key usage" % allowed)
    return problems
