#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: custom_hostname
short_description: Create Cloudflare for SaaS custom hostnames and manage their SSL settings and domain control validation
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Creates a custom hostname of a zone (Cloudflare for SaaS), changes its SSL settings, metadata and custom origin,
    re-triggers a domain control validation that timed out, waits until the hostname is live, or deletes it.
  - Use it to onboard a customer's hostname with a Cloudflare-managed certificate; to serve your own certificates on
    it instead, add M(certops.cloudflare.custom_hostname_cert).
options:
  hostname:
    description:
      - The custom hostname, for example V(app.customer.com). Compared in lower case, without a trailing dot.
    type: str
    required: true
  state:
    description:
      - V(present) creates the hostname when it is missing and applies the options given.
      - V(absent) deletes the hostname. B(Its certificates, managed or custom, are deleted with it.)
    type: str
    choices: [present, absent]
    default: present
  ssl:
    description:
      - SSL settings, named as in Cloudflare's API. Only the suboptions given are changed; the others keep their
        current values.
    type: dict
    suboptions:
      method:
        description:
          - Domain control validation method of the managed certificate.
        type: str
        choices: [http, txt, email]
      type:
        description:
          - Level of validation; Cloudflare takes only V(dv).
        type: str
        choices: [dv]
      certificate_authority:
        description:
          - The certificate authority that issues the managed certificate. Changing it also sends the validation
            method and type, which must then be known (given, or reported by Cloudflare).
        type: str
        choices: [digicert, google, lets_encrypt, ssl_com]
      wildcard:
        description:
          - Whether the managed certificate also covers the wildcard of the hostname.
        type: bool
      bundle_method:
        description:
          - How Cloudflare builds the chain it serves.
        type: str
        choices: [ubiquitous, optimal, force]
      settings:
        description:
          - TLS settings of the hostname. Suboptions not given keep their current values.
        type: dict
        suboptions:
          min_tls_version:
            description:
              - The minimum TLS version accepted. Quote it in YAML (V("1.2")).
            type: str
            choices: ["1.0", "1.1", "1.2", "1.3"]
          ciphers:
            description:
              - Allowlist of ciphers in BoringSSL format, replacing the current list. Each name must be non-empty
                and appear once.
            type: list
            elements: str
          http2:
            description:
              - Whether HTTP/2 is enabled.
            type: str
            choices: ["on", "off"]
          tls_1_3:
            description:
              - Whether TLS 1.3 is enabled.
            type: str
            choices: ["on", "off"]
          early_hints:
            description:
              - Whether Early Hints is enabled.
            type: str
            choices: ["on", "off"]
  use_managed_certificate:
    description:
      - Move a hostname that serves custom certificates to a Cloudflare-managed certificate. The module sends the
        SSL configuration with a validation method (O(ssl.method), else the one Cloudflare reports); Cloudflare issues a
        certificate, keeps serving the custom ones while it validates, then removes them.
      - Check mode and the diff show the custom certificates going. While the new certificate validates (SSL status
        V(initializing), V(pending_validation) or V(pending_issuance)) a re-run sends nothing. A hostname without custom
        certificates is unaffected.
    type: bool
    default: false
    version_added: 0.1.0
  custom_metadata:
    description:
      - Key/value metadata of the hostname (per-customer settings), replacing the current metadata as a whole.
    type: dict
  custom_origin_server:
    description:
      - The origin server of this hostname instead of the zone's fallback origin, a hostname that has been added to
        the zone's DNS as an A, AAAA or CNAME record.
    type: str
  custom_origin_sni:
    description:
      - The SNI sent to the custom origin server, a hostname, or V(:request_host_header:) to send the request's
        C(Host) header. Not configurable with the fallback origin.
    type: str
  refresh_validation:
    description:
      - Re-trigger domain control validation when the hostname's SSL status is V(validation_timed_out).
    type: bool
    default: false
  wait:
    description:
      - Wait until the hostname is live, that is both its status and its SSL status are V(active); also when the task
        had nothing to change. Never waits in check mode.
      - Fails at once when the hostname reaches a status that waiting will not change (V(blocked), V(moved),
        V(deleted), V(validation_timed_out), V(issuance_timed_out), V(deployment_timed_out), ...), naming the status
        and the validation errors Cloudflare gives.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds to wait when O(wait=true); must be positive. When the wait times out after a change, the task fails
        with C(changed=true) and says what was already changed.
    type: int
    default: 600
