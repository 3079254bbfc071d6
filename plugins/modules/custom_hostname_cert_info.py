#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: custom_hostname_cert_info
short_description: List the custom hostnames of a Cloudflare zone with the facts of their custom certificates
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Reads the custom hostnames (Cloudflare for SaaS) of a zone with their SSL settings and status, the records that
    validate a managed certificate and the facts of their custom certificates, never PEM or keys.
  - Use it to find hostnames whose certificates expire soon or whose validation is stuck, or to discover a zone before
    M(certops.cloudflare.rotation_plan) plans a rotation.
options:
  hostname:
    description:
      - Return only this custom hostname (exact match, compared in lower case without a trailing dot), read with one
        call. An empty list is returned when the zone has no such hostname.
      - Mutually exclusive with O(hostnames).
    type: str
  hostnames:
    description:
      - Return only these custom hostnames. Hostnames the zone does not have are left out of the result.
    type: list
    elements: str
  status:
    description:
      - Return only custom hostnames whose activation status (RV(custom_hostnames[].status)) is one of these,
        for example V(active) or V(pending).
    type: list
    elements: str
  ssl_status:
    description:
      - Return only custom hostnames whose SSL status (RV(custom_hostnames[].ssl.status)) is one of these,
        for example V(active), V(pending_deployment) or V(validation_timed_out).
    type: list
    elements: str
  expiring_within_days:
    description:
      - Return only custom hostnames with a custom certificate that expires within this many days from now
        (an already expired certificate counts). Hostnames without custom certificates are left out.
    type: int
  dest:
    description:
      - Write the custom hostnames that pass the filters to this file instead of returning them, as JSON (an object
        with C(zone_id) and C(custom_hostnames)), mode C(0600), replaced whole. The task then returns RV(dest) and
        RV(count) instead of RV(custom_hostnames).
      - For thousands of hostnames. Ansible copies and checks every dictionary of a task's result, and templates
        it again wherever a later task uses it, which takes seconds at 10,000 hostnames; a path costs nothing.
        M(certops.cloudflare.custom_hostname_cert) (O(certops.cloudflare.custom_hostname_cert#module:discovered_hostnames))
        and M(certops.cloudflare.rotation_plan) read the file (the role C(certops.cloudflare.cert_rotation) works so).
      - Each hostname is written as its page is read, so the list is never whole in memory, whatever the zone's size;
        the file is sorted by hostname too.
      - Written in check mode too, since it is what the module reads, not a change to the zone. The directory must exist.
    type: path
    version_added: 0.1.0
notes:
  - The records that validate a managed certificate are C(validation_records), C(dcv_delegation_records) and
    C(validation_errors). The facts of a custom certificate are its key type, serial number, fingerprint, issuer and
    expiry.
  - Each hostname is the view M(certops.cloudflare.custom_hostname) returns, with C(ssl.certificates) added.
  - Lists in bulk, 50 hostnames a call (the largest page the API allows), so thousands of hostnames take a few
    calls. With O(hostname), one call using the API's C(hostname) filter.
  - The filters O(hostnames), O(status), O(ssl_status) and O(expiring_within_days) are applied to the list read,
    and combine (a hostname is returned when it passes all of them).
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
  - certops.cloudflare.attributes.action_group
seealso:
  - module: certops.cloudflare.custom_hostname
  - module: certops.cloudflare.custom_hostname_cert
  - name: List Custom Hostnames
    description: The API operation behind this module.
    link: https://developers.cloudflare.com/api/resources/custom_hostnames/methods/list/
"""

EXAMPLES = r"""
- name: Read one custom hostname
  certops.cloudflare.custom_hostname_cert_info:
    zone: example.com
    hostname: app.customer.com
  register: info

- name: Show its certificates
  ansible.builtin.debug:
    msg: "{{ info.custom_hostnames[0].ssl.certificates | map(attribute='expires_on') }}"

- name: Every custom hostname of a large zone to a file, for tasks that take its path
  certops.cloudflare.custom_hostname_cert_info:
    zone: example.com
    dest: /run/certops/custom-hostnames.json
  register: found

- name: How many there are
  ansible.builtin.debug:
    msg: "{{ found.count }} custom hostnames in {{ found.dest }}"

- name: Custom hostnames whose custom certificate expires within 30 days
  certops.cloudflare.custom_hostname_cert_info:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    expiring_within_days: 30
  register: expiring

- name: Credentials and zone once for the whole collection
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_api_token }}"
      zone: example.com
  block:
    - name: Hostnames whose validation timed out, among three customers
      certops.cloudflare.custom_hostname_cert_info:
        hostnames: [app.customer-a.com, app.customer-b.com, app.customer-c.com]
        ssl_status: [validation_timed_out]
      register: stuck
