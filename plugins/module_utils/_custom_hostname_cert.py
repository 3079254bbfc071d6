# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The certificates of one custom hostname, as the single form of custom_hostname_cert manages them.

This is a private file: it may change in any release without notice.

The list form (_rotation/apply_hostnames.py) plans and writes each hostname of its list with this class, so the
two forms cannot decide differently.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, InputError, Step
from ansible_collections.certops.cloudflare.plugins.module_utils._client import NotFoundError, OutcomeUnknownError
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import (
    LocalCertificate,
    RemoteCertificate,
    check_coverage,
    check_not_stuck,
    find_by_hostname,
    get_by_id,
    hostname_view,
    hostnames_path,
    load_local_certificates,
    remote_certificates,
    ssl_config,
    view_of,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import normalize_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import poll

BUNDLE_FORCE = "force"


def check_pair_bundle_method(bundle_method: Optional[str]) -> None:
    """A pair takes bundle_method force only: fail before any write on another one."""
    if bundle_method not in (None, BUNDLE_FORCE):
        raise InputError(
            "bundle_method %s cannot go with an RSA and ECDSA pair: Cloudflare takes a pair with bundle_method force only; "
            "leave bundle_method unset (the module then sends force) or set it to force" % bundle_method
        )


class CustomHostnameCert(CloudflareResource):
    RESULT_KEY = "custom_hostname"
    NOUN = "custom hostname certificates"

    def __init__(self, module: Any, params: Optional[Dict[str, Any]] = None, locals_: Optional[List[LocalCertificate]] = None, shared: Any = None) -> None:
        """The single form; or, with `params`, `locals_` (checked) and `shared` (the list form), one hostname of a list."""
        super().__init__(module)
        if params is not None:
            self.params = params
        self.locals: List[LocalCertificate] = locals_ or []
        self.hostname_id: Optional[str] = self.params.get("custom_hostname_id")
        self.covered = locals_ is not None  # whether the certificates were checked against the hostname's name
        self.force = self.params["force"]
        if shared is not None:  # one HTTP session and one zone lookup for the whole list
            self._client, self._zone_id = shared.client, shared.zone_id

    def describe(self) -> str:
        return "%s of %s in zone %s" % (self.NOUN, self.params.get("hostname") or self.hostname_id, self.zone_label)

    def validate(self) -> None:
        p = self.params
        if p["state"] == "absent":
            if p["certificates"]:
                raise InputError("certificates is not used with state=absent; key_type names the certificate to remove")
            return
        if not p["certificates"]:
            raise InputError("certificates must hold one or two certificates with state=present (to remove one, use state=absent and key_type)")
        if len(p["certificates"]) == 2:
            check_pair_bundle_method(p["bundle_method"])
        hostname = normalize_hostname(p["hostname"]) if p.get("hostname") else None
        self.locals = load_local_certificates(p["certificates"], hostname, self.module.no_log_values)
        self.covered = hostname is not None

    def lookup(self) -> Dict[str, Any]:
        if self.hostname_id:
            current = get_by_id(self.client, self.zone_id, self.hostname_id)
        else:
            current = find_by_hostname(self.client, self.zone_id, self.params["hostname"], self.zone_label)
        if current is None:
            what = "custom hostname id %s" % self.hostname_id if self.hostname_id else "custom hostname %s" % normalize_hostname(self.params["hostname"])
            raise InputError(
                "%s does not exist in zone %s; create it first (this module manages the certificates of existing hostnames)" % (what, self.zone_label)
            )
        self.hostname_id = current["id"]
        return current

    def to_view(self, current: Any) -> Optional[Dict[str, Any]]:
        return view_of(current, self.locals)

    def settle(self, view: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        if not self.params["wait"] or view is None:
            return view

        def done(current: Dict[str, Any]) -> bool:
            if (current.get("ssl") or {}).get("status") == "active":
                return True
            check_not_stuck(current)  # fails at once on a status that waiting will not change, naming the validation errors
            return False

        current = poll(self.lookup, done, self.params["wait_timeout"], "the SSL status of %s to be active" % view["hostname"])
        return self.to_view(current)

    # -- planning -------------------------------------------------------------------------------

    def plan(self, current: Any) -> Tuple[List[Step], Optional[Dict[str, Any]]]:
        if not self.covered and self.locals:
            check_coverage(self.locals, normalize_hostname(current["hostname"]))
            self.covered = True
        remote = remote_certificates(current, self.locals)
        if self.params["state"] == "absent":
            return self._plan_absent(current, remote)
        return self._plan_present(current, remote)

    def _plan_present(self, current: Dict[str, Any], remote: List[RemoteCertificate]) -> Tuple[List[Step], Dict[str, Any]]:
        wanted_types = {local.key_type for local in self.locals}
        matched = [] if self.force else [r for r in remote if r.local is not None]
        uploads = [local for local in self.locals if not any(r.local is local for r in matched)]
        unmatched = [r for r in remote if r not in matched]
        if not self.params["exclusive"]:
            unknown = [r for r in unmatched if r.key_type is None]
            if unknown and uploads:
                raise InputError(
                    "cannot tell the key type of the certificate %s of %s, so exclusive=false cannot keep it apart from the upload; "
                    "use exclusive=true or list both certificates" % (unknown[0].id, current["hostname"])
                )
        kept = matched + ([r for r in unmatched if r.key_type not in wanted_types] if not self.params["exclusive"] else [])
        dropped = [r for r in unmatched if r not in kept]
        bundle_method = self.params["bundle_method"]
        steps: List[Step] = []
        patch: Dict[str, Any] = {}
        if not uploads:
            steps.extend(self._delete_step(current, r) for r in dropped)
        elif len(uploads) + len(kept) == 1:
            patch = uploads[0].upload()  # replaces the whole pack with this certificate
        elif len(uploads) == 1 and len(kept) == 1 and len(dropped) == 1 and len(remote) == 2:
            # The single-certificate PUT replaces "a single custom certificate within a certificate pack that contains two
            # bundled certificates" ("Replace Custom Certificate and Custom Key In Custom Hostname"): a pack of two only.
            # A pack of one gets the PATCH above (its certificate replaced) or the one-item bundle below (one added).
            steps.append(self._put_step(current, dropped[0], uploads[0]))
        elif len(uploads) == 1 and len(kept) == 1:
            patch = {"custom_cert_bundle": [uploads[0].upload()]}  # bundled with the kept one of the other key type
        else:
            patch = {"custom_cert_bundle": [local.upload() for local in uploads]}
        if "custom_cert_bundle" in patch:
            # An RSA and ECDSA pair is sent with bundle_method force ("Manage custom certificates", "Use certificate packs:
            # RSA and ECDSA"); the one-item bundle beside a kept certificate too (whether it needs force is unverified).
            check_pair_bundle_method(bundle_method)
            bundle_method = BUNDLE_FORCE
        config_changes = bool(bundle_method) and bundle_method != (current.get("ssl") or {}).get("bundle_method")
        if patch or config_changes:
            steps.append(self._patch_step(current, uploads if patch else [], patch, bundle_method))

        predicted = hostname_view(current, [r.view() for r in kept] + [local.view() for local in uploads])
        if bundle_method:
            predicted["ssl"]["bundle_method"] = bundle_method
        if (uploads or dropped) and predicted["ssl"]["status"] == "active":
            predicted["ssl"]["status"] = "pending_deployment"
        return steps, predicted

    def _plan_absent(self, current: Dict[str, Any], remote: List[RemoteCertificate]) -> Tuple[List[Step], Dict[str, Any]]:
        key_type = self.params["key_type"]
        targets = [r for r in remote if r.key_type == key_type]
        if len(remote) == 2 and any(r.key_type is None for r in remote):
            raise InputError(
                "cannot tell which certificate of %s is the %s one (the API reports no key type for them); nothing was changed"
                % (current["hostname"], key_type.upper())
            )
        if not targets:
            return [], view_of(current)
        if len(remote) == 1:
            raise InputError(
                "cannot remove the %s certificate of %s in zone %s: it is the hostname's only custom certificate and Cloudflare keeps "
                "at least one; upload its replacement with state=present instead" % (key_type.upper(), current["hostname"], self.zone_label)
            )
        remaining = [r for r in remote if r is not targets[0]]
        return [self._delete_step(current, targets[0])], hostname_view(current, [r.view() for r in remaining])

    # -- the writes -----------------------------------------------------------------------------

    def _pack_certificate_path(self, current: Dict[str, Any], cert: RemoteCertificate) -> str:
        return "%s/certificate_pack/%s/certificates/%s" % (hostnames_path(self.zone_id, current["id"]), current["ssl"]["id"], cert.id)

    def _delete_step(self, current: Dict[str, Any], cert: RemoteCertificate) -> Step:
        # The certificate-pack certificate DELETE may answer 202 with no body: no check, so the flow reads the hostname back.
        path = self._pack_certificate_path(current, cert)
        return Step("delete %s certificate %s" % (cert.key_type, cert.id), lambda: self.client.delete(path))

    def _put_step(self, current: Dict[str, Any], old: RemoteCertificate, new: LocalCertificate) -> Step:
        path = self._pack_certificate_path(current, old)
        key = "replace %s certificate %s with %s" % (new.key_type, old.id, new.fingerprint)
        return Step(key, lambda: self._send("put", path, new.upload()), lambda answer, state: self._check_answer(key, answer, [new], None, bare_ok=True))

    def _patch_step(self, current: Dict[str, Any], uploads: List[LocalCertificate], certificates: Dict[str, Any], bundle_method: Optional[str]) -> Step:
        body = {"ssl": dict(ssl_config(current, bundle_method), **certificates)}
        key = "patch ssl"
        if uploads:
            key += " uploading " + ", ".join(local.fingerprint for local in uploads)
        if bundle_method:
            key += " with bundle_method " + bundle_method
        return Step(
            key,
            lambda: self._send("patch", hostnames_path(self.zone_id, current["id"]), body),
            lambda answer, state: self._check_answer(key, answer, uploads, bundle_method),
        )

    def _check_answer(
        self, key: str, answer: Any, uploads: List[LocalCertificate], bundle_method: Optional[str], bare_ok: bool = False
    ) -> Optional[Dict[str, Any]]:
        """The hostname as the write's answer shows it, or an error when that answer does not show the change.

        A PUT may answer 202 with no body: then None, and the flow reads the hostname back.
        """
        if bare_ok and not (isinstance(answer, dict) and "ssl" in answer):
            return None
        if not isinstance(answer, dict) or answer.get("id") != self.hostname_id or not isinstance(answer.get("ssl"), dict):
            raise self.unexpected_answer(key, "is not the custom hostname %s with its SSL configuration" % self.hostname_id, answer)
        remote = remote_certificates(answer, uploads)
        missing = [local.name for local in uploads if not any(r.local is local for r in remote)]
        if missing:
            raise self.unexpected_answer(key, "does not show the uploaded certificate (%s)" % ", ".join(missing), answer)
        if bundle_method and answer["ssl"].get("bundle_method") != bundle_method:
            raise self.unexpected_answer(key, "does not show bundle_method %s" % bundle_method, answer)
        return answer

    def _send(self, verb: str, path: str, body: Dict[str, Any]) -> Any:
        # force re-uploads once: a re-read after an unknown outcome compares normally.
        self.force = False
        try:
            return getattr(self.client, verb)(path, body)
        except NotFoundError as exc:
            if verb != "put":
                raise
            # A PUT retried after a lost answer finds the certificate it replaced gone: read again to learn what happened.
            raise exc.with_message(exc.message, OutcomeUnknownError) from None
