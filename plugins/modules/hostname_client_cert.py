#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: hostname_client_cert
short_description: Manage per-hostname authenticated origin pull client certificates on Cloudflare
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Uploads or deletes a client certificate that Cloudflare presents to origins which require one (per-hostname
    authenticated origin pull), and associates hostnames of the zone with it.
  - Use it to rotate such a certificate. Upload the new one with the hostnames, which moves them to it, then delete the
    old one with O(state=absent).
options:
  certificate:
    description:
      - The client certificate in PEM format, leaf first, optionally followed by its chain.
      - Required with O(state=present) unless O(certificate_id) is given. With O(state=absent), it names the
        certificate to delete (its private key is not needed then).
      - Mutually exclusive with O(certificate_path) and O(certificate_id).
    type: str
  private_key:
    description:
      - The private key of O(certificate) in PEM format (RSA or ECDSA). Needed only when the certificate is not in
        the zone yet and must be uploaded; a certificate already uploaded needs no key. A key given is always checked.
      - It is sent to Cloudflare only when the certificate is uploaded, and never appears in results, diffs or logs.
      - Mutually exclusive with O(private_key_path).
    type: str
  certificate_id:
    description:
      - The id of a certificate already uploaded to the zone, instead of O(certificate).
      - With O(state=present), an id the zone does not hold fails before any change.
    type: str
  state:
    description:
      - V(present) uploads the certificate when the zone does not hold it yet and associates O(hostnames) with it.
      - V(absent) deletes the certificate. See O(detach) for certificates that hostnames still use.
    type: str
    choices: [present, absent]
    default: present
  hostnames:
    description:
      - Hostnames that must use this certificate for client authentication. A hostname associated with another
        certificate is moved to this one.
      - The list is additive; hostnames associated with this certificate but not listed are kept unless
        O(purge_hostnames=true).
      - Compared in lower case, without a trailing dot, internationalized names as A-labels (C(xn--)). Each must be a
        valid hostname of at most 253 characters; wildcards are not accepted.
    type: list
    elements: str
    default: []
  purge_hostnames:
    description:
      - Remove the association of every hostname using this certificate that O(hostnames) does not list.
    type: bool
    default: false
  enabled:
    description:
      - Whether client authentication is enabled for O(hostnames).
      - V(false) keeps the association but Cloudflare no longer presents the certificate to those hostnames.
    type: bool
    default: true
  detach:
    description:
      - With O(state=absent), first remove the associations of the hostnames still using the certificate, then
        delete it.
      - When V(false), deleting a certificate that hostnames still use fails with an error naming them.
    type: bool
    default: false
  wait:
    description:
      - Wait until the certificate is V(active), also when the task had nothing to change. Never waits in check mode.
      - Also waits until the associations of the certificate's hostnames are V(active), so the certificate they
        used before can be retired safely afterwards.
      - After an upload, the hostnames are moved to the new certificate only once it is V(active), so Cloudflare
        never presents a certificate it is still deploying to their origins.
    type: bool
    default: false
