#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: custom_cert
short_description: Upload, renew in place and delete the custom certificates of a Cloudflare zone
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Uploads, renews in place, changes the options of, or deletes one custom certificate of a zone (Custom SSL for a
    zone, types C(legacy_custom) and C(sni_custom)).
  - Use it to serve your own certificate on a zone's hosts; M(certops.cloudflare.cert_priority) orders certificates that
    cover the same host, and M(certops.cloudflare.custom_cert_info) lists them.
options:
  certificate:
    description:
      - The certificate in PEM format, leaf first, optionally followed by its chain.
      - Required with O(state=present), unless O(certificate_path) is given. With O(state=absent) it names the
        certificate to delete instead of O(custom_certificate_id).
      - Mutually exclusive with O(certificate_path).
    type: str
  private_key:
    description:
      - The private key of the certificate in PEM format. It is sent to Cloudflare only when the certificate is
        uploaded or edited, and never appears in results, diffs or logs.
      - Needed only when the certificate has to be sent; a task that finds it already in the zone needs none.
      - Mutually exclusive with O(private_key_path).
    type: str
  custom_certificate_id:
    description:
      - The id of the custom certificate to edit in place (O(state=present)) or to delete (O(state=absent)).
      - With O(state=present), an id that is not in the zone fails before any change, unless a certificate identical
        to O(certificate) is there (an C(sni_custom) certificate gets a new id when edited).
    type: str
  state:
    description:
      - V(present) makes the zone hold the certificate.
      - V(absent) deletes the certificate O(custom_certificate_id) names, or the one identical to O(certificate).
    type: str
    choices: [present, absent]
    default: present
  type:
    description:
      - The type of a certificate to upload. V(legacy_custom) also serves clients that send no SNI;
        V(sni_custom) serves only clients that send SNI. Cloudflare's default is V(legacy_custom).
      - Used on upload only. The API returns no type, so a type change cannot be seen. An in-place edit keeps
        whatever type the certificate has; to change it, upload the certificate anew and delete the old one.
    type: str
    choices: [legacy_custom, sni_custom]
  bundle_method:
    description:
      - How Cloudflare builds the chain it serves. When not set, an existing certificate's value is kept, and an
        upload gets Cloudflare's default (V(ubiquitous)).
    type: str
    choices: [ubiquitous, optimal, force]
  geo_restrictions:
    description:
      - The region where Cloudflare may hold the private key (sent as C(geo_restrictions.label)).
      - When not set, an existing certificate's value is kept.
      - Mutually exclusive with O(policy).
    type: str
    choices: [us, eu, highest_security]
  policy:
    description:
      - "A policy for where Cloudflare may hold the private key, for example V((country: US\\) or (region: EU\\)).
        The API returns it as C(policy_restrictions), compared with this value."
      - When not set, an existing certificate's value is kept.
    type: str
  match_hosts:
    description:
      - With O(state=present) and no O(custom_certificate_id), when no certificate is identical but exactly one has
        the same hosts, edit that one in place with C(PATCH) instead of uploading a second one. Its id and priority
        are kept (for C(sni_custom) the new id gets the old priority back).
      - When two or more have the same hosts, the task fails naming their ids; give O(custom_certificate_id).
      - V(false) uploads the certificate beside any others, for example to renew by uploading the new certificate,
        giving it its priority with M(certops.cloudflare.cert_priority), then deleting the old one.
    type: bool
    default: true
  wait:
    description:
      - Wait until the certificate's status is V(active), also when the task had nothing to change.
      - Never waits in check mode.
    type: bool
    default: false
