#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: edge_cert_info
short_description: Read by TLS handshake which certificate an edge serves for each hostname, per key type
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Connects to O(address) and O(port) with SNI set to each of O(hostnames) and returns what a browser gets, per hostname
    and per key type in O(key_types), the leaf certificate's facts, the chain as served, whether it validates for that
    hostname against O(ca_path), and any handshake error.
  - A key type is chosen as a client chooses it, with a TLS 1.2 handshake that offers only the cipher suites of that key
    type. So both certificates of an RSA and ECDSA pair show, where one C(openssl s_client) run shows only one of them.
  - A server that accepts only TLS 1.3 cannot be probed per key type from Python (TLS 1.3 picks the key type by signature
    algorithms, which Python cannot restrict). Such a hostname is read with a TLS 1.3 handshake and its entries say
    RV(edge_certs[].key_type_selected=false).
  - With O(expect), each entry expected gets RV(edge_certs[].matches), and the task fails naming every hostname and key
    type that serves something else (or nothing).
  - Makes no Cloudflare API call and takes no credentials, so it is not in the action group C(certops.cloudflare.all);
    C(module_defaults) for that group would hand it options it does not take.
  - Probes run in parallel, at most O(workers) at a time, each bounded by O(timeout), so 10,000 hostnames take minutes.
options:
  hostnames:
    description:
      - The hostnames to probe. Each is sent as SNI and checked against the certificate's names.
    type: list
    elements: str
    required: true
  address:
    description:
      - The host name or IP address to connect to, for example one edge address or the emulator's V(127.0.0.1).
      - By default each hostname itself, resolved where the module runs, as a browser would.
    type: str
  port:
    description: The TCP port to connect to.
    type: int
    default: 443
  key_types:
    description:
      - The key types to probe each hostname for; one entry per hostname and key type.
    type: list
    elements: str
    choices: [rsa, ecdsa]
    default: [rsa, ecdsa]
  ca_path:
    description:
      - A PEM file, or a directory of PEM files, holding the certificate authorities that
        RV(edge_certs[].validates) is checked against.
      - By default the system's trust store, as OpenSSL finds it where the module runs.
    type: path
  expect:
    description:
      - The SHA-256 fingerprints expected, by hostname. A hostname maps to one fingerprint (every key type must serve it)
        or to a dict with V(rsa) and/or V(ecdsa) keys. Hex digits, upper or lower case, with or without colons.
      - Wherever a fingerprint goes, a list of fingerprints means any one of them, for example both certificates of a
        new pair when which is which does not matter (a client offering one key type only gets a certificate of that type).
      - Every hostname named here must be in O(hostnames).
      - When an entry serves another certificate, or none, the task fails naming them; the entries are returned anyway.
    type: dict
  workers:
    description: How many handshakes may run at the same time, from 1 to 256 (one thread each).
    type: int
    default: 8
  timeout:
    description: Seconds each connection and handshake may take.
    type: float
    default: 10
extends_documentation_fragment:
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
notes:
  - Runs where the task runs; delegate to the controller (C(delegate_to=localhost)) to probe from there.
  - The chain as served comes from the TLS 1.2 handshake, where it travels in clear. From a TLS 1.3-only server, Python
    before 3.13 gives the leaf alone.
  - Validation is OpenSSL's, as Python's C(ssl) does it for HTTPS clients, host name check included.
  - A certificate that does not validate is still read and reported, with RV(edge_certs[].validates=false) and the reason.
requirements:
  - cryptography
seealso:
  - module: certops.cloudflare.custom_hostname_cert_info
  - module: certops.cloudflare.custom_cert_info
"""

EXAMPLES = r"""
- name: After a rotation, prove the edge serves the new certificates of both key types
  certops.cloudflare.edge_cert_info:
    hostnames: [app.customer.com]
    key_types: [rsa, ecdsa]
    expect:
      app.customer.com:
        rsa: "{{ rsa_leaf_fingerprint }}"
        ecdsa: "{{ ecdsa_leaf_fingerprint }}"
  delegate_to: localhost
  register: edge

