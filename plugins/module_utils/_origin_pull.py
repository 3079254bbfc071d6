# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Zone-level authenticated origin pulls: the zone's client certificates and its setting.

This is a private file: it may change in any release without notice.

Shared by origin_pull_cert and origin_pull_cert_info. The operations are the 2024 document's
(`/zones/{zone_id}/origin_tls_client_auth`, `.../{certificate_id}`, `.../settings`). A certificate's identity is the
one rule of client certificates (_hostname_client_cert.is_same_certificate).
"""

from __future__ import annotations

from typing import Any, Dict, List

from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient, CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import certificate_view


def certificates_path(zone_id: str, cert_id: str = "") -> str:
    path = "zones/%s/origin_tls_client_auth" % zone_id
    return path + "/" + cert_id if cert_id else path


def settings_path(zone_id: str) -> str:
    return "zones/%s/origin_tls_client_auth/settings" % zone_id


def list_certificates(client: CloudflareClient, zone_id: str) -> List[Dict[str, Any]]:
    """The zone's client certificates, those being deleted too (one page: the operation takes no paging parameters)."""
    return [c for c in client.get(certificates_path(zone_id), expect=list) or [] if isinstance(c, dict)]


def read_enabled(client: CloudflareClient, zone_id: str) -> bool:
    """The zone's setting; an answer without a boolean `enabled` is an error, not a guess."""
    answer = client.get(settings_path(zone_id), expect=dict)
    if not isinstance(answer.get("enabled"), bool):
        raise CloudflareError("the API answered the zone's authenticated origin pulls setting without a boolean enabled: %s" % sorted(answer))
    return answer["enabled"]


def zone_cert_view(cert: Dict[str, Any]) -> Dict[str, Any]:
    """The secret-free view of a zone client certificate: the client certificate view without hostnames."""
    view = certificate_view(cert, {})
    view.pop("hostnames", None)
    return view