notes:
  - Before any change the certificate is checked locally. Its PEM must parse, its key must match it, it must not be
    expired or not valid yet, an RSA key must have at least 2048 bits, and its chain must be in order, leaf first.
    A failure names the reason, and nothing is sent.
  - The API returns no serial number or fingerprint for these certificates, so a certificate is identified by what
    both sides know, computed from the local PEM. Identity follows the API's fields. Two certificates with the same
    sorted hosts, issuer, expiry and signature algorithm are taken as the same one, and an identical certificate is
    not sent again.
  - Each change uses the smallest call. Nothing is sent when an identical certificate exists and its options match.
    A C(PATCH) edits a certificate in place, either the one O(custom_certificate_id) names or, with
    O(match_hosts=true), the only one with the same hosts. Otherwise a C(POST) uploads the certificate beside the
    others.
  - Cloudflare's API document says that PATCHing an C(sni_custom) certificate returns a new id and deletes the
    previous one. The module always takes the id from the C(PATCH) answer. When the id changed, the result holds
    the new RV(custom_cert.id) and the old RV(custom_cert.previous_id). One C(PUT .../custom_certificates/prioritize)
    then gives the new id the priority the certificate had. A later run given the old O(custom_certificate_id)
    finds the certificate again by its identity.
  - That the C(sni_custom) certificate then has the default priority is unverified against the live API; the module
    puts the former priority back whenever the priority in the answer differs.
  - An upload or edit whose outcome is unknown (a lost connection, a server error) is never sent twice. The module
    lists the certificates again. When the change happened it carries on, otherwise it fails saying that a re-run
    is safe.
  - In check mode, a certificate not uploaded yet has V(null) for RV(custom_cert.id) and RV(custom_cert.priority).
    The id of an edited C(sni_custom) certificate cannot be predicted (the API returns no type), so check mode shows
    the current id.
extends_documentation_fragment:
  - certops.cloudflare.material
  - certops.cloudflare.wait
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.action_group
attributes:
  check_mode:
    support: full
    details:
      - Predicts the result and sends no write.
  diff_mode:
    support: full
    details:
      - The diff shows the certificate as facts (hosts, issuer, expiry, serial number, fingerprint, options), never PEM or keys.
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.cert_priority
  - module: certops.cloudflare.custom_cert_info
  - name: Custom certificates
    description: Cloudflare's guide to uploading custom certificates for a zone.
    link: https://developers.cloudflare.com/ssl/edge-certificates/custom-certificates/
  - name: Edit SSL Configuration
    description: The API operation behind in-place edits, and its note on sni_custom ids.
    link: https://developers.cloudflare.com/api/resources/custom_certificates/methods/edit/
"""

EXAMPLES = r"""
- name: Upload a certificate for the apex and www (or do nothing when it is already there)
  certops.cloudflare.custom_cert:
    zone: example.com
    certificate_path: /etc/pki/example.com/fullchain.pem
    private_key_path: /etc/pki/example.com/privkey.pem
    type: sni_custom
    bundle_method: optimal
    wait: true

- name: Renew in place - the certificate with the same hosts is edited (same id and priority), no second slot needed
  certops.cloudflare.custom_cert:
    zone: example.com
    certificate_path: /etc/pki/example.com/fullchain-2027.pem
    private_key_path: /etc/pki/example.com/privkey-2027.pem
  register: renewed

- name: Show the id the certificate has now (an sni_custom certificate gets a new one when edited)
  ansible.builtin.debug:
    msg: "{{ renewed.custom_cert.id }} (was {{ renewed.custom_cert.previous_id | default('the same', true) }})"

- name: Renew a given certificate in place, by its id
  certops.cloudflare.custom_cert:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    custom_certificate_id: 2458ce5a0b0d4d8a9d2f3e4c5b6a7980
    certificate: "{{ lookup('file', 'example.com-2027.pem') }}"
    private_key: "{{ lookup('file', 'example.com-2027.key') }}"