notes:
  - The certificate itself is its identity. A certificate already uploaded to the zone with the same SHA-256
    fingerprint (or, when the API does not return the PEM, the same serial number and issuer) is the same
    resource, so running the task again never uploads it twice and never uses up the quota.
  - Before any change the certificate must parse, match its private key and not be expired. A zone holds at most
    10 client certificates, those pending deletion included; when it is full the task fails before uploading and
    lists the certificates with their expiry, so you can choose one to retire.
  - Associations are read with one list call and changed with one C(PUT) that holds only the hostnames whose
    certificate or O(enabled) differs. Moving hostnames from an old certificate to a new one is therefore a single
    call, and the old certificate can then be deleted with O(state=absent).
  - Cloudflare allows at most 100 hostnames on one client certificate ("100 maximum associations on a single
    certificate are allowed", API reference of the association C(PUT)). The hostnames the certificate keeps (all those
    associated with it, enabled or not, unless O(purge_hostnames=true)) and those of O(hostnames) must therefore be at
    most 100; otherwise the task fails before any write (more than 100 in O(hostnames) before any call), saying how
    many the certificate has and how many more fit.
  - An upload whose outcome is unknown (a lost connection, a server error) is never sent again blindly. The module
    lists the certificates again; when the upload happened it carries on, otherwise (proven not applied) it sends it
    once more and returns RV(resent=true). A second unknown outcome fails, saying that a re-run is safe.
  - Only the associations of O(hostnames) (and, with O(purge_hostnames=true), those of this certificate) are changed;
    the associations of other hostnames with other certificates are left alone.
  - A certificate pending deletion is treated as gone (deleting it again reports no change, and O(state=present)
    uploads the certificate anew), but it still counts toward the quota of 10 until Cloudflare has removed it.
  - Removing an association sends C(enabled=null) for the hostname, as the API asks, before a certificate is deleted.
  - In check mode, the result for a certificate not uploaded yet has RV(hostname_client_cert.id) and
    RV(hostname_client_cert.status) set to V(null), and predicted associations have status V(pending_deployment).
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
  diff_mode:
    support: full
    details:
      - The diff shows certificate facts and associations, never PEM or keys.
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.hostname_client_cert_info
  - name: Per-hostname authenticated origin pull
    description: Cloudflare's guide to client certificates per hostname.
    link: https://developers.cloudflare.com/ssl/origin-configuration/authenticated-origin-pull/set-up/per-hostname/
  - name: Enable or Disable a Hostname for Client Authentication
    description: The API operation that associates hostnames with a certificate, and its limit of 100 per certificate.
    link: https://developers.cloudflare.com/api/resources/origin_tls_client_auth/subresources/hostnames/methods/update/
"""

EXAMPLES = r"""
- name: Upload a client certificate and use it for three hostnames
  certops.cloudflare.hostname_client_cert:
    zone: example.com
    certificate: "{{ lookup('file', 'client-2026.pem') }}"
    private_key: "{{ lookup('file', 'client-2026.key') }}"
    hostnames:
      - app.example.com
      - api.example.com
      - static.example.com
    wait: true
  register: client_cert

- name: Rotate - upload the new certificate and move every hostname to it in one call
  certops.cloudflare.hostname_client_cert:
    zone: example.com
    certificate_path: /etc/pki/client-2027.pem
    private_key_path: /etc/pki/client-2027.key
    hostnames: "{{ client_cert.hostname_client_cert.hostnames | map(attribute='hostname') }}"
    wait: true

- name: Then delete the old certificate, refusing if a hostname still uses it
  certops.cloudflare.hostname_client_cert:
    zone: example.com
    certificate_id: "{{ client_cert.hostname_client_cert.id }}"
    state: absent

- name: Keep only these hostnames on a certificate and disable client authentication for them
  certops.cloudflare.hostname_client_cert:
    zone: example.com
    certificate_id: 7e7b8deba8538af625850b7b2530034c
    hostnames: [app.example.com]
    purge_hostnames: true
    enabled: false

- name: Credentials once for the whole collection; detach and delete a certificate
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_token }}"
      zone: example.com
  block:
    - name: Remove the certificate's associations, then the certificate
      certops.cloudflare.hostname_client_cert:
        certificate_path: /etc/pki/client-2025.pem
        state: absent
        detach: true
"""

RETURN = r"""
resent:
  description:
    - V(true) when a write whose outcome was unknown (a lost connection, a server error) was sent once more, after a
      read of the state proved that it had not been applied. Absent otherwise.
  returned: when a write was sent once more
  type: bool
  sample: true
