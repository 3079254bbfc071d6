# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Custom hostnames (Cloudflare for SaaS) and the custom certificates of their certificate pack.

This is a private file: it may change in any release without notice.

Shared by the custom_hostname and custom_hostname_cert modules and custom_hostname_cert_info: the
reads, the certificates the user gives (checked locally), the certificates the API reports, and the
one secret-free view of a hostname they all return.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any, Dict, Iterator, List, Optional

from ansible_collections.certops.cloudflare.plugins.module_utils._base import read_file_option
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient, CloudflareError, NotFoundError, zone_not_found
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    KEY_TYPES,
    CertificateError,
    check_certificate,
    coverage_problem,
    days_until,
    fingerprint_sha256,
    isoformat,
    key_type,
    load_certificates,
    normalize_fingerprint,
    normalize_pem,
    not_valid_before,
    parse_time,
    same_leaf,
    serial_matches,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import HOSTNAME_SSL_STUCK_STATUSES, HOSTNAME_STUCK_STATUSES

# The document's largest page size for GET zones/{zone_id}/custom_hostnames.
PER_PAGE = 50
# What a PATCH of `ssl` replaces: sent back as read so that nothing but the certificates changes.
SSL_CONFIG_FIELDS = ("method", "type", "settings", "bundle_method", "wildcard", "certificate_authority")
# Top-level fields of a custom hostname that custom_hostname manages besides `ssl`.
EXTRA_FIELDS = ("custom_metadata", "custom_origin_server", "custom_origin_sni")


def hostnames_path(zone_id: str, hostname_id: Optional[str] = None) -> str:
    path = "zones/%s/custom_hostnames" % zone_id
    return path + "/" + hostname_id if hostname_id else path


def find_by_hostname(client: CloudflareClient, zone_id: str, hostname: str, zone_label: str) -> Optional[Dict[str, Any]]:
    """The custom hostname called `hostname`: the API's `hostname` filter read page by page, each item compared exactly.

    The filter is documented as a match on the name ("List Custom Hostnames"), but newer SDKs offer `hostname.exact`,
    `hostname.contain` and `hostname.startsWith` beside it, so the plain one may match more loosely (unverified against
    the live API). One page could then hold only longer names that contain this one, and a module would create a
    duplicate: so every page of matches is read until the exact name is found. Names are unique in a zone, so the first
    exact match is the one; only a name that is not there reads every page.
    """
    wanted = normalize_hostname(hostname)
    try:
        for item in client.stream(hostnames_path(zone_id), params={"hostname": wanted}, per_page=PER_PAGE):
            if normalize_hostname(str(item.get("hostname") or "")) == wanted:
                return item
    except NotFoundError as exc:
        raise zone_not_found(zone_label, exc) from None
    return None


def get_by_id(client: CloudflareClient, zone_id: str, hostname_id: str) -> Optional[Dict[str, Any]]:
    try:
        return client.get(hostnames_path(zone_id, hostname_id))
    except NotFoundError:
        return None


def list_hostnames(client: CloudflareClient, zone_id: str, zone_label: str) -> List[Dict[str, Any]]:
    """Every custom hostname of the zone, 50 a page (the largest page the API allows)."""
    return list(stream_hostnames(client, zone_id, zone_label))


def stream_hostnames(client: CloudflareClient, zone_id: str, zone_label: str) -> Iterator[Dict[str, Any]]:
    """Every custom hostname of the zone once, yielded page by page as each page is read (client.stream)."""
    try:
        yield from client.stream(hostnames_path(zone_id), per_page=PER_PAGE)
    except NotFoundError as exc:
        raise zone_not_found(zone_label, exc) from None


# -- certificates the user gives ----------------------------------------------------------------