"""

RETURN = r"""
custom_hostnames:
  description:
    - The custom hostnames that pass the filters, sorted by hostname, with the facts of their custom certificates.
      Never holds PEM or key material.
    - Each is the view M(certops.cloudflare.custom_hostname) returns, with RV(custom_hostnames[].ssl.certificates) added.
  returned: success, when O(dest) is not set
  type: list
  elements: dict
  contains:
    id:
      description: Id of the custom hostname.
      type: str
      sample: 0d89c70dad9f4843b99f6cc0252067e9
    hostname:
      description: The custom hostname.
      type: str
      sample: app.customer.com
    status:
      description: Activation status of the custom hostname.
      type: str
      sample: active
    verification_errors:
      description: Why the hostname is not active yet, as Cloudflare says it.
      type: list
      elements: str
      sample: ["None of the A or AAAA records are owned by this account and the pre-generated ownership verification token was not found."]
    ownership_verification:
      description: The TXT record that proves ownership of the hostname (C(type), C(name), C(value)).
      type: dict
      sample: {"type": "txt", "name": "_cf-custom-hostname.app.customer.com", "value": "5cc07c04-ea62-4a5a-95f0-419334a875a4"}
    ownership_verification_http:
      description: The HTTP token that proves ownership instead (C(http_url), C(http_body)).
      type: dict
      sample: {"http_url": "http://app.customer.com/.well-known/cf-custom-hostname-challenge/0d89c70d", "http_body": "5cc07c04"}
    custom_metadata:
      description: The hostname's metadata.
      type: dict
      sample: {"customer": "acme"}
    custom_origin_server:
      description: The hostname's custom origin server.
      type: str
      sample: origin-acme.example.com
    custom_origin_sni:
      description: The SNI sent to the custom origin server.
      type: str
      sample: ":request_host_header:"
    ssl:
      description: The hostname's SSL state.
      type: dict
      contains:
        id:
          description: Id of the hostname's certificate pack.
          type: str
          sample: 7b163417a1d24c84a38a2fb7a0cd7752
        status:
          description: SSL status of the hostname.
          type: str
          sample: active
        bundle_method:
          description: How Cloudflare builds the chain it serves.
          type: str
          sample: ubiquitous
        method:
          description: Domain control validation method.
          type: str
          sample: txt
        type:
          description: Level of validation.
          type: str
          sample: dv
        certificate_authority:
          description: The certificate authority, V(null) when Cloudflare reports none.
          type: str
          sample: google
        wildcard:
          description: Whether the managed certificate covers the wildcard of the hostname.
          type: bool
          sample: false
        settings:
          description: TLS settings (C(min_tls_version), C(ciphers), C(http2), C(tls_1_3), C(early_hints)) that are set.
          type: dict
          sample: {"min_tls_version": "1.2", "http2": "on"}
        validation_records:
          description:
            - Records the certificate authority checks (C(txt_name) and C(txt_value), C(http_url) and C(http_body),
              or C(emails)), while validation is pending.
          type: list
          elements: dict
          sample: [{"status": "pending", "txt_name": "_acme-challenge.app.customer.com", "txt_value": "810b7d5f01154524b961ba0cd578acc2"}]
        validation_errors:
          description: Errors the certificate authority reported (each with a C(message)).
          type: list
          elements: dict
          sample: [{"message": "SERVFAIL looking up CAA for app.customer.com"}]
        dcv_delegation_records:
          description: The CNAME (C(cname) to C(cname_target)) that delegates validation to Cloudflare for every renewal.
          type: list
          elements: dict
          sample: [{"cname": "_acme-challenge.app.customer.com", "cname_target": "app.customer.com.0d89c70d.dcv.cloudflare.com", "status": "pending"}]
        certificates:
          description: The custom certificates of the hostname, the RSA one first; empty when it has none.
          type: list
          elements: dict
          contains:
            id:
              description: Id of the certificate.
              type: str
              sample: 5a7805061c76ada191ed06f989cc3dac
            key_type:
              description:
                - V(rsa) or V(ecdsa); V(null) when it cannot be told (see the notes of M(certops.cloudflare.custom_hostname_cert)).
              type: str
              sample: rsa
            serial_number:
              description: Serial number of the certificate, in decimal.
              type: str
              sample: "6743787633689793699141714808227354901"
            fingerprint_sha256:
              description: SHA-256 fingerprint of the leaf certificate, lower-case hex without separators.
              type: str
              sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
            issuer:
              description: The issuer as Cloudflare reports it.
              type: str
              sample: Example CA
            expires_on:
              description: When the certificate expires (UTC).
              type: str
              sample: "2027-03-01T10:00:00Z"
            days_remaining:
              description: Whole days until the certificate expires.
              type: int
              sample: 29
            not_before:
              description:
                - When the certificate became valid (UTC), from the PEM Cloudflare returns in C(ssl.custom_certificate) for the
                  certificate it is; otherwise V(null).
              type: str
              sample: "2026-12-01T10:00:00Z"
            uploaded_on:
              description: When the hostname's custom certificates were uploaded, as Cloudflare reports it (C(ssl.uploaded_on)).
              type: str
              sample: "2026-12-01T10:05:00Z"
            hosts:
              description: The hostnames the certificate is for, when the API tells (a hostname with one certificate); otherwise V(null).
              type: list
              elements: str
              sample: [app.customer.com]
