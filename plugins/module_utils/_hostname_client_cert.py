# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Per-hostname authenticated origin pull: client certificates and their hostname associations.

This is a private file: it may change in any release without notice.

Shared by the hostname_client_cert module and its _info companion: the two list reads, the
identity of a certificate, which associations are live, and the secret-free view.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    CertificateError,
    certificate_hosts,
    days_until,
    fingerprint_sha256,
    isoformat,
    load_certificates,
    normalize_fingerprint,
    not_valid_before,
    same_leaf,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import CLIENT_CERT_GONE_STATUSES, ENDED_STATUSES

# Associations: the document allows up to 1,000 a page.
ASSOCIATIONS_PER_PAGE = 1000
MAX_HOSTNAME_LENGTH = 255
# "100 maximum associations on a single certificate are allowed." (Cloudflare's API reference, "Enable or Disable a
# Hostname for Client Authentication", operationId per-hostname-authenticated-origin-pull-enable-or-disable-a-hostname-
# for-client-authentication.) An association counts whether enabled or disabled; one being removed does not.
MAX_HOSTNAMES_PER_CERTIFICATE = 100


def certificates_path(zone_id: str) -> str:
    return "zones/%s/origin_tls_client_auth/hostnames/certificates" % zone_id


def associations_path(zone_id: str) -> str:
    return "zones/%s/origin_tls_client_auth/hostnames" % zone_id


def list_certificates(client: CloudflareClient, zone_id: str) -> List[Dict[str, Any]]:
    """Every client certificate of the zone. The operation takes no paging parameters (one page)."""
    return list(client.get(certificates_path(zone_id)) or [])


def list_associations(client: CloudflareClient, zone_id: str) -> List[Dict[str, Any]]:
    """Every hostname association of the zone, whatever its status (the API lists only active ones by default)."""
    return client.paginate(associations_path(zone_id), params={"status": "all"}, per_page=ASSOCIATIONS_PER_PAGE)


def check_hostnames(values: Optional[Iterable[str]], option: str = "hostnames") -> List[str]:
    """Hostnames lower-cased, de-duplicated and in order; a clear error for empty or over-long ones."""
    result: List[str] = []
    for raw in values or []:
        name = normalize_hostname(raw)
        if not name:
            raise ValueError("%s: empty hostname" % option)
        if len(name) > MAX_HOSTNAME_LENGTH:
            raise ValueError("%s: %s... is %d characters long; Cloudflare allows at most %d" % (option, name[:40], len(name), MAX_HOSTNAME_LENGTH))
        if name not in result:
            result.append(name)
    return result


def api_leaf(cert: Dict[str, Any]) -> Any:
    """The leaf in the API's `certificate` field, when it has one that parses."""
    pem = cert.get("certificate")
    if not pem:
        return None
    try:
        return load_certificates(pem)[0]
    except CertificateError:
        return None


def api_fingerprint(cert: Dict[str, Any]) -> Optional[str]:
    """SHA-256 fingerprint of the leaf in the API's `certificate` field, when it has one that parses."""
    leaf = api_leaf(cert)
    return fingerprint_sha256(leaf) if leaf is not None else None


def is_same_certificate(cert: Dict[str, Any], facts: Dict[str, Any]) -> bool:
    """Whether the client certificate `cert` (as the API or its view gives it) is the local certificate whose facts (or
    leaf_identity) are `facts`: the one identity rule for client certificates, used by hostname_client_cert, the
    planner and the outcomes. By SHA-256 fingerprint (of the API's PEM, else the view's), else serial and issuer."""
    fingerprint = api_fingerprint(cert) or cert.get("fingerprint_sha256")
    return same_leaf(fingerprint, cert.get("serial_number"), cert.get("issuer"), facts)


