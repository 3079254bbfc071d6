#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cert_pack
short_description: Order and keep healthy Advanced Certificate Manager certificate packs on Cloudflare
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Orders an Advanced Certificate Manager certificate pack for a set of hosts of a zone, keeps it healthy, replaces it
    when a setting fixed at order time must change, and deletes it.
  - Use it when Cloudflare should issue and renew the edge certificates of a zone's hosts;
    M(certops.cloudflare.cert_pack_info) lists the packs and the quota.
options:
  hosts:
    description:
      - The hosts the pack covers, the zone apex among them; wildcards such as V(*.example.com) are accepted.
      - Compared as a set, in lower case, without a trailing dot.
      - Exactly one of O(hosts) and O(certificate_pack_id) is required.
    type: list
    elements: str
  certificate_pack_id:
    description:
      - The id of an existing pack, instead of O(hosts). With O(state=present), an id the zone does not hold (or a pack
        being deleted) fails before any write. Cannot be used with O(replace=true).
    type: str
  state:
    description:
      - V(present) orders the pack when no live pack has these hosts, and keeps it as asked.
      - V(absent) deletes it. Cloudflare then lists it V(pending_deletion), then V(deleted), for a while. A pack already
        gone, V(pending_deletion) or V(deleted) is no change.
    type: str
    choices: [present, absent]
    default: present
  validation_method:
    description:
      - How the certificate authority validates the hosts. Required to order; compared only when given.
      - Fixed at order time; see O(replace).
    type: str
    choices: [txt, http, email]
  validity_days:
    description:
      - Validity of the certificates, in days. Required to order; compared only when given.
      - Fixed at order time; see O(replace).
    type: int
    choices: [14, 30, 90, 365]
  certificate_authority:
    description:
      - The certificate authority that issues the certificates. Required to order; compared only when given.
      - Fixed at order time; see O(replace).
    type: str
    choices: [google, lets_encrypt, ssl_com]
  cloudflare_branding:
    description:
      - Whether the certificates carry a subdomain of C(sni.cloudflaressl.com) as their common name.
      - Changed in place with a C(PATCH), never by ordering a new pack. Compared only when given.
      - Setting it back to V(false) on an existing pack is unverified against the live API (the document says only that
        the C(PATCH) can add branding).
      - On a pack in V(validation_timed_out), changing it also restarts validation (the API does both in one C(PATCH)),
        whatever O(restart_validation) says.
    type: bool
  restart_validation:
    description:
      - Restart the validation of a pack whose status is V(validation_timed_out) (a C(PATCH) with an empty body, which
        the API allows in that status only). Publish the validation records first, or validation times out again.
    type: bool
    default: true
  replace:
    description:
      - When V(false), a pack whose O(validation_method), O(validity_days) or O(certificate_authority) differs from the
        one asked fails the task, saying which.
      - When V(true), a new pack is ordered with the settings asked, and the result reports both ids. With O(wait=true)
        the module waits until the new pack is V(active) and then deletes the old one. Without O(wait), or when the
        wait times out, the task returns (with a warning when it timed out) so the playbook can publish the new pack's
        validation records; the old pack is kept and a later run with O(replace=true) deletes it once the new one is
        V(active). A new pack in a status that waiting will not fix fails the task, and the old pack is kept.
      - While both packs exist, the one whose settings match the task is the pack managed; when neither or both match,
        the task fails naming both ids.
    type: bool
    default: false
  wait:
    description:
      - Wait until the pack is V(active), also when the task had nothing to change. Never waits in check mode.
      - The pack is read again with a backoff capped at 10 seconds. A status that waiting will not make active
        (V(validation_timed_out), V(issuance_timed_out), V(deployment_timed_out), V(deletion_timed_out), V(expired),
        V(initializing_timed_out)) fails at once with the status and the validation errors; a time-out fails with the
        last status and validation errors seen.
      - Validation with O(validation_method=txt) or V(http) needs the records of RV(cert_pack.validation_records) to be
        published first; order with O(wait=false), publish them, then wait (see the examples).
    type: bool
    default: false