dest:
  description: The file the custom hostnames were written to.
  returned: success, when O(dest) is set
  type: str
  sample: /run/certops/custom-hostnames.json
count:
  description: How many custom hostnames were written to O(dest).
  returned: success, when O(dest) is set
  type: int
  sample: 10000
zone_id:
  description: The id of the zone, resolved once from O(zone) or given as O(zone_id), for the tasks that follow.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

import datetime
from typing import Any, Dict, Iterable, Iterator, List

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, client_from_module, error_handling, resolve_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import find_by_hostname, list_hostnames, stream_hostnames, view_of
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import expires_on_within
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import SortedJsonListWriter


def expiring(view: Dict[str, Any], days: int, now: datetime.datetime) -> bool:
    return any(expires_on_within(c.get("expires_on"), days, now) for c in view["ssl"]["certificates"])


def selected(items: Iterable[Dict[str, Any]], params: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    """The view of each item that passes the filters, in the order read."""
    wanted = {normalize_hostname(h) for h in params["hostnames"]} if params.get("hostnames") is not None else None
    now = datetime.datetime.now(datetime.timezone.utc)
    for item in items:
        view = view_of(item)
        if wanted is not None and normalize_hostname(str(view["hostname"])) not in wanted:
            continue
        if params.get("status") is not None and view["status"] not in params["status"]:
            continue
        if params.get("ssl_status") is not None and view["ssl"]["status"] not in params["ssl_status"]:
            continue
        if params.get("expiring_within_days") is not None and not expiring(view, params["expiring_within_days"], now):
            continue
        yield view


def sort_key(view: Dict[str, Any]) -> str:
    return str(view["hostname"])


def select(items: List[Dict[str, Any]], params: Dict[str, Any]) -> List[Dict[str, Any]]:
    return sorted(selected(items, params), key=sort_key)


def main() -> None:
    module = build_module(
        dict(
            hostname=dict(type="str"),
            hostnames=dict(type="list", elements="str"),
            status=dict(type="list", elements="str"),
            ssl_status=dict(type="list", elements="str"),
            expiring_within_days=dict(type="int"),
            dest=dict(type="path"),
        ),
        mutually_exclusive=[["hostname", "hostnames"]],
        wildcard_options=("hostname", "hostnames"),  # wildcard custom hostnames, as custom_hostname_cert takes them
    )
    p = module.params
    zone_label = p.get("zone") or p.get("zone_id")
    with error_handling(module, lambda: "list the custom hostnames of zone %s" % zone_label):
        client = client_from_module(module)
        zone_id = resolve_zone_id(client, p)
        if p.get("hostname"):
            found = find_by_hostname(client, zone_id, p["hostname"], zone_label)
            items: Iterable[Dict[str, Any]] = [found] if found else []
        elif p["dest"] is None:
            items = list_hostnames(client, zone_id, zone_label)
        else:
            items = stream_hostnames(client, zone_id, zone_label)
        if p["dest"] is None:
            module.exit_json(changed=False, custom_hostnames=select(list(items), p), zone_id=zone_id)
        # Each view goes to the file as its page is read; only its hostname and place stay, for the order by hostname.
        with SortedJsonListWriter(p["dest"], "dest", {"zone_id": zone_id}, "custom_hostnames") as out:
            for view in selected(items, p):
                out.add(sort_key(view), view)
    module.exit_json(changed=False, dest=p["dest"], count=out.count, zone_id=zone_id)


if __name__ == "__main__":
    main()
