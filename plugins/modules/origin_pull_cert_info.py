#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: origin_pull_cert_info
short_description: List a Cloudflare zone's client certificates for zone-level authenticated origin pulls, and its setting
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Lists the client certificates a zone can present to its origin under zone-level authenticated origin pulls, with
    status, expiry and serial, and says whether the zone's setting is on.
  - Use it to find the certificate due for renewal before M(certops.cloudflare.origin_pull_cert) replaces it.
options:
  expiring_within_days:
    description:
      - Return only the certificates that expire within this many days (expired ones included).
    type: int
  include_deleted:
    description:
      - Return certificates being deleted (V(pending_deletion)) too.
    type: bool
    default: false
notes:
  - "Credentials: an API token with C(Zone / SSL and Certificates / Read)."
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
  - certops.cloudflare.attributes.action_group
seealso:
  - module: certops.cloudflare.origin_pull_cert
"""

EXAMPLES = r"""
- name: The zone's origin pull certificates ending within 30 days
  certops.cloudflare.origin_pull_cert_info:
    zone: example.com
    expiring_within_days: 30
  register: origin_pull
"""

RETURN = r"""
origin_pull_certs:
  description: The zone's client certificates, soonest to expire first, in the view of M(certops.cloudflare.origin_pull_cert).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the certificate.
      type: str
    status:
      description: Its status (V(pending_deployment), V(active), V(pending_deletion)).
      type: str
      sample: active
    serial_number:
      description: Serial number.
      type: str
    fingerprint_sha256:
      description: SHA-256 fingerprint (lower-case hex).
      type: str
    issuer:
      description: Issuer as Cloudflare reports it.
      type: str
    expires_on:
      description: When it expires (UTC).
      type: str
    days_remaining:
      description: Whole days until it expires; negative once expired.
      type: int
enabled:
  description: Whether the zone's authenticated origin pulls setting is on.
  returned: success
  type: bool
  sample: true
zone_id:
  description: The id of the zone.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import current_certificates
from ansible_collections.certops.cloudflare.plugins.module_utils._origin_pull import list_certificates, read_enabled, zone_cert_view
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import expires_on_within


def main() -> None:
    module = build_module(dict(expiring_within_days=dict(type="int"), include_deleted=dict(type="bool", default=False)))
    p = module.params
    zone_label = p.get("zone_id") or p.get("zone")
    with error_handling(module, lambda: "list the origin pull certificates of zone %s" % zone_label):
        client = client_from_module(module)
        zone_id = resolve_zone_id(client, p)
        certs = list_certificates(client, zone_id)
        views = [zone_cert_view(c) for c in (certs if p["include_deleted"] else current_certificates(certs))]
        if p["expiring_within_days"] is not None:
            views = [v for v in views if v["expires_on"] and expires_on_within(v["expires_on"], p["expiring_within_days"])]
        views.sort(key=lambda v: (str(v["expires_on"] or ""), str(v["id"])))
        module.exit_json(changed=False, origin_pull_certs=views, enabled=read_enabled(client, zone_id), zone_id=zone_id)


if __name__ == "__main__":
    main()