- name: Renew beside the old one - upload, then prioritise it, then retire the old certificate
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_api_token }}"
      zone: example.com
  block:
    - name: Upload the new certificate next to the old one
      certops.cloudflare.custom_cert:
        certificate_path: /etc/pki/example.com/fullchain-2027.pem
        private_key_path: /etc/pki/example.com/privkey-2027.pem
        type: legacy_custom
        match_hosts: false
        wait: true
      register: new_cert

    - name: Serve the new certificate first (a lower number is used first)
      certops.cloudflare.cert_priority:
        certificates:
          - id: "{{ new_cert.custom_cert.id }}"
            priority: 1
          - id: "{{ old_cert_id }}"
            priority: 2

    - name: Delete the old certificate
      certops.cloudflare.custom_cert:
        custom_certificate_id: "{{ old_cert_id }}"
        state: absent

- name: Preview a renewal without changing anything
  certops.cloudflare.custom_cert:
    zone: example.com
    certificate_path: /etc/pki/example.com/fullchain-2027.pem
    private_key_path: /etc/pki/example.com/privkey-2027.pem
  check_mode: true
  diff: true
"""

RETURN = r"""
resent:
  description:
    - V(true) when a write whose outcome was unknown (a lost connection, a server error) was sent once more, after a
      read of the state proved that it had not been applied. Absent otherwise.
  returned: when a write was sent once more
  type: bool
  sample: true
custom_cert:
  description:
    - The certificate after the task (predicted in check mode); V(null) after O(state=absent). Never holds PEM or key
      material.
  returned: success
  type: dict
  contains:
    id:
      description: Id of the certificate; V(null) in check mode for a certificate not uploaded yet.
      type: str
      returned: success
      sample: 2458ce5a0b0d4d8a9d2f3e4c5b6a7980
    previous_id:
      description: The id the certificate had before this task's edit, when the edit gave it a new one; else V(null).
      type: str
      returned: success
      sample: 7b163417a1d24c84a38a2fb7a0cd7752
    hosts:
      description: The hostnames the certificate is for, sorted.
      type: list
      elements: str
      returned: success
      sample: [example.com, www.example.com]
    status:
      description: Status of the certificate, for example V(pending) or V(active).
      type: str
      returned: success
      sample: active
    priority:
      description: The certificate's priority (a lower number is used first); V(null) in check mode before an upload.
      type: raw
      returned: success
      sample: 1
    type:
      description: The type the module sent on upload; V(null) otherwise (the API returns no type).
      type: str
      returned: success
      sample: sni_custom
    bundle_method:
      description: How Cloudflare builds the chain it serves.
      type: str
      returned: success
      sample: ubiquitous
    geo_restrictions:
      description: The label of the certificate's geographic restriction, or V(null).
      type: str
      returned: success
      sample: us
    policy:
      description: The certificate's key location policy (the API's C(policy_restrictions)), or V(null).
      type: str
      returned: success
      sample: "(country: US) or (region: EU)"
    issuer:
      description: The issuer as Cloudflare reports it.
      type: str
      returned: success
      sample: Example CA
    signature:
      description: The signature algorithm as Cloudflare reports it.
      type: str
      returned: success
      sample: ECDSAWithSHA256
    expires_on:
      description: When the certificate expires (UTC).
      type: str
      returned: success
      sample: "2027-03-01T10:00:00Z"
    days_remaining:
      description: Whole days until the certificate expires; negative once expired.
      type: int
      returned: success
      sample: 89
    uploaded_on:
      description: When the certificate was uploaded, as Cloudflare reports it.
      type: str
      returned: success
      sample: "2026-12-01T10:05:00Z"
    serial_number:
      description: Serial number in decimal, from the PEM given to the task when it is this certificate; else V(null).
      type: str
      returned: success
      sample: "6743787633689793699141714808227354901"
    fingerprint_sha256:
      description: SHA-256 fingerprint of the leaf (lower-case hex), from the PEM given to the task when it is this certificate; else V(null).
      type: str
      returned: success
      sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
