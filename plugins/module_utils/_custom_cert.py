# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Zone custom certificates (Custom SSL for a zone): reads, identity and the secret-free view.

This is a private file: it may change in any release without notice.

Shared by custom_cert, cert_priority and custom_cert_info. The API's certificate object has no
serial number, fingerprint or type, so a certificate is identified by its sorted hosts, issuer,
expiry and signature, computed from the local PEM (is_identical).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient, NotFoundError, zone_not_found
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import days_until, host_matches, isoformat, issuer_matches, parse_time

# The document's largest page size for GET zones/{zone_id}/custom_certificates.
PER_PAGE = 50
TYPES = ("legacy_custom", "sni_custom")
BUNDLE_METHODS = ("ubiquitous", "optimal", "force")
GEO_LABELS = ("us", "eu", "highest_security")
STATUSES = ("active", "expired", "deleted", "pending", "initializing")


def certs_path(zone_id: str, cert_id: Optional[str] = None) -> str:
    path = "zones/%s/custom_certificates" % zone_id
    return path + "/" + cert_id if cert_id else path


def list_custom_certs(client: CloudflareClient, zone_id: str, zone_label: str, include_deleted: bool = False) -> List[Dict[str, Any]]:
    """Every custom certificate of the zone (all pages), in the order the API lists them: the order they are used.

    A `deleted` one is gone for identity and priority; only the info module lists it, when asked.
    """
    try:
        certs = client.paginate(certs_path(zone_id), per_page=PER_PAGE)
    except NotFoundError as exc:
        raise zone_not_found(zone_label, exc) from None
    return [c for c in certs if isinstance(c, dict) and (include_deleted or c.get("status") != "deleted")]


def _iso_time(value: Optional[str]) -> Optional[str]:
    try:
        return isoformat(parse_time(value)) if value else None
    except ValueError:
        return None


def is_identical(cert: Dict[str, Any], facts: Dict[str, Any]) -> bool:
    """Whether the zone certificate `cert` (as the API or its view gives it) is the local certificate whose facts are
    `facts`: the one identity rule for zone custom certificates, used by custom_cert, the planner and the outcomes.

    The API gives a zone custom certificate no serial number or fingerprint (GET zones/{zone_id}/custom_certificates),
    so: the same hosts, issuer (as a name or a DN, in any case) and expiry, and the same signature algorithm when the API
    gives one.
    """
    if host_set(cert.get("hosts")) != host_set(facts["hosts"]):
        return False
    if not issuer_matches(cert.get("issuer"), facts):
        return False
    if _iso_time(cert.get("expires_on")) != _iso_time(facts["not_after"]):
        return False
    signature = str(cert.get("signature") or "").lower()
    return not signature or signature == str(facts["signature_algorithm"]).lower()


# What is_identical compares; a plan entry keeps these of the new certificate, so the outcome can apply the same rule.
IDENTITY_KEYS = ("hosts", "issuer", "issuer_dn", "not_after", "signature_algorithm")


def identity_of(facts: Dict[str, Any]) -> Dict[str, Any]:
    return {key: facts[key] for key in IDENTITY_KEYS}


def geo_label(cert: Dict[str, Any]) -> Optional[str]:
    geo = cert.get("geo_restrictions")
    return geo.get("label") if isinstance(geo, dict) else geo


def policy_of(cert: Dict[str, Any]) -> Optional[str]:
    """The API takes `policy` but answers `policy_restrictions` (the document says so)."""
    return cert.get("policy_restrictions") or cert.get("policy")


def describe_certs(certs: Iterable[Dict[str, Any]]) -> str:
    """Certificates as `id (hosts, priority n)` for messages."""
    return "; ".join("%s (%s, priority %s)" % (c.get("id"), ", ".join(host_set(c.get("hosts"))), plain_number(c.get("priority"))) for c in certs)


def plain_number(value: Any) -> Any:
    """Priorities as the API answers them (numbers); whole ones shown as int."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def same_priority(a: Any, b: Any) -> bool:
    try:
        return a is not None and b is not None and float(a) == float(b)
    except (TypeError, ValueError):
        return False


def cert_view(
    cert: Dict[str, Any], facts: Optional[Dict[str, Any]] = None, cert_type: Optional[str] = None, previous_id: Optional[str] = None
) -> Dict[str, Any]:
    """The secret-free view of a zone custom certificate.

    `facts` (from the local PEM the user gave, when it is this certificate) give the serial number and
    fingerprint, which the API does not return; `cert_type` is the type the module sent, the API returns none.
    """
    facts = facts or {}
    expires_on = _iso_time(cert.get("expires_on")) or facts.get("not_after")
    return {
        "id": cert.get("id"),
        "previous_id": previous_id,
        "hosts": host_set(cert.get("hosts") or facts.get("hosts")),
        "status": cert.get("status"),
        "priority": plain_number(cert.get("priority")),
        "type": cert_type,
        "bundle_method": cert.get("bundle_method"),
        "geo_restrictions": geo_label(cert),
        "policy": policy_of(cert),
        "issuer": cert.get("issuer") or facts.get("issuer"),
        "signature": cert.get("signature") or facts.get("signature_algorithm"),
        "uploaded_on": cert.get("uploaded_on"),
        "expires_on": expires_on,
        "days_remaining": days_until(expires_on),
        "serial_number": facts.get("serial_number"),
        "fingerprint_sha256": facts.get("fingerprint_sha256"),
    }


def covers_any(cert: Dict[str, Any], hostnames: Iterable[str]) -> bool:
    """Whether the certificate serves one of `hostnames` (its wildcards cover one label; equal names match too)."""
    hosts = host_set(cert.get("hosts"))
    return any(h == name or host_matches(h, name) for name in hostnames for h in hosts)