class LocalCertificate:
    """A certificate and key from the module's arguments, checked; `facts` holds what can be shown."""

    def __init__(self, name: str, certificate: str, private_key: str, facts: Dict[str, Any]) -> None:
        self.name = name
        self.certificate = certificate
        self.private_key = private_key
        self.facts = facts
        self.key_type: str = facts["key_type"]
        self.fingerprint: str = facts["fingerprint_sha256"]

    def upload(self) -> Dict[str, str]:
        return {"custom_certificate": self.certificate, "custom_key": self.private_key}

    def view(self) -> Dict[str, Any]:
        """The certificate as the result will show it once uploaded (its id is not known yet)."""
        facts = self.facts
        return {
            "id": None,
            "key_type": self.key_type,
            "serial_number": facts["serial_number"],
            "fingerprint_sha256": self.fingerprint,
            "issuer": facts["issuer"],
            "expires_on": facts["not_after"],
            "days_remaining": facts["days_remaining"],
            "not_before": facts["not_before"],
            "uploaded_on": None,
            "hosts": facts["hosts"],
        }


def load_local_certificates(
    items: List[Dict[str, Any]], hostname: Optional[str], no_log_values: Any, cache: Optional[Dict[Any, Any]] = None
) -> List[LocalCertificate]:
    """Check every certificate of the `certificates` option; raise CertificateError naming the first bad one.

    Each PEM must parse, each key match its certificate, no certificate be expired, each cover
    `hostname` (when known) and there be at most one certificate per key type.

    With `cache` (the list form, whose items give paths), each certificate file is read and checked
    once however many hostnames use it (a wildcard certificate): it is then named by its path, since
    a message cached for one hostname is shown for all.
    """
    if len(items) > 2:
        raise CertificateError("certificates: a custom hostname holds at most two certificates (one RSA and one ECDSA); %d were given" % len(items))
    loaded: List[LocalCertificate] = []
    for index, item in enumerate(items):
        where = "certificates[%d]" % index
        if cache is not None:
            name = "certificate %s" % item.get("certificate_path")
            cert_pem, key_pem, facts = _load_cached(item, name, no_log_values, cache)
            problem = coverage_problem(facts["hosts"], hostname) if hostname else None
            if problem:
                raise CertificateError("%s: %s" % (name, problem))
        else:
            name = where + (" (%s)" % item["certificate_path"] if item.get("certificate_path") else "")
            cert_pem, key_pem, facts = _load_one(item, name, where, hostname, no_log_values)
        for other in loaded:
            if other.key_type == facts["key_type"]:
                raise CertificateError(
                    "%s and %s are both %s certificates; a custom hostname holds at most one RSA and one ECDSA certificate"
                    % (other.name, name, facts["key_type"].upper())
                )
        loaded.append(LocalCertificate(name, cert_pem, key_pem, facts))
    return loaded


def _load_one(item: Dict[str, Any], name: str, where: str, hostname: Optional[str], no_log_values: Any) -> Any:
    """(certificate PEM, key PEM to upload, facts) of one item, checked."""
    cert_pem = read_file_option(item, "certificate", "certificate_path", where)
    key_pem = read_file_option(item, "private_key", "private_key_path", where)
    passphrase = item.get("private_key_passphrase")
    facts, key_pem = check_certificate(cert_pem or "", key_pem or "", passphrase, hostname, name)
    if passphrase:
        # Decrypted by check_certificate; the clear key is what Cloudflare takes. It must never be shown either.
        no_log_values.add(key_pem)
    if facts["key_type"] not in KEY_TYPES:
        raise CertificateError("%s: Cloudflare takes RSA or ECDSA certificates, this one has a %s key" % (name, facts["key_type"]))
    return normalize_pem(cert_pem or ""), (key_pem or "").strip() + "\n", facts


def _load_cached(item: Dict[str, Any], name: str, no_log_values: Any, cache: Dict[Any, Any]) -> Any:
    """_load_one without the hostname check, once per (certificate, key, passphrase); failures are cached too."""
    key = (item.get("certificate_path"), item.get("private_key_path"), item.get("private_key_passphrase"))
    if key not in cache:
        try:
            cache[key] = _load_one(item, name, "", None, no_log_values)
        except ValueError as exc:  # InputError or CertificateError
            cache[key] = exc
    if isinstance(cache[key], ValueError):
        raise cache[key]
    return cache[key]


def check_coverage(locals_: List[LocalCertificate], hostname: str) -> None:
    """Each certificate must cover the hostname (used when only its id was given)."""
    for local in locals_:
        problem = coverage_problem(local.facts["hosts"], hostname)
        if problem:
            raise CertificateError("%s: %s" % (local.name, problem))


