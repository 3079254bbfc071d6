# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What an edge serves for a hostname, read by TLS handshake: the backend of the edge_cert_info module.

This is a private file: it may change in any release without notice.
No Ansible import. No credentials: a handshake is all a browser has too.

A key type is chosen the way a client can choose it: a TLS 1.2 handshake offering only the cipher suites
of that key type (ECDHE-ECDSA-* or ECDHE-RSA-*). TLS 1.3 negotiates the key type by signature algorithms,
which Python cannot restrict, so a server that accepts only TLS 1.3 is read with a plain TLS 1.3 handshake
and the entry says `key_type_selected: false`.

The chain as served is read from the TLS 1.2 Certificate message, which travels in clear; under TLS 1.3
it is encrypted and Python before 3.13 gives the leaf only.
"""

from __future__ import annotations

import socket
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    HAS_CRYPTOGRAPHY,
    KEY_TYPES,
    CertificateError,
    certificate_facts,
    default_ca_bundle,
    normalize_fingerprint,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import load_trust as load_roots

if HAS_CRYPTOGRAPHY:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

# OpenSSL cipher strings: the TLS 1.2 suites a certificate of that key type can serve.
SUITES = {"rsa": "aRSA", "ecdsa": "aECDSA"}
# Alerts and errors meaning "not this protocol version": the server wants TLS 1.3.
_VERSION_REFUSALS = ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "WRONG_VERSION_NUMBER")
_CHANGE_CIPHER_SPEC, _HANDSHAKE, _CERTIFICATE = 20, 22, 11


class EdgeError(Exception):
    """A probe that got no certificate: connection refused, time-out, or a failed handshake."""


class CaStoreError(ValueError):
    """ca_path cannot be used."""


# -- contexts ---------------------------------------------------------------------------------------


def load_trust(context: ssl.SSLContext, ca_path: Optional[str]) -> None:
    """Trust `ca_path` (a PEM file, or a directory of PEM files), or the CA bundle requests uses when None."""
    try:
        bundle = default_ca_bundle() if ca_path is None else None
        roots = load_roots(ca_path)[0] if ca_path is not None else []
    except CertificateError as exc:
        raise CaStoreError(str(exc)) from None
    try:
        if bundle is not None:
            context.load_verify_locations(cafile=bundle)
        else:
            context.load_verify_locations(cadata="".join(root.public_bytes(serialization.Encoding.PEM).decode("ascii") for root in roots))
    except (ssl.SSLError, OSError) as exc:
        where = "the default CA bundle %s" % bundle if bundle is not None else "ca_path %s" % ca_path
        raise CaStoreError(
            "%s: its certificates could not be loaded (%s); name a PEM file of CA certificates" % (where, getattr(exc, "reason", None) or exc)
        ) from None


def client_context(key_type: Optional[str], verify: bool, ca_path: Optional[str]) -> ssl.SSLContext:
    """A client context offering only `key_type`'s TLS 1.2 suites (any version and suite when None)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if key_type is not None:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers(SUITES[key_type])
    if verify:
        load_trust(context, ca_path)
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Contexts:
    """The client contexts a run needs, made once and shared by the workers (SSLContext is thread-safe)."""

    def __init__(self, ca_path: Optional[str]) -> None:
        modes = [None, *KEY_TYPES]
        self.verifying = {k: client_context(k, True, ca_path) for k in modes}
        self.trusting = {k: client_context(k, False, ca_path) for k in modes}


# -- one handshake ----------------------------------------------------------------------------------


def handshake(context: ssl.SSLContext, hostname: str, address: str, port: int, timeout: float) -> Tuple[ssl.SSLObject, bytes]:
    """Handshake with SNI `hostname` at `address`:`port`; the TLS object and every byte the server sent."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=hostname)
    received = bytearray()
    deadline = time.monotonic() + timeout
    with socket.create_connection((address, port), timeout=timeout) as sock:
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                sock.sendall(outgoing.read())
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                data = sock.recv(65536)
                if not data:
                    raise EdgeError("the server closed the connection during the handshake") from None
                received += data
                incoming.write(data)
        try:
            sock.sendall(outgoing.read())  # the client's last handshake message: a clean end for the server
        except OSError:
            pass  # the server already closed; what it served is read
    return tls, bytes(received)


def tls12_chain(received: bytes) -> List[bytes]:
    """The DER certificates of the TLS 1.2 Certificate message in the server's bytes (empty when absent)."""
    messages, pos = bytearray(), 0
    while pos + 5 <= len(received):
        content_type, length = received[pos], int.from_bytes(received[pos + 3 : pos + 5], "big")
        if content_type == _CHANGE_CIPHER_SPEC:
            break  # what follows is encrypted
        if content_type == _HANDSHAKE:
            messages += received[pos + 5 : pos + 5 + length]
        pos += 5 + length
    pos = 0
    while pos + 4 <= len(messages):
        kind, length = messages[pos], int.from_bytes(messages[pos + 1 : pos + 4], "big")
        body = bytes(messages[pos + 4 : pos + 4 + length])
        if kind == _CERTIFICATE:
            return _certificate_list(body)
        pos += 4 + length
    return []


