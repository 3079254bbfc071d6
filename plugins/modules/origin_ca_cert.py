#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: origin_ca_cert
short_description: Issue, renew and revoke Cloudflare Origin CA certificates
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Issues a Cloudflare Origin CA certificate for a set of hostnames and writes it, with its private key, to the
    paths given; renews it when it nears its end; revokes the superseded ones.
  - Use it for the certificate an origin server shows to Cloudflare's edge under the C(Full (strict)) SSL mode;
    M(certops.cloudflare.origin_ca_cert_info) lists the certificates a zone has.
options:
  hostnames:
    description:
      - The hostnames of the certificate, in the account's zones; a C(*.) wildcard covers one label
        (V(*.example.com)). Their order and case do not matter.
      - With O(state=present), a certificate for the same hostnames and key type that is not due for renewal is kept.
        With O(state=absent), the certificates for exactly these hostnames are revoked.
    type: list
    elements: str
    required: true
  state:
    description:
      - V(present) makes sure the files at O(certificate_path) and O(private_key_path) hold a certificate for
        O(hostnames) that is not due for renewal, issuing one when needed.
      - V(absent) revokes every certificate for O(hostnames) except the one at O(certificate_path) and the ids in
        O(keep).
    type: str
    choices: [present, absent]
    default: present
  request_type:
    description:
      - The key type of the certificate, V(origin-rsa) (RSA 2048 bits) or V(origin-ecc) (ECDSA P-256).
      - With O(state=present), V(origin-rsa) when not given. With O(state=absent), only certificates of this type are
        revoked when given.
      - V(keyless-certificate), which the API also takes, is refused, since the key of such a certificate stays on a
        Keyless SSL key server that this module does not manage.
    type: str
  requested_validity:
    description:
      - The certificate's lifetime in days, one of the values the API takes.
    type: int
    choices: [7, 30, 90, 365, 730, 1095, 5475]
    default: 5475
  certificate_path:
    description:
      - Where the certificate is written (PEM, mode C(0644)), on the host that runs the module.
      - Required with O(state=present). With O(state=absent), the certificate in this file is kept; the file must
        exist and hold a certificate.
    type: path
  private_key_path:
    description:
      - Where the private key of the certificate is written (PEM, mode C(0600)), or read from with O(reuse_key) or
        O(csr_path).
      - Required with O(state=present) unless O(csr_path) is given. With O(csr_path) it is optional and only checked
        against the CSR; the module never writes it then.
      - The key is made where the module runs and is never sent to Cloudflare, nor shown in results, diffs or logs.
    type: path
  private_key_passphrase:
    description:
      - The passphrase of the key at O(private_key_path), to read it, and to encrypt a key the module writes.
      - A web server that reads the key at start-up usually needs it unencrypted.
    type: str
  reuse_key:
    description:
      - Keep the key at O(private_key_path) for new certificates, and make one only when the file does not exist.
      - By default each new certificate gets a new key, written together with it.
    type: bool
    default: false
  csr_path:
    description:
      - A certificate signing request (PEM) to send instead of one the module makes, for a key the module never sees
        (for example a key kept in an HSM). Its key must be of the type of O(request_type).
      - The module then writes only the certificate.
    type: path
  renew_before_days:
    description:
      - Renew a certificate that expires within this many days. With O(renew_before_percentage) too, the earlier
        moment wins. V(30) when neither is given.
    type: int
  renew_before_percentage:
    description:
      - Renew a certificate once less than this share (in percent) of its lifetime remains.
    type: int
  force:
    description:
      - Issue a new certificate even when the current one is not due (a key compromise, a change of key policy).
    type: bool
    default: false
  keep:
    description:
      - With O(state=absent), the ids of certificates never to revoke, beside the one at O(certificate_path).
    type: list
    elements: str
    default: []
