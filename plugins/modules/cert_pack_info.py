#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cert_pack_info
short_description: List the certificate packs of a Cloudflare zone and its advanced pack quota
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Lists the certificate packs of a zone, soonest expiry first, and returns the zone's quota of advanced
    certificate packs.
  - Use it to watch the packs' status and expiry, or to check the quota before M(certops.cloudflare.cert_pack) orders
    a pack.
options:
  hosts:
    description:
      - Return only the packs that cover every one of these hosts (exact names, compared in lower case without a
        trailing dot; V(*.example.com) matches only a pack listing V(*.example.com)).
    type: list
    elements: str
  status:
    description:
      - Return only the packs in one of these statuses, for example V(active) or V(validation_timed_out).
    type: list
    elements: str
  expiring_within_days:
    description:
      - Return only the packs whose earliest certificate expires within this many days (expired ones included).
    type: int
notes:
  - Packs are listed in every status (the API lists only active packs by default) and on every page, in the view of
    M(certops.cloudflare.cert_pack); packs not issued yet come last.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
  - certops.cloudflare.attributes.action_group
seealso:
  - module: certops.cloudflare.cert_pack
"""

EXAMPLES = r"""
- name: List the zone's certificate packs and its quota
  certops.cloudflare.cert_pack_info:
    zone: example.com
  register: packs

- name: Show how many advanced packs are left
  ansible.builtin.debug:
    msg: "{{ packs.quota.advanced.allocated - packs.quota.advanced.used }} advanced packs left"

- name: Packs whose validation timed out
  certops.cloudflare.cert_pack_info:
    zone: example.com
    status: [validation_timed_out]
  register: stuck

- name: Packs covering www.example.com that expire within 14 days
  certops.cloudflare.cert_pack_info:
    zone: example.com
    hosts: [www.example.com]
    expiring_within_days: 14
  register: expiring
"""

RETURN = r"""
cert_packs:
  description:
    - The zone's certificate packs, soonest expiry first, in the view of M(certops.cloudflare.cert_pack) (without its
      C(previous_id) and C(previous_deleted)). Packs of every type are listed, V(deleted) and V(pending_deletion) ones included.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the pack.
      type: str
      sample: 3822ff90ea344ec7a1c1d3b6f0e5b3a1
    type:
      description: Type of the pack, for example V(advanced) or V(universal).
      type: str
      sample: advanced
    hosts:
      description: The hosts the pack covers.
      type: list
      elements: str
      sample: [example.com, www.example.com]
    status:
      description: Status of the pack.
      type: str
      sample: active
    certificate_authority:
      description: The certificate authority of the pack.
      type: str
      sample: lets_encrypt
    validation_method:
      description: The validation method of the pack.
      type: str
      sample: txt
    validity_days:
      description: Validity of the pack's certificates, in days.
      type: int
      sample: 90
    cloudflare_branding:
      description: Whether Cloudflare branding is on.
      type: bool
      sample: false
    validation_records:
      description: The records validation needs, as the API reports them.
      type: list
      elements: dict
      sample: [{"status": "pending", "txt_name": "_acme-challenge.example.com", "txt_value": "810b7d5f01154524b961ba0cd578acc2"}]
    validation_errors:
      description: Validation errors reported by the certificate authority.
      type: list
      elements: dict
      sample: []
    dcv_delegation_records:
      description: The DCV delegation records, as the API reports them, each with a C(status) (for example V(pending) before the pack is validated).
      type: list
      elements: dict
      sample: [{"cname": "_acme-challenge.example.com", "cname_target": "example.com.3822ff90ea344ec7.dcv.cloudflare.com", "status": "pending"}]
    expires_on:
      description: The earliest expiry of the pack's certificates; V(null) before issuance.
      type: str
      sample: "2027-03-01T10:00:00Z"
    days_remaining:
      description: Whole days until C(expires_on); negative once expired.
      type: int
      sample: 89
    certificates:
      description: The pack's certificates, each with C(id), C(hosts), C(status), C(issuer), C(expires_on) and C(days_remaining).
      type: list
      elements: dict
      sample: [{"id": "7e7b8deba8538af625850b7b2530034c", "hosts": ["example.com"], "status": "active", "issuer": "Let's Encrypt",
                "expires_on": "2027-03-01T10:00:00Z", "days_remaining": 89}]
quota:
  description: The zone's certificate pack quota, as the API reports it.
  returned: success
  type: dict
  sample: {"advanced": {"allocated": 10, "used": 3}}
zone_id:
  description: The id of the zone, resolved once from O(zone) or given as O(zone_id), for the tasks that follow.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._cert_pack import get_quota, list_packs, pack_view
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import expires_on_within


def main() -> None:
    module = build_module(
        dict(hosts=dict(type="list", elements="str"), status=dict(type="list", elements="str"), expiring_within_days=dict(type="int")),
        wildcard_options=("hosts",),
    )
    p = module.params
    with error_handling(module, lambda: "list the certificate packs of zone %s" % (p.get("zone_id") or p.get("zone"))):
        client = client_from_module(module)
        zone_id = resolve_zone_id(client, p)
        views = [pack_view(pack) for pack in list_packs(client, zone_id)]
        if p.get("hosts"):
            wanted = host_set(p["hosts"])
            views = [v for v in views if set(wanted) <= set(host_set(v["hosts"]))]
        if p.get("status"):
            statuses = set(p["status"])
            views = [v for v in views if v["status"] in statuses]
        within = p.get("expiring_within_days")
        if within is not None:
            views = [v for v in views if expires_on_within(v["expires_on"], within)]
        views.sort(key=lambda v: (v["expires_on"] is None, v["expires_on"] or "", v["id"] or ""))
        module.exit_json(changed=False, cert_packs=views, quota=get_quota(client, zone_id), zone_id=zone_id)


if __name__ == "__main__":
    main()