hostname_client_cert:
  description:
    - The certificate after the task (predicted in check mode), as facts. V(null) when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: Id of the certificate; V(null) in check mode when it is not uploaded yet.
      type: str
      returned: success
      sample: 7e7b8deba8538af625850b7b2530034c
    status:
      description: Status of the certificate, for example V(pending_deployment) or V(active).
      type: str
      returned: success
      sample: active
    serial_number:
      description: Serial number of the certificate, in decimal.
      type: str
      returned: success
      sample: "6743787633689793699141714808227354901"
    fingerprint_sha256:
      description: SHA-256 fingerprint of the leaf certificate, lower-case hex without separators.
      type: str
      returned: success
      sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
    issuer:
      description: The certificate authority that issued the certificate, as Cloudflare reports it.
      type: str
      returned: success
      sample: Example Client CA
    signature:
      description: The signature algorithm of the certificate.
      type: str
      returned: success
      sample: ECDSAWithSHA256
    hosts:
      description: The names the certificate is for (its subject alternative names, else its common name), from its PEM.
      type: list
      elements: str
      returned: success
      sample: [origin-pull.example.com]
    not_before:
      description: When the certificate became valid (UTC), from the PEM the API returns (or the one given).
      type: str
      returned: success
      sample: "2026-03-01T00:00:00Z"
    uploaded_on:
      description: When the certificate was uploaded; V(null) in check mode before an upload.
      type: str
      returned: success
      sample: "2026-03-01T10:00:00.000000Z"
    expires_on:
      description: When the certificate expires.
      type: str
      returned: success
      sample: "2027-03-01T10:00:00Z"
    days_remaining:
      description: Whole days until the certificate expires.
      type: int
      returned: success
      sample: 364
    hostnames:
      description: The hostnames associated with the certificate, sorted.
      type: list
      elements: dict
      returned: success
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
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import (
    associations_path,
    certificate_view,
    certificates_path,
    check_hostnames,
    current_certificates,
    describe_certificates,
    hostname_limit_problem,
    hostnames_of,
    is_same_certificate,
    list_associations,
    list_certificates,
    live_associations,
    live_certificates,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import certificate_facts, check_certificate, load_certificates
from ansible_collections.certops.cloudflare.plugins.module_utils._statuses import CLIENT_CERT_QUOTA, ENDED_STATUSES
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import poll


class HostnameClientCert(CloudflareResource):
    RESULT_KEY = "hostname_client_cert"
    NOUN = "hostname client certificate"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.facts: Optional[Dict[str, Any]] = None
        self.cert_pem: Optional[str] = None
        self.key_pem: Optional[str] = None
        self.hostnames: List[str] = []
        self.cert_id: Optional[str] = None  # the certificate the association PUT names; set by plan() or the upload
        self.uploaded = False
        self.moves: Dict[str, Tuple[Optional[str], Optional[bool]]] = {}  # hostname: (certificate before, enabled after; None: removed)

    def describe(self) -> str:
        what = self.params.get("certificate_id") or (self.facts or {}).get("fingerprint_sha256") or ""
        return "%s %s in zone %s" % (self.NOUN, what, self.zone_label)

    def validate(self) -> None:
        p = self.params
        try:
            self.hostnames = check_hostnames(p["hostnames"])
        except ValueError as exc:
            raise InputError(str(exc)) from None
        self.cert_pem = read_file_option(self.module.params, "certificate", "certificate_path")
        key = read_file_option(self.module.params, "private_key", "private_key_path")
        if p["state"] == "absent" or self.cert_pem is None:
            if self.cert_pem is not None:
                self.facts = certificate_facts(load_certificates(self.cert_pem)[0])
        else:
            # The key is needed only to upload (plan() says so when it is missing); a key given is checked all the same.
            # An encrypted key comes back decrypted (the clear key is uploaded); a clear key as given.
            self.facts, self.key_pem = check_certificate(self.cert_pem, key, p["private_key_passphrase"], name="certificate")
            if self.key_pem:
                self.module.no_log_values.add(self.key_pem)
        if p["state"] == "present":  # more hostnames than one certificate takes: refused before any call
            self._check_hostname_limit(0, len(self.hostnames))

    def lookup(self) -> Dict[str, Any]:
        certs = list_certificates(self.client, self.zone_id)
        return {"certs": certs, "cert": self._find(certs), "associations": live_associations(list_associations(self.client, self.zone_id))}

    def _find(self, certs: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        cert_id = self.params.get("certificate_id")
        for cert in current_certificates(certs):
            if cert_id and cert.get("id") == cert_id or self.facts and not cert_id and is_same_certificate(cert, self.facts):
                return cert
        return None

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        if not current or not current["cert"]:
            return None
        return certificate_view(current["cert"], current["associations"], self.facts)

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        cert, associations = current["cert"], current["associations"]
        self.cert_id = cert["id"] if cert else None
        if self.params["state"] == "absent":
            return self._plan_absent(cert, associations)
        steps = []
        if cert is None:
            if self.params.get("certificate_id"):
                raise InputError(
                    "certificate_id %s: no such client certificate in zone %s (it holds: %s)"
                    % (self.params["certificate_id"], self.zone_label, describe_certificates(live_certificates(current["certs"])) or "none")
                )
            if self.key_pem is None:
                raise InputError(
                    "certificate %s is not in zone %s yet, and uploading it needs its private key: give private_key or private_key_path"
                    % (self.facts["fingerprint_sha256"], self.zone_label)
                )
            self._check_quota(current["certs"])
            upload_key = "upload certificate %s" % self.facts["fingerprint_sha256"]
            steps.append(Step(upload_key, self._upload, lambda answer, state: self._check_upload(upload_key, answer, state)))
            cert = {"id": None, "status": None}
        # The hostnames the certificate keeps (all, unless purged) and those listed: at most 100, checked before any write.
        held = [] if self.params["purge_hostnames"] else [h["hostname"] for h in hostnames_of(cert["id"], associations)]
        self._check_hostname_limit(len(held), len(set(held) | set(self.hostnames)))
        config = self._association_changes(associations)
        self.moves = {e["hostname"]: ((associations.get(e["hostname"]) or {}).get("cert_id"), e["enabled"]) for e in config}
        if config:
            steps.append(self._put_step("associate hostnames %s" % ", ".join(e["hostname"] for e in config), config))
        # Check-mode prediction: a certificate not uploaded yet has no id, so a placeholder stands in for it.
        cert_key = cert["id"] or "(to be uploaded)"
        predicted = dict(associations)
        for entry in config:
            if entry["enabled"] is None:
                predicted.pop(entry["hostname"], None)
            else:
                predicted[entry["hostname"]] = dict(entry, cert_id=cert_key, status="pending_deployment")
        view = certificate_view(dict(cert, id=cert_key), predicted, self.facts)
        view["id"] = cert["id"]
        return steps, view

    def _association_changes(self, associations: Dict[str, Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Config entries for the hostnames whose certificate or `enabled` differ; `cert_id` is filled in when sent."""
        enabled = self.params["enabled"]
        config = []
        for name in self.hostnames:
            held = associations.get(name)
            if held is None or self.cert_id is None or held.get("cert_id") != self.cert_id or held.get("enabled") != enabled:
                config.append({"hostname": name, "enabled": enabled})
        if self.params["purge_hostnames"] and self.cert_id:
            for name, held in sorted(associations.items()):
                if held.get("cert_id") == self.cert_id and name not in self.hostnames:
                    config.append({"hostname": name, "enabled": None})
        return config

    def _plan_absent(self, cert: Optional[Dict[str, Any]], associations: Dict[str, Dict[str, Any]]) -> Tuple[List[Step], None]:
        if cert is None:
            return [], None
        attached = sorted(name for name, held in associations.items() if held.get("cert_id") == cert["id"])
        steps = []
        if attached:
            if not self.params["detach"]:
                raise InputError(
                    "client certificate %s is still associated with %s; move those hostnames to another certificate first, "
                    "or set detach=true to remove their associations before deleting it" % (cert["id"], ", ".join(attached))
                )
            config = [{"hostname": name, "enabled": None} for name in attached]
            self.moves = {name: (cert["id"], None) for name in attached}
            steps.append(self._put_step("detach hostnames %s" % ", ".join(attached), config))
        delete_key = "delete certificate %s" % cert["id"]
        steps.append(
            Step(
                delete_key,
                lambda: self.client.delete("%s/%s" % (certificates_path(self.zone_id), cert["id"]), expect=dict),
                lambda answer, state: self._check_delete(delete_key, answer, state),
            )
        )
        return steps, None

    def _check_hostname_limit(self, held: int, after: int) -> None:
        label = self.cert_id or self.params.get("certificate_id") or (self.facts or {}).get("fingerprint_sha256") or "given"
        problem = hostname_limit_problem(label, held, after)
        if problem:
            raise InputError(problem)

    def _check_quota(self, certs: List[Dict[str, Any]]) -> None:
        held = live_certificates(certs)
        if len(held) >= CLIENT_CERT_QUOTA:
            raise InputError(
                "zone %s already holds %d client certificates, the most Cloudflare allows (those pending deletion count too); "
                "delete one before uploading another. Certificates: %s" % (self.zone_label, len(held), describe_certificates(held))
            )

    def _upload(self) -> Any:
        return self.client.post(certificates_path(self.zone_id), {"certificate": self.cert_pem, "private_key": self.key_pem})

    def _check_upload(self, key: str, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        """The upload's answer must be the certificate with its id; nothing goes on to the association PUT otherwise."""
        cert_id = self.answer_id(key, answer, "certificate")
        if (answer.get("certificate") or answer.get("serial_number")) and not is_same_certificate(answer, self.facts or {}):
            raise self.unexpected_answer(key, "is another certificate than the one uploaded", answer)
        self.cert_id, self.uploaded = cert_id, True
        return dict(state, certs=list(state["certs"]) + [answer], cert=answer)

    def _put_step(self, key: str, config: List[Dict[str, Any]]) -> Step:
        return Step(key, lambda: self._put(config), lambda answer, state: self._check_associations(key, config, answer, state))

    def _put(self, config: List[Dict[str, Any]]) -> Any:
        if self.uploaded and self.params["wait"]:
            # Hostnames move to the new certificate only once Cloudflare has deployed it.
            self._wait_for(_certificate_active, "to be active")
        return self.client.put(associations_path(self.zone_id), {"config": [dict(entry, cert_id=self.cert_id) for entry in config]}, expect=list)

    def _check_associations(self, key: str, config: List[Dict[str, Any]], answer: List[Any], state: Dict[str, Any]) -> Dict[str, Any]:
        """Each hostname sent must come back with the certificate and `enabled` asked for (or removed)."""
        returned = {normalize_hostname(str(a.get("hostname"))): a for a in answer if isinstance(a, dict) and a.get("hostname")}
        associations = dict(state["associations"])
        for entry in config:
            got = returned.get(entry["hostname"])
            if entry["enabled"] is None:
                if got is not None and got.get("enabled") is not None and got.get("status") not in ENDED_STATUSES:
                    raise self.unexpected_answer(key, "still shows %s associated" % entry["hostname"], answer)
                associations.pop(entry["hostname"], None)
            elif got is None or got.get("cert_id") != self.cert_id or got.get("enabled") != entry["enabled"]:
                raise self.unexpected_answer(key, "does not show %s with certificate %s" % (entry["hostname"], self.cert_id), answer)
            else:
                associations[entry["hostname"]] = got
        return dict(state, associations=associations)

    def _check_delete(self, key: str, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(answer, dict) or answer.get("id") != self.cert_id:
            raise self.unexpected_answer(key, "is not the deleted certificate %s" % self.cert_id, answer)
        return dict(state, cert=None)

    def diff(self, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]], current: Any) -> Dict[str, Any]:
        """The views, plus each hostname's certificate before and after: a move shows leaving the old one too."""
        result = super().diff(before, after, current)
        if self.moves:
            new_id = self.cert_id or "(to be uploaded)"
            result["before"] = dict(result["before"], hostname_associations={h: old for h, (old, _e) in sorted(self.moves.items())})
            result["after"] = dict(
                result["after"], hostname_associations={h: (new_id if enabled is not None else None) for h, (_o, enabled) in sorted(self.moves.items())}
            )
        return result

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if not view or not self.params["wait"] or _deployed(view):
            return view
        return self._wait_for(_deployed, "and its hostname associations to be active")

    def _wait_for(self, done: Any, what: str) -> Optional[Dict[str, Any]]:
        def fetch() -> Optional[Dict[str, Any]]:
            return self.to_view(self.lookup())

        name = "client certificate %s %s" % (self.cert_id or (self.facts or {}).get("fingerprint_sha256"), what)
        return poll(fetch, lambda view: view is None or done(view), self.params["wait_timeout"], name)


def _certificate_active(view: Dict[str, Any]) -> bool:
    return view.get("status") == "active"


def _deployed(view: Dict[str, Any]) -> bool:
    """The certificate and every hostname association with it are active: the old one can be retired."""
    return _certificate_active(view) and all(h.get("status") == "active" for h in view["hostnames"])


def main() -> None:
    module = build_module(
        dict(
            material_argument_spec(),
            certificate_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            hostnames=dict(type="list", elements="str", default=[]),
            purge_hostnames=dict(type="bool", default=False),
            enabled=dict(type="bool", default=True),
            detach=dict(type="bool", default=False),
            **wait_argument_spec(),
        ),
        mutually_exclusive=[
            ["certificate", "certificate_path", "certificate_id"],
            ["private_key", "private_key_path", "certificate_id"],
        ],
        required_one_of=[["certificate", "certificate_path", "certificate_id"]],
    )
    HostnameClientCert(module).run()


if __name__ == "__main__":
    main()