# -- certificates the API reports ---------------------------------------------------------------


def is_same_certificate(entry: Dict[str, Any], facts: Dict[str, Any]) -> bool:
    """Whether a custom certificate of a hostname, as the API lists it in `ssl.certificates` (cloudflare-go's
    `CustomHostnameSSLCertificates`) or as a view shows it, is the local certificate whose facts (or leaf_identity) are
    `facts`: the one identity rule for custom hostname certificates, used by custom_hostname_cert, the planner and the
    outcomes. The same SHA-256 fingerprint when the API gives one; else the same serial number and issuer."""
    return same_leaf(entry.get("fingerprint_sha256"), entry.get("serial_number"), entry.get("issuer"), facts)


class RemoteCertificate:
    """One custom certificate of a hostname's certificate pack, as the API reports it (its key type: key_types())."""

    def __init__(self, entry: Dict[str, Any]) -> None:
        self.entry = entry
        self.id: Optional[str] = entry.get("id")
        self.fingerprint = normalize_fingerprint(entry.get("fingerprint_sha256"))
        self.key_type: Optional[str] = None
        self.local: Optional[LocalCertificate] = None
        self.hosts: Optional[List[str]] = None
        self.not_before: Optional[str] = None
        self.uploaded_on: Optional[str] = None

    def same_as(self, local: LocalCertificate) -> bool:
        return is_same_certificate(self.entry, local.facts)

    def view(self, now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
        expires = self.entry.get("expires_on")
        return {
            "id": self.id,
            "key_type": self.key_type,
            "serial_number": self.entry.get("serial_number"),
            "fingerprint_sha256": self.fingerprint or (self.local.fingerprint if self.local else None),
            "issuer": self.entry.get("issuer"),
            "expires_on": isoformat(parse_time(expires)) if expires else None,
            "days_remaining": days_until(expires, now),
            "not_before": self.not_before or (self.local.facts["not_before"] if self.local else None),
            "uploaded_on": self.uploaded_on,
            "hosts": self.hosts,
        }


def signature_key_type(signature: Any) -> Optional[str]:
    """The key type a signature algorithm's name points to: ECDSA ones ecdsa, RSA ones (RSA-PSS too) rsa, else None."""
    text = str(signature or "").upper()
    return "ecdsa" if "ECDSA" in text else "rsa" if "RSA" in text else None


def key_types(entries: List[Dict[str, Any]], served: Optional[Dict[str, str]] = None, exact: Optional[List[Optional[str]]] = None) -> List[Optional[str]]:
    """The key type of each custom certificate of a hostname's pack, as `ssl.certificates` lists them: the one place
    the collection reads a key type out of an API answer.

    The API reports none: its entries carry what cloudflare-go's `CustomHostnameSSLCertificates` declares (`id`,
    `issuer`, `serial_number`, `signature`, `expires_on`, `issued_on`, `fingerprint_sha256`). In order:

    * `exact`, one per entry: the key type of the identical local certificate (None where there is none);
    * `served`, the facts of the PEM in `ssl.custom_certificate` (served_leaf(); the answers of "Edit Custom Hostname"
      and "Replace Custom Certificate and Custom Key In Custom Hostname" carry it), for the entry that is its leaf;
    * the key type the collection itself gave an entry of its own view (custom_hostname_cert_info's, given back as
      `discovered_hostnames`), which has `days_remaining`, a field no API entry has;
    * in a pack of two, the other key type of a member whose type is known: a pack holds one RSA and one ECDSA
      certificate ("Edit Custom Hostname", `custom_cert_bundle`);
    * the name of the signature algorithm (ECDSA ones ecdsa, RSA ones, RSA-PSS included, rsa). That is the algorithm of
      the issuer's key, which usually but not always is the leaf's (unverified against the live API): a guess, dropped
      (None) when it gives both members of a pair one key type.
    """
    types: List[Optional[str]] = list(exact) if exact else [None] * len(entries)
    for index, entry in enumerate(entries):
        if types[index] is None and served is not None and is_served_leaf(entry, served):
            types[index] = served["key_type"] if served["key_type"] in KEY_TYPES else None
        if types[index] is None and "days_remaining" in entry and entry.get("key_type") in KEY_TYPES:
            types[index] = entry["key_type"]
    known = [t for t in types if t is not None]
    if len(entries) == 2 and len(known) == 1:
        types = [t or ("ecdsa" if known[0] == "rsa" else "rsa") for t in types]
    guessed = [t is None for t in types]
    types = [t or signature_key_type(entry.get("signature")) for t, entry in zip(types, entries)]
    if len(entries) == 2 and types[0] == types[1]:
        types = [None if guess else t for t, guess in zip(types, guessed)]  # two of one kind cannot be: the guess failed
    return types


def remote_certificates(current: Optional[Dict[str, Any]], locals_: Optional[List[LocalCertificate]] = None) -> List[RemoteCertificate]:
    """The custom certificates of the hostname's pack, each matched to a local certificate when identical, each with its
    key type (key_types()) and the start of its lifetime."""
    ssl = (current or {}).get("ssl") or {}
    entries = ssl.get("certificates")
    if entries is None and (ssl.get("serial_number") or ssl.get("custom_certificate")):
        # An API without the `certificates` list: the hostname's one custom certificate, from `ssl` itself.
        entries = [{k: ssl.get(k) for k in ("issuer", "serial_number", "signature", "expires_on")}]
    remote = [RemoteCertificate(entry) for entry in entries or []]
    for cert in remote:
        for local in locals_ or []:
            if cert.same_as(local):
                cert.local = local
                cert.hosts = local.facts["hosts"]
    served = served_leaf(ssl) if remote else None
    types = key_types([cert.entry for cert in remote], served, [cert.local.key_type if cert.local else None for cert in remote])
    for cert, kind in zip(remote, types):
        cert.key_type = kind
    if len(remote) == 1 and remote[0].hosts is None and ssl.get("hosts"):
        remote[0].hosts = [str(h).lower() for h in ssl["hosts"]]
    _add_start(remote, ssl, served)
    return remote


def is_served_leaf(entry: Dict[str, Any], served: Dict[str, Any]) -> bool:
    """Whether an entry of `ssl.certificates` is the leaf of `ssl.custom_certificate` (its facts: _leaf_facts): the same
    SHA-256 fingerprint, or the same serial number (as the API writes serials)."""
    return normalize_fingerprint(entry.get("fingerprint_sha256")) == served["fingerprint_sha256"] or serial_matches(entry.get("serial_number"), served)


def _add_start(remote: List[RemoteCertificate], ssl: Dict[str, Any], served: Optional[Dict[str, str]]) -> None:
    """When each certificate's lifetime began, for renewal windows given as a share of the lifetime.

    `ssl.uploaded_on` (one time for the pack's upload) for all of them, and the notBefore of the PEM in
    `ssl.custom_certificate` for the certificate it is.
    """
    uploaded = ssl.get("uploaded_on")
    for cert in remote:
        cert.uploaded_on = uploaded if isinstance(uploaded, str) else None
    if served is None:
        return
    for cert in remote:
        if is_served_leaf(cert.entry, served):
            cert.not_before = served["not_before"]


def served_leaf(ssl: Dict[str, Any]) -> Optional[Dict[str, str]]:
    """The facts of the leaf of `ssl.custom_certificate` (_leaf_facts), or None when there is no such PEM."""
    pem = ssl.get("custom_certificate")
    return _leaf_facts(pem) if isinstance(pem, str) else None


@functools.lru_cache(maxsize=64)
def _leaf_facts(pem: str) -> Optional[Dict[str, str]]:
    """The serial, fingerprint, key type and notBefore of a served leaf, parsed once per PEM: a zone's hostnames often
    share one certificate."""
    try:
        leaf = load_certificates(pem, name="the served certificate")[0]
    except CertificateError:
        return None  # untrusted text: no facts rather than a failure
    return {
        "serial_number": str(leaf.serial_number),
        "serial_hex": "%x" % leaf.serial_number,
        "fingerprint_sha256": fingerprint_sha256(leaf),
        "key_type": key_type(leaf.public_key()),
        "not_before": isoformat(not_valid_before(leaf)),
    }


# -- the view -----------------------------------------------------------------------------------


def _sort_key(cert: Dict[str, Any]) -> Any:
    return (KEY_TYPES.index(cert["key_type"]) if cert.get("key_type") in KEY_TYPES else len(KEY_TYPES), cert.get("fingerprint_sha256") or "")


def hostname_view(current: Dict[str, Any], certificates: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """The one view of a custom hostname the modules return: settings, statuses and the records to publish, no key material.

    `certificates` (the facts of its custom certificates) adds `ssl.certificates`, as custom_hostname_cert
    and its _info companion return it.
    """
    ssl = current.get("ssl") or {}
    view_ssl = {key: ssl.get(key) for key in ("id", "status") + SSL_CONFIG_FIELDS}
    view_ssl["settings"] = {k: v for k, v in (ssl.get("settings") or {}).items() if v is not None}
    for key in ("validation_records", "validation_errors", "dcv_delegation_records"):
        view_ssl[key] = list(ssl.get(key) or [])
    if certificates is not None:
        view_ssl["certificates"] = sorted(certificates, key=_sort_key)
    view = {key: current.get(key) for key in ("id", "hostname", "status")}
    view["verification_errors"] = list(current.get("verification_errors") or [])
    view.update({key: current.get(key) for key in ("ownership_verification", "ownership_verification_http") + EXTRA_FIELDS})
    view["ssl"] = view_ssl
    return view


def is_live(current: Dict[str, Any]) -> bool:
    """Live means both the hostname and its SSL are active; either alone is not (the hostname's `status` and `ssl.status`)."""
    return current.get("status") == "active" and (current.get("ssl") or {}).get("status") == "active"


def check_not_stuck(current: Dict[str, Any]) -> None:
    """Raise when the hostname is in a status that waiting will not change, naming it and the errors Cloudflare gives."""
    ssl = current.get("ssl") or {}
    if current.get("status") in HOSTNAME_STUCK_STATUSES:
        problem = "the status of custom hostname %s is %s" % (current.get("hostname"), current.get("status"))
    elif ssl.get("status") in HOSTNAME_SSL_STUCK_STATUSES:
        problem = "the SSL status of custom hostname %s is %s" % (current.get("hostname"), ssl.get("status"))
    else:
        return
    errors = [str(e.get("message")) for e in ssl.get("validation_errors") or [] if isinstance(e, dict)]
    errors += [str(e) for e in current.get("verification_errors") or []]
    detail = " (errors: %s)" % "; ".join(errors) if errors else ""
    raise CloudflareError("%s%s; it will not become active by waiting" % (problem, detail))


def view_of(current: Optional[Dict[str, Any]], locals_: Optional[List[LocalCertificate]] = None) -> Optional[Dict[str, Any]]:
    if current is None:
        return None
    return hostname_view(current, [cert.view() for cert in remote_certificates(current, locals_)])


def holds_custom_certificates(current: Dict[str, Any]) -> bool:
    """Whether the hostname serves custom certificates (its `ssl.certificates`, or `ssl.custom_certificate`)."""
    ssl = current.get("ssl") or {}
    return bool(ssl.get("certificates") or ssl.get("custom_certificate"))


def ssl_config(current: Dict[str, Any], bundle_method: Optional[str] = None) -> Dict[str, Any]:
    """The hostname's SSL configuration as read, for a PATCH: the API replaces whatever a PATCH sends.

    Less `method` on a hostname with custom certificates: a PATCH with a DCV method moves such a hostname to a
    Cloudflare certificate and removes its custom ones once that validates (Cloudflare for SaaS, "Manage custom
    certificates", section "Move to a Cloudflare certificate").
    """
    ssl = current.get("ssl") or {}
    config = {key: ssl[key] for key in SSL_CONFIG_FIELDS if ssl.get(key) is not None}
    if holds_custom_certificates(current):
        config.pop("method", None)
    if isinstance(config.get("settings"), dict):
        config["settings"] = {k: v for k, v in config["settings"].items() if v is not None}
    if bundle_method:
        config["bundle_method"] = bundle_method
    return config
