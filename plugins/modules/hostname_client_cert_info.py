#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: hostname_client_cert_info
short_description: List the per-hostname authenticated origin pull client certificates of a Cloudflare zone
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Lists the client certificates uploaded to a zone for per-hostname authenticated origin pull, each with its facts
    and the hostnames associated with it, soonest expiry first.
  - Use it to see which certificates expire soon and which hostnames use them before
    M(certops.cloudflare.hostname_client_cert) rotates them.
options:
  expiring_within_days:
    description:
      - Return only the certificates that expire within this many days (expired ones included).
    type: int
notes:
  - Makes two API calls (three with O(zone)) whatever the number of certificates and hostnames.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
  - certops.cloudflare.attributes.action_group
seealso:
  - module: certops.cloudflare.hostname_client_cert
"""

EXAMPLES = r"""
- name: List the zone's client certificates and the hostnames using them
  certops.cloudflare.hostname_client_cert_info:
    zone: example.com
  register: client_certs

- name: Certificates to rotate in the next 30 days, with credentials set once for the collection
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_token }}"
      zone_id: 023e105f4ecef8ad9ca31a8372d0c353
  block:
    - name: Find certificates expiring soon
      certops.cloudflare.hostname_client_cert_info:
        expiring_within_days: 30
      register: expiring

    - name: Show them
      ansible.builtin.debug:
        msg: "{{ item.id }} expires in {{ item.days_remaining }} days, used by {{ item.hostnames | map(attribute='hostname') }}"
      loop: "{{ expiring.hostname_client_certs }}"
"""

RETURN = r"""
hostname_client_certs:
  description:
    - The zone's client certificates, soonest expiry first, in the view of M(certops.cloudflare.hostname_client_cert).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the certificate.
      type: str
      sample: 7e7b8deba8538af625850b7b2530034c
    status:
      description: Status of the certificate, for example V(active) or V(pending_deletion).
      type: str
      sample: active
    serial_number:
      description: Serial number of the certificate, in decimal.
      type: str
      sample: "6743787633689793699141714808227354901"
    fingerprint_sha256:
      description: SHA-256 fingerprint of the leaf certificate (lower-case hex), when the API returns the PEM.
      type: str
      sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
    issuer:
      description: The certificate authority that issued the certificate.
      type: str
      sample: Example Client CA
    signature:
      description: The signature algorithm of the certificate.
      type: str
      sample: ECDSAWithSHA256
    hosts:
      description: The names the certificate is for (its subject alternative names, else its common name), from its PEM.
      type: list
      elements: str
      sample: [origin-pull.example.com]
    not_before:
      description: When the certificate became valid (UTC), from the PEM the API returns (or the one given).
      type: str
      sample: "2026-03-01T00:00:00Z"
    uploaded_on:
      description: When the certificate was uploaded.
      type: str
      sample: "2026-03-01T10:00:00.000000Z"
    expires_on:
      description: When the certificate expires.
      type: str
      sample: "2027-03-01T10:00:00Z"
    days_remaining:
      description: Whole days until the certificate expires; negative once expired.
      type: int
      sample: 364
    hostnames:
      description: The hostnames associated with the certificate, sorted.
      type: list
      elements: dict
      sample: [{"hostname": "app.example.com", "enabled": true, "status": "active"}]
      contains:
        hostname:
          description: The hostname.
          type: str
          sample: app.example.com
        enabled:
          description: Whether client authentication is enabled for the hostname.
          type: bool
          sample: true
        status:
          description: Status of the association.
          type: str
          sample: active
zone_id:
  description: The id of the zone, resolved once from O(zone) or given as O(zone_id), for the tasks that follow.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import (
    certificate_view,
    list_associations,
    list_certificates,
    live_associations,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import expires_on_within


def main() -> None:
    module = build_module(dict(expiring_within_days=dict(type="int")))
    p = module.params
    with error_handling(module, lambda: "list the hostname client certificates of zone %s" % (p.get("zone") or p.get("zone_id"))):
        client = client_from_module(module)
        zone_id = resolve_zone_id(client, p)
        certs = list_certificates(client, zone_id)
        associations = live_associations(list_associations(client, zone_id))
        views = [certificate_view(cert, associations) for cert in certs]
        within = p.get("expiring_within_days")
        if within is not None:
            views = [v for v in views if expires_on_within(v["expires_on"], within)]
        views.sort(key=lambda v: (v["expires_on"] or "", v["id"] or ""))
        module.exit_json(changed=False, hostname_client_certs=views, zone_id=zone_id)


if __name__ == "__main__":
    main()