notes:
  - A pack is ordered once. Keeping it healthy means restarting a validation that timed out and setting Cloudflare
    branding in place.
  - A pack is identified by its host set (order, case and a trailing dot do not matter) or by O(certificate_pack_id).
    Packs are always listed in every status and on every page (the API lists only active packs by default); packs
    V(deleted) or V(pending_deletion) are gone for identity. Two live advanced packs with the same host set fail the
    task naming both ids, except while finishing a replacement (see O(replace)).
  - Every input is checked before any write, and a failure names every problem found, not the first only. The hosts must
    number 1 to 50, include the zone apex, lie in the zone, be valid hostnames (IDNA names as A-labels, labels of at
    most 63 characters, names of at most 253) and appear once each. With O(zone_id), the zone is read once to learn
    its name.
  - Before an order, the zone's quota of advanced packs is read; when it is used up the task fails before any write.
    M(certops.cloudflare.cert_pack_info) returns the quota.
  - Deleting a pack stops Cloudflare serving its certificates at once; order (and wait for) its replacement first.
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
      - Sends no write. A pack not ordered yet is predicted with RV(cert_pack.id) V(null) and status V(initializing).
  diff_mode:
    support: full
    details:
      - The diff shows the pack's settings and status before and after.
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.cert_pack_info
  - name: Advanced certificates
    description: Cloudflare's guide to Advanced Certificate Manager.
    link: https://developers.cloudflare.com/ssl/edge-certificates/advanced-certificate-manager/
"""

EXAMPLES = r"""
- name: Order a pack for the apex and www, validated by TXT records
  certops.cloudflare.cert_pack:
    zone: example.com
    hosts: [example.com, www.example.com]
    validation_method: txt
    validity_days: 90
    certificate_authority: lets_encrypt
  register: pack

- name: Publish its TXT validation records (with any DNS module; community.general.cloudflare_dns here)
  community.general.cloudflare_dns:
    zone: example.com
    record: "{{ item.txt_name }}"
    type: TXT
    value: "{{ item.txt_value }}"
    api_token: "{{ vault_cloudflare_token }}"
  loop: "{{ pack.cert_pack.validation_records | selectattr('txt_name', 'defined') }}"
  loop_control:
    label: "{{ item.txt_name }}"

- name: Then wait until it is active (a validation that timed out is restarted first)
  certops.cloudflare.cert_pack:
    zone: example.com
    hosts: [example.com, www.example.com]
    wait: true
    wait_timeout: 1800

- name: Move the pack to another certificate authority - a new pack, the old one deleted once the new one is active
  certops.cloudflare.cert_pack:
    zone: example.com
    hosts: [example.com, www.example.com]
    validation_method: txt
    validity_days: 90
    certificate_authority: google
    replace: true
    wait: true

