#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: origin_pull_cert
short_description: The client certificate a Cloudflare zone presents to its origin (zone-level authenticated origin pulls)
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Uploads the zone's own client certificate for zone-level authenticated origin pulls, waits until it is active,
    turns the zone's setting on (or off), and replaces the previous certificate new before old.
  - Use it when your origin servers should accept only connections that present your own client certificate; for a
    certificate per hostname use M(certops.cloudflare.hostname_client_cert), which takes precedence over this one.
options:
  certificate_id:
    description:
      - With O(state=absent), the id of the certificate to delete, instead of O(certificate).
    type: str
  state:
    description:
      - V(present) makes the certificate the zone's active one; V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
  enabled:
    description:
      - The zone's authenticated origin pulls setting after the task. The certificate is presented to the origin only
        while it is on.
      - With O(state=present) it is turned on only once the certificate is active. With O(state=absent) and the setting
        on, V(false) turns it off before the delete; deleting the zone's only active certificate while the setting stays
        on fails before any change.
    type: bool
    default: true
  replace:
    description:
      - With O(state=present), delete the zone's other client certificates once this one is active (and the setting on,
        when O(enabled)), so that one certificate is active, as Cloudflare advises.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait for the certificate to become active.
    type: int
    default: 300
notes:
  - "The order of a replacement: upload, wait until active, turn the setting on, then delete the previous certificates.
    The zone is never without an active certificate of its own while the setting is on."
  - The certificate is checked before any call as a client certificate - the key matches, it is neither expired nor
    a CA certificate, and its extended key usage (when it has one) allows client authentication.
  - "Credentials: an API token with C(Zone / SSL and Certificates / Edit). The 2024 API document lists only the Global
    API key for these operations; Cloudflare's current reference takes a token."
  - A certificate is the same as one in the zone when its SHA-256 fingerprint is (else its serial number and issuer).
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.material
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.action_group
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.origin_pull_cert_info
  - module: certops.cloudflare.hostname_client_cert
  - name: Zone-level authenticated origin pulls
    description: Cloudflare's set-up guide.
    link: https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/set-up/zone-level/
"""

EXAMPLES = r"""
- name: The zone presents our client certificate to the origin, replacing the previous one
  certops.cloudflare.origin_pull_cert:
    zone: example.com
    certificate_path: /etc/pki/origin-pull/client.pem
    private_key_path: /etc/pki/origin-pull/client.key

- name: Stop authenticated origin pulls and delete the certificate
  certops.cloudflare.origin_pull_cert:
    zone: example.com
    certificate_path: /etc/pki/origin-pull/client.pem
    state: absent
    enabled: false
"""

RETURN = r"""
origin_pull_cert:
  description: The certificate after the task (in check mode, as it would be), and the zone's setting.
  returned: success
  type: dict
  contains:
    id:
      description: Id of the certificate; V(null) in check mode before the upload.
      type: str
    status:
      description: Its status, V(active) once the task waited for it.
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
      description: Whole days until it expires.
      type: int
    enabled:
      description: The zone's authenticated origin pulls setting.
      type: bool
      sample: true
    replaced:
      description: The ids of the zone's other certificates this task deleted (in check mode, would delete).
      type: list
      elements: str
      sample: []