notes:
  - The SSL settings it manages are the validation method, minimum TLS version, ciphers, HTTP/2, TLS 1.3, early hints,
    bundle method and certificate authority; besides them it manages the hostname's C(custom_metadata),
    C(custom_origin_server) and C(custom_origin_sni).
  - The hostname is looked up with one call using the API's C(hostname) filter. A missing hostname is created with
    one C(POST) carrying what the task gives; an existing one is changed with one C(PATCH).
  - Options not given are left as they are. C(custom_metadata), C(custom_origin_server) and C(custom_origin_sni) are
    sent only when they differ from what Cloudflare reports.
  - Cloudflare replaces the whole SSL configuration of a hostname with the one a C(PATCH) sends. Any SSL change
    therefore sends the configuration as read (C(method), C(type), C(settings), C(bundle_method), C(wildcard),
    C(certificate_authority)) with the change applied. C(certificate_authority) is sent back when Cloudflare reports
    one and never added when it reports none, unless O(ssl.certificate_authority) is set (some plans refuse it).
  - B(A PATCH of the SSL configuration restarts the validation of a Cloudflare-managed certificate), so the
    hostname's certificate is re-issued. The module warns when it does so and the result shows the new SSL status
    (for example V(pending_validation)).
  - That any C(PATCH) of C(ssl), also one equal to the stored configuration, restarts validation of a managed
    certificate comes from Cloudflare's documentation of the edit operation; it is unverified against the live API
    beyond that text.
  - With O(refresh_validation=true), a hostname whose SSL status is V(validation_timed_out) gets a C(PATCH) with its
    SSL configuration unchanged, which is how Cloudflare re-triggers validation. Any other status is left alone, so
    a re-run changes nothing.
  - A hostname that serves custom certificates keeps them; this module never sends or removes custom certificates
    (M(certops.cloudflare.custom_hostname_cert) manages those). A C(PATCH) with a validation method moves such a
    hostname to a Cloudflare certificate and removes its custom ones (Cloudflare's "Move to a Cloudflare certificate"),
    so for such a hostname the configuration sent back leaves C(method) out, and O(ssl.method) or
    O(ssl.certificate_authority) fails before any write unless O(use_managed_certificate=true) asks for the move.
  - Every input is checked before any write. The hostname and O(custom_origin_server) must be valid hostnames
    (internationalized names are sent as A-labels; no wildcard), the choices come from Cloudflare's API document,
    and O(ssl.settings.ciphers) must be a list of unique, non-empty names (the names themselves are checked by
    Cloudflare; its document lists none).
  - A new hostname becomes live only once its owner publishes the ownership record
    (RV(custom_hostname.ownership_verification)) and the managed certificate's validation records
    (RV(custom_hostname.ssl.validation_records)), or points the hostname at the zone with a CNAME. Cloudflare lists the
    validation records once validation is pending; the EXAMPLES read the hostname until it does, publish the records
    with a loop and wait until the hostname is live.
extends_documentation_fragment:
  - certops.cloudflare.wait
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.action_group
attributes:
  check_mode:
    support: full
    details:
      - Predicts the result and sends no write. Values only Cloudflare generates (ids, verification records) are
        V(null) or empty for a hostname not created yet.
  diff_mode:
    support: full
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.custom_hostname_cert
  - module: certops.cloudflare.custom_hostname_cert_info
  - name: Custom hostnames
    description: Cloudflare's guide to creating custom hostnames for Cloudflare for SaaS.
    link: https://developers.cloudflare.com/cloudflare-for-platforms/cloudflare-for-saas/domain-support/create-custom-hostnames/
  - name: Edit Custom Hostname
    description: The API operation behind the changes.
    link: https://developers.cloudflare.com/api/resources/custom_hostnames/methods/edit/
"""

EXAMPLES = r"""
- name: Onboard a customer hostname end to end
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_api_token }}"
      zone: example.com
  block:
    - name: Create the custom hostname, validated with a TXT record
      certops.cloudflare.custom_hostname:
        hostname: app.customer.com
        ssl:
          method: txt
          settings:
            min_tls_version: "1.2"
        custom_metadata:
          customer: acme

    - name: Read it again until Cloudflare lists the validation records (an unchanged run writes nothing)
      certops.cloudflare.custom_hostname:
        hostname: app.customer.com
      register: onboarding
      until: onboarding.custom_hostname.ssl.validation_records | length > 0 or onboarding.custom_hostname.ssl.status == 'active'
      retries: 20
      delay: 5

    - name: Publish the TXT ownership record in the customer's DNS
      community.general.cloudflare_dns:
        zone: customer.com
        api_token: "{{ vault_customer_dns_token }}"
        type: TXT
        record: "{{ onboarding.custom_hostname.ownership_verification.name }}"
        value: "{{ onboarding.custom_hostname.ownership_verification.value }}"

    - name: Publish the TXT validation records of the certificate
      community.general.cloudflare_dns:
        zone: customer.com
        api_token: "{{ vault_customer_dns_token }}"
        type: TXT
        record: "{{ item.txt_name }}"
        value: "{{ item.txt_value }}"
      loop: "{{ onboarding.custom_hostname.ssl.validation_records | selectattr('txt_name', 'defined') }}"
      loop_control:
        label: "{{ item.txt_name }}"

    - name: Wait until the hostname is live (its status and SSL status both active)
      certops.cloudflare.custom_hostname:
        hostname: app.customer.com
        wait: true
        wait_timeout: 1800

