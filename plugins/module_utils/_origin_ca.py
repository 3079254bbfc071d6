# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Origin CA certificates: the list, the secret-free view, the one identity rule and the renewal window.

This is a private file: it may change in any release without notice.

Shared by origin_ca_cert and origin_ca_cert_info. An Origin CA certificate belongs to the account, not to a zone
(the paths are /certificates); the list needs a zone id and gives every certificate with a hostname in that zone,
revoked ones too. Its id is the certificate's serial number, which the live API writes in decimal: ids are compared
as serial numbers and their length is never assumed.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import env_fallback

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient, CloudflareError, NotFoundError, zone_not_found
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_id, host_set
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    DEFAULT_RENEW_BEFORE_DAYS,
    CertificateError,
    certificate_facts,
    host_matches,
    isoformat,
    load_certificates,
    days_remaining,
    parse_time,
    public_key_der,
    renewal_moment,
    serial_matches,
)

# The key type each request type signs for (the document's request_type enum); keyless-certificate is refused,
# since its key stays on a Keyless SSL server this collection does not manage.
REQUEST_TYPES = {"origin-rsa": "rsa", "origin-ecc": "ecdsa"}
KEYLESS = "keyless-certificate"
# The document's requested_validity enum, in days.
VALIDITY_DAYS = (7, 30, 90, 365, 730, 1095, 5475)
# The document's largest page size is not given; 50 is what the other lists of the API take.
PER_PAGE = 50
CERTS_PATH = "certificates"


