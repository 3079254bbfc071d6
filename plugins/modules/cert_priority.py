#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cert_priority
short_description: Set the priority of the custom certificates of a Cloudflare zone
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Sets the priority of some of a zone's custom certificates (Custom SSL for a zone), which decides which
    certificate serves a request when several cover the same host.
  - Use it after M(certops.cloudflare.custom_cert) uploads a certificate. Each entry of O(certificates) names one
    certificate by its O(certificates[].id) or by its exact set of O(certificates[].hosts), so a playbook can
    prioritise a certificate it has just uploaded without knowing its id.
options:
  certificates:
    description:
      - The certificates to prioritise, each with its priority.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description:
          - The id of the certificate.
          - Exactly one of O(certificates[].id) and O(certificates[].hosts) is required.
        type: str
      hosts:
        description:
          - The hostnames of the certificate, in any order; a certificate matches when its hosts are exactly these.
        type: list
        elements: str
      priority:
        description:
          - The priority to give the certificate. A lower number is used first; 0 is a priority like any other. A new
            certificate gets Cloudflare's default, 20 in the 2024 API document and 0 in newer schemas.
        type: int
        required: true
notes:
  - Cloudflare's API document says of the priority "The higher priority will break ties across overlapping
    'legacy_custom' certificates, but 'legacy_custom' certificates will always supercede 'sni_custom' certificates."
    This collection takes a lower number to be used first (priority 1 before priority 2), as in Cloudflare's
    certificate priority reference. The number only breaks ties between overlapping C(legacy_custom) certificates;
    C(legacy_custom) certificates always come before C(sni_custom) ones, whatever the number. This reading is
    unverified against the live API.
  - The module reads the zone's certificates (all pages). Every entry must match exactly one certificate, and no
    two entries the same one, else the task fails naming the entry, before any write. Then it sends one
    C(PUT .../custom_certificates/prioritize) holding only the certificates whose priority differs. When none
    differs, nothing is sent. Certificates not listed keep their priority.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.action_group
attributes:
  check_mode:
    support: full
    details:
      - Predicts the priorities and sends no write. The predicted RV(certificates) keep the current order, since
        the order of use also depends on the certificates' types, which the API does not return.
  diff_mode:
    support: full
    details:
      - The diff shows the priority of each listed certificate before and after.
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.custom_cert
  - module: certops.cloudflare.custom_cert_info
  - name: Certificate priority
    description: Cloudflare's reference on the order in which certificates are used.
    link: https://developers.cloudflare.com/ssl/reference/certificate-and-hostname-priority/
  - name: Re-prioritize SSL Certificates
    description: The API operation behind the module.
    link: https://developers.cloudflare.com/api/resources/custom_certificates/subresources/prioritize/methods/update/
"""

EXAMPLES = r"""
- name: Upload a renewed certificate beside the old one, then serve it first
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_api_token }}"
      zone: example.com
  block:
    - name: Upload the new certificate (the old one with the same hosts stays)
      certops.cloudflare.custom_cert:
        certificate_path: /etc/pki/shop.example.com/fullchain-2027.pem
        private_key_path: /etc/pki/shop.example.com/privkey-2027.pem
        match_hosts: false
      register: uploaded

    - name: Give it priority 1, by the id the upload returned
      certops.cloudflare.cert_priority:
        certificates:
          - id: "{{ uploaded.custom_cert.id }}"
            priority: 1

- name: Order certificates named by their hosts
  certops.cloudflare.cert_priority:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    certificates:
      - hosts: [example.com, www.example.com]
        priority: 1
      - hosts: ["*.example.com"]
        priority: 2
"""

RETURN = r"""
resent:
  description:
    - V(true) when a write whose outcome was unknown (a lost connection, a server error) was sent once more, after a
      read of the state proved that it had not been applied. Absent otherwise.
  returned: when a write was sent once more
  type: bool
  sample: true
certificates:
  description:
    - The zone's custom certificates after the task in the order the API lists them, which is the order they are used
      (predicted priorities, current order, in check mode).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: Id of the certificate.
      type: str
      sample: 2458ce5a0b0d4d8a9d2f3e4c5b6a7980
    hosts:
      description: The hostnames of the certificate, sorted.
      type: list
      elements: str
      sample: [example.com, www.example.com]
    priority:
      description: The certificate's priority; a lower number is used first.
      type: raw
      sample: 1
    status:
      description: Status of the certificate.
      type: str
      sample: active
    expires_on:
      description: When the certificate expires (UTC).
      type: str
      sample: "2027-03-01T10:00:00Z"