def _certificate_list(body: bytes) -> List[bytes]:
    end, pos, certs = 3 + int.from_bytes(body[:3], "big"), 3, []
    while pos + 3 <= min(end, len(body)):
        length = int.from_bytes(body[pos : pos + 3], "big")
        certs.append(body[pos + 3 : pos + 3 + length])
        pos += 3 + length
    return certs


def served_chain(tls: ssl.SSLObject, received: bytes) -> List[bytes]:
    """The chain as served, leaf first (the leaf alone when TLS 1.3 hides the rest from this Python)."""
    if tls.version() != "TLSv1.3":
        chain = tls12_chain(received)
        if chain:
            return chain
    unverified = getattr(tls, "get_unverified_chain", None)  # Python 3.13+
    chain = [c for c in unverified() if isinstance(c, bytes)] if unverified is not None else []  # DER bytes
    return chain or [tls.getpeercert(binary_form=True)]


# -- one probe --------------------------------------------------------------------------------------


def _describe(error: BaseException) -> str:
    if isinstance(error, ssl.SSLError):
        return "TLS handshake failed: %s" % (error.reason or error.strerror or error)
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(error, OSError):
        return "connection failed: %s" % (error.strerror or error)
    return str(error)


def _is_version_refusal(error: BaseException) -> bool:
    return isinstance(error, ssl.SSLError) and not isinstance(error, ssl.SSLCertVerificationError) and (error.reason or "") in _VERSION_REFUSALS


def _attempt(contexts: Contexts, key_type: Optional[str], target: Dict[str, Any], timeout: float) -> Dict[str, Any]:
    """A verifying handshake; when verification fails, an unverified one to read what is served anyway."""
    args = (target["hostname"], target["address"], target["port"], timeout)
    try:
        tls, received = handshake(contexts.verifying[key_type], *args)
        return {"tls": tls, "received": received, "validates": True, "validation_error": None}
    except ssl.SSLCertVerificationError as exc:
        problem = exc.verify_message or exc.reason or str(exc)
    tls, received = handshake(contexts.trusting[key_type], *args)
    return {"tls": tls, "received": received, "validates": False, "validation_error": problem}


def probe(contexts: Contexts, target: Dict[str, Any], key_type: str, timeout: float) -> Dict[str, Any]:
    """One entry of the result: what `target` serves to a client offering only `key_type`."""
    entry = blank_entry(target, key_type)
    try:
        try:
            outcome = _attempt(contexts, key_type, target, timeout)
        except (ssl.SSLError, OSError, EdgeError) as exc:
            if not _is_version_refusal(exc):
                raise
            outcome = _attempt(contexts, None, target, timeout)  # TLS 1.3 only: read what it serves, unselected
            entry["key_type_selected"] = False
    except (ssl.SSLError, OSError, EdgeError) as exc:
        entry["error"] = _describe(exc)
        return entry
    tls = outcome["tls"]
    chain = [x509.load_der_x509_certificate(der) for der in served_chain(tls, outcome["received"])]
    facts = certificate_facts(chain[0])
    entry.update({k: facts[k] for k in ("fingerprint_sha256", "serial_number", "issuer", "subject", "sans", "not_before", "not_after", "days_remaining")})
    entry.update(
        key_type=facts["key_type"],
        issuer_dn=facts["issuer_dn"],
        tls_version=tls.version(),
        cipher=(tls.cipher() or (None,))[0],
        chain=[chain_link(c) for c in chain],
        validates=outcome["validates"],
        validation_error=outcome["validation_error"],
    )
    return entry


def chain_link(cert: Any) -> Dict[str, Any]:
    facts = certificate_facts(cert)
    return {k: facts[k] for k in ("subject", "issuer_dn", "fingerprint_sha256", "serial_number", "not_after")}


def blank_entry(target: Dict[str, Any], key_type: str) -> Dict[str, Any]:
    keys = ("fingerprint_sha256", "serial_number", "issuer", "issuer_dn", "subject", "not_before", "not_after", "days_remaining", "key_type")
    entry: Dict[str, Any] = {"hostname": target["hostname"], "address": target["address"], "port": target["port"], "requested_key_type": key_type}
    entry.update({k: None for k in keys})
    entry.update(key_type_selected=True, sans=[], chain=[], tls_version=None, cipher=None, validates=None, validation_error=None, error=None, matches=None)
    return entry


# -- many probes, and what was expected ----------------------------------------------------------------