"""

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import (
    CloudflareResource,
    InputError,
    Step,
    build_module,
    material_argument_spec,
    read_file_option,
    wait_argument_spec,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import (
    BUNDLE_METHODS,
    GEO_LABELS,
    TYPES,
    cert_view,
    certs_path,
    describe_certs,
    geo_label,
    is_identical,
    list_custom_certs,
    policy_of,
    same_priority,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import certificate_facts, check_certificate, load_certificates
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import ZONE_CERT_STUCK_STATUSES
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import poll


class CustomCert(CloudflareResource):
    RESULT_KEY = "custom_cert"
    NOUN = "custom certificate"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.facts: Optional[Dict[str, Any]] = None
        self.cert_pem: Optional[str] = None
        self.key_pem: Optional[str] = None
        self.sent_type: Optional[str] = None
        # The certificate a PATCH edits, and its priority: the answer may carry a new id (sni_custom).
        self.edited: Optional[Dict[str, Any]] = None
        self.previous_id: Optional[str] = None

    def describe(self) -> str:
        what = self.params.get("custom_certificate_id") or (self.facts or {}).get("fingerprint_sha256") or ""
        return "%s %s in zone %s" % (self.NOUN, what, self.zone_label)

    def validate(self) -> None:
        p = self.params
        self.cert_pem = read_file_option(p, "certificate", "certificate_path")
        key = read_file_option(p, "private_key", "private_key_path")
        if self.cert_pem is None:
            return
        if p["state"] == "absent":
            # Only names the certificate to delete: an expired one may go too.
            self.facts = certificate_facts(load_certificates(self.cert_pem, "certificate")[0])
            return
        # An encrypted key comes back decrypted (the clear key is uploaded); a clear key as given.
        self.facts, self.key_pem = check_certificate(self.cert_pem, key, p["private_key_passphrase"], name="certificate")
        if self.key_pem:
            self.module.no_log_values.add(self.key_pem)

    # -- reading --------------------------------------------------------------------------------

    def lookup(self) -> Dict[str, Any]:
        certs = list_custom_certs(self.client, self.zone_id, self.zone_label)
        return self._state(certs)

    def _state(self, certs: List[Dict[str, Any]]) -> Dict[str, Any]:
        """The certificate this task is about: by id, else identical to the PEM, else (present) the one with the same hosts."""
        cert_id = self.params.get("custom_certificate_id")
        state: Dict[str, Any] = {"certs": certs, "cert": None, "same_hosts": []}
        by_id = [c for c in certs if cert_id and c.get("id") == cert_id]
        identical = [c for c in certs if self.facts and is_identical(c, self.facts)]
        if by_id or identical:
            state["cert"] = (by_id or identical)[0]
        elif self.facts and not cert_id and self.params["state"] == "present" and self.params["match_hosts"]:
            state["same_hosts"] = [c for c in certs if host_set(c.get("hosts")) == host_set(self.facts["hosts"])]
            if len(state["same_hosts"]) == 1:
                state["cert"] = state["same_hosts"][0]
        return state

    def _facts_for(self, cert: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        return self.facts if cert and self.facts and is_identical(cert, self.facts) else None

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        cert = current["cert"] if current else None
        if cert is None:
            return None
        return cert_view(cert, self._facts_for(cert), self.sent_type, self.previous_id if cert.get("id") != self.previous_id else None)

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if not self.params["wait"] or view is None or view["status"] == "active":
            return view

        def fetch() -> Optional[Dict[str, Any]]:
            return self.to_view(self.lookup())

        def done(current: Optional[Dict[str, Any]]) -> bool:
            if current is None:
                raise CloudflareError("custom certificate %s is gone from zone %s while waiting for it to be active" % (view["id"], self.zone_label))
            if current["status"] in ZONE_CERT_STUCK_STATUSES:
                raise CloudflareError("custom certificate %s is %s; it will not become active by waiting" % (current["id"], current["status"]))
            return current["status"] == "active"

        return poll(fetch, done, self.params["wait_timeout"], "custom certificate %s to be active" % view["id"])

    # -- planning -------------------------------------------------------------------------------

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        cert = current["cert"]
        if self.params["state"] == "absent":
            return ([self._delete_step(cert)], None) if cert else ([], None)
        cert_id = self.params.get("custom_certificate_id")
        if cert is None and cert_id:
            raise InputError(
                "custom_certificate_id %s: no such custom certificate in zone %s, and none identical to the certificate given (it holds: %s)"
                % (cert_id, self.zone_label, describe_certs(current["certs"]) or "none")
            )
        if len(current["same_hosts"]) > 1:
            raise InputError(
                "%d custom certificates in zone %s have the hosts %s: %s; give custom_certificate_id to say which one to edit, "
                "or match_hosts=false to upload beside them"
                % (len(current["same_hosts"]), self.zone_label, ", ".join(host_set(self.facts["hosts"])), describe_certs(current["same_hosts"]))
            )
        options = self._option_changes(cert)
        if cert is None:
            body = dict(self._material(), **options)
            if self.params["type"]:
                body["type"] = self.params["type"]
            # Cloudflare's defaults for what is not sent; the priority is known once uploaded.
            predicted = dict(self._local_as_api(), priority=None, bundle_method="ubiquitous")
            predicted.update(options)
            return [self._upload_step(body)], cert_view(predicted, self.facts, self.params["type"])
        material = {} if is_identical(cert, self.facts) else self._material()
        if not material and not options:
            return [], self.to_view(current)
        self.edited = cert
        predicted = dict(cert, **options)
        if "policy" in options:
            predicted["policy_restrictions"] = options["policy"]  # how the API answers it
        if material:
            predicted.update(self._local_as_api())
        return [self._edit_step(cert, dict(material, **options))], cert_view(predicted, self.facts)

    def _material(self) -> Dict[str, str]:
        if self.key_pem is None:
            raise InputError(
                "certificate %s is not in zone %s yet, and sending it needs its private key: give private_key or private_key_path"
                % (self.facts["fingerprint_sha256"], self.zone_label)
            )
        return {"certificate": self.cert_pem, "private_key": self.key_pem}

    def _local_as_api(self) -> Dict[str, Any]:
        """The certificate given, in the API's fields, as it will be once sent (pending first)."""
        f = self.facts
        return {"hosts": f["hosts"], "issuer": f["issuer"], "signature": f["signature_algorithm"], "expires_on": f["not_after"], "status": "pending"}

    def _option_changes(self, cert: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        """The options set that differ from the certificate's (all of those set, for an upload)."""
        p, cert = self.params, cert or {}
        changes: Dict[str, Any] = {}
        if p["bundle_method"] and p["bundle_method"] != cert.get("bundle_method"):
            changes["bundle_method"] = p["bundle_method"]
        if p["geo_restrictions"] and p["geo_restrictions"] != geo_label(cert):
            changes["geo_restrictions"] = {"label": p["geo_restrictions"]}
        if p["policy"] and p["policy"] != policy_of(cert):
            changes["policy"] = p["policy"]
        return changes

    # -- the writes -----------------------------------------------------------------------------

    def _upload_step(self, body: Dict[str, Any]) -> Step:
        key = "upload certificate %s" % self.facts["fingerprint_sha256"]
        self.sent_type = body.get("type")
        return Step(key, lambda: self.client.post(certs_path(self.zone_id), body), lambda answer, state: self._check_write(key, answer, state, body))

    def _edit_step(self, cert: Dict[str, Any], body: Dict[str, Any]) -> Step:
        what = "certificate %s" % self.facts["fingerprint_sha256"] if "certificate" in body else ", ".join(sorted(body))
        key = "edit custom certificate %s: %s" % (cert["id"], what)
        return Step(
            key,
            lambda: self.client.patch(certs_path(self.zone_id, cert["id"]), body),
            lambda answer, state: self._check_write(key, answer, state, body, cert["id"]),
        )

    def _check_write(self, key: str, answer: Any, state: Dict[str, Any], body: Dict[str, Any], old_id: Optional[str] = None) -> Dict[str, Any]:
        """The certificate as the upload's or edit's answer shows it; an error when the answer does not show the change.

        The id is always taken from the answer: an edited sni_custom certificate comes back under a new id.
        """
        new_id = self.answer_id(key, answer, "certificate")
        if not is_identical(answer, self.facts):
            raise self.unexpected_answer(key, "is another certificate than the one sent", answer)
        if "bundle_method" in body and answer.get("bundle_method") != body["bundle_method"]:
            raise self.unexpected_answer(key, "does not show bundle_method %s" % body["bundle_method"], answer)
        if "geo_restrictions" in body and geo_label(answer) != body["geo_restrictions"]["label"]:
            raise self.unexpected_answer(key, "does not show geo_restrictions %s" % body["geo_restrictions"]["label"], answer)
        if "policy" in body and policy_of(answer) != body["policy"]:
            raise self.unexpected_answer(key, "does not show the policy sent", answer)
        certs = [c for c in state["certs"] if c.get("id") not in (old_id, new_id)] + [answer]
        return dict(state, certs=certs, cert=answer)

    def _delete_step(self, cert: Dict[str, Any]) -> Step:
        key = "delete custom certificate %s" % cert["id"]

        def check(answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
            if not isinstance(answer, dict) or answer.get("id") != cert["id"]:
                raise self.unexpected_answer(key, "is not the deleted certificate %s" % cert["id"], answer)
            return dict(state, certs=[c for c in state["certs"] if c.get("id") != cert["id"]], cert=None)

        return Step(key, lambda: self.client.delete(certs_path(self.zone_id, cert["id"]), expect=dict), check)

    def apply(self, steps: List[Step], current: Any = None) -> Any:
        """The writes; then, when an edit gave the certificate a new id, its former priority back (one prioritize PUT)."""
        state = super().apply(steps, current)
        cert, edited = state.get("cert"), self.edited
        if not cert or not edited or cert.get("id") == edited["id"]:
            return state
        self.previous_id = edited["id"]
        if edited.get("priority") is None or same_priority(cert.get("priority"), edited["priority"]):
            return state
        return super().apply([self._priority_step(cert["id"], edited["priority"])], state)

    def _priority_step(self, cert_id: str, priority: Any) -> Step:
        key = "give certificate %s its former priority %s" % (cert_id, priority)
        body = {"certificates": [{"id": cert_id, "priority": priority}]}

        def check(answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
            got = [c for c in answer if isinstance(c, dict) and c.get("id") == cert_id]
            if not got or not same_priority(got[0].get("priority"), priority):
                raise self.unexpected_answer(key, "does not show certificate %s with priority %s" % (cert_id, priority), answer)
            return dict(state, cert=got[0])

        return Step(key, lambda: self.client.put(certs_path(self.zone_id, "prioritize"), body, expect=list), check)


def main() -> None:
    module = build_module(
        dict(
            material_argument_spec(),
            custom_certificate_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            type=dict(type="str", choices=list(TYPES)),
            bundle_method=dict(type="str", choices=list(BUNDLE_METHODS)),
            geo_restrictions=dict(type="str", choices=list(GEO_LABELS)),
            policy=dict(type="str"),
            match_hosts=dict(type="bool", default=True),
            **wait_argument_spec(),
        ),
        mutually_exclusive=[["certificate", "certificate_path"], ["private_key", "private_key_path"], ["geo_restrictions", "policy"]],
        required_if=[
            ["state", "present", ["certificate", "certificate_path"], True],
            ["state", "absent", ["custom_certificate_id", "certificate", "certificate_path"], True],
        ],
    )
    CustomCert(module).run()


if __name__ == "__main__":
    main()
