#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: origin_ca_cert_info
short_description: List the Origin CA certificates of a Cloudflare zone
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Lists the Origin CA certificates with a hostname in a zone, with their hostnames, expiry, key type and serial.
  - Use it to find the certificates that are due or superseded, before M(certops.cloudflare.origin_ca_cert) renews or
    revokes them.
options:
  hostname:
    description:
      - Return only the certificates that cover this hostname (a wildcard covers one label; a wildcard given here
        matches the same wildcard).
    type: str
  expiring_within_days:
    description:
      - Return only the certificates that expire within this many days (expired ones included).
    type: int
  include_revoked:
    description:
      - Return revoked certificates too; they carry RV(certificates[].revoked_at).
    type: bool
    default: false
notes:
  - "Credentials: an API token with the C(Zone / SSL and Certificates / Read) permission on the zone (and
    C(Zone / Zone / Read) to name it by O(zone)), a Global API key, or the Origin CA key in O(api_user_service_key)."
  - Every page of the list is read. A certificate lists under each zone one of its hostnames falls in.
  - Dates, serial number, fingerprint and key type come from the certificate itself when the API returns it, else from
    the API's fields.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.auth.origin_ca
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
  - certops.cloudflare.attributes.action_group
seealso:
  - module: certops.cloudflare.origin_ca_cert
"""

EXAMPLES = r"""
- name: Origin CA certificates of example.com that end within 30 days
  certops.cloudflare.origin_ca_cert_info:
    zone: example.com
    expiring_within_days: 30
  register: due

- name: Show them
  ansible.builtin.debug:
    msg: "{{ item.id }} ({{ item.hostnames | join(', ') }}) ends in {{ item.days_remaining }} days"
  loop: "{{ due.certificates }}"

- name: The certificates covering www.example.com, revoked ones too
  certops.cloudflare.origin_ca_cert_info:
    zone: example.com
    hostname: www.example.com
    include_revoked: true
"""

RETURN = r"""
certificates:
  description: The zone's Origin CA certificates, soonest to expire first.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the certificate (its serial number as the API writes it).
      type: str
      sample: "543167211396914562102383893419497785577513006155"
    hostnames:
      description: The hostnames of the certificate, sorted.
      type: list
      elements: str
      sample: ["*.example.com", example.com]
    request_type:
      description: The request type the certificate was issued for, V(origin-rsa), V(origin-ecc) or V(keyless-certificate).
      type: str
      sample: origin-rsa
    key_type:
      description: The key type, V(rsa) or V(ecdsa).
      type: str
      sample: rsa
    requested_validity:
      description: The lifetime asked for, in days.
      type: int
      sample: 5475
    not_before:
      description: Start of the certificate's validity (UTC); V(null) when the API returned no certificate.
      type: str
      sample: "2026-12-07T10:00:00Z"
    expires_on:
      description: When the certificate expires (UTC).
      type: str
      sample: "2041-12-03T10:00:00Z"
    days_remaining:
      description: Whole days until the certificate expires; negative once expired.
      type: int
      sample: 5474
    serial_number:
      description: Serial number in decimal; V(null) when the API returned no certificate.
      type: str
      sample: "543167211396914562102383893419497785577513006155"
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate (lower-case hex); V(null) when the API returned no certificate.
      type: str
      sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
    revoked_at:
      description: When the certificate was revoked; V(null) while it is not.
      type: str
      sample: null
zone_id:
  description: The id of the zone, resolved once from O(zone) or given as O(zone_id), for the tasks that follow.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._origin_ca import (
    check_service_key_zone,
    covers,
    is_revoked,
    list_origin_certs,
    service_key_argument_spec,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import expires_on_within


def main() -> None:
    module = build_module(
        dict(
            hostname=dict(type="str"),
            expiring_within_days=dict(type="int"),
            include_revoked=dict(type="bool", default=False),
            **service_key_argument_spec(),
        ),
        wildcard_options=("hostname",),
    )
    p = module.params
    zone_label = p.get("zone_id") or p.get("zone")
    with error_handling(module, lambda: "list the Origin CA certificates of zone %s" % zone_label):
        check_service_key_zone(p)
        client = client_from_module(module)
        zone_id = resolve_zone_id(client, p)
        views = list_origin_certs(client, zone_id, zone_label)
        if not p["include_revoked"]:
            views = [v for v in views if not is_revoked(v)]
        if p["hostname"]:
            views = [v for v in views if covers(v, p["hostname"])]
        if p["expiring_within_days"] is not None:
            views = [v for v in views if v["expires_on"] and expires_on_within(v["expires_on"], p["expiring_within_days"])]
        views.sort(key=lambda v: (v["expires_on"] or "", v["id"]))
        module.exit_json(changed=False, certificates=views, zone_id=zone_id)


if __name__ == "__main__":
    main()
