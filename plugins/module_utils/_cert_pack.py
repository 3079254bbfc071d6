# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Advanced Certificate Manager certificate packs.

This is a private file: it may change in any release without notice.

Shared by the cert_pack module and its _info companion: the list read (every status, every page),
the identity of a pack (its host set), the checks of the hosts against the zone, and the view.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient, CloudflareError, NotFoundError
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set, normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import days_until, parse_time
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import ENDED_STATUSES, PACK_STUCK_STATUSES
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import poll

# The document: a pack holds 1 to 50 hosts, the zone apex among them.
MAX_HOSTS = 50
PACKS_PER_PAGE = 50
VALIDATION_METHODS = ("txt", "http", "email")
VALIDITY_DAYS = (14, 30, 90, 365)
CERTIFICATE_AUTHORITIES = ("google", "lets_encrypt", "ssl_com")
# Fields fixed at order time: a different value needs a new pack (replace: true).
IMMUTABLE_FIELDS = ("validation_method", "validity_days", "certificate_authority")
# Keys of the view the diff shows: what a task can change, and the status.
DIFF_KEYS = ("id", "type", "hosts", "status", "validation_method", "validity_days", "certificate_authority", "cloudflare_branding")


def packs_path(zone_id: str) -> str:
    return "zones/%s/ssl/certificate_packs" % zone_id


def pack_path(zone_id: str, pack_id: str) -> str:
    return "zones/%s/ssl/certificate_packs/%s" % (zone_id, pack_id)


def list_packs(client: CloudflareClient, zone_id: str) -> List[Dict[str, Any]]:
    """Every certificate pack of the zone, whatever its status (the API lists only active ones by default), every page."""
    return client.paginate(packs_path(zone_id), params={"status": "all"}, per_page=PACKS_PER_PAGE)


def get_quota(client: CloudflareClient, zone_id: str) -> Dict[str, Any]:
    return client.get(packs_path(zone_id) + "/quota", expect=dict) or {}


def zone_name(client: CloudflareClient, zone_id: str) -> str:
    """The name of the zone `zone_id` (one read)."""
    zone = client.get("zones/%s" % zone_id, expect=dict) or {}
    name = zone.get("name")
    if not name:
        raise CloudflareError("the API answered zone %s without its name" % zone_id, method="GET", path="zones/%s" % zone_id)
    return normalize_hostname(str(name))


def not_ended(pack: Dict[str, Any]) -> bool:
    """A pack deleted or pending deletion is gone for identity (statuses of GET .../certificate_packs?status=all)."""
    return pack.get("status") not in ENDED_STATUSES


def same_hosts(packs: Iterable[Dict[str, Any]], hosts: Iterable[str]) -> List[Dict[str, Any]]:
    """The live advanced packs whose host set is `hosts`."""
    wanted = host_set(hosts)
    return [p for p in packs if p.get("type") == "advanced" and not_ended(p) and host_set(p.get("hosts") or []) == wanted]


def host_problems(hosts: List[str], zone: Optional[str]) -> List[str]:
    """Every problem of a pack's host list (already checked one by one and normalized), not only the first.

    `zone` (the zone's name) is None when it is not known yet; the zone checks are then left out.
    """
    problems = []
    if not 1 <= len(hosts) <= MAX_HOSTS:
        problems.append("hosts holds %d hostnames; a certificate pack takes 1 to %d" % (len(hosts), MAX_HOSTS))
    seen: Dict[str, int] = {}
    for name in hosts:
        seen[name] = seen.get(name, 0) + 1
    duplicates = sorted(name for name, count in seen.items() if count > 1)
    if duplicates:
        problems.append("hosts names %s more than once (hosts compare in lower case, without a trailing dot)" % ", ".join(duplicates))
    if zone and hosts:
        if zone not in seen:
            problems.append("hosts must include the zone apex %s" % zone)
        outside = [name for name in seen if name != zone and not name.endswith("." + zone)]
        if outside:
            problems.append("hosts %s not in zone %s" % (", ".join(outside) + (" are" if len(outside) > 1 else " is"), zone))
    return problems


def earliest(times: Iterable[Optional[str]]) -> Optional[str]:
    """The earliest of API times; unreadable or missing ones are left out."""
    best: Optional[Tuple[Any, str]] = None
    for value in times:
        if not value:
            continue
        try:
            moment = parse_time(value)
        except ValueError:
            continue
        if best is None or moment < best[0]:
            best = (moment, value)
    return best[1] if best else None


def certificate_view(cert: Dict[str, Any]) -> Dict[str, Any]:
    expires_on = cert.get("expires_on")
    return {
        "id": cert.get("id"),
        "hosts": list(cert.get("hosts") or []),
        "status": cert.get("status"),
        "issuer": cert.get("issuer"),
        "expires_on": expires_on,
        "days_remaining": days_until(expires_on),
    }


def pack_view(pack: Dict[str, Any]) -> Dict[str, Any]:
    """The view of a pack: its order, status, what validation needs, and its certificates.

    `expires_on` is the earliest expiry of its certificates: a pack is as healthy as its first certificate to expire.
    """
    certs = [certificate_view(c) for c in pack.get("certificates") or [] if isinstance(c, dict)]
    expires_on = earliest(c["expires_on"] for c in certs)
    return {
        "id": pack.get("id"),
        "type": pack.get("type"),
        "hosts": list(pack.get("hosts") or []),
        "status": pack.get("status"),
        "certificate_authority": pack.get("certificate_authority"),
        "validation_method": pack.get("validation_method"),
        "validity_days": pack.get("validity_days"),
        "cloudflare_branding": bool(pack.get("cloudflare_branding")),
        "validation_records": list(pack.get("validation_records") or []),
        "validation_errors": list(pack.get("validation_errors") or []),
        "dcv_delegation_records": list(pack.get("dcv_delegation_records") or []),
        "expires_on": expires_on,
        "days_remaining": days_until(expires_on),
        "certificates": certs,
    }


def describe_packs(packs: Iterable[Dict[str, Any]]) -> str:
    return "; ".join("%s (%s, %s, hosts %s)" % (p.get("id"), p.get("type"), p.get("status"), ", ".join(str(h) for h in p.get("hosts") or [])) for p in packs)


def validation_errors_text(pack: Dict[str, Any]) -> str:
    errors = [str(e.get("message")) for e in pack.get("validation_errors") or [] if isinstance(e, dict) and e.get("message")]
    return "; validation errors: %s" % "; ".join(errors) if errors else ""


def wait_active(fetch: Callable[[], Dict[str, Any]], timeout: float, pack_id: str, sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    """Read the pack until it is active (the one wait, _wait.poll).

    A status that waiting will not change fails at once; a time-out (WaitTimeoutError) names the last status seen.
    Both messages carry the validation errors the API reports.
    """

    def read() -> Dict[str, Any]:
        try:
            return fetch()
        except NotFoundError:
            raise CloudflareError("certificate pack %s disappeared while waiting for it to be active" % pack_id) from None

    def active(pack: Dict[str, Any]) -> bool:
        status = pack.get("status")
        if status in PACK_STUCK_STATUSES or status in ENDED_STATUSES:
            raise CloudflareError("certificate pack %s is %s, which waiting will not make active%s" % (pack_id, status, validation_errors_text(pack)))
        return status == "active"

    def last_seen(pack: Dict[str, Any]) -> str:
        return "its last status was %s%s" % (pack.get("status"), validation_errors_text(pack))

    return poll(read, active, timeout, "certificate pack %s to be active" % pack_id, sleep, last_seen)