- name: Delete a pack by id
  certops.cloudflare.cert_pack:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    certificate_pack_id: 3822ff90ea344ec7a1c1d3b6f0e5b3a1
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
cert_pack:
  description:
    - The pack after the task (predicted in check mode). V(null) when it is absent.
  returned: always
  type: dict
  contains:
    id:
      description: Id of the pack; V(null) in check mode before an order.
      type: str
      sample: 3822ff90ea344ec7a1c1d3b6f0e5b3a1
    type:
      description: Type of the pack, V(advanced) for the packs this module orders.
      type: str
      sample: advanced
    hosts:
      description: The hosts the pack covers, as the API reports them.
      type: list
      elements: str
      sample: [example.com, www.example.com]
    status:
      description: Status of the pack, for example V(pending_validation), V(validation_timed_out) or V(active).
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
      description:
        - The records validation needs, as the API reports them (for example C(txt_name) and C(txt_value), C(http_url)
          and C(http_body), or C(emails)); empty once validated.
      type: list
      elements: dict
      sample: [{"status": "pending", "txt_name": "_acme-challenge.example.com", "txt_value": "810b7d5f01154524b961ba0cd578acc2"}]
    validation_errors:
      description: Validation errors reported by the certificate authority, each with a C(message).
      type: list
      elements: dict
      sample: [{"message": "SERVFAIL looking up CAA for example.com"}]
    dcv_delegation_records:
      description:
        - The C(cname) and C(cname_target) records that delegate domain control validation to Cloudflare, as the API reports them.
        - Each has a C(status), for example V(pending) before the pack is validated.
      type: list
      elements: dict
      sample: [{"cname": "_acme-challenge.example.com", "cname_target": "example.com.3822ff90ea344ec7.dcv.cloudflare.com", "status": "pending"}]
    expires_on:
      description: The earliest expiry of the pack's certificates (a pack is as healthy as its first certificate to expire); V(null) before issuance.
      type: str
      sample: "2027-03-01T10:00:00Z"
    days_remaining:
      description: Whole days until RV(cert_pack.expires_on).
      type: int
      sample: 89
    certificates:
      description: The pack's certificates.
      type: list
      elements: dict
      sample: [{"id": "7e7b8deba8538af625850b7b2530034c", "hosts": ["example.com"], "status": "active", "issuer": "Let's Encrypt",
                "expires_on": "2027-03-01T10:00:00Z", "days_remaining": 89}]
      contains:
        id:
          description: Id of the certificate.
          type: str
        hosts:
          description: Hosts of the certificate.
          type: list
          elements: str
        status:
          description: Status of the certificate.
          type: str
        issuer:
          description: The issuer, as the API reports it.
          type: str
        expires_on:
          description: When the certificate expires.
          type: str
        days_remaining:
          description: Whole days until it expires.
          type: int
    previous_id:
      description: With O(replace=true), the id of the pack this one replaces; V(null) otherwise.
      type: str
      sample: 9a7806061c88ada191ed06f989cc3dac
    previous_deleted:
      description: Whether the pack of RV(cert_pack.previous_id) was deleted by this task (V(false) while it is kept until the new pack is active).
      type: bool
      sample: true