"""

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, InputError, Step, build_module
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import (
    cert_view,
    certs_path,
    describe_certs,
    list_custom_certs,
    plain_number,
    same_priority,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set

VIEW_KEYS = ("id", "hosts", "priority", "status", "expires_on")


def short_view(cert: Dict[str, Any]) -> Dict[str, Any]:
    view = cert_view(cert)
    return {k: view[k] for k in VIEW_KEYS}


class CertPriority(CloudflareResource):
    RESULT_KEY = "certificates"
    NOUN = "custom certificate priorities"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.listed: Dict[str, Tuple[Any, int]] = {}  # id: (priority before, priority after) of each listed certificate
        self.changes: Dict[str, Tuple[Any, int]] = {}  # the listed ones whose priority differs

    def describe(self) -> str:
        return "%s of zone %s" % (self.NOUN, self.zone_label)

    def validate(self) -> None:
        for index, entry in enumerate(self.params["certificates"]):
            # ids are checked by build_module, as every `id` option
            if entry.get("id") is None and not entry.get("hosts"):
                raise InputError("certificates[%d]: hosts must name at least one hostname" % index)

    def lookup(self) -> List[Dict[str, Any]]:
        return list_custom_certs(self.client, self.zone_id, self.zone_label)

    def to_view(self, current: Any) -> List[Dict[str, Any]]:
        return [short_view(c) for c in current]

    def _match(self, index: int, entry: Dict[str, Any], certs: List[Dict[str, Any]]) -> Dict[str, Any]:
        """The one certificate an entry names, or an error naming the entry."""
        if entry.get("id") is not None:
            label = "certificates[%d] (id %s)" % (index, entry["id"])
            found = [c for c in certs if c.get("id") == entry["id"]]
        else:
            label = "certificates[%d] (hosts %s)" % (index, ", ".join(host_set(entry["hosts"])))
            found = [c for c in certs if host_set(c.get("hosts")) == host_set(entry["hosts"])]
        if len(found) == 1:
            return found[0]
        if not found:
            raise InputError("%s matches no custom certificate of zone %s (it holds: %s)" % (label, self.zone_label, describe_certs(certs) or "none"))
        raise InputError(
            "%s matches %d custom certificates of zone %s: %s; name it by id instead" % (label, len(found), self.zone_label, describe_certs(found))
        )

    def plan(self, current: Any) -> Tuple[List[Step], Optional[List[Dict[str, Any]]]]:
        wanted: Dict[str, int] = {}
        named_by: Dict[str, int] = {}
        for index, entry in enumerate(self.params["certificates"]):
            cert = self._match(index, entry, current)
            if cert["id"] in named_by:
                raise InputError("certificates[%d] and certificates[%d] both name the custom certificate %s" % (named_by[cert["id"]], index, cert["id"]))
            named_by[cert["id"]] = index
            wanted[cert["id"]] = entry["priority"]
        before = {c["id"]: plain_number(c.get("priority")) for c in current}
        self.changes = {i: (before[i], p) for i, p in wanted.items() if not same_priority(before[i], p)}
        self.listed = {i: (before[i], p) for i, p in wanted.items()}
        if not self.changes:
            return [], self.to_view(current)
        body = {"certificates": [{"id": i, "priority": p} for i, (_old, p) in self.changes.items()]}
        key = "prioritize " + ", ".join("%s to %s" % (i, p) for i, (_old, p) in self.changes.items())
        step = Step(
            key, lambda: self.client.put(certs_path(self.zone_id, "prioritize"), body, expect=list), lambda answer, state: self._check(key, answer, state)
        )
        predicted = [dict(v, priority=self.changes[v["id"]][1]) if v["id"] in self.changes else v for v in self.to_view(current)]
        return [step], predicted

    def _check(self, key: str, answer: List[Any], state: List[Dict[str, Any]]) -> Optional[List[Dict[str, Any]]]:
        """Each certificate sent must come back with its new priority; the answer is the new list when it holds them all."""
        got = {c.get("id"): c for c in answer if isinstance(c, dict)}
        for cert_id, (_old, priority) in self.changes.items():
            if cert_id not in got or not same_priority(got[cert_id].get("priority"), priority):
                raise self.unexpected_answer(key, "does not show certificate %s with priority %s" % (cert_id, priority), answer)
        if set(got) == {c.get("id") for c in state}:
            return [c for c in answer if isinstance(c, dict)]
        return None  # an answer with only some certificates: read the list back for their order

    def diff(self, before: Any, after: Any, current: Any) -> Dict[str, Any]:
        """Each listed certificate's hosts and priority, before and after."""
        hosts = {c["id"]: host_set(c.get("hosts")) for c in current}
        listed = self.listed
        return {
            "before": {i: {"hosts": hosts[i], "priority": old} for i, (old, _new) in listed.items()},
            "after": {i: {"hosts": hosts[i], "priority": new} for i, (_old, new) in listed.items()},
        }


def main() -> None:
    module = build_module(
        dict(
            certificates=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    id=dict(type="str"),
                    hosts=dict(type="list", elements="str"),
                    priority=dict(type="int", required=True),
                ),
                mutually_exclusive=[["id", "hosts"]],
                required_one_of=[["id", "hosts"]],
            ),
        ),
        wildcard_options=("hosts",),  # zone custom certificates may be for wildcard names
    )
    CertPriority(module).run()


if __name__ == "__main__":
    main()