- name: Raise the minimum TLS version (the rest of the SSL configuration is sent back unchanged)
  certops.cloudflare.custom_hostname:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    hostname: app.customer.com
    ssl:
      settings:
        min_tls_version: "1.2"
        ciphers: [ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-RSA-AES128-GCM-SHA256]

- name: Re-trigger validation of a hostname stuck in validation_timed_out, and wait for it
  certops.cloudflare.custom_hostname:
    zone: example.com
    hostname: legacy.customer.com
    refresh_validation: true
    wait: true

- name: Send this customer's traffic to its own origin
  certops.cloudflare.custom_hostname:
    zone: example.com
    hostname: app.customer.com
    custom_origin_server: origin-acme.example.com
    custom_origin_sni: ":request_host_header:"

- name: Offboard a customer (its certificates are deleted with the hostname)
  certops.cloudflare.custom_hostname:
    zone: example.com
    hostname: app.customer.com
    state: absent
"""

RETURN = r"""
resent:
  description:
    - V(true) when a write whose outcome was unknown (a lost connection, a server error) was sent once more, after a
      read of the state proved that it had not been applied. Absent otherwise.
  returned: when a write was sent once more
  type: bool
  sample: true
custom_hostname:
  description:
    - The custom hostname after the task (predicted in check mode); V(null) when it is absent. Never holds PEM or
      key material.
  returned: success
  type: dict
  contains:
    id:
      description: Id of the custom hostname; V(null) in check mode for a hostname not created yet.
      type: str
      sample: 0d89c70dad9f4843b99f6cc0252067e9
    hostname:
      description: The custom hostname.
      type: str
      sample: app.customer.com
    status:
      description: Activation status of the hostname, for example V(pending) or V(active).
      type: str
      sample: pending
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
      description: The hostname's SSL configuration and the state of its certificate.
      type: dict
      contains:
        id:
          description: Id of the hostname's certificate pack.
          type: str
          sample: 7b163417a1d24c84a38a2fb7a0cd7752
        status:
          description: SSL status, for example V(pending_validation), V(validation_timed_out) or V(active).
          type: str
          sample: pending_validation
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
        bundle_method:
          description: How Cloudflare builds the chain it serves.
          type: str
          sample: ubiquitous
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
"""

import copy
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, InputError, Step, build_module, wait_argument_spec
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import (
    EXTRA_FIELDS,
    check_not_stuck,
    find_by_hostname,
    hostname_view,
    holds_custom_certificates,
    hostnames_path,
    is_live,
    remote_certificates,
    ssl_config,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import poll

REQUEST_HOST_HEADER = ":request_host_header:"
SSL_OPTIONS = ("method", "type", "certificate_authority", "wildcard", "bundle_method")
# SSL statuses of a managed certificate's validation, which an upload of custom certificates never has: with custom
# certificates still there, a move to a Cloudflare certificate is under way.
MOVE_UNDER_WAY = frozenset(("initializing", "pending_validation", "pending_issuance"))


class CustomHostname(CloudflareResource):
    RESULT_KEY = "custom_hostname"
    NOUN = "custom hostname"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.moving = False  # this run moves the hostname to a Cloudflare certificate (use_managed_certificate)

    def diff(self, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]], current: Any) -> Dict[str, Any]:
        """The views; a move to a Cloudflare certificate also shows the custom certificates going."""
        diff = super().diff(before, after, current)
        if self.moving and before and after:
            diff["before"] = dict(before, ssl=dict(before["ssl"], certificates=[c.view() for c in remote_certificates(current)]))
            diff["after"] = dict(after, ssl=dict(after["ssl"], certificates=[]))
        return diff

    def describe(self) -> str:
        return "custom hostname %s in zone %s" % (self.params["hostname"], self.zone_label)

    def validate(self) -> None:
        p = self.params
        ciphers = ((p["ssl"] or {}).get("settings") or {}).get("ciphers")
        if ciphers is not None:
            names = [str(c).strip() for c in ciphers]
            if not all(names):
                raise InputError("ssl.settings.ciphers: every entry must be a cipher name; an empty one was given")
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise InputError("ssl.settings.ciphers: each cipher may appear once; repeated: %s" % ", ".join(repeated))
            p["ssl"]["settings"]["ciphers"] = names
        try:
            if p["custom_origin_server"] is not None:
                p["custom_origin_server"] = check_hostname(p["custom_origin_server"], "custom_origin_server")
            if p["custom_origin_sni"] not in (None, REQUEST_HOST_HEADER):
                p["custom_origin_sni"] = check_hostname(p["custom_origin_sni"], "custom_origin_sni (a hostname or %s)" % REQUEST_HOST_HEADER)
        except ValueError as exc:
            raise InputError(str(exc)) from None

    def lookup(self) -> Optional[Dict[str, Any]]:
        return find_by_hostname(self.client, self.zone_id, self.params["hostname"], self.zone_label)

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        return hostname_view(current) if current is not None else None

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if not self.params["wait"] or view is None:
            return view

        def done(current: Optional[Dict[str, Any]]) -> bool:
            if current is None:
                raise InputError("custom hostname %s disappeared from zone %s while waiting" % (self.params["hostname"], self.zone_label))
            if is_live(current):
                return True
            check_not_stuck(current)
            return False

        return self.to_view(poll(self.lookup, done, self.params["wait_timeout"], "custom hostname %s to be live" % view["hostname"]))

    # -- planning -------------------------------------------------------------------------------

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        if self.params["state"] == "absent":
            if current is None:
                return [], None
            path = hostnames_path(self.zone_id, current["id"])
            # DELETE zones/{zone_id}/custom_hostnames/{id} answers a bare {"id": ...}, no envelope result: no check, so the flow
            # reads back and finds it gone.
            return [Step("delete custom hostname %s" % current["id"], lambda: self.client.delete(path))], None
        if current is None:
            return self._plan_create()
        return self._plan_update(current)

    def _given_extra(self) -> Dict[str, Any]:
        return {key: self.params[key] for key in EXTRA_FIELDS if self.params[key] is not None}

    def _given_ssl(self) -> Dict[str, Any]:
        ssl = self.params["ssl"] or {}
        given = {key: ssl[key] for key in SSL_OPTIONS if ssl.get(key) is not None}
        settings = {k: v for k, v in (ssl.get("settings") or {}).items() if v is not None}
        if settings:
            given["settings"] = settings
        return given

    def _plan_create(self) -> Tuple[List[Step], Dict[str, Any]]:
        body: Dict[str, Any] = dict(self._given_extra(), hostname=self.params["hostname"])
        if self._given_ssl():
            body["ssl"] = self._given_ssl()
        key = "create custom hostname %s" % self.params["hostname"]
        step = Step(key, lambda: self.client.post(hostnames_path(self.zone_id), body), lambda answer, state: self._check_answer(key, answer, body))
        # What Cloudflare generates (ids, verification records) is unknown before the POST.
        predicted = dict(body, id=None, status="pending", ssl=dict(body.get("ssl") or {}, id=None, status="initializing"))
        predicted["ssl"].setdefault("type", "dv")
        return [step], hostname_view(predicted)

    def _plan_update(self, current: Dict[str, Any]) -> Tuple[List[Step], Dict[str, Any]]:
        body: Dict[str, Any] = {key: value for key, value in self._given_extra().items() if current.get(key) != value}
        read = ssl_config(current)  # less `method` on a hostname with custom certificates
        move = self._moves_to_managed(current)
        wanted = self._wanted_ssl(current, read, move)
        ssl_status = (current.get("ssl") or {}).get("status")
        refresh = self.params["refresh_validation"] and ssl_status == "validation_timed_out"
        if wanted != read or refresh or move:
            body["ssl"] = wanted
        if not body:
            return [], hostname_view(current)

        predicted = copy.deepcopy(current)
        predicted.update({k: v for k, v in body.items() if k != "ssl"})
        key = "patch " + ", ".join(sorted(body))
        if move:
            self.moving = True
            predicted["ssl"] = dict(predicted["ssl"], **wanted)
            predicted["ssl"].update(status="pending_validation", certificates=[], custom_certificate=None)
            key += " (moves to a Cloudflare certificate: the custom certificates go once it validates)"
            self.module.warn(
                "%s moves to a Cloudflare-managed certificate: Cloudflare removes its custom certificates once the new one validates" % self.params["hostname"]
            )
        elif "ssl" in body:
            predicted["ssl"] = dict({k: v for k, v in predicted["ssl"].items() if k not in read}, **wanted)
            if not holds_custom_certificates(current):
                # A PATCH of `ssl` restarts validation of a managed certificate (Cloudflare's "Edit Custom Hostname"); say so.
                predicted["ssl"]["status"] = "pending_validation"
                key += " (restarts validation of the managed certificate)"
                if not refresh:
                    self.module.warn(
                        "changing the SSL configuration of %s restarts the validation of its Cloudflare-managed certificate" % self.params["hostname"]
                    )
        path = hostnames_path(self.zone_id, current["id"])
        step = Step(key, lambda: self.client.patch(path, body), lambda answer, state: self._check_answer(key, answer, body, current["id"]))
        return [step], hostname_view(predicted)

    def _moves_to_managed(self, current: Dict[str, Any]) -> bool:
        """Whether this PATCH moves a hostname with custom certificates to a Cloudflare certificate (use_managed_certificate).

        A PATCH with a DCV method does that ("Manage custom certificates", "Move to a Cloudflare certificate"). While the
        managed certificate validates (statuses a custom upload never has) the move is under way: not sent again.
        """
        return self.params["use_managed_certificate"] and holds_custom_certificates(current) and (current.get("ssl") or {}).get("status") not in MOVE_UNDER_WAY

    def _wanted_ssl(self, current: Dict[str, Any], read: Dict[str, Any], move: bool = False) -> Dict[str, Any]:
        """The SSL configuration as read with the options given applied: the API replaces it whole (PATCH of `ssl`)."""
        given = self._given_ssl()
        if holds_custom_certificates(current) and not self.params["use_managed_certificate"]:
            managed_only = [name for name in ("method", "certificate_authority") if name in given]
            if managed_only:
                raise InputError(
                    "%s serves custom certificates, and ssl.%s is for a Cloudflare-managed certificate: sending it moves the hostname to one "
                    "and removes its custom certificates; set use_managed_certificate: true to do that, or leave ssl.%s out"
                    % (current.get("hostname"), managed_only[0], managed_only[0])
                )
        elif move:
            given.setdefault("type", "dv")
            given["method"] = given.get("method") or (current.get("ssl") or {}).get("method")
            if not given["method"]:
                raise InputError("use_managed_certificate: %s reports no validation method; set ssl.method (http, txt or email)" % current.get("hostname"))
        elif holds_custom_certificates(current):
            given.pop("method", None)  # the move is under way: a method sent again would restart it
        wanted = dict(read, **{k: v for k, v in given.items() if k != "settings"})
        if "settings" in given:
            wanted["settings"] = dict(read.get("settings") or {}, **given["settings"])
        if wanted.get("certificate_authority") != read.get("certificate_authority"):
            # A change of CA is refused without the validation method and type next to it.
            wanted.setdefault("type", "dv")
            if not wanted.get("method"):
                raise InputError(
                    "changing ssl.certificate_authority of %s sends the validation method with it, and Cloudflare reports none: "
                    "set ssl.method too" % current.get("hostname")
                )
        return wanted

    def _check_answer(self, key: str, answer: Any, body: Dict[str, Any], hostname_id: Optional[str] = None) -> Dict[str, Any]:
        """The hostname as the write's own answer shows it, or an error when the answer does not show the change."""
        if not isinstance(answer, dict) or not answer.get("id") or not isinstance(answer.get("ssl"), dict):
            raise self.unexpected_answer(key, "is not a custom hostname with its SSL configuration", answer)
        if (hostname_id and answer["id"] != hostname_id) or str(answer.get("hostname", "")).lower() != self.params["hostname"]:
            raise self.unexpected_answer(key, "is not the custom hostname %s" % self.params["hostname"], answer)
        wrong = [k for k in EXTRA_FIELDS if k in body and answer.get(k) != body[k]]
        sent_ssl = body.get("ssl") or {}
        wrong += ["ssl." + k for k in sent_ssl if k != "settings" and answer["ssl"].get(k) != sent_ssl[k]]
        settings = answer["ssl"].get("settings") or {}
        wrong += ["ssl.settings." + k for k, v in (sent_ssl.get("settings") or {}).items() if settings.get(k) != v]
        if wrong:
            raise self.unexpected_answer(key, "does not show %s as sent" % ", ".join(wrong), answer)
        return answer