"""

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import SKIPPED, CloudflareResource, InputError, Step, build_module, wait_argument_spec
from ansible_collections.certops.cloudflare.plugins.module_utils._cert_pack import (
    CERTIFICATE_AUTHORITIES,
    DIFF_KEYS,
    IMMUTABLE_FIELDS,
    VALIDATION_METHODS,
    VALIDITY_DAYS,
    describe_packs,
    get_quota,
    host_problems,
    list_packs,
    not_ended,
    pack_path,
    pack_view,
    packs_path,
    same_hosts,
    wait_active,
    zone_name,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import host_set
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError


class CertPack(CloudflareResource):
    RESULT_KEY = "cert_pack"
    NOUN = "certificate pack"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        self.hosts: List[str] = list(self.params.get("hosts") or [])
        self.hosts_checked = False
        self.old: List[Dict[str, Any]] = []  # packs being replaced, deleted once the new one is active
        self.new_active: Optional[Dict[str, Any]] = None  # the managed pack once seen active by a wait
        self.managed_id: Optional[str] = None  # the pack kept: found, or ordered by this run
        self.replace_pending = False  # the new pack did not become active in time: the replaced one stays

    def describe(self) -> str:
        what = self.params.get("certificate_pack_id") or "for %s" % ", ".join(self.hosts)
        return "%s %s in zone %s" % (self.NOUN, what, self.zone_label)

    def validate(self) -> None:
        if self.params["replace"] and self.params.get("certificate_pack_id"):
            raise InputError("replace=true needs hosts instead of certificate_pack_id, so that a later run finds the new pack by its hosts")

    def _check_hosts(self) -> None:
        """Every problem of `hosts`, the zone's included, in one message (one zone read with zone_id)."""
        if self.hosts_checked or self.params.get("hosts") is None:
            return
        name = zone_name(self.client, self.zone_id) if self.params.get("zone_id") else self.params["zone"]
        problems = host_problems(self.hosts, name)
        if problems:
            raise InputError("; ".join(problems))
        self.hosts_checked = True

    # -- state ------------------------------------------------------------------------------------

    def lookup(self) -> Dict[str, Any]:
        self._check_hosts()
        packs = list_packs(self.client, self.zone_id)
        pack, old = self._identify(packs)
        return {"packs": packs, "pack": pack, "old": old, "retired": []}

    def _identify(self, packs: List[Dict[str, Any]]) -> Tuple[Optional[Dict[str, Any]], List[Dict[str, Any]]]:
        """The managed pack, and the packs it replaces: after an interrupted replacement two packs share the host set, and
        the one whose order fields match the request is the managed one."""
        pack_id = self.params.get("certificate_pack_id")
        if pack_id:
            for pack in packs:
                if pack.get("id") == pack_id and not_ended(pack):
                    if pack.get("type") != "advanced":
                        raise InputError("certificate pack %s is a %s pack; this module manages advanced packs only" % (pack_id, pack.get("type")))
                    return pack, []
            return None, []
        found = same_hosts(packs, self.hosts)
        if len(found) <= 1:
            return (found[0] if found else None), []
        if self.params["replace"]:
            matching = [p for p in found if not self._immutable_changes(p)]
            if len(matching) == 1:
                return matching[0], [p for p in found if p is not matching[0]]
            raise InputError(
                "zone %s holds %d live certificate packs for hosts %s and %s of them match the settings asked, so the replacement cannot be "
                "finished: delete the one to drop (certificate_pack_id with state=absent). Packs: %s"
                % (self.zone_label, len(found), ", ".join(self.hosts), "all" if matching else "none", describe_packs(found))
            )
        raise InputError(
            "zone %s holds %d live certificate packs for hosts %s: %s. Delete all but one (certificate_pack_id with state=absent), "
            "or run with replace=true and the settings of the pack to keep" % (self.zone_label, len(found), ", ".join(self.hosts), describe_packs(found))
        )

    def _immutable_changes(self, pack: Dict[str, Any]) -> List[str]:
        changes = []
        for field in IMMUTABLE_FIELDS:
            wanted = self.params.get(field)
            if wanted is not None and pack.get(field) != wanted:
                changes.append("%s %s (the task asks %s)" % (field, pack.get(field), wanted))
        return changes

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        if not current or not current["pack"]:
            return None
        previous = [p["id"] for p in current["old"]] + list(current["retired"])
        return dict(pack_view(current["pack"]), previous_id=previous[0] if previous else None, previous_deleted=bool(current["retired"]))

    # -- plan -------------------------------------------------------------------------------------

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        pack, self.old = current["pack"], list(current["old"])
        self.managed_id = pack["id"] if pack else None
        self.new_active = None
        p = self.params
        if p["state"] == "absent":
            gone = ([pack] if pack else []) + self.old
            return [self._delete_step(g["id"]) for g in gone], None
        if pack is None and p.get("certificate_pack_id"):
            live = [x for x in current["packs"] if not_ended(x)]
            raise InputError(
                "certificate_pack_id %s: no such live certificate pack in zone %s (it holds: %s)"
                % (p["certificate_pack_id"], self.zone_label, describe_packs(live) or "none")
            )
        if pack is not None:
            changes = self._immutable_changes(pack)
            if changes and not p["replace"]:
                raise InputError(
                    "certificate pack %s has %s; these are fixed when a pack is ordered: set replace=true to order a new pack "
                    "(the old one is deleted once the new one is active)" % (pack["id"], "; ".join(changes))
                )
            if changes:
                self.old, pack, self.managed_id = [pack] + self.old, None, None
        steps: List[Step] = []
        if pack is None:
            steps.append(self._order_step())
            predicted = self._ordered_view()
        else:
            body: Dict[str, Any] = {}
            if p["cloudflare_branding"] is not None and bool(pack.get("cloudflare_branding")) != p["cloudflare_branding"]:
                body["cloudflare_branding"] = p["cloudflare_branding"]
            timed_out = pack.get("status") == "validation_timed_out"
            restart = timed_out and p["restart_validation"]
            predicted = pack_view(pack)
            if body or restart:
                steps.append(self._patch_step(pack, body, restart))
                predicted.update(body)
                if timed_out:  # a branding PATCH restarts a timed-out validation too (unverified against the live API)
                    predicted.update(status="pending_validation", validation_errors=[])
        if pack is not None and pack.get("status") == "active":
            self.new_active = pack
        if self.old and (self.new_active is not None or p["wait"]):
            # The old packs go once the new one is active: now, or after a wait inside the step.
            steps.extend(self._delete_step(old["id"], retiring=True) for old in self.old)
        retiring = any(step.key.startswith("delete replaced") for step in steps)
        predicted.update(previous_id=self.old[0]["id"] if self.old else None, previous_deleted=retiring)
        return steps, predicted

    def _ordered_view(self) -> Dict[str, Any]:
        p = self.params
        order = dict(id=None, type="advanced", hosts=self.hosts, status="initializing", cloudflare_branding=bool(p["cloudflare_branding"]))
        order.update((field, p[field]) for field in IMMUTABLE_FIELDS)
        return pack_view(order)

    # -- writes -----------------------------------------------------------------------------------

    def _order_step(self) -> Step:
        p = self.params
        missing = [field for field in IMMUTABLE_FIELDS if p.get(field) is None]
        if missing:
            raise InputError(
                "no live certificate pack in zone %s has hosts %s; ordering one needs %s" % (self.zone_label, ", ".join(self.hosts), ", ".join(missing))
            )
        body: Dict[str, Any] = {"type": "advanced", "hosts": self.hosts}
        body.update((field, p[field]) for field in IMMUTABLE_FIELDS)
        if p["cloudflare_branding"] is not None:
            body["cloudflare_branding"] = p["cloudflare_branding"]
        self._check_quota()
        key = "order certificate pack for %s" % ", ".join(self.hosts)
        return Step(key, lambda: self.client.post(packs_path(self.zone_id) + "/order", body), lambda answer, state: self._check_order(key, answer, state))

    def _check_quota(self) -> None:
        """An order over the zone's quota of advanced packs fails before it is sent (one read)."""
        advanced = get_quota(self.client, self.zone_id).get("advanced") or {}
        allocated, used = advanced.get("allocated"), advanced.get("used")
        if isinstance(allocated, int) and isinstance(used, int) and used >= allocated:
            raise InputError(
                "zone %s already uses %d of its %d advanced certificate packs; delete one before ordering another (for hosts %s)"
                % (self.zone_label, used, allocated, ", ".join(self.hosts))
            )

    def _check_order(self, key: str, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        pack_id = self.answer_id(key, answer, "certificate pack")
        if host_set(answer.get("hosts") or []) != host_set(self.hosts):
            raise self.unexpected_answer(key, "is a pack for other hosts", answer)
        self.managed_id = pack_id
        return dict(state, packs=list(state["packs"]) + [answer], pack=answer, old=list(self.old))

    def _patch_step(self, pack: Dict[str, Any], body: Dict[str, Any], restart: bool) -> Step:
        what = []
        if restart:
            what.append("restart validation of certificate pack %s" % pack["id"])
        if body:
            what.append("set cloudflare_branding of certificate pack %s to %s" % (pack["id"], body["cloudflare_branding"]))
        key = " and ".join(what)
        return Step(
            key,
            lambda: self.client.patch(pack_path(self.zone_id, pack["id"]), body),
            lambda answer, state: self._check_patch(key, pack["id"], body, restart, answer, state),
        )

    def _check_patch(self, key: str, pack_id: str, body: Dict[str, Any], restart: bool, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(answer, dict) or answer.get("id") != pack_id:
            raise self.unexpected_answer(key, "is not certificate pack %s" % pack_id, answer)
        if "cloudflare_branding" in body and bool(answer.get("cloudflare_branding")) != body["cloudflare_branding"]:
            raise self.unexpected_answer(key, "does not show cloudflare_branding %s" % body["cloudflare_branding"], answer)
        if restart and answer.get("status") == "validation_timed_out":
            raise self.unexpected_answer(key, "still shows the status validation_timed_out", answer)
        return dict(state, pack=answer)

    def _delete_step(self, pack_id: str, retiring: bool = False) -> Step:
        key = ("delete replaced certificate pack %s" if retiring else "delete certificate pack %s") % pack_id

        def call() -> Any:
            if retiring and not self._wait_new_active(pack_id):
                return SKIPPED
            return self.client.delete(pack_path(self.zone_id, pack_id), expect=dict)

        return Step(key, call, lambda answer, state: self._check_delete(key, pack_id, answer, state))

    def _wait_new_active(self, old_id: str) -> bool:
        """Whether the new pack is active, so the replaced one may go (a wait when it is not yet).

        A wait that times out is no failure: validation may need the records this
        task returns to be published first. The old pack is kept and a later run deletes it.
        """
        if self.new_active is not None:
            return True
        new_id = self.managed_id
        try:
            self.new_active = self._wait(new_id)
        except WaitTimeoutError as exc:
            self.module.warn(
                "%s. The replaced certificate pack %s is kept; publish the validation records, and a later run with replace=true deletes it "
                "once %s is active" % (exc.message, old_id, new_id)
            )
            self.replace_pending = True
            return False
        except CloudflareError as exc:
            raise CloudflareError(
                "%s. The replaced certificate pack %s is kept; a later run with replace=true deletes it once %s is active" % (exc.message, old_id, new_id)
            ) from None
        return True

    def _check_delete(self, key: str, pack_id: str, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        if not isinstance(answer, dict) or answer.get("id") != pack_id:
            raise self.unexpected_answer(key, "is not the deleted certificate pack %s" % pack_id, answer)
        pack = state["pack"]
        if pack is not None and pack.get("id") == pack_id:
            return dict(state, pack=None)
        if self.new_active is not None and (pack is None or pack.get("status") != "active"):
            pack = self.new_active
        return dict(state, pack=pack, old=[o for o in state["old"] if o["id"] != pack_id], retired=list(state["retired"]) + [pack_id])

    # -- waiting ----------------------------------------------------------------------------------

    def _wait(self, pack_id: str) -> Dict[str, Any]:
        return wait_active(lambda: self.client.get(pack_path(self.zone_id, pack_id), expect=dict), self.params["wait_timeout"], pack_id)

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if not view or not self.params["wait"] or view.get("status") == "active" or self.replace_pending:
            return view
        pack = self._wait(view["id"])
        return dict(pack_view(pack), previous_id=view.get("previous_id"), previous_deleted=view.get("previous_deleted"))

    def diff(self, before: Optional[Dict[str, Any]], after: Optional[Dict[str, Any]], current: Any) -> Dict[str, Any]:
        def facts(view: Optional[Dict[str, Any]]) -> Dict[str, Any]:
            if not view:
                return {}
            return dict({k: view.get(k) for k in DIFF_KEYS}, previous_id=view.get("previous_id"))

        return {"before": facts(before), "after": facts(after)}


def main() -> None:
    module = build_module(
        dict(
            hosts=dict(type="list", elements="str"),
            certificate_pack_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            validation_method=dict(type="str", choices=list(VALIDATION_METHODS)),
            validity_days=dict(type="int", choices=list(VALIDITY_DAYS)),
            certificate_authority=dict(type="str", choices=list(CERTIFICATE_AUTHORITIES)),
            cloudflare_branding=dict(type="bool"),
            restart_validation=dict(type="bool", default=True),
            replace=dict(type="bool", default=False),
            **wait_argument_spec(),
        ),
        wildcard_options=("hosts",),
        mutually_exclusive=[["hosts", "certificate_pack_id"]],
        required_one_of=[["hosts", "certificate_pack_id"]],
    )
    CertPack(module).run()


if __name__ == "__main__":
    main()