def live_certificates(certs: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Certificates that exist (pending deletion included: they still count toward the quota)."""
    return [c for c in certs if c.get("status") not in CLIENT_CERT_GONE_STATUSES]


def current_certificates(certs: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Certificates that can be the managed resource: a certificate pending deletion is as good as gone."""
    return [c for c in certs if c.get("status") not in ENDED_STATUSES]


def live_associations(associations: Iterable[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """The association in force for each hostname: not removed, not being removed; the latest wins."""
    live: Dict[str, Dict[str, Any]] = {}
    for assoc in associations:
        if assoc.get("enabled") is None or assoc.get("status") in ENDED_STATUSES or not assoc.get("hostname"):
            continue
        name = normalize_hostname(assoc["hostname"])
        held = live.get(name)
        if held is None or str(assoc.get("updated_at") or "") >= str(held.get("updated_at") or ""):
            live[name] = assoc
    return live


def hostnames_of(cert_id: Optional[str], associations: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The hostnames associated with `cert_id`, sorted, as {hostname, enabled, status}."""
    if not cert_id:
        return []
    return [
        {"hostname": name, "enabled": assoc.get("enabled"), "status": assoc.get("status")}
        for name, assoc in sorted(associations.items())
        if assoc.get("cert_id") == cert_id
    ]


def hostname_limit_problem(label: str, held: int, after: int) -> Optional[str]:
    """The message for a certificate that would hold more than MAX_HOSTNAMES_PER_CERTIFICATE hostnames, else None.

    `label` names the certificate; `held`: how many hostnames it has now (and keeps); `after`: how many it would have.
    A task that adds no hostname to the certificate is never refused.
    """
    if after <= MAX_HOSTNAMES_PER_CERTIFICATE or after <= held:
        return None
    limit = MAX_HOSTNAMES_PER_CERTIFICATE
    if not held:
        return (
            "hostnames: %d hostnames for client certificate %s; Cloudflare allows at most %d associations on one certificate. "
            "Spread the hostnames over several client certificates, at most %d each (one task per certificate)" % (after, label, limit, limit)
        )
    return (
        "hostnames: client certificate %s would be associated with %d hostnames, the %d it has now and %d more; Cloudflare allows at "
        "most %d associations on one certificate, so %d more fit. Associate the others with another client certificate, or set "
        "purge_hostnames=true to keep only the hostnames listed" % (label, after, held, after - held, limit, max(limit - held, 0))
    )


def certificate_view(cert: Dict[str, Any], associations: Dict[str, Dict[str, Any]], facts: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """The secret-free view of an uploaded certificate: facts, status, and its hostnames.

    `facts` (from the local PEM) fill in what the API does not say, such as the fingerprint.
    """
    facts = facts or {}
    expires_on = cert.get("expires_on") or facts.get("not_after")
    leaf = api_leaf(cert)
    return {
        "id": cert.get("id"),
        "status": cert.get("status"),
        "serial_number": cert.get("serial_number") or facts.get("serial_number"),
        "fingerprint_sha256": (fingerprint_sha256(leaf) if leaf is not None else None) or normalize_fingerprint(facts.get("fingerprint_sha256")),
        "not_before": isoformat(not_valid_before(leaf)) if leaf is not None else facts.get("not_before"),
        "hosts": certificate_hosts(leaf) if leaf is not None else facts.get("hosts"),
        "issuer": cert.get("issuer") or facts.get("issuer"),
        "signature": cert.get("signature") or facts.get("signature_algorithm"),
        "uploaded_on": cert.get("uploaded_on"),
        "expires_on": expires_on,
        "days_remaining": days_until(expires_on),
        "hostnames": hostnames_of(cert.get("id"), associations),
    }


def describe_certificates(certs: Iterable[Dict[str, Any]]) -> str:
    """One line per certificate, soonest expiry first: what a user needs to choose one to retire."""
    lines = []
    for cert in sorted(certs, key=lambda c: str(c.get("expires_on") or "")):
        lines.append(
            "%s (serial %s, issuer %s, expires %s, status %s)"
            % (cert.get("id"), cert.get("serial_number"), cert.get("issuer"), cert.get("expires_on"), cert.get("status"))
        )
    return "; ".join(lines)