def main() -> None:
    settings = dict(
        min_tls_version=dict(type="str", choices=["1.0", "1.1", "1.2", "1.3"]),
        ciphers=dict(type="list", elements="str"),
        http2=dict(type="str", choices=["on", "off"]),
        tls_1_3=dict(type="str", choices=["on", "off"]),
        early_hints=dict(type="str", choices=["on", "off"]),
    )
    ssl = dict(
        method=dict(type="str", choices=["http", "txt", "email"]),
        type=dict(type="str", choices=["dv"]),
        certificate_authority=dict(type="str", choices=["digicert", "google", "lets_encrypt", "ssl_com"]),
        wildcard=dict(type="bool"),
        bundle_method=dict(type="str", choices=["ubiquitous", "optimal", "force"]),
        settings=dict(type="dict", options=settings),
    )
    module = build_module(
        dict(
            hostname=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            ssl=dict(type="dict", options=ssl),
            custom_metadata=dict(type="dict"),
            custom_origin_server=dict(type="str"),
            custom_origin_sni=dict(type="str"),
            refresh_validation=dict(type="bool", default=False),
            use_managed_certificate=dict(type="bool", default=False),
            **wait_argument_spec(600),
        ),
    )
    CustomHostname(module).run()


if __name__ == "__main__":
    main()
