#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: custom_cert_info
short_description: List the custom certificates of a Cloudflare zone
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Lists the custom certificates of a zone (Custom SSL for a zone) in the order they are used, with the view of
    M(certops.cloudflare.custom_cert).
  - Use it to find a certificate's id, hosts and expiry before M(certops.cloudflare.custom_cert) or
    M(certops.cloudflare.cert_priority) changes it.
options:
  expiring_within_days:
    description:
      - Return only the certificates that expire within this many days (expired ones included).
    type: int
  hosts:
    description:
      - Return only the certificates that cover one of these hostnames. A certificate's wildcard covers one label,
        and a wildcard given here matches the same wildcard.
    type: list
    elements: str
  status:
    description:
      - Return only the certificates in this status.
    type: str
    choices: [active, expired, deleted, pending, initializing]
notes:
  - Every page is read, and the certificates are returned in the order the API lists them, which is the order they
    are used.
  - The API returns no serial number, fingerprint or type for these certificates, so RV(custom_certs[].serial_number),
    RV(custom_certs[].fingerprint_sha256) and RV(custom_certs[].type) are V(null) here.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
  - certops.cloudflare.attributes.action_group
seealso:
  - module: certops.cloudflare.custom_cert
  - module: certops.cloudflare.cert_priority
"""

EXAMPLES = r"""
- name: List the zone's custom certificates in the order they are used
  certops.cloudflare.custom_cert_info:
    zone: example.com
  register: zone_certs

- name: Certificates for www.example.com expiring within 30 days, with credentials set once for the collection
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_token }}"
      zone_id: 023e105f4ecef8ad9ca31a8372d0c353
  block:
    - name: Find them
      certops.cloudflare.custom_cert_info:
        hosts: [www.example.com]
        expiring_within_days: 30
      register: expiring

    - name: Show them
      ansible.builtin.debug:
        msg: "{{ item.id }} ({{ item.hosts | join(', ') }}) expires in {{ item.days_remaining }} days, priority {{ item.priority }}"
      loop: "{{ expiring.custom_certs }}"
"""

RETURN = r"""
custom_certs:
  description:
    - The zone's custom certificates in the order they are used, in the view of M(certops.cloudflare.custom_cert).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the certificate.
      type: str
      sample: 2458ce5a0b0d4d8a9d2f3e4c5b6a7980
    previous_id:
      description: Always V(null) here (the view is shared with M(certops.cloudflare.custom_cert)).
      type: str
      sample: null
    hosts:
      description: The hostnames the certificate is for, sorted.
      type: list
      elements: str
      sample: [example.com, www.example.com]
    status:
      description: Status of the certificate.
      type: str
      sample: active
    priority:
      description: The certificate's priority; a lower number is used first.
      type: raw
      sample: 1
    type:
      description: Always V(null) here; the API returns no type.
      type: str
      sample: null
    bundle_method:
      description: How Cloudflare builds the chain it serves.
      type: str
      sample: ubiquitous
    geo_restrictions:
      description: The label of the certificate's geographic restriction, or V(null).
      type: str
      sample: us
    policy:
      description: The certificate's key location policy (the API's C(policy_restrictions)), or V(null).
      type: str
      sample: "(country: US) or (region: EU)"
    issuer:
      description: The issuer as Cloudflare reports it.
      type: str
      sample: Example CA
    signature:
      description: The signature algorithm as Cloudflare reports it.
      type: str
      sample: SHA256WithRSA
    expires_on:
      description: When the certificate expires (UTC).
      type: str
      sample: "2027-03-01T10:00:00Z"
    days_remaining:
      description: Whole days until the certificate expires; negative once expired.
      type: int
      sample: 89
    uploaded_on:
      description: When the certificate was uploaded, as Cloudflare reports it.
      type: str
      sample: "2026-12-01T10:05:00Z"
    serial_number:
      description: Always V(null) here; the API returns no serial number.
      type: str
      sample: null
    fingerprint_sha256:
      description: Always V(null) here; the API returns no fingerprint.
      type: str
      sample: null
zone_id:
  description: The id of the zone, resolved once from O(zone) or given as O(zone_id), for the tasks that follow.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import STATUSES, cert_view, covers_any, list_custom_certs
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import expires_on_within


def main() -> None:
    module = build_module(
        dict(
            expiring_within_days=dict(type="int"),
            hosts=dict(type="list", elements="str"),
            status=dict(type="str", choices=list(STATUSES)),
        ),
        wildcard_options=("hosts",),  # zone custom certificates may be for wildcard names
    )
    p = module.params
    zone_label = p.get("zone_id") or p.get("zone")
    with error_handling(module, lambda: "list the custom certificates of zone %s" % zone_label):
        client = client_from_module(module)
        zone_id = resolve_zone_id(client, p)
        certs = list_custom_certs(client, zone_id, zone_label, include_deleted=p["status"] == "deleted")
        if p["hosts"]:
            certs = [c for c in certs if covers_any(c, p["hosts"])]
        if p["status"]:
            certs = [c for c in certs if c.get("status") == p["status"]]
        views = [cert_view(c) for c in certs]
        if p["expiring_within_days"] is not None:
            views = [v for v in views if expires_on_within(v["expires_on"], p["expiring_within_days"])]
        module.exit_json(changed=False, custom_certs=views, zone_id=zone_id)


if __name__ == "__main__":
    main()