"""

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import (
    CloudflareResource,
    InputError,
    Step,
    build_module,
    material_argument_spec,
    read_file_option,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import current_certificates, is_same_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._origin_pull import (
    certificates_path,
    list_certificates,
    read_enabled,
    settings_path,
    zone_cert_view,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    CertificateError,
    certificate_facts,
    check_certificate,
    client_certificate_problems,
    load_certificates,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import ENDED_STATUSES
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import poll


class OriginPullCert(CloudflareResource):
    RESULT_KEY = "origin_pull_cert"
    NOUN = "zone origin pull certificate"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.facts: Optional[Dict[str, Any]] = None
        self.cert_pem: Optional[str] = None
        self.key_pem: Optional[str] = None
        self.cert_id: Optional[str] = None  # ours: found, or uploaded by this task
        self.replaced: List[str] = []

    def describe(self) -> str:
        what = self.params.get("certificate_id") or (self.facts or {}).get("fingerprint_sha256") or ""
        return "%s %s in zone %s" % (self.NOUN, what, self.zone_label)

    def validate(self) -> None:
        p = self.params
        self.cert_pem = read_file_option(p, "certificate", "certificate_path")
        key = read_file_option(p, "private_key", "private_key_path")
        if p["state"] == "present" and self.cert_pem is None:
            raise InputError("state=present needs the certificate: give certificate or certificate_path")
        if p["state"] == "absent" and self.cert_pem is None and not p["certificate_id"]:
            raise InputError("state=absent needs the certificate to delete: give certificate, certificate_path or certificate_id")
        if self.cert_pem is None:
            return
        if p["state"] == "absent":
            self.facts = certificate_facts(load_certificates(self.cert_pem)[0])
            return
        self.facts, self.key_pem = check_certificate(self.cert_pem, key, p["private_key_passphrase"], name="certificate")
        if self.key_pem:
            self.module.no_log_values.add(self.key_pem)
        problems = client_certificate_problems(load_certificates(self.cert_pem)[0])
        if problems:
            raise CertificateError("certificate: %s" % "; ".join(problems))

    def lookup(self) -> Dict[str, Any]:
        certs = list_certificates(self.client, self.zone_id)
        return {"certs": certs, "enabled": read_enabled(self.client, self.zone_id)}

    def _ours(self, state: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        for cert in current_certificates(state["certs"]):
            if self.cert_id and cert.get("id") == self.cert_id:
                return cert
            if not self.cert_id and (cert.get("id") == self.params["certificate_id"] or self.facts and is_same_certificate(cert, self.facts)):
                return cert
        return None

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        cert = self._ours(current)
        if cert is None:
            return {"id": None, "status": None, "enabled": current["enabled"], "replaced": list(self.replaced)} if self.params["state"] == "present" else None
        return dict(zone_cert_view(cert), enabled=current["enabled"], replaced=list(self.replaced))

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        ours = self._ours(current)
        self.cert_id = ours["id"] if ours else None
        return self._plan_present(current, ours) if self.params["state"] == "present" else self._plan_absent(current, ours)

    def _plan_present(self, state: Dict[str, Any], ours: Optional[Dict[str, Any]]) -> Tuple[List[Step], Dict[str, Any]]:
        steps = []
        if ours is None:
            if self.key_pem is None:
                raise InputError(
                    "certificate %s is not in zone %s yet, and uploading it needs its private key: give private_key or private_key_path"
                    % (self.facts["fingerprint_sha256"], self.zone_label)
                )
            steps.append(Step("upload certificate %s" % self.facts["fingerprint_sha256"], self._upload, self._check_upload))
        enabled = self.params["enabled"]
        if state["enabled"] != enabled:
            steps.append(Step("turn authenticated origin pulls %s" % ("on" if enabled else "off"), lambda: self._set(enabled), self._check_set))
        others = [c for c in current_certificates(state["certs"]) if ours is None or c.get("id") != ours["id"]] if self.params["replace"] else []
        for other in others:
            steps.append(Step("delete certificate %s" % other["id"], lambda cert_id=other["id"]: self._delete(cert_id), self._check_delete))
        if self.module.check_mode:
            self.replaced = [c["id"] for c in others]
        predicted = dict(zone_cert_view(ours or dict(self._local_as_api(), status="active")), enabled=enabled, replaced=list(self.replaced))
        return steps, predicted

    def _plan_absent(self, state: Dict[str, Any], ours: Optional[Dict[str, Any]]) -> Tuple[List[Step], None]:
        if ours is None:
            return [], None
        steps = []
        others_active = [c for c in current_certificates(state["certs"]) if c.get("id") != ours["id"] and c.get("status") == "active"]
        if state["enabled"] and not others_active:
            if self.params["enabled"]:
                raise InputError(
                    "certificate %s is the zone's only active client certificate and authenticated origin pulls are on: deleting it would leave "
                    "the origin without the certificate it expects. Upload its successor first, or set enabled=false to turn the setting "
                    "off before the delete" % ours["id"]
                )
            steps.append(Step("turn authenticated origin pulls off", lambda: self._set(False), self._check_set))
        steps.append(Step("delete certificate %s" % ours["id"], lambda: self._delete(ours["id"]), self._check_delete))
        return steps, None

    def _local_as_api(self) -> Dict[str, Any]:
        facts = self.facts or {}
        return {"id": None, "serial_number": facts.get("serial_number"), "issuer": facts.get("issuer"), "expires_on": facts.get("not_after")}

    # -- writes, each judged by its own answer -----------------------------------------------------

    def _upload(self) -> Any:
        return self.client.post(certificates_path(self.zone_id), {"certificate": self.cert_pem, "private_key": self.key_pem})

    def _check_upload(self, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        key = "upload certificate"
        cert_id = self.answer_id(key, answer, "certificate")
        if (answer.get("certificate") or answer.get("serial_number")) and not is_same_certificate(answer, self.facts or {}):
            raise self.unexpected_answer(key, "is another certificate than the one uploaded", answer)
        self.cert_id = cert_id
        return dict(state, certs=list(state["certs"]) + [answer])

    def _set(self, enabled: bool) -> Any:
        if enabled:
            self._wait_active()  # never on before the zone's own certificate is active
        return self.client.put(settings_path(self.zone_id), {"enabled": enabled}, expect=dict)

    def _check_set(self, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(answer, dict) or not isinstance(answer.get("enabled"), bool):
            raise self.unexpected_answer("set authenticated origin pulls", "has no boolean enabled", answer)
        return dict(state, enabled=answer["enabled"])

    def _delete(self, cert_id: str) -> Any:
        if self.params["state"] == "present":
            self._wait_active()  # the old one goes only once the new one is active
        answer = self.client.delete(certificates_path(self.zone_id, cert_id), expect=dict)
        return {"id": cert_id, "answer": answer}

    def _check_delete(self, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        cert_id, reply = answer["id"], answer["answer"]
        if reply is not None and reply.get("id") != cert_id:
            raise self.unexpected_answer("delete certificate %s" % cert_id, "names another certificate", reply)
        if self.params["state"] == "present":
            self.replaced.append(cert_id)
        return dict(state, certs=[dict(c, status="pending_deletion") if c.get("id") == cert_id else c for c in state["certs"]])

    def _wait_active(self) -> None:
        if self.cert_id is None:
            return

        def fetch() -> Dict[str, Any]:
            return self.client.get(certificates_path(self.zone_id, self.cert_id), expect=dict)

        def done(cert: Dict[str, Any]) -> bool:
            if cert.get("status") in ENDED_STATUSES:
                raise InputError("certificate %s is %s while waiting for it to be active" % (self.cert_id, cert.get("status")))
            return cert.get("status") == "active"

        poll(fetch, done, self.params["wait_timeout"], "zone client certificate %s to be active" % self.cert_id, last_seen=lambda c: str(c.get("status")))

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """With state=present the task returns once the certificate is active."""
        if self.params["state"] != "present" or not view or view.get("status") == "active":
            return view
        self._wait_active()
        return self.to_view(self.lookup())


def main() -> None:
    module = build_module(
        dict(
            material_argument_spec(),
            certificate_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            enabled=dict(type="bool", default=True),
            replace=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=300),
        ),
        mutually_exclusive=[
            ["certificate", "certificate_path"],
            ["private_key", "private_key_path"],
            ["certificate_id", "certificate"],
            ["certificate_id", "certificate_path"],
        ],
    )
    OriginPullCert(module).run()


if __name__ == "__main__":
    main()
