# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The filters origin_cert_status and origin_cert_revocations (documented in their .yml files)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible.errors import AnsibleFilterError

from ansible_collections.certops.cloudflare.plugins.module_utils._origin_ca import REQUEST_TYPES, certificate_status, revocations


def origin_cert_status(
    pem: Any,
    hostnames: List[str],
    request_type: str = "origin-rsa",
    renew_before_days: Optional[int] = None,
    renew_before_percentage: Optional[int] = None,
) -> Dict[str, Any]:
    if pem is not None and not isinstance(pem, str):
        raise AnsibleFilterError("origin_cert_status: the input must be PEM text (or empty when there is no file), not %s" % type(pem).__name__)
    if not isinstance(hostnames, list) or not hostnames:
        raise AnsibleFilterError("origin_cert_status: hostnames must be a non-empty list")
    if request_type not in REQUEST_TYPES:
        raise AnsibleFilterError("origin_cert_status: request_type must be one of %s, not %s" % (", ".join(REQUEST_TYPES), request_type))
    return certificate_status(pem, hostnames, request_type, renew_before_days, renew_before_percentage)


def origin_cert_revocations(results: Any, certificates: Any) -> List[Dict[str, Any]]:
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise AnsibleFilterError("origin_cert_revocations: the input must be the list of the hosts' origin_cert_rotation_result")
    if not isinstance(certificates, list) or not all(isinstance(c, dict) and "id" in c and "hostnames" in c for c in certificates):
        raise AnsibleFilterError("origin_cert_revocations: certificates must be the certificates of certops.cloudflare.origin_ca_cert_info")
    return revocations(results, certificates)


class FilterModule:
    def filters(self) -> Dict[str, Any]:
        return {"origin_cert_status": origin_cert_status, "origin_cert_revocations": origin_cert_revocations}
