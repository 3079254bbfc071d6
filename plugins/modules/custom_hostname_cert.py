#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: custom_hostname_cert
short_description: Manage the custom certificates of a Cloudflare for SaaS custom hostname, RSA and ECDSA bundles included
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Uploads one custom certificate, or a pair of one RSA and one ECDSA certificate (a bundle), to an existing custom
    hostname of a zone (Cloudflare for SaaS), replaces one certificate of a pair, or removes one.
  - Use it to serve your own certificates on hostnames that M(certops.cloudflare.custom_hostname) manages; the list
    form O(hostname_certificates) rotates the certificates of many hostnames of a zone in one task.
options:
  hostname:
    description:
      - The custom hostname whose certificates to manage, for example V(app.customer.com). Compared in lower case,
        without a trailing dot.
      - Exactly one of O(hostname), O(custom_hostname_id) and O(hostname_certificates) is required.
    type: str
  custom_hostname_id:
    description:
      - The id of the custom hostname, instead of O(hostname).
    type: str
  state:
    description:
      - V(present) makes the hostname serve the certificates in O(certificates).
      - V(absent) removes the hostname's certificate of key type O(key_type). The last certificate of a hostname
        cannot be removed; trying fails before any change.
    type: str
    choices: [present, absent]
    default: present
  certificates:
    description:
      - One or two certificates with their private keys. With two, one must be RSA and the other ECDSA.
      - Required with O(state=present); not used with O(state=absent).
    type: list
    elements: dict
    suboptions:
      certificate:
        description:
          - The certificate in PEM format, leaf first, optionally followed by its chain.
          - Exactly one of O(certificates[].certificate) and O(certificates[].certificate_path) is required.
        type: str
      certificate_path:
        description:
          - Path to a file holding the certificate, read on the host where the module runs.
        type: path
      private_key:
        description:
          - The private key of the certificate in PEM format. It is sent to Cloudflare only when the certificate is
            uploaded, and never appears in results, diffs or logs.
          - Exactly one of O(certificates[].private_key) and O(certificates[].private_key_path) is required.
        type: str
      private_key_path:
        description:
          - Path to a file holding the private key, read on the host where the module runs.
        type: path
      private_key_passphrase:
        description:
          - Passphrase of an encrypted private key. The key is decrypted locally and the clear key is uploaded.
        type: str
  discovered_hostnames:
    description:
      - With O(hostname_certificates), the zone's custom hostnames as a read just before returned them, the
        RV(certops.cloudflare.custom_hostname_cert_info#module:custom_hostnames) of
        M(certops.cloudflare.custom_hostname_cert_info) without filters. The list form then plans from them and
        makes no list read of its own, only one write per hostname to change.
      - Each hostname is planned and its C(ssl) settings sent back as that read saw them, so a setting changed since
        that read is reverted; give a fresh read, or leave this unset (as the role C(certops.cloudflare.cert_rotation)
        does) so that the module reads the list pages itself and writes each page's hostnames right after reading
        that page. A hostname missing from the read is reported as not found. The list is not repeated in the task's
        result.
      - Also taken as the JSON text of that list (C({{ ... | to_json }})), or as the path of the file
        O(certops.cloudflare.custom_hostname_cert_info#module:dest) wrote. For thousands of hostnames that is much
        faster, since Ansible then copies and checks one string instead of every dictionary (the role passes a path).
    type: raw
    version_added: 0.1.0
  hostname_certificates:
    description:
      - The list form. The certificates of many custom hostnames of the zone, one entry per hostname, instead of
        O(hostname) (or O(custom_hostname_id)) and O(certificates). Each hostname is handled as the single form
        handles it with O(certificates); O(force) and O(bundle_method) apply to every entry, and O(exclusive) to every
        entry that does not set its own.
      - Only with O(state=present). With O(wait=true), waits by list pages (see O(wait)).
      - Takes file paths only, read where the module runs. Keeping thousands of keys out of the module's arguments
        keeps Ansible's C(no_log) handling fast.
      - The task returns RV(custom_hostnames) and RV(summary) instead of RV(custom_hostname).
    type: list
    elements: dict
    version_added: 0.1.0
    suboptions:
      hostname:
        description:
          - A custom hostname of the zone. Compared in lower case, without a trailing dot. Each hostname may be
            listed once.
        type: str
        required: true
      certificates:
        description:
          - One certificate, or one RSA and one ECDSA certificate, for the hostname.
        type: list
        elements: dict
        required: true
        suboptions:
          certificate_path:
            description:
              - Path to a file holding the certificate in PEM format, leaf first, optionally followed by its chain.
            type: path
            required: true
          private_key_path:
            description:
              - Path to a file holding the certificate's private key in PEM format.
            type: path
            required: true
          private_key_passphrase:
            description:
              - Passphrase of an encrypted private key. Defaults to O(private_key_passphrase).
            type: str
      exclusive:
        description:
          - O(exclusive) for this hostname; by default the task's.
          - The plan of M(certops.cloudflare.rotation_plan) sets it for each entry, V(false) unless a key type is dropped.
        type: bool
        version_added: 0.1.0
  plan:
    description:
      - The list form, from a file. The path of the plan file M(certops.cloudflare.rotation_plan) wrote
        (O(certops.cloudflare.rotation_plan#module:dest)). Its C(hostname_certificates), the hostnames due, are handled
        as O(hostname_certificates) would be.
      - The role C(certops.cloudflare.cert_rotation) works so, keeping 10,000-entry lists out of Ansible's variables.
    type: path
    version_added: 0.1.0
  dest:
    description:
      - With the list form, write every custom hostname of the zone as this task last saw it (read, answered by its
        write, or predicted in check mode) to this file, as JSON in the shape
        O(certops.cloudflare.custom_hostname_cert_info#module:dest) writes, with the result of each listed hostname
        under C(results); mode C(0600), replaced whole. Written also when hostnames fail.
      - RV(custom_hostnames) then lists only the hostnames that failed, so that the task's result stays small.
      - M(certops.cloudflare.rotation_report) reads the file (O(certops.cloudflare.rotation_report#module:state)).
    type: path
    version_added: 0.1.0
  progress:
    description:
      - With the list form, write the task's progress to this file while it works, as JSON replaced whole at most once a
        second and when the task ends (mode C(0600)), with C(total), C(done) (hostnames handled), C(failed),
        C(waiting) (written, not live yet), C(phase) (C(writing), C(waiting) or C(finished)) and C(started) and
        C(updated) (seconds since the epoch). Counts and times only, no names.
      - O(progress_interval) needs no such file (the task makes a temporary one); give one to follow the task from
        elsewhere.
    type: path
    version_added: 0.1.0
  progress_interval:
    description:
      - With the list form, print a line of progress in the play output (and AWX's job output) every this many
        seconds while the task works, and one when it ends; hostnames done and the total, failures so far, the pace
        and the time left. V(0) prints none.
      - The lines come from the task's O(progress) file, read where the play runs, and cost no API call. They need the
        task to run on the controller (the C(local) connection, as the role and the rotate playbook use) and in the
        foreground; elsewhere, or with C(async), the task runs without them.
      - The role C(certops.cloudflare.cert_rotation) sets it from C(cert_rotation_progress_interval).
    type: int
    default: 0
    version_added: 0.1.0
  private_key_passphrase:
    description:
      - With O(hostname_certificates) or O(plan), the passphrase of every encrypted key whose entry sets none of its own (the role
        C(certops.cloudflare.cert_rotation) seals the keys it was given as content with one passphrase per run). Keys
        that are not encrypted are used as they are.
    type: str
    version_added: 0.1.0
  bundle_method:
    description:
      - How Cloudflare builds the chain it serves. When not set, the hostname's current value is kept, except that an
        RSA and ECDSA pair is always sent with V(force) (another value given with a pair fails before any write).
    type: str
    choices: [ubiquitous, optimal, force]
  key_type:
    description:
      - With O(state=absent), the key type of the certificate to remove. Required then.
    type: str
    choices: [rsa, ecdsa]
  exclusive:
    description:
      - With O(state=present), remove from the hostname a certificate of a key type that O(certificates) does not
        list, so that the hostname serves exactly O(certificates).
      - When V(false), such a certificate is kept and the new one is bundled with it.
    type: bool
    default: true
  force:
    description:
      - Upload the certificates even when the hostname already serves identical ones.
    type: bool
    default: false
  wait:
    description:
      - Wait until the hostname's SSL status is V(active), also when the task had nothing to change.
      - Fails at once when the hostname reaches a status that waiting will not change (its SSL status
        V(validation_timed_out), V(deployment_timed_out), ..., or the hostname V(blocked), V(moved) or V(deleted)),
        naming the status and the validation errors Cloudflare gives.
      - With the list form, waits after all the writes until every changed hostname is live (its status and its SSL
        status V(active), when Cloudflare starts serving the new certificate). A hostname whose write's answer shows
        it live is not read again; the others are read by their own GET while they are fewer than the zone's list
        pages, else by list pages. A hostname that reaches a status waiting will not change, or is not live after
        O(wait_timeout), fails alone.
      - Never waits in check mode.
    type: bool
    default: false
notes:
  - The hostname is looked up with one call using the API's C(hostname) filter; a hostname that does not exist fails
    with a message naming the zone. The module never creates or deletes custom hostnames
    (M(certops.cloudflare.custom_hostname) does).
  - Before any change every certificate is checked locally. Its PEM must parse, its key must match it, it must not be
    expired or not valid yet, an RSA key must have at least 2048 bits, it must cover the hostname (wildcards allowed),
    and there may be at most one certificate per key type.
    A failure names the certificate and the reason, and nothing is sent.
  - Certificates are compared by what both sides know. The SHA-256 fingerprint of each leaf (or, when the API gives
    none, its serial number and issuer) is compared with the hostname's C(ssl.certificates). Identical certificates
    are not uploaded again unless O(force=true). A run with nothing to change makes exactly one API call when
    O(zone_id) and O(hostname) are given and O(wait=false).
  - Each write is judged by its own answer, which is the hostname's new state; an answer that does not show the
    uploaded certificate fails the task saying what was sent and what came back. The hostname is read again only
    after a C(DELETE) (its answer is bare) or while waiting.
  - Each change uses the smallest call that does it. A single certificate is uploaded with a C(PATCH) of the
    hostname's C(ssl) carrying C(custom_certificate) and C(custom_key). A pair is uploaded with C(custom_cert_bundle);
    when one certificate of the pair already matches, only the other is sent, and Cloudflare bundles it with the
    existing one. In a pair, one certificate is replaced with a C(PUT) of that certificate (RSA only with RSA, ECDSA
    only with ECDSA); Cloudflare's "Replace Custom Certificate and Custom Key In Custom Hostname" replaces within a
    pack of two, so a hostname holding one certificate never gets that C(PUT). A pair going to one of its own
    certificates (with O(exclusive=true)) is a C(DELETE) of the other certificate, and O(state=absent) a C(DELETE)
    of the certificate of O(key_type). A pair going to one new certificate (with O(exclusive=true)) is one C(PATCH)
    with C(custom_certificate), which replaces the pack.
  - Cloudflare replaces the whole SSL configuration of a hostname with the one a C(PATCH) sends. The module therefore
    sends the configuration it read (C(method), C(type), C(settings), C(bundle_method) unless O(bundle_method) is
    given, C(wildcard), C(certificate_authority)), so nothing but the certificates changes. For a hostname that
    already serves custom certificates C(method) is left out, since Cloudflare takes a C(PATCH) with a validation method as
    the move to a Cloudflare certificate, which removes the custom ones.
  - An RSA and ECDSA pair (C(custom_cert_bundle)), and one certificate bundled beside a kept one of the other key type,
    are sent with C(bundle_method) V(force), as Cloudflare's "Use certificate packs - RSA and ECDSA" asks; a pair given
    with another O(bundle_method) fails before any write.
  - A C(PATCH) whose outcome is unknown (a lost connection, a server error) is never sent again blindly. The module
    reads the hostname again; when the change happened it carries on, otherwise (proven not applied) it sends it once
    more and returns RV(resent=true). A second unknown outcome fails, saying that a re-run is safe.
    A C(PUT) that the client sent again after a lost answer, and that finds the certificate it replaced gone, is
    settled the same way.
  - The list form, O(hostname_certificates), rotates the certificates of many hostnames of a zone (tens of thousands)
    in one task, one module process and one HTTP session. Each hostname is planned and written exactly as the single
    form plans and writes it. The zone's custom hostnames are read by list pages of 50 (the API's largest), never one
    call per hostname, so the task makes the list pages (ceil(hostnames in the zone / 50), plus one call to find the
    zone when O(zone) is given) plus one write per changed hostname, and no read-back (the answer of each write is the
    hostname's new state).
  - In the list form every certificate file is checked before any API call, each file once however many hostnames
    use it (a wildcard certificate); any bad entry fails the task before any call, naming every bad entry. Then a
    hostname that fails (not in the zone, an API error) does not stop the others; the task carries on, then fails
    naming each failed hostname and its reason, with C(changed=true) when anything was written. A re-run is safe.
  - Cloudflare's API reports no key type for the certificates of a hostname (its C(ssl.certificates) entries hold
    C(id), C(issuer), C(serial_number), C(signature), C(expires_on), C(issued_on) and C(fingerprint_sha256), as the
    type C(CustomHostnameSSLCertificates) of Cloudflare's Go SDK declares them). The module derives it from the
    identical certificate in O(certificates), from the PEM of C(ssl.custom_certificate) for the certificate it is,
    from the other certificate of a pair (one RSA and one ECDSA), and lastly from the name of the signature algorithm
    (an RSA certificate signed by an RSA CA); that last rule is unverified against the live API. When the key types
    of a pair cannot be told apart, the module fails before any change instead of guessing.
  - A new certificate is C(pending_deployment) for a while; until it is C(active) Cloudflare keeps serving the old
    one. Use O(wait=true) to return only once it is served.
  - In check mode, the result predicts the certificates with V(null) ids for those not uploaded yet.
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
      - Predicts the result and sends no write. The list form predicts each hostname with the same planning.
  diff_mode:
    support: full
    details:
      - The diff shows certificates as facts (key type, serial number, fingerprint, issuer, expiry, hosts), never PEM or keys.
      - The list form's diff is compact, for the changed hostnames only, each hostname mapping key types to SHA-256
        fingerprints before and after.
  idempotent:
    support: full
seealso:
  - module: certops.cloudflare.custom_hostname
  - module: certops.cloudflare.custom_hostname_cert_info
  - name: Custom certificates for custom hostnames
    description: Cloudflare's guide to uploading custom certificates for Cloudflare for SaaS.
    link: https://developers.cloudflare.com/cloudflare-for-platforms/cloudflare-for-saas/security/certificate-management/custom-certificates/
  - name: Edit Custom Hostname
    description: The API operation behind the uploads.
    link: https://developers.cloudflare.com/api/resources/custom_hostnames/methods/edit/
"""

EXAMPLES = r"""
- name: Upload one certificate to a custom hostname
  certops.cloudflare.custom_hostname_cert:
    zone: example.com
    hostname: app.customer.com
    certificates:
      - certificate: "{{ lookup('file', 'app.customer.com.pem') }}"
        private_key: "{{ lookup('file', 'app.customer.com.key') }}"
    wait: true

- name: Upload an RSA and an ECDSA certificate as a bundle, from files on the controller
  certops.cloudflare.custom_hostname_cert:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    hostname: app.customer.com
    certificates:
      - certificate_path: /etc/pki/app.customer.com/rsa.pem
        private_key_path: /etc/pki/app.customer.com/rsa.key
      - certificate_path: /etc/pki/app.customer.com/ecdsa.pem
        private_key_path: /etc/pki/app.customer.com/ecdsa.key
        private_key_passphrase: "{{ vault_ecdsa_key_passphrase }}"
    bundle_method: optimal

- name: Replace only the ECDSA certificate of the pair (one PUT; the RSA one is unchanged)
  certops.cloudflare.custom_hostname_cert:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    hostname: app.customer.com
    certificates:
      - certificate_path: /etc/pki/app.customer.com/rsa.pem
        private_key_path: /etc/pki/app.customer.com/rsa.key
      - certificate_path: /etc/pki/app.customer.com/ecdsa-2027.pem
        private_key_path: /etc/pki/app.customer.com/ecdsa-2027.key

- name: Remove the RSA certificate of the pair, keeping the ECDSA one
  certops.cloudflare.custom_hostname_cert:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    hostname: app.customer.com
    state: absent
    key_type: rsa

- name: Preview a rotation without changing anything (run with --check --diff to see the certificates' facts)
  certops.cloudflare.custom_hostname_cert:
    zone: example.com
    hostname: app.customer.com
    certificates:
      - certificate_path: /etc/pki/app.customer.com/ecdsa-2027.pem
        private_key_path: /etc/pki/app.customer.com/ecdsa-2027.key
    exclusive: false  # keep the RSA certificate of a pair; only the ECDSA one is rotated
  check_mode: true
  diff: true
  register: preview

- name: Rotate the certificates of many hostnames in one task (list pages plus one write per changed hostname)
  certops.cloudflare.custom_hostname_cert:
    zone: example.com
    hostname_certificates:
      - hostname: shop.customer-a.com
        certificates:
          - certificate_path: /etc/pki/saas/customer-a/ecdsa.pem
            private_key_path: /etc/pki/saas/customer-a/ecdsa.key
      - hostname: app.customer-b.com  # an RSA and ECDSA pair
        certificates:
          - certificate_path: /etc/pki/saas/customer-b/rsa.pem
            private_key_path: /etc/pki/saas/customer-b/rsa.key
          - certificate_path: /etc/pki/saas/customer-b/ecdsa.pem
            private_key_path: /etc/pki/saas/customer-b/ecdsa.key
  register: rotation

- name: Many hostnames sharing one wildcard certificate, from a variable (its files are read and checked once)
  certops.cloudflare.custom_hostname_cert:
    zone_id: 023e105f4ecef8ad9ca31a8372d0c353
    hostname_certificates: "{{ saas_hostname_certificates }}"
  vars:
    wildcard: &wildcard
      certificate_path: /etc/pki/saas/wildcard.customer.example.pem
      private_key_path: /etc/pki/saas/wildcard.customer.example.key
    saas_hostname_certificates:
      - {hostname: h001.customer.example, certificates: [*wildcard]}
      - {hostname: h002.customer.example, certificates: [*wildcard]}

- name: Credentials and zone once for the whole collection
  module_defaults:
    group/certops.cloudflare.all:
      api_token: "{{ vault_cloudflare_api_token }}"
      zone: example.com
  block:
    - name: Add an ECDSA certificate next to the RSA one the hostname already serves
      certops.cloudflare.custom_hostname_cert:
        hostname: app.customer.com
        certificates:
          - certificate_path: /etc/pki/app.customer.com/ecdsa.pem
            private_key_path: /etc/pki/app.customer.com/ecdsa.key
        exclusive: false
"""

RETURN = r"""
resent:
  description:
    - V(true) when a write whose outcome was unknown (a lost connection, a server error) was sent once more, after a
      read of the state proved that it had not been applied. With the list form, also on each entry whose write was sent once more. Absent otherwise.
  returned: when a write was sent once more
  type: bool
  sample: true
custom_hostnames:
  description:
    - With O(hostname_certificates) (the list form), one compact entry per hostname, in the order given, also
      when the task fails. Predicted in check mode.
  returned: with O(hostname_certificates) or O(plan); with O(dest), the failed hostnames only
  type: list
  elements: dict
  contains:
    hostname:
      description: The custom hostname, as compared (lower case).
      type: str
      sample: h001.customer.example
    id:
      description: Id of the custom hostname; V(null) when it was not found in the zone.
      type: str
      sample: 0d89c70dad9f4843b99f6cc0252067e9
    changed:
      description: Whether the hostname's certificates were changed (would be, in check mode).
      type: bool
      sample: true
    failed:
      description: Whether this hostname failed; the task then fails too, naming it.
      type: bool
      sample: false
    msg:
      description: Why this hostname failed.
      type: str
      returned: when the hostname failed
      sample: custom hostname h404.customer.example does not exist in zone example.com; create it first
    certificates:
      description:
        - The hostname's custom certificates after the task, the RSA one first (before it, when it failed).
      type: list
      elements: dict
      sample:
        - key_type: ecdsa
          fingerprint_sha256: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
          serial_number: "6743787633689793699141714808227354901"
          expires_on: "2027-03-01T10:00:00Z"
summary:
  description: With the list form, how many hostnames were listed, changed, unchanged and failed.
  returned: with O(hostname_certificates) or O(plan)
  type: dict
  sample: {"total": 200, "changed": 198, "unchanged": 0, "failed": 2}
custom_hostname:
  description:
    - The custom hostname after the task (predicted in check mode), with the facts of its custom certificates.
      Never holds PEM or key material.
    - The same view as M(certops.cloudflare.custom_hostname) returns, with RV(custom_hostname.ssl.certificates) added.
  returned: success, without O(hostname_certificates)
  type: dict
  contains:
    id:
      description: Id of the custom hostname.
      type: str
      returned: success
      sample: 0d89c70dad9f4843b99f6cc0252067e9
    hostname:
      description: The custom hostname.
      type: str
      returned: success
      sample: app.customer.com
    status:
      description: Activation status of the custom hostname.
      type: str
      returned: success
      sample: active
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
      description: The hostname's SSL state.
      type: dict
      returned: success
      contains:
        id:
          description: Id of the hostname's certificate pack (the C(certificate_pack) of the single-certificate endpoints).
          type: str
          sample: 7b163417a1d24c84a38a2fb7a0cd7752
        status:
          description: SSL status of the hostname, for example V(pending_deployment) or V(active).
          type: str
          sample: active
        bundle_method:
          description: How Cloudflare builds the chain it serves.
          type: str
          sample: ubiquitous
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
        certificates:
          description: The custom certificates of the hostname, the RSA one first.
          type: list
          elements: dict
          contains:
            id:
              description: Id of the certificate; V(null) in check mode for a certificate not uploaded yet.
              type: str
              sample: 5a7805061c76ada191ed06f989cc3dac
            key_type:
              description: V(rsa) or V(ecdsa); V(null) when it cannot be told (see the notes).
              type: str
              sample: ecdsa
            serial_number:
              description: Serial number of the certificate, in decimal.
              type: str
              sample: "6743787633689793699141714808227354901"
            fingerprint_sha256:
              description: SHA-256 fingerprint of the leaf certificate, lower-case hex without separators.
              type: str
              sample: 3f1c6a0e4b8a9d2f7c5e1b0a9d8c7b6a5f4e3d2c1b0a99887766554433221100
            issuer:
              description: The issuer as Cloudflare reports it.
              type: str
              sample: Example CA
            expires_on:
              description: When the certificate expires (UTC).
              type: str
              sample: "2027-03-01T10:00:00Z"
            days_remaining:
              description: Whole days until the certificate expires.
              type: int
              sample: 364
            not_before:
              description:
                - When the certificate became valid (UTC), from the PEM Cloudflare returns in C(ssl.custom_certificate) for the
                  certificate it is, or from O(certificates); otherwise V(null).
              type: str
              sample: "2026-12-01T10:00:00Z"
            uploaded_on:
              description:
                - When the hostname's custom certificates were uploaded, as Cloudflare reports it (C(ssl.uploaded_on));
                  V(null) in check mode before an upload.
              type: str
              sample: "2026-12-01T10:05:00Z"
            hosts:
              description:
                - The hostnames the certificate is for, when known (from O(certificates), or from the API for a
                  hostname with one certificate); otherwise V(null).
              type: list
              elements: str
              sample: [app.customer.com]
"""

from ansible_collections.certops.cloudflare.plugins.module_utils._base import MATERIAL_RULES, build_module, material_argument_spec, wait_argument_spec
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname_cert import CustomHostnameCert
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.apply_hostnames import CustomHostnameCertList
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import path_entry_spec


def main() -> None:
    module = build_module(
        dict(
            hostname=dict(type="str"),
            custom_hostname_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            certificates=dict(type="list", elements="dict", options=material_argument_spec(), **MATERIAL_RULES),
            bundle_method=dict(type="str", choices=["ubiquitous", "optimal", "force"]),
            key_type=dict(type="str", choices=["rsa", "ecdsa"], no_log=False),
            exclusive=dict(type="bool", default=True),
            force=dict(type="bool", default=False),
            **wait_argument_spec(),
            discovered_hostnames=dict(type="raw"),
            plan=dict(type="path"),
            dest=dict(type="path"),
            progress=dict(type="path"),
            progress_interval=dict(type="int", default=0),  # the action plugin prints the lines
            private_key_passphrase=dict(type="str", no_log=True),
            hostname_certificates=dict(
                type="list",
                elements="dict",
                options=dict(path_entry_spec(private_key_passphrase=dict(type="str", no_log=True)), exclusive=dict(type="bool")),
            ),
        ),
        mutually_exclusive=[["hostname", "custom_hostname_id", "hostname_certificates", "plan"], ["certificates", "hostname_certificates", "plan"]],
        required_one_of=[["hostname", "custom_hostname_id", "hostname_certificates", "plan"]],
        required_if=[["state", "present", ["certificates", "hostname_certificates", "plan"], True], ["state", "absent", ["key_type"]]],
        wildcard_options=("hostname",),  # Cloudflare for SaaS takes wildcard custom hostnames (unverified against the live API)
    )
    p = module.params
    if p["progress_interval"] < 0:
        module.fail_json(msg="progress_interval must be 0 (no progress lines) or a number of seconds, not %d" % p["progress_interval"])
    if p["hostname_certificates"] is None and p["plan"] is None:
        # Options of the list form only: the single form takes its passphrase per certificate, and returns its hostname.
        for name in ("private_key_passphrase", "discovered_hostnames", "dest", "progress", "progress_interval"):
            if p[name] not in (None, 0):
                module.fail_json(msg="%s is an option of the list form: set hostname_certificates or plan with it" % name)
    if p["hostname_certificates"] is not None or p["plan"] is not None:
        CustomHostnameCertList(module).run()
    else:
        CustomHostnameCert(module).run()


if __name__ == "__main__":
    main()