- name: Show the expiry of what is served
  ansible.builtin.debug:
    msg: "{{ edge.edge_certs | map(attribute='not_after') }}"

- name: Ask one edge address (or the emulator's edge) rather than what DNS answers
  certops.cloudflare.edge_cert_info:
    hostnames: "{{ customer_hostnames }}"
    address: 104.16.132.229
    port: 443
    key_types: [ecdsa]
    workers: 16
    timeout: 5
  delegate_to: localhost
  register: at_edge

- name: Hostnames whose certificate does not validate or expires within 14 days
  ansible.builtin.debug:
    msg: "{{ at_edge.edge_certs | rejectattr('error') | selectattr('days_remaining', 'lt', 14) | map(attribute='hostname') | list }}"

- name: Against the bundled emulator's edge, trusting its CA
  certops.cloudflare.edge_cert_info:
    hostnames: [shop.example.com]
    address: 127.0.0.1
    port: 8443
    ca_path: /tmp/emulator-ca.pem
  delegate_to: localhost
"""

RETURN = r"""
edge_certs:
  description:
    - One entry per hostname and key type, in the order of O(hostnames), then O(key_types). Never holds PEM or keys.
    - The certificate facts are V(null) when the handshake failed (RV(edge_certs[].error)).
  returned: always
  type: list
  elements: dict
  contains:
    hostname:
      description: The hostname, sent as SNI (lower case, IDNA names as A-labels).
      type: str
      sample: app.customer.com
    address:
      description: Where the module connected.
      type: str
      sample: app.customer.com
    port:
      description: The port it connected to.
      type: int
      sample: 443
    requested_key_type:
      description: The key type the handshake offered cipher suites for.
      type: str
      sample: ecdsa
    key_type_selected:
      description:
        - Whether the key type could be chosen. V(false) for a server that accepts only TLS 1.3, read with a plain TLS 1.3
          handshake; the entry then shows what that server prefers, whatever O(key_types) said.
      type: bool
      sample: true
    fingerprint_sha256:
      description: SHA-256 fingerprint of the leaf (DER), lower-case hex without colons, as the Cloudflare API writes it.
      type: str
      sample: 5d3a4b8f0c9e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809102
    serial_number:
      description: The leaf's serial number, in decimal.
      type: str
      sample: "611629727331512437201196843125497346843123"
    issuer:
      description: The issuer as Cloudflare reports it (organisation name, else common name).
      type: str
      sample: Let's Encrypt
    issuer_dn:
      description: The issuer's distinguished name (RFC 4514).
      type: str
      sample: CN=E6,O=Let's Encrypt,C=US
    subject:
      description: The leaf's subject (RFC 4514).
      type: str
      sample: CN=app.customer.com
    sans:
      description: The leaf's DNS subject alternative names.
      type: list
      elements: str
      sample: [app.customer.com]
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
      sample: "2026-11-01T08:00:00Z"
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
      sample: "2027-01-30T08:00:00Z"
    days_remaining:
      description: Whole days until RV(edge_certs[].not_after) (negative once expired).
      type: int
      sample: 60
    key_type:
      description: The key type of the certificate served (V(rsa) or V(ecdsa)).
      type: str
      sample: ecdsa
    tls_version:
      description: The TLS version negotiated.
      type: str
      sample: TLSv1.2
    cipher:
      description: The cipher suite negotiated.
      type: str
      sample: ECDHE-ECDSA-AES256-GCM-SHA384
    chain:
      description: The certificates as served, leaf first, as facts.
      type: list
      elements: dict
      sample: [{"subject": "CN=app.customer.com", "issuer_dn": "CN=E6,O=Let's Encrypt,C=US", "fingerprint_sha256": "5d3a...",
                "serial_number": "6116...", "not_after": "2027-01-30T08:00:00Z"}]
    validates:
      description: Whether the chain validates for the hostname against O(ca_path) (or the system store); V(null) without a handshake.
      type: bool
      sample: true
    validation_error:
      description: Why it does not validate, as OpenSSL says it.
      type: str
      sample: "Hostname mismatch, certificate is not valid for 'app.customer.com'."
    error:
      description: Why no certificate was read (connection refused, time-out, failed handshake); V(null) when one was.
      type: str
      sample: "TLS handshake failed: TLSV1_UNRECOGNIZED_NAME"
    matches:
      description: Whether the fingerprint is the one O(expect) names for this hostname and key type; V(null) when none is named.
      type: bool
      sample: true
mismatches:
  description: One line per entry that does not serve what O(expect) names (the task then fails).
  returned: always
  type: list
  elements: str
  sample: ["app.customer.com (rsa): served 0a1b..., expected 5d3a..."]
"""

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, check_inputs
from ansible_collections.certops.cloudflare.plugins.module_utils._edge import CaStoreError, Contexts, apply_expect, normalize_expect, probe_all
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY

ECHO_LIMIT = 100  # hostnames echoed back in the result's invocation
MAX_WORKERS = 256  # threads: more would not make a controller's handshakes faster, only its memory larger

ARGUMENT_SPEC = dict(
    hostnames=dict(type="list", elements="str", required=True),
    address=dict(type="str"),
    port=dict(type="int", default=443),
    key_types=dict(type="list", elements="str", choices=["rsa", "ecdsa"], default=["rsa", "ecdsa"], no_log=False),
    ca_path=dict(type="path"),
    expect=dict(type="dict"),
    workers=dict(type="int", default=8),
    timeout=dict(type="float", default=10),
)


def check_params(module: AnsibleModule) -> Dict[str, Dict[str, List[str]]]:
    """Local checks before any connection; the expected fingerprints, normalised."""
    p = module.params
    check_inputs(module, ARGUMENT_SPEC, p, frozenset())
    if not p["hostnames"]:
        raise InputError("hostnames must name at least one hostname")
    if not p["key_types"]:
        raise InputError("key_types must name rsa, ecdsa or both")
    if not 0 < p["port"] < 65536:
        raise InputError("port must be between 1 and 65535, not %s" % p["port"])
    if not 1 <= p["workers"] <= MAX_WORKERS:
        raise InputError("workers must be from 1 to %d (one thread each), not %s" % (MAX_WORKERS, p["workers"]))
    p["key_types"] = list(dict.fromkeys(p["key_types"]))
    p["hostnames"] = list(dict.fromkeys(p["hostnames"]))
    try:
        return normalize_expect(p["expect"], p["hostnames"], check_hostname)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def main() -> None:
    # No API call and no credentials: a plain AnsibleModule (build_module would add the auth options).
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    try:
        expected = check_params(module)
        contexts = Contexts(p["ca_path"])
    except (InputError, CaStoreError) as exc:
        module.fail_json(msg=str(exc))
    targets: List[Dict[str, Any]] = [{"hostname": h, "address": p["address"] or h, "port": p["port"]} for h in p["hostnames"]]
    entries = probe_all(targets, p["key_types"], contexts, p["timeout"], p["workers"])
    mismatches = apply_expect(entries, expected)
    # Echoing thousands of hostnames back in the result would double its size: give their number.
    many = len(p["hostnames"]) > ECHO_LIMIT
    invocation = {"module_args": dict(p, hostnames="%d hostnames, not repeated here" % len(p["hostnames"])) if many else p}
    if mismatches:
        module.fail_json(
            msg="The edge does not serve the expected certificate for %d of %d entries: %s" % (len(mismatches), len(entries), "; ".join(mismatches)),
            edge_certs=entries,
            mismatches=mismatches,
            invocation=invocation,
        )
    module.exit_json(changed=False, edge_certs=entries, mismatches=[], invocation=invocation)


if __name__ == "__main__":
    main()
