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
  - Connects to O(address) and O(port) with SNI set to each of O(hostnames) and returns what a browser gets, per
    hostname and per key type in O(key_types), the leaf certificate's facts, the chain as served, whether it validates
    for that hostname against O(ca_path), and any handshake error.
  - Use it after a rotation to check that the edge serves the new certificates, with O(expect) or with the
    O(targets_file) that the list form of M(certops.cloudflare.custom_hostname_cert) wrote.
options:
  hostnames:
    description:
      - The hostnames to probe. Each is sent as SNI and checked against the certificate's names.
      - Exactly one of O(hostnames) and O(targets_file) is required.
    type: list
    elements: str
  targets_file:
    description:
      - Instead of O(hostnames), the path of the file the list form of M(certops.cloudflare.custom_hostname_cert) wrote
        with its O(certops.cloudflare.custom_hostname_cert#module:dest) option. Read where the module runs.
      - Every hostname in its C(switched) list, the hostnames that task switched to new certificates and saw live, is
        probed per key type of its new certificates, expecting each of its new certificates from its key type (as
        O(expect) with the list of them for the hostname does), so a key type the edge does not serve fails.
        O(key_types) and O(expect) do not go with it.
      - A file without a C(switched) list fails the task before any connection, naming this option.
      - An entry that serves one of its new certificates whose chain does not validate (against O(ca_path) or the
        default bundle) fails too, since browsers refuse it and waiting does not change the chain. RV(untrusted) counts them.
      - The role C(certops.cloudflare.cert_rotation) works so, keeping the list of hostnames out of Ansible's variables.
    type: path
    version_added: 0.1.0
  dest:
    description:
      - Write every entry to this file as JSON, an object whose C(edge_certs) lists them, mode C(0600), replaced whole
        (written to a temporary file next to it, then renamed). Written also when the task fails because an entry does
        not match.
      - The result's RV(edge_certs) and RV(mismatches) then hold only the first 20 entries that do not match, got no
        certificate or serve an untrusted chain (O(targets_file)), and the failure message names the first 20; RV(summary)
        and RV(untrusted) count them all.
      - Its directory must exist; the task fails before any connection when it cannot be written.
      - Written in check mode too, since a probe only reads what the edge serves.
    type: path
    version_added: 0.1.0
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
      - With O(hostnames) only; with O(targets_file) each hostname is probed for the key types of its new certificates.
    type: list
    elements: str
    choices: [rsa, ecdsa]
    default: [rsa, ecdsa]
  ca_path:
    description:
      - A PEM file, or a directory of PEM files, holding the certificate authorities that
        RV(edge_certs[].validates) is checked against.
      - It replaces the default, the CA bundle C(requests) uses where the module runs - the file named by the
        environment variable E(REQUESTS_CA_BUNDLE), else by E(CURL_CA_BUNDLE), else the bundle of the Python package
        C(certifi), else OpenSSL's default CA file. The task fails before any connection when none of them exists.
    type: path
  expect:
    description:
      - The SHA-256 fingerprints expected, by hostname. A hostname maps to a fingerprint, to a list of them, or to a dict
        with V(rsa) and/or V(ecdsa) keys, each a fingerprint or a list. Hex digits, upper or lower case, with or without
        colons.
      - A hostname passes when each certificate expected of it is served by its own key type, one of O(key_types).
        Each entry (hostname and key type) is compared with the fingerprints named for that key type, or for the
        hostname, less those the hostname serves as certificates of another key type (as its other entries read them).
        It fails unless it serves one of those left, and is not compared when none is left (RV(edge_certs[].matches=null)).
      - So a fingerprint for a hostname must be served by the key type of that certificate, and the other key types are
        reported, not compared; a hostname that serves only ECDSA passes with its ECDSA fingerprint, its RSA entry
        keeping its handshake error. A fingerprint no key type serves fails the hostname, naming each key type probed
        that serves none of the certificates expected of it.
      - A list for a hostname, for example both certificates of a new pair, needs each key type probed to serve one of
        them; one that serves none fails, naming those not served. A list for one key type means any one of them.
      - To hold a key type to a certificate whatever the others serve, name it per key type, in a dict with V(rsa) and
        V(ecdsa) keys; a key type the dict does not name is not compared.
      - Every hostname named here must be in O(hostnames). With O(hostnames) only.
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
  - After a rotation, O(targets_file) names the hostnames and what each must serve, as the file the list form of
    M(certops.cloudflare.custom_hostname_cert) wrote with O(certops.cloudflare.custom_hostname_cert#module:dest).
  - A key type is chosen as a client chooses it, with a TLS 1.2 handshake that offers only the cipher suites of that key
    type. So both certificates of an RSA and ECDSA pair show, where one C(openssl s_client) run shows only one of them.
  - A server that accepts only TLS 1.3 cannot be probed per key type from Python (TLS 1.3 picks the key type by signature
    algorithms, which Python cannot restrict). Such a hostname is read with a TLS 1.3 handshake and its entries say
    RV(edge_certs[].key_type_selected=false).
  - With O(expect) or O(targets_file), each certificate expected must be served by its own key type. The entries compared
    get RV(edge_certs[].matches), and the task fails naming every hostname and key type that serves something else, or
    nothing, in place of a certificate expected. A key type a hostname does not serve, when what is expected of it is
    served by another key type, is reported (RV(edge_certs[].error), or RV(edge_certs[].key_type_selected=false)), not
    a mismatch; O(expect) says which entry is compared with what.
  - >-
    With O(targets_file) the chain must validate too (RV(edge_certs[].validates)): an entry that serves its new certificate
    over an untrusted chain fails the task, is counted in RV(untrusted), and is named as
    C(<hostname> (<key type>\): the edge serves an untrusted chain: <validation_error>).
  - For thousands of hostnames, O(dest) writes every entry to a file and the result keeps RV(summary) and a few entries
    that do not match, so what Ansible holds stays small.
  - Makes no Cloudflare API call and takes no credentials, so it is not in the action group C(certops.cloudflare.all);
    C(module_defaults) for that group would hand it options it does not take.
  - Probes run in parallel, at most O(workers) at a time, each bounded by O(timeout), so 10,000 hostnames take minutes.
  - Runs where the task runs; delegate to the controller (C(delegate_to=localhost)) to probe from there.
  - The chain as served comes from the TLS 1.2 handshake, where it travels in clear. From a TLS 1.3-only server, Python
    before 3.13 gives the leaf alone.
  - Validation is OpenSSL's, as Python's C(ssl) does it for HTTPS clients, host name check included. Without O(ca_path)
    it trusts what C(requests) trusts where the module runs; the system store only through E(REQUESTS_CA_BUNDLE) or
    E(CURL_CA_BUNDLE), or when C(certifi) is missing.
  - A certificate that does not validate is still read and reported, with RV(edge_certs[].validates=false) and the reason;
    with O(targets_file) it also fails the task when it is the certificate expected.
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

- name: After the list form of custom_hostname_cert, probe what it switched; every entry to a file, the result small
  certops.cloudflare.edge_cert_info:
    targets_file: /run/rotation/applied-hostnames.json   # what custom_hostname_cert's dest wrote
    dest: /run/rotation/edge-certs.json
  register: edge
  # Retry while an entry serves something else; an untrusted chain of the new certificate does not change by waiting.
  until: edge is not failed or ((edge.untrusted | default(0)) > 0 and edge.summary.matched == edge.summary.total)
  retries: 24
  delay: 5

- name: Show the counts
  ansible.builtin.debug:
    msg: "{{ edge.summary.matched }} of {{ edge.summary.total }} entries serve the new certificates"

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
    - With O(targets_file), in the order of the file's C(switched), each hostname with the key types of its new certificates.
    - The certificate facts are V(null) when the handshake failed (RV(edge_certs[].error)).
    - With O(dest), only the first 20 entries that do not match, got no certificate or serve an untrusted chain; the file
      holds every entry.
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
      description:
        - Whether the chain validates for the hostname against O(ca_path), or without it against the CA bundle
          C(requests) uses (E(REQUESTS_CA_BUNDLE), else E(CURL_CA_BUNDLE), else C(certifi)'s); V(null) without a handshake.
        - With O(targets_file), V(false) for an entry that serves its new certificate fails the task (RV(untrusted)).
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
      description:
        - Whether the entry serves one of the fingerprints expected of its key type, those O(expect) or O(targets_file)
          names for this hostname and key type less those the hostname serves as certificates of another key type.
        - V(null) when it is not compared, because nothing is named for it, or because each fingerprint named is a
          certificate another key type of the hostname serves (for example the RSA entry of a hostname that serves
          only its expected ECDSA certificate).
      type: bool
      sample: true
mismatches:
  description:
    - >-
      One line per entry compared that does not serve what O(expect) or O(targets_file) names (the task then fails),
      as C(<hostname> (<key type>\): served <fingerprint>, expected <fingerprints>), or with the handshake error in
      place of C(served <fingerprint>).
    - With O(targets_file), then one line per entry that serves it over an untrusted chain (RV(untrusted)).
    - With O(dest), the first 20 lines; RV(summary) counts them all.
  returned: always
  type: list
  elements: str
  sample: ["app.customer.com (rsa): served 0a1b..., expected 5d3a...",
           "shop.customer.com (ecdsa): the edge serves an untrusted chain: unable to get local issuer certificate"]
untrusted:
  description:
    - With O(targets_file), the number of entries that serve their new certificate over a chain that does not validate
      (RV(edge_certs[].validates=false)); each fails the task. Such entries count in RV(summary.matched) too.
    - Waiting does not change a chain, so a retry loop may stop when RV(summary.matched) equals RV(summary.total) and this
      is above zero.
  returned: with O(targets_file), once the inputs are checked
  type: int
  version_added: 0.1.0
  sample: 0
dest:
  description: The file every entry was written to.
  returned: when O(dest) is set
  type: str
  version_added: 0.1.0
  sample: /run/rotation/edge-certs.json
summary:
  description:
    - The number of entries (RV(summary.total)), of entries serving what was expected (RV(summary.matched)), of entries
      serving another certificate than the one expected (RV(summary.mismatched)), and of entries that got no
      certificate (RV(summary.errors), whether something was expected of them or not).
    - An entry not compared (RV(edge_certs[].matches=null)) counts in neither RV(summary.matched) nor
      RV(summary.mismatched).
  returned: always, once the inputs are checked
  type: dict
  version_added: 0.1.0
  contains:
    total:
      description: Every entry, hostname and key type.
      type: int
    matched:
      description: Entries with RV(edge_certs[].matches=true), whether their chain validates or not.
      type: int
    mismatched:
      description: Entries that served a certificate other than the one expected.
      type: int
    errors:
      description: Entries with a handshake error (RV(edge_certs[].error)).
      type: int
  sample: {"total": 20000, "matched": 19998, "mismatched": 1, "errors": 1}
"""

from typing import Any, Dict, List, Sequence, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, check_inputs
from ansible_collections.certops.cloudflare.plugins.module_utils._edge import (
    CaStoreError,
    Contexts,
    apply_expect,
    normalize_expect,
    probe_all,
    untrusted_chains,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_hostname
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY, KEY_TYPES, normalize_fingerprint
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import check_dest_dir, read_json_file, write_json_file
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import edge_expectations

ECHO_LIMIT = 100  # hostnames echoed back in the result's invocation
MAX_WORKERS = 256  # threads: more would not make a controller's handshakes faster, only its memory larger
KEPT = 20  # with dest: the entries that do not match kept in the result, and the mismatches the message names

ARGUMENT_SPEC = dict(
    hostnames=dict(type="list", elements="str"),
    targets_file=dict(type="path"),
    dest=dict(type="path"),
    address=dict(type="str"),
    port=dict(type="int", default=443),
    key_types=dict(type="list", elements="str", choices=["rsa", "ecdsa"], default=["rsa", "ecdsa"], no_log=False),
    ca_path=dict(type="path"),
    expect=dict(type="dict"),
    workers=dict(type="int", default=8),
    timeout=dict(type="float", default=10),
)
# Checked before the defaults are set, so key_types conflicts with targets_file only when the task sets it.
RULES = dict(
    required_one_of=[["hostnames", "targets_file"]],
    mutually_exclusive=[["hostnames", "targets_file"], ["targets_file", "expect"], ["targets_file", "key_types"]],
)
TARGETS_FILE_HINT = "give the file the list form of certops.cloudflare.custom_hostname_cert wrote with its dest option"


def read_targets(path: str) -> Dict[str, Any]:
    """The `switched` hostnames of a custom_hostname_cert dest file, as edge_expectations returns them; every bad entry named."""
    data = read_json_file(path, "targets_file")
    switched = data.get("switched") if isinstance(data, dict) else None
    if not isinstance(switched, list):
        raise InputError("targets_file: %s holds no `switched` list; %s" % (path, TARGETS_FILE_HINT))
    entries: Dict[str, Tuple[str, List[str], List[str]]] = {}
    problems = []
    for index, item in enumerate(switched):
        label = "targets_file: switched[%d]" % index
        try:
            entry = target_entry(item, label)
        except ValueError as exc:
            problems.append(str(exc))
            continue
        entries.setdefault(entry[0], entry)  # a hostname listed twice is probed once
    if problems:
        raise InputError("%s: %d of %d entries are bad, so nothing was probed: %s" % (path, len(problems), len(switched), "; ".join(problems[:KEPT])))
    return edge_expectations(entries.values())


def target_entry(item: Any, label: str) -> Tuple[str, List[str], List[str]]:
    """(hostname, key types, fingerprints) of one `switched` entry; ValueError naming `label` when it is not one."""
    if not isinstance(item, dict):
        raise ValueError("%s is not a dict with hostname, key_types and fingerprints" % label)
    hostname = check_hostname(item.get("hostname") or "", label + ".hostname")
    key_types, fingerprints = item.get("key_types"), item.get("fingerprints")
    if not isinstance(key_types, list) or not key_types or not set(key_types) <= set(KEY_TYPES):
        raise ValueError("%s (%s): key_types must list rsa, ecdsa or both, not %r" % (label, hostname, key_types))
    normal = [normalize_fingerprint(f) if isinstance(f, str) else None for f in fingerprints] if isinstance(fingerprints, list) else []
    if not normal or not all(f and len(f) == 64 for f in normal):
        raise ValueError("%s (%s): fingerprints must list SHA-256 fingerprints (64 hex digits), not %r" % (label, hostname, fingerprints))
    return hostname, [k for k in KEY_TYPES if k in key_types], [f for f in normal if f]


def check_params(module: AnsibleModule) -> Tuple[List[str], Dict[str, Dict[str, List[str]]]]:
    """Local checks before any connection: the hostnames, and what is expected of each (by key type, normalised)."""
    p = module.params
    check_inputs(module, ARGUMENT_SPEC, p, frozenset())
    if not 0 < p["port"] < 65536:
        raise InputError("port must be between 1 and 65535, not %s" % p["port"])
    if not 1 <= p["workers"] <= MAX_WORKERS:
        raise InputError("workers must be from 1 to %d (one thread each), not %s" % (MAX_WORKERS, p["workers"]))
    if p["dest"] is not None:
        check_dest_dir(p["dest"])
    if p["targets_file"] is not None:
        targets = read_targets(p["targets_file"])
        return targets["hostnames"], targets["expect"]
    if not p["hostnames"]:
        raise InputError("hostnames must name at least one hostname")
    if not p["key_types"]:
        raise InputError("key_types must name rsa, ecdsa or both")
    p["key_types"] = list(dict.fromkeys(p["key_types"]))
    p["hostnames"] = list(dict.fromkeys(p["hostnames"]))
    try:
        return p["hostnames"], normalize_expect(p["expect"], frozenset(p["hostnames"]), check_hostname)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def probe_each(targets: List[Dict[str, Any]], key_types: Dict[str, Sequence[str]], contexts: Contexts, timeout: float, workers: int) -> List[Dict[str, Any]]:
    """Each target probed for its own key types; entries in the order of the targets, then of KEY_TYPES."""
    groups: Dict[Tuple[str, ...], List[Dict[str, Any]]] = {}
    for target in targets:
        groups.setdefault(tuple(key_types[target["hostname"]]), []).append(target)
    found = {}
    for types, group in groups.items():  # one group when every hostname takes the same key types
        for entry in probe_all(group, types, contexts, timeout, workers):
            found[(entry["hostname"], entry["requested_key_type"])] = entry
    return [found[(t["hostname"], k)] for t in targets for k in key_types[t["hostname"]]]


def summarize(entries: List[Dict[str, Any]]) -> Dict[str, int]:
    return {
        "total": len(entries),
        "matched": sum(1 for e in entries if e["matches"] is True),
        "mismatched": sum(1 for e in entries if e["matches"] is False and not e["error"]),
        "errors": sum(1 for e in entries if e["error"]),
    }


def echoed_args(p: Dict[str, Any]) -> Dict[str, Any]:
    """The arguments Ansible echoes back, without the lists of thousands it would copy again: their number instead."""
    args = dict(p)
    if len(p["hostnames"] or []) > ECHO_LIMIT:
        args["hostnames"] = "%d hostnames, not repeated here" % len(p["hostnames"])
    if len(p["expect"] or {}) > ECHO_LIMIT:
        args["expect"] = "%d hostnames, not repeated here" % len(p["expect"])
    return args


def main() -> None:
    # No API call and no credentials: a plain AnsibleModule (build_module would add the auth options).
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True, **RULES)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    p = module.params
    try:
        hostnames, expected = check_params(module)
        contexts = Contexts(p["ca_path"])
    except (InputError, CaStoreError) as exc:
        module.fail_json(msg=str(exc))
    key_types = {h: [k for k in KEY_TYPES if k in expected[h]] for h in hostnames} if p["targets_file"] else dict.fromkeys(hostnames, p["key_types"])
    targets: List[Dict[str, Any]] = [{"hostname": h, "address": p["address"] or h, "port": p["port"]} for h in hostnames]
    entries = probe_each(targets, key_types, contexts, p["timeout"], p["workers"])
    mismatches = apply_expect(entries, expected)
    # After a rotation (targets_file) the expected certificate must also validate: a browser refuses an untrusted chain.
    untrusted = untrusted_chains(entries) if p["targets_file"] else []
    failures = mismatches + untrusted
    result: Dict[str, Any] = dict(changed=False, edge_certs=entries, mismatches=failures, summary=summarize(entries))
    if p["targets_file"]:
        result["untrusted"] = len(untrusted)
    result["invocation"] = {"module_args": echoed_args(p)}
    named, more = failures, ""
    if p["dest"] is not None:
        # Every entry to the file (written in check mode too: probes are reads); the result keeps a few that fail.
        try:
            write_json_file(p["dest"], {"edge_certs": entries}, "dest")
        except InputError as exc:
            module.fail_json(msg=str(exc), **{k: v for k, v in result.items() if k in ("summary", "untrusted", "invocation")})
        named = failures[:KEPT]
        more = "; and %d more (see %s)" % (len(failures) - KEPT, p["dest"]) if len(failures) > KEPT else ""
        kept = [e for e in entries if e["error"] or e["matches"] is False or (p["targets_file"] and e["matches"] is True and e["validates"] is False)]
        result.update(dest=p["dest"], mismatches=named, edge_certs=kept[:KEPT])
    if failures:
        heads = ["does not serve the expected certificate for %d of %d entries" % (len(mismatches), len(entries))] if mismatches else []
        heads += ["serves the expected certificate over an untrusted chain for %d of %d entries" % (len(untrusted), len(entries))] if untrusted else []
        module.fail_json(msg="The edge %s: %s%s" % (" and ".join(heads), "; ".join(named), more), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