notes:
  - "Credentials: an API token with the C(Zone / SSL and Certificates / Edit) permission on the zones of the hostnames
    (and C(Zone / Zone / Read) to name the zone by O(zone)), a Global API key, or the Origin CA key in
    O(api_user_service_key)."
  - An Origin CA certificate belongs to the account, not to a zone. The API lists them by zone, so O(zone) or
    O(zone_id) names the zone whose list is read; the hostnames may span several of the account's zones.
  - Before it issues, the module checks that each hostname is in O(zone) or another zone the credentials can read,
    and fails naming the one that is not. With O(api_user_service_key), which cannot read zones, the API makes this
    check and refuses the request.
  - "A certificate is kept (nothing is sent or written) when the file at O(certificate_path) holds a certificate the
    API lists for the same hostnames and key type, not revoked and not due for renewal, and the key at
    O(private_key_path) (or the CSR's key) is its key. When the file is missing or stale but such a certificate
    exists for the key on disk, the module writes that certificate instead of issuing another. Otherwise it issues
    one."
  - "The files are written atomically (a temporary file in the same directory, renamed over the old one): a reader
    sees the old pair or the new one. Both are written after the API issued the certificate, so a failure leaves the
    old files in place."
  - Issuing does not revoke the certificate it replaces, which a server may still be using; run the module with
    O(state=absent) once every server uses the new one.
  - An existing file at O(certificate_path) must hold a certificate alone, and one at O(private_key_path) a key the
    module can read (with O(private_key_passphrase) when it is encrypted); anything else fails before any change
    rather than be overwritten. An empty file counts as missing.
  - The certificate is signed by Cloudflare's Origin CA, which browsers do not trust; it is for the connection
    between Cloudflare and the origin.
extends_documentation_fragment:
  - certops.cloudflare.auth
  - certops.cloudflare.auth.zone
  - certops.cloudflare.auth.origin_ca
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
  - module: certops.cloudflare.origin_ca_cert_info
  - name: Origin CA certificates
    description: Cloudflare's documentation of the Origin CA.
    link: https://developers.cloudflare.com/ssl/origin-configuration/origin-ca/
"""

EXAMPLES = r"""
- name: An Origin CA certificate for the origin of example.com, renewed 30 days before it ends
  certops.cloudflare.origin_ca_cert:
    zone: example.com
    hostnames: [example.com, "*.example.com"]
    request_type: origin-ecc
    requested_validity: 90
    certificate_path: /etc/ssl/cloudflare/example.com.pem
    private_key_path: /etc/ssl/cloudflare/example.com.key
  register: origin_cert
  notify: Reload nginx

- name: Revoke every other certificate for those hostnames, once the new one is served
  certops.cloudflare.origin_ca_cert:
    zone: example.com
    hostnames: [example.com, "*.example.com"]
    state: absent
    certificate_path: /etc/ssl/cloudflare/example.com.pem

- name: With the legacy Origin CA key and a CSR whose key stays in an HSM
  certops.cloudflare.origin_ca_cert:
    api_user_service_key: "{{ vault_origin_ca_key }}"
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    hostnames: [api.example.com]
    csr_path: /etc/pki/api.example.com.csr
    certificate_path: /etc/pki/api.example.com.pem
"""

RETURN = r"""
certificate:
  description:
    - With O(state=present), the certificate at O(certificate_path) after the task (in check mode, what would be
      issued); V(null) when there is none.
  returned: success and O(state=present)
  type: dict
  contains:
    id:
      description: Id of the certificate (its serial number as the API writes it); V(null) in check mode before it is issued.
      type: str
      sample: "543167211396914562102383893419497785577513006155"
    hostnames:
      description: The hostnames of the certificate, sorted.
      type: list
      elements: str
      sample: ["*.example.com", example.com]
    request_type:
      description: The request type the certificate was issued for.
      type: str
      sample: origin-ecc
    key_type:
      description: The key type, V(rsa) or V(ecdsa).
      type: str
      sample: ecdsa
    requested_validity:
      description: The lifetime asked for, in days.
      type: int
      sample: 90
    not_before:
      description: Start of the certificate's validity (UTC).
      type: str
      sample: "2026-12-07T10:00:00Z"
    expires_on:
      description: When the certificate expires (UTC).
      type: str
      sample: "2027-03-07T10:00:00Z"
    days_remaining:
      description: Whole days until the certificate expires.
      type: int
      sample: 89
    serial_number:
      description: Serial number in decimal.
      type: str
      sample: "543167211396914562102383893419497785577513006155"
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate (lower-case hex).
      type: str
      sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
    revoked_at:
      description: When the certificate was revoked; V(null) while it is not.
      type: str
      sample: null
    certificate_path:
      description: The path of the certificate file.
      type: str
      sample: /etc/ssl/cloudflare/example.com.pem
    private_key_path:
      description: The path of the key file, or V(null) with O(csr_path) and no key path.
      type: str
      sample: /etc/ssl/cloudflare/example.com.key
certificates:
  description:
    - With O(state=absent), the certificates for O(hostnames) that are not revoked after the task, in the view of
      RV(certificate) without the paths.
  returned: success and O(state=absent)
  type: list
  elements: dict
revoked:
  description: With O(state=absent), the ids this task revoked (in check mode, would revoke).
  returned: success and O(state=absent)
  type: list
  elements: str
  sample: ["543167211396914562102383893419497785577513006155"]
zone_id:
  description: The id of the zone whose list was read.
  returned: success
  type: str
  sample: 023e105f4ecef8ad9ca31a8372d0c353
"""

import datetime
import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, InputError, Step, build_module, read_text_file
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError, find_zone_id
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_id, host_set
from ansible_collections.certops.cloudflare.plugins.module_utils._origin_ca import (
    CERTS_PATH,
    KEYLESS,
    REQUEST_TYPES,
    VALIDITY_DAYS,
    check_service_key_zone,
    is_revoked,
    is_same_certificate,
    list_origin_certs,
    origin_cert_view,
    pem_facts,
    renewal_due,
    service_key_argument_spec,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import (
    CertificateError,
    holds_private_key,
    isoformat,
    key_type,
    load_private_key,
    private_key_to_pem,
    public_key_der,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import atomic_files

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - build_module fails with missing_required_lib first
    pass

CERT_MODE = 0o644
KEY_MODE = 0o600


def new_private_key(kind: str) -> Any:
    """A new key of the type a request type signs: RSA 2048 bits or ECDSA P-256 (what the dashboard makes)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa" else ec.generate_private_key(ec.SECP256R1())


def make_csr(key: Any, hostnames: List[str]) -> str:
    """A CSR for `hostnames` signed by `key`. The Origin CA takes the hostnames from the request, not from the CSR; the
    CSR carries them too so that it reads right anywhere."""
    common_name = next((h for h in hostnames if not h.startswith("*.")), hostnames[0])
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(Encoding.PEM).decode("ascii")


def load_csr(text: str, label: str) -> Any:
    try:
        csr = x509.load_pem_x509_csr(text.encode("ascii", "replace"))
    except ValueError:
        raise InputError("%s: not a PEM certificate signing request" % label) from None
    # Outside the try: InputError is a ValueError, and this message must not become the one above.
    if not csr.is_signature_valid:
        raise InputError("%s: the CSR's signature does not verify with its own key" % label)
    return csr


def _empty(path: str) -> bool:
    try:
        return os.path.isfile(path) and os.path.getsize(path) == 0
    except OSError:
        return False


class OriginCaCert(CloudflareResource):
    NOUN = "Origin CA certificate"

    def __init__(self, module: Any) -> None:
        super().__init__(module)
        p = self.params
        self.present = p["state"] == "present"
        self.RESULT_KEY = "certificate" if self.present else "certificates"
        self.hostnames = host_set(p["hostnames"])
        self.request_type = p["request_type"] or ("origin-rsa" if self.present else None)
        self.kind = REQUEST_TYPES.get(self.request_type or "")
        self.key: Any = None  # the key read from private_key_path, when it is used (reuse_key, csr_path)
        self.csr_pem: Optional[str] = None
        self.public_key: Optional[bytes] = None  # of the key or the CSR a kept certificate must carry
        self.issued: Optional[Tuple[Any, str]] = None  # (new key or None, certificate PEM) between the issue and the write
        self.pems: Dict[str, str] = {}  # id -> PEM of the listed certificates
        self.kept: Optional[Dict[str, Any]] = None  # with state=absent, the facts of the certificate at certificate_path
        self.revoked: List[str] = []  # ids revoked (in check mode, to revoke)
        self.issued_public_key: Optional[bytes] = None

    def describe(self) -> str:
        return "%s for %s" % (self.NOUN, ", ".join(self.hostnames))

    # -- checks before any API call -----------------------------------------------------------------

    def validate(self) -> None:
        p = self.params
        if p["request_type"] == KEYLESS:
            raise InputError(
                "request_type keyless-certificate is not supported: the key of such a certificate stays on a Keyless SSL key server, "
                "which this module does not manage; use origin-rsa or origin-ecc"
            )
        if p["request_type"] is not None and self.kind is None:
            raise InputError("request_type must be origin-rsa or origin-ecc, not %s" % p["request_type"])
        check_service_key_zone(p)
        for name in ("renew_before_days", "renew_before_percentage"):
            if p[name] is not None and not 0 <= p[name] <= (99 if name.endswith("percentage") else 5475):
                raise InputError("%s must be between 0 and %d, not %d" % (name, 99 if name.endswith("percentage") else 5475, p[name]))
        p["keep"] = [check_id(value, "keep") for value in p["keep"]]
        if self.present:
            self._validate_files()
            self._check_account_zones()
        elif p["certificate_path"]:
            self.kept = self._read_certificate(p["certificate_path"], "certificate_path", required=True)

    def _validate_files(self) -> None:
        p = self.params
        if not p["csr_path"] and not p["private_key_path"]:
            raise InputError("private_key_path is required with state=present: it is where the certificate's key is written (or give csr_path)")
        for name in ("certificate_path", "private_key_path"):
            path = p[name]
            if path and os.path.isdir(path):
                raise InputError("%s: %s is a directory; give the path of a file" % (name, path))
            if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
                raise InputError("%s: the directory of %s does not exist" % (name, path))
        key_path = p["private_key_path"]
        if p["csr_path"] and p["reuse_key"]:
            raise InputError("csr_path and reuse_key cannot go together: with a CSR the module never makes or writes a key")
        if p["csr_path"]:
            csr = load_csr(read_text_file(p["csr_path"], "csr_path"), "csr_path")
            self._check_key_type(csr.public_key(), "csr_path: the CSR's key")
            self.csr_pem = csr.public_bytes(Encoding.PEM).decode("ascii")
            self.public_key = public_key_der(csr)
            if key_path:
                key = self._read_key(key_path)
                if public_key_der(key) != self.public_key:
                    raise InputError("csr_path: the CSR %s was not made with the key at private_key_path %s" % (p["csr_path"], key_path))
        elif os.path.lexists(key_path) and not _empty(key_path):
            # An existing key file must be a key this module can read: anything else would be overwritten unseen.
            self.key = self._read_key(key_path)
            if p["reuse_key"]:
                self._check_key_type(self.key, "private_key_path: the key at %s" % key_path)
            if key_type(self.key) == self.kind:
                self.public_key = public_key_der(self.key)
        self._read_certificate(p["certificate_path"], "certificate_path")

    def _read_key(self, path: str) -> Any:
        text = read_text_file(path, "private_key_path", "is not a PEM text file")
        try:
            return load_private_key(text, self.params["private_key_passphrase"], name="private_key_path: the key at %s" % path)
        except CertificateError as exc:
            raise InputError(str(exc)) from None

    def _check_key_type(self, key: Any, label: str) -> None:
        found = key_type(key)
        if found != self.kind:
            raise InputError("%s is an %s key, but request_type %s needs an %s key" % (label, found.upper(), self.request_type, self.kind.upper()))

    def _read_certificate(self, path: str, label: str, required: bool = False) -> Optional[Dict[str, Any]]:
        """The facts of the certificate in the file at `path`; None when there is no file or it is empty (an InputError
        when `required`). A file that holds something else, or a private key too, is refused: it would be overwritten
        (or, with state=absent, keep nothing)."""
        if not required and (not os.path.lexists(path) or _empty(path)):
            return None
        text = read_text_file(path, label, "is not a PEM text file")
        if holds_private_key(text):
            raise InputError("%s: %s holds a private key too; give a file for the certificate alone (the key goes to private_key_path)" % (label, path))
        facts = pem_facts(text)
        if facts is None:
            what = "give the file of the certificate to keep" if required else "it would be overwritten: remove it or give another path"
            raise InputError("%s: %s holds no certificate; %s" % (label, path, what))
        return facts

    def _check_account_zones(self) -> None:
        """Each hostname is in the zone or another zone the credentials can read (not with the Origin CA key, which
        cannot read zones: the API refuses the request then)."""
        if self.params.get("api_user_service_key"):
            return
        zones = {self.params.get("zone") or self.client.get("zones/%s" % self.zone_id, expect=dict).get("name")}
        for hostname in self.hostnames:
            name = hostname[2:] if hostname.startswith("*.") else hostname
            if any(name == zone or name.endswith("." + zone) for zone in zones if zone):
                continue
            labels = name.split(".")
            found = next((candidate for candidate in (".".join(labels[i:]) for i in range(len(labels) - 1)) if self._zone_exists(candidate)), None)
            if found is None:
                raise InputError(
                    "hostnames: %s is not in zone %s nor in another zone these credentials can read; an Origin CA certificate is only for "
                    "hostnames of the account's zones" % (hostname, self.zone_label)
                )
            zones.add(found)

    def _zone_exists(self, name: str) -> bool:
        try:
            find_zone_id(self.client, name)
            return True
        except CloudflareError:  # not found, or not readable with these credentials
            return False

    # -- state --------------------------------------------------------------------------------------

    def lookup(self) -> Dict[str, Any]:
        views = list_origin_certs(self.client, self.zone_id, self.zone_label, pems=self.pems)
        state: Dict[str, Any] = {"certs": [v for v in views if host_set(v["hostnames"]) == self.hostnames]}
        if self.present:
            state["disk"] = self._read_certificate(self.params["certificate_path"], "certificate_path")
        return state

    def _current(self, view: Dict[str, Any]) -> bool:
        """A listed certificate this task may keep: for the hostnames and key type, not revoked, not due."""
        p = self.params
        return (
            not is_revoked(view)
            and view["key_type"] == self.kind
            and not p["force"]
            and not renewal_due(view, p["renew_before_days"], p["renew_before_percentage"])
        )

    def to_view(self, current: Any) -> Any:
        if not self.present:
            return [v for v in current["certs"] if not is_revoked(v)]
        disk = current.get("disk")
        if not disk:
            return None
        listed = next((v for v in current["certs"] if is_same_certificate(v, disk)), None)
        view = (
            dict(listed)
            if listed
            else {
                "id": None,
                "hostnames": host_set(disk["hosts"]),
                "request_type": None,
                "key_type": disk["key_type"],
                "requested_validity": None,
                "not_before": disk["not_before"],
                "expires_on": disk["not_after"],
                "days_remaining": disk["days_remaining"],
                "serial_number": disk["serial_number"],
                "fingerprint_sha256": disk["fingerprint_sha256"],
                "revoked_at": None,
            }
        )
        view.update(certificate_path=self.params["certificate_path"], private_key_path=self.params["private_key_path"])
        return view

    # -- plan ---------------------------------------------------------------------------------------

    def plan(self, current: Any) -> Tuple[List[Step], Any]:
        return self._plan_present(current) if self.present else self._plan_absent(current)

    def _plan_present(self, current: Dict[str, Any]) -> Tuple[List[Step], Any]:
        current_certs = [v for v in current["certs"] if self._current(v)]
        disk = current.get("disk")
        if disk and self.public_key and disk.get("public_key") == self.public_key and any(is_same_certificate(v, disk) for v in current_certs):
            return [], self.to_view(current)
        # A certificate of the key on disk (or of the CSR) is listed: write it rather than issue another.
        for view in sorted(current_certs, key=lambda v: v["expires_on"] or "", reverse=True):
            facts = pem_facts(self.pems.get(view["id"]))
            if self.public_key and facts and facts["public_key"] == self.public_key:
                step = Step(
                    "write certificate %s to %s" % (view["id"], self.params["certificate_path"]), lambda pem=self.pems[view["id"]]: self._write(None, pem)
                )
                step.check = lambda _answer, state, facts=facts: dict(state, disk=facts)
                return [step], self.to_view(dict(current, disk=facts))
        return self._issue_steps(), self._predicted()

    def _issue_steps(self) -> List[Step]:
        issue = Step("issue an Origin CA certificate for %s" % ", ".join(self.hostnames), self._issue, self._check_issued)
        write = Step("write the new certificate to %s" % self.params["certificate_path"], lambda: self._write(*self.issued))
        write.check = lambda _answer, state: dict(state, disk=pem_facts(self.issued[1]))
        return [issue, write]

    def _issue(self) -> Any:
        key = None
        csr = self.csr_pem
        if csr is None:
            key = self.key if self.params["reuse_key"] and self.key is not None else new_private_key(self.kind)
            csr = make_csr(key, self.hostnames)
        body = {"hostnames": self.hostnames, "request_type": self.request_type, "requested_validity": self.params["requested_validity"], "csr": csr}
        answer = self.client.post(CERTS_PATH, body)
        self.issued = (None if key is self.key else key, answer.get("certificate") if isinstance(answer, dict) else None)
        self.issued_public_key = public_key_der(key) if key is not None else self.public_key
        return answer

    def _check_issued(self, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        """The answer must hold the certificate just asked for: its PEM, for these hostnames, with the key sent."""
        key = "issue an Origin CA certificate"
        try:
            view = origin_cert_view(answer)
        except CloudflareError:  # origin_cert_view's refusal of a malformed answer
            raise self.unexpected_answer(key, "is not an Origin CA certificate", answer) from None
        facts = pem_facts(self.issued[1])
        if facts is None:
            raise self.unexpected_answer(key, "holds no certificate in PEM", answer)
        if facts["public_key"] != self.issued_public_key:
            raise self.unexpected_answer(key, "holds a certificate for another key than the one sent", answer)
        if host_set(view["hostnames"]) != self.hostnames:
            raise self.unexpected_answer(key, "is for other hostnames than asked", answer)
        self.pems[view["id"]] = self.issued[1]
        return dict(state, certs=state["certs"] + [view])

    def _write(self, key: Any, pem: str) -> bool:
        """Write the certificate, and the new key when there is one, atomically; the key before the certificate."""
        p = self.params
        paths = {"certificate": p["certificate_path"]}
        if key is not None and p["private_key_path"]:
            paths["private_key"] = p["private_key_path"]
        try:
            with atomic_files(paths, modes={"certificate": CERT_MODE, "private_key": KEY_MODE}) as handles:
                handles["certificate"].write(pem if pem.endswith("\n") else pem + "\n")
                if "private_key" in handles:
                    handles["private_key"].write(private_key_to_pem(key, p["private_key_passphrase"]))
        except OSError as exc:
            raise InputError("cannot write %s: %s" % (" and ".join(sorted(paths.values())), exc.strerror)) from None
        return True

    def _predicted(self) -> Dict[str, Any]:
        now = datetime.datetime.now(datetime.timezone.utc)
        days = self.params["requested_validity"]
        return {
            "id": None,
            "hostnames": self.hostnames,
            "request_type": self.request_type,
            "key_type": self.kind,
            "requested_validity": days,
            "not_before": isoformat(now),
            "expires_on": isoformat(now + datetime.timedelta(days=days)),
            "days_remaining": days,
            "serial_number": None,
            "fingerprint_sha256": None,
            "revoked_at": None,
            "certificate_path": self.params["certificate_path"],
            "private_key_path": self.params["private_key_path"],
        }

    def _plan_absent(self, current: Dict[str, Any]) -> Tuple[List[Step], Any]:
        kept = self.kept
        steps, remaining = [], []
        for view in current["certs"]:
            if is_revoked(view):
                continue
            if view["id"] in self.params["keep"] or (kept and is_same_certificate(view, kept)) or (self.kind and view["key_type"] != self.kind):
                remaining.append(view)
                continue
            steps.append(Step("revoke %s" % view["id"], lambda cert_id=view["id"]: self._revoke(cert_id), self._check_revoked))
        if self.module.check_mode:
            self.revoked = [step.key.split(" ", 1)[1] for step in steps]
        return steps, remaining

    def _revoke(self, cert_id: str) -> Any:
        answer = self.client.delete("%s/%s" % (CERTS_PATH, cert_id), expect=dict)
        return {"id": cert_id, "answer": answer}

    def _check_revoked(self, answer: Any, state: Dict[str, Any]) -> Dict[str, Any]:
        cert_id = answer["id"]
        reply = answer["answer"]
        if reply is not None and str(reply.get("id")) != cert_id:
            raise self.unexpected_answer("revoke %s" % cert_id, "names another certificate", reply)
        self.revoked.append(cert_id)
        now = isoformat(datetime.datetime.now(datetime.timezone.utc))
        return dict(state, certs=[dict(v, revoked_at=v["revoked_at"] or now) if v["id"] == cert_id else v for v in state["certs"]])

    def extra_result(self) -> Dict[str, Any]:
        result: Dict[str, Any] = {"zone_id": self.zone_id}
        if not self.present:
            result["revoked"] = self.revoked
        return result


def main() -> None:
    module = build_module(
        dict(
            hostnames=dict(type="list", elements="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            request_type=dict(type="str"),
            requested_validity=dict(type="int", default=5475, choices=list(VALIDITY_DAYS)),
            certificate_path=dict(type="path"),
            private_key_path=dict(type="path", no_log=False),
            private_key_passphrase=dict(type="str", no_log=True),
            reuse_key=dict(type="bool", default=False),
            csr_path=dict(type="path"),
            renew_before_days=dict(type="int"),
            renew_before_percentage=dict(type="int"),
            force=dict(type="bool", default=False),
            keep=dict(type="list", elements="str", default=[]),
            **service_key_argument_spec(),
        ),
        wildcard_options=("hostnames",),
        required_if=[["state", "present", ["certificate_path"]]],
    )
    OriginCaCert(module).run()


if __name__ == "__main__":
    main()