def probe_all(
    targets: Sequence[Dict[str, Any]],
    key_types: Sequence[str],
    contexts: Contexts,
    timeout: float,
    workers: int,
    probe_one: Optional[Callable[..., Any]] = None,
) -> List[Dict[str, Any]]:
    """Every (target, key type) probed by at most `workers` threads; entries in the order of the targets, then key types."""
    probe_one = probe_one or probe
    jobs = [(t, k) for t in targets for k in key_types]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(jobs) or 1))) as pool:
        return list(pool.map(lambda job: probe_one(contexts, job[0], job[1], timeout), jobs))


def normalize_expect(expect: Optional[Dict[str, Any]], hostnames: Sequence[str], normalize_host: Callable[[str, str], str]) -> Dict[str, Dict[str, List[str]]]:
    """{hostname: {key_type: [fingerprints any of which may be served]}}; a value for a hostname (not a dict) applies
    to every key type. ValueError on bad input."""
    found: Dict[str, Dict[str, List[str]]] = {}
    for name, wanted in (expect or {}).items():
        host = normalize_host(name, "expect")
        if host not in hostnames:
            raise ValueError("expect: %s is not one of hostnames" % host)
        if isinstance(wanted, (str, list)):
            found[host] = {k: _fingerprints(wanted, host) for k in KEY_TYPES}
        elif isinstance(wanted, dict) and wanted and set(wanted) <= set(KEY_TYPES):
            found[host] = {k: _fingerprints(v, host) for k, v in wanted.items()}
        else:
            raise ValueError("expect: %s must map to a fingerprint or to {rsa: fingerprint, ecdsa: fingerprint}" % host)
    return found


def _fingerprints(value: Any, host: str) -> List[str]:
    values = value if isinstance(value, list) else [value]
    normal = [normalize_fingerprint(str(v)) if v else None for v in values]
    bad = [v for v, n in zip(values, normal) if not n or len(n) != 64]
    if bad or not values:
        raise ValueError("expect: %s: %r is not a SHA-256 fingerprint (64 hex digits, colons allowed)" % (host, bad[0] if bad else value))
    return [n for n in normal if n]


def apply_expect(entries: List[Dict[str, Any]], expected: Dict[str, Dict[str, List[str]]]) -> List[str]:
    """Set `matches` on each entry something is expected of; return one line per entry that fails.

    A hostname passes when each certificate expected of it is served by its own key type. An entry is compared with the
    fingerprints expected of its hostname and key type less those the hostname serves as certificates of another key
    type (read by its other probes). An entry with none left is not compared (`matches` None): the RSA probe of a
    hostname that serves only ECDSA and is expected to serve its ECDSA certificate reports its handshake error, or
    `key_type_selected: false`, and is not a mismatch. An entry with some left fails unless it serves one of them."""
    kinds: Dict[str, Dict[str, Any]] = {}  # hostname -> {fingerprint served: the key type of that certificate}
    for entry in entries:
        if entry["fingerprint_sha256"]:
            kinds.setdefault(entry["hostname"], {})[entry["fingerprint_sha256"]] = entry["key_type"]
    problems = []
    for entry in entries:
        wanted = expected_of(entry, expected.get(entry["hostname"], {}), kinds.get(entry["hostname"], {}))
        if not wanted:
            continue
        entry["matches"] = entry["fingerprint_sha256"] in wanted
        if not entry["matches"]:
            problems.append("%s (%s): %s, expected %s" % (entry["hostname"], entry["requested_key_type"], what_is_served(entry), " or ".join(wanted)))
    return problems


def expected_of(entry: Dict[str, Any], by_key_type: Dict[str, List[str]], kinds: Dict[str, Any]) -> List[str]:
    """The fingerprints `entry` is compared with: those expected of its key type that its hostname does not serve as a
    certificate of another key type (`kinds`: every fingerprint the hostname's probes read, with its key type)."""
    key_type = entry["requested_key_type"]
    return [f for f in by_key_type.get(key_type) or [] if kinds.get(f, key_type) == key_type]


def what_is_served(entry: Dict[str, Any]) -> str:
    """What an entry got, for a failure line: its handshake error, or the fingerprint served (and its key type, when a
    server that accepts only TLS 1.3 answered with a certificate of another key type than the one asked for)."""
    if entry["error"]:
        return entry["error"]
    if not entry["key_type_selected"] and entry["key_type"] != entry["requested_key_type"]:
        return "served %s, an %s certificate (the server accepts only TLS 1.3, so %s could not be asked for)" % (
            entry["fingerprint_sha256"],
            str(entry["key_type"]).upper(),
            entry["requested_key_type"],
        )
    return "served %s" % entry["fingerprint_sha256"]


def untrusted_chains(entries: List[Dict[str, Any]]) -> List[str]:
    """One line per entry that serves what was expected over a chain that does not validate. After a rotation such an
    entry is a failure too: a browser refuses that chain, and waiting does not change it."""
    return [
        "%s (%s): the edge serves an untrusted chain: %s" % (e["hostname"], e["requested_key_type"], e["validation_error"])
        for e in entries
        if e["matches"] is True and e["validates"] is False
    ]