def parse_api_time(value: Any) -> Optional[datetime.datetime]:
    """An Origin CA time as a datetime: ISO 8601, or the live API's Go layout ("2032-01-29 22:36:00 +0000 UTC");
    None when missing or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return parse_time(text)
    except ValueError:
        pass
    try:
        return datetime.datetime.strptime(text.replace(" UTC", ""), "%Y-%m-%d %H:%M:%S %z").astimezone(datetime.timezone.utc)
    except ValueError:
        return None


def list_origin_certs(client: CloudflareClient, zone_id: str, zone_label: str, pems: Optional[Dict[str, str]] = None) -> List[Dict[str, Any]]:
    """Every Origin CA certificate listed for the zone (all pages), revoked ones included, as views; each one's PEM
    goes into `pems` by id when given."""
    try:
        items = client.paginate(CERTS_PATH, params={"zone_id": zone_id}, per_page=PER_PAGE)
    except NotFoundError as exc:
        raise zone_not_found(zone_label, exc) from None
    views = [origin_cert_view(item) for item in items]
    if pems is not None:
        pems.update((view["id"], item["certificate"]) for view, item in zip(views, items) if isinstance(item.get("certificate"), str))
    return views


def origin_cert_view(item: Any, now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """The secret-free view of an Origin CA certificate as the API gives it, checked (the answer is untrusted).

    The certificate's own dates, serial and key type come from its PEM when the answer holds one that parses; the
    API's fields otherwise.
    """
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("hostnames"), list)
        or not isinstance(item.get("id"), (str, int))
        or isinstance(item.get("id"), bool)
    ):
        raise CloudflareError("the API listed an Origin CA certificate without an id or hostnames: %s" % _shape(item))
    try:
        cert_id = check_id(item.get("id"), "id")
    except ValueError:
        raise CloudflareError("the API listed an Origin CA certificate whose id is not a Cloudflare id: %s" % _shape(item)) from None
    facts = pem_facts(item.get("certificate"), now)
    request_type = item.get("request_type") if isinstance(item.get("request_type"), str) else None
    expires = parse_api_time(item.get("expires_on"))
    validity = item.get("requested_validity")
    return {
        "id": cert_id,
        "hostnames": host_set(h for h in item["hostnames"] if isinstance(h, str)),
        "request_type": request_type,
        "key_type": facts["key_type"] if facts else REQUEST_TYPES.get(request_type or ""),
        "requested_validity": validity if isinstance(validity, int) and not isinstance(validity, bool) else None,
        "not_before": facts["not_before"] if facts else None,
        "expires_on": facts["not_after"] if facts else (isoformat(expires) if expires else None),
        "days_remaining": facts["days_remaining"] if facts else (days_remaining(expires, now) if expires else None),
        "serial_number": facts["serial_number"] if facts else None,
        "fingerprint_sha256": facts["fingerprint_sha256"] if facts else None,
        "revoked_at": _iso(item.get("revoked_at")),
    }


def pem_facts(pem: Any, now: Optional[datetime.datetime] = None) -> Optional[Dict[str, Any]]:
    """certificate_facts of the first certificate in `pem`, with its public key (DER) as `public_key`; None when there
    is none that parses."""
    if not isinstance(pem, str):
        return None
    try:
        cert = load_certificates(pem)[0]
        return dict(certificate_facts(cert, now), public_key=public_key_der(cert))
    except (CertificateError, ValueError, IndexError):
        return None


def is_same_certificate(view: Dict[str, Any], facts: Dict[str, Any]) -> bool:
    """Whether the listed certificate `view` is the local one whose certificate_facts are `facts`: the same
    fingerprint when the API gave the PEM, else the same serial number (the id is the serial)."""
    if view.get("fingerprint_sha256"):
        return view["fingerprint_sha256"] == facts["fingerprint_sha256"]
    return serial_matches(view.get("id"), facts)


def covers(view: Dict[str, Any], hostname: str) -> bool:
    """Whether the certificate lists `hostname`, or a wildcard over it (a wildcard given matches the same one)."""
    return any(name == hostname or host_matches(name, hostname) for name in view["hostnames"])


def renewal_due(view: Dict[str, Any], days: Optional[int], percentage: Optional[int], now: Optional[datetime.datetime] = None) -> bool:
    """Whether the certificate is within the renewal window: `days` before expiry or less than `percentage` of its
    lifetime left (the earlier wins; 30 days when neither is given). Without a known expiry it is due."""
    expires = parse_api_time(view.get("expires_on"))
    if expires is None:
        return True
    if days is None and percentage is None:
        days = DEFAULT_RENEW_BEFORE_DAYS
    moment = renewal_moment(expires, parse_api_time(view.get("not_before")), days, percentage)
    return moment is None or (now or datetime.datetime.now(datetime.timezone.utc)) >= moment


def is_revoked(view: Dict[str, Any]) -> bool:
    return view.get("revoked_at") is not None


def _iso(value: Any) -> Optional[str]:
    moment = parse_api_time(value)
    return isoformat(moment) if moment else (str(value) if value else None)


def _shape(item: Any) -> str:
    if isinstance(item, dict):
        return "an object with the keys %s" % ", ".join(sorted(str(k) for k in item)[:12])
    return "a %s" % type(item).__name__


def service_key_argument_spec() -> Dict[str, Any]:
    """The Origin CA key option (the certops.cloudflare.auth.origin_ca doc fragment), taken only by the Origin CA modules."""
    return dict(api_user_service_key=dict(type="str", no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_USER_SERVICE_KEY"])))


def check_service_key_zone(params: Dict[str, Any]) -> None:
    """The Origin CA key cannot read zones: with it, the zone must be given by id."""
    if params.get("api_user_service_key") and not params.get("zone_id"):
        raise InputError(
            "api_user_service_key (the Origin CA key) can call only the Origin CA operations, so it cannot look up zone %s: give zone_id "
            "instead of zone, or use an API token" % params["zone"]
        )


def certificate_status(
    pem: Any, hostnames: List[str], request_type: str, days: Optional[int] = None, percentage: Optional[int] = None, now: Optional[datetime.datetime] = None
) -> Dict[str, Any]:
    """What an origin server's certificate file holds, and whether it is due for a new Origin CA certificate for
    `hostnames` of `request_type`: missing or unreadable, for other hostnames, of another key type, or in the renewal
    window (as renewal_due) are due; `reason` says which, or why not."""
    wanted, kind = host_set(hostnames), REQUEST_TYPES.get(request_type)
    facts = pem_facts(pem, now) if pem else None
    status: Dict[str, Any] = {"present": facts is not None}
    for key in ("serial_number", "fingerprint_sha256", "not_before", "days_remaining", "key_type"):
        status[key] = facts[key] if facts else None
    status["expires_on"] = facts["not_after"] if facts else None
    status["hostnames"] = host_set(facts["hosts"]) if facts else []
    if facts is None:
        status.update(due=True, reason="no certificate" if not pem else "the file holds no readable certificate")
    elif status["hostnames"] != wanted:
        status.update(due=True, reason="for %s, not %s" % (", ".join(status["hostnames"]) or "no hostnames", ", ".join(wanted)))
    elif facts["key_type"] != kind:
        status.update(due=True, reason="an %s key, not %s" % (facts["key_type"].upper(), (kind or request_type).upper()))
    elif renewal_due({"expires_on": facts["not_after"], "not_before": facts["not_before"]}, days, percentage, now):
        status.update(due=True, reason="expires in %d days, within the renewal window" % facts["days_remaining"])
    else:
        status.update(due=False, reason="not due: expires in %d days" % facts["days_remaining"])
    return status


def revocations(results: List[Dict[str, Any]], certificates: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """What a rotation of origin servers may revoke: the certificates it replaced on a host (`old` of a row whose
    outcome is rotated) that no host serves any more, grouped by their hostnames, each group with the other listed
    certificates of the same hostnames to keep (what origin_ca_cert's state=absent takes). `results` are the rows of
    the role origin_cert_rotation; `certificates` what origin_ca_cert_info lists."""
    replaced, served = set(), set()
    for row in results:
        old, new = row.get("old") or {}, row.get("new") or {}
        if row.get("outcome") == "rotated":
            replaced.add(old.get("serial_number"))
            served.add(new.get("serial_number"))
        else:
            served.update((old.get("serial_number"), new.get("serial_number")))
    doomed = (replaced - served) - {None}
    groups: Dict[Tuple[str, ...], Dict[str, Any]] = {}
    for cert in certificates:
        if is_revoked(cert):
            continue
        names = tuple(host_set(cert["hostnames"]))
        group = groups.setdefault(names, {"hostnames": list(names), "revoke": [], "keep": []})
        group["revoke" if cert.get("serial_number") in doomed else "keep"].append(cert["id"])
    return [groups[names] for names in sorted(groups) if groups[names]["revoke"]]
