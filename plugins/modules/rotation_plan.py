#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: rotation_plan
short_description: Plan a certificate rotation of a Cloudflare zone from new material and the discovered state
version_added: 0.1.0
author: certops.cloudflare maintainers (@certops)
description:
  - Compares new certificates with the state the C(_info) modules discovered, checks everything on the controller,
    and returns the plan the role C(certops.cloudflare.cert_rotation) applies.
  - Use it to check new material and preview a rotation before any write; without new material the plan is an audit
    of the zone's certificates.
options:
  custom_hostnames:
    description:
      - The new certificates of custom hostnames, one entry per hostname.
    type: list
    elements: dict
    default: []
    suboptions:
      hostname:
        description: The custom hostname.
        type: str
        required: true
      certificates:
        description: One certificate, or one RSA and one ECDSA certificate.
        type: list
        elements: dict
        required: true
        suboptions:
          certificate:
            description:
              - The certificate in PEM format, leaf first, then its chain, instead of O(custom_hostnames[].certificates[].certificate_path).
              - Written to a file in O(material_dir) for the apply stage.
            type: str
          certificate_path:
            description: Path to the certificate in PEM format, leaf first, then its chain.
            type: path
          private_key:
            description:
              - Its private key in PEM format, instead of O(custom_hostnames[].certificates[].private_key_path). Written to a file (0600) in O(material_dir).
            type: str
          private_key_path:
            description: Path to its private key in PEM format.
            type: path
          private_key_passphrase:
            description:
              - Passphrase of an encrypted private key. The key is decrypted and written to O(material_dir) sealed with
                O(material_passphrase), which both must then be set (the role sets them).
            type: str
            version_added: 0.1.0
      drop_key_types:
        description:
          - Served key types to remove from the hostname with this rotation, for example V([rsa]) to serve ECDSA only.
            By default a served key type the new certificates do not have is kept.
          - A key type its new certificates have cannot be dropped. The drop goes with the rotation of the new
            certificates. While they are not due, the hostname keeps the key type to drop too.
        type: list
        elements: str
        choices: [rsa, ecdsa]
        default: []
        version_added: 0.1.0
  custom_hostnames_file:
    description:
      - Instead of O(custom_hostnames), the path of a file holding that list, as JSON or YAML, read where the module
        runs. Each entry is checked as O(custom_hostnames) would be, with certificates by path (C(certificate_path) and
        C(private_key_path)) or as content (C(certificate) and C(private_key), written to O(material_dir) as the
        option's are, the keys masked in the task's output), C(private_key_passphrase) and C(drop_key_types).
      - For zones of thousands of hostnames. Ansible templates and copies a list given as a variable in every task that
        uses it (about two seconds per task at 10,000 hostnames); a path costs nothing, and the module checks the
        entries itself, naming the entry and option of each problem.
    type: path
    version_added: 0.1.0
  client_certs:
    description:
      - New per-hostname authenticated origin pull client certificates, each with the hostnames it serves.
    type: list
    elements: dict
    default: []
    suboptions:
      certificate:
        description:
          - The certificate in PEM format, leaf first, then its chain, instead of O(client_certs[].certificate_path).
          - Written to a file in O(material_dir) for the apply stage.
        type: str
      certificate_path:
        description: Path to the certificate in PEM format, leaf first, then its chain.
        type: path
      private_key:
        description:
          - Its private key in PEM format, instead of O(client_certs[].private_key_path). Written to a file (0600) in O(material_dir).
        type: str
      private_key_path:
        description: Path to its private key in PEM format.
        type: path
      private_key_passphrase:
        description:
          - Passphrase of an encrypted private key, as for O(custom_hostnames[].certificates[].private_key_passphrase).
        type: str
        version_added: 0.1.0
      hostnames:
        description: The hostnames the certificate is associated with.
        type: list
        elements: str
        required: true
  origin_pull_cert:
    description:
      - The zone's new client certificate for zone-level authenticated origin pulls (one per zone). Planned like a client
        certificate; M(certops.cloudflare.origin_pull_cert) applies it, deleting the zone's other ones once it is active.
    type: dict
    version_added: 0.1.0
    suboptions:
      certificate:
        description:
          - The certificate in PEM format, instead of O(origin_pull_cert.certificate_path). Written to a file in O(material_dir).
        type: str
      certificate_path:
        description: Path to the certificate in PEM format.
        type: path
      private_key:
        description:
          - Its private key in PEM format, instead of O(origin_pull_cert.private_key_path). Written to a file (0600) in O(material_dir).
        type: str
      private_key_path:
        description: Path to its private key in PEM format.
        type: path
      private_key_passphrase:
        description:
          - Passphrase of an encrypted private key, as for O(custom_hostnames[].certificates[].private_key_passphrase).
        type: str
  zone_certs:
    description:
      - New zone custom certificates.
    type: list
    elements: dict
    default: []
    suboptions:
      certificate:
        description:
          - The certificate in PEM format, leaf first, then its chain, instead of O(zone_certs[].certificate_path).
          - Written to a file in O(material_dir) for the apply stage.
        type: str
      certificate_path:
        description: Path to the certificate in PEM format, leaf first, then its chain.
        type: path
      private_key:
        description:
          - Its private key in PEM format, instead of O(zone_certs[].private_key_path). Written to a file (0600) in O(material_dir).
        type: str
      private_key_path:
        description: Path to its private key in PEM format.
        type: path
      private_key_passphrase:
        description:
          - Passphrase of an encrypted private key, as for O(custom_hostnames[].certificates[].private_key_passphrase).
        type: str
        version_added: 0.1.0
      type:
        description: Type of a new upload (passed on to the apply step).
        type: str
        choices: [legacy_custom, sni_custom]
      bundle_method:
        description: How Cloudflare builds the chain (passed on to the apply step).
        type: str
        choices: [ubiquitous, optimal, force]
      priority:
        description: Priority of a new upload (passed on to the apply step).
        type: int
      replaces:
        description:
          - The zone certificate this one replaces, by id (a string) or by its hosts (a list). It must name exactly one.
          - When not set, the zone certificate with the same hosts as the new certificate, if any.
        type: raw
  cert_packs:
    description:
      - Certificate packs to keep healthy, each a list of hosts. Timed-out ones are restarted.
    type: list
    elements: list
    default: []
  discovered:
    description:
      - The zone's state as the C(_info) modules return it, under their result keys C(custom_hostnames)
        (M(certops.cloudflare.custom_hostname_cert_info)), C(hostname_client_certs) (M(certops.cloudflare.hostname_client_cert_info)),
        C(custom_certs) (M(certops.cloudflare.custom_cert_info)), C(cert_packs) (M(certops.cloudflare.cert_pack_info)) and
        C(origin_pull_certs) (M(certops.cloudflare.origin_pull_cert_info)).
      - Also taken as JSON text (C({{ ... | to_json }})). For a zone of thousands of hostnames that is much faster, since
        Ansible then copies and checks one string instead of every dictionary of the list.
      - C(custom_hostnames) may also be the path of the file
        O(certops.cloudflare.custom_hostname_cert_info#module:dest) wrote, which costs nothing to pass (the role does so).
    type: dict
    default: {}
  dest:
    description:
      - Also write the whole plan to this file, as JSON (an object with C(plan), C(problems), C(warnings) and C(summary)), mode
        C(0600), replaced whole; M(certops.cloudflare.custom_hostname_cert) applies it
        (O(certops.cloudflare.custom_hostname_cert#module:plan)) and M(certops.cloudflare.rotation_report) reports on it.
      - The task's RV(plan) then holds only the first 100 entries of each list that grows with the zone,
        RV(plan.objects), RV(plan.hostname_certificates), RV(plan.changes) and RV(plan.due_without_material);
        RV(plan.counts) says how many there are.
        Its objects leave out the identity facts of the new certificates, which the file keeps for the report.
        Ansible copies and checks every dictionary of a result, which takes seconds at 10,000 hostnames.
      - The lists that grow with the zone go to temporary files next to it as the plan grows, so the plan is never
        whole in memory; its directory must be writable.
      - Written in check mode too, and when the task fails on problems.
    type: path
    version_added: 0.1.0
  renew_before_days:
    description:
      - Rotate a certificate that expires within this many days.
      - With O(renew_before_percentage) too, the earlier moment wins. 30 days when neither is set.
    type: int
  renew_before_percentage:
    description:
      - Rotate a certificate once less than this share (in percent) of its lifetime remains, so short-lived
        certificates renew in time.
    type: int
  force:
    description:
      - Rotate whatever differs from the new material, due or not, a shorter-lived certificate included (the plan line
        then says V(shorter-lived than served (forced))), for example after a key compromise or to move to shorter lifetimes.
    type: bool
    default: false
  ca_path:
    description:
      - The trusted CA certificates the new custom hostname and zone certificates are verified against, a PEM file or a
        directory of PEM files, for a private CA. The same profile applies, except that the authority and subject key
        identifier extensions may be absent.
      - By default the CA bundle C(requests) uses.
    type: path
    version_added: 0.1.0
  replaced:
    description:
      - Certificates an earlier run of the role replaced and did not delete, as its report (RV(certops.cloudflare.rotation_report#module:replaced))
        or C(set_stats) lists them, each with C(kind) (V(client_cert) or V(zone_cert)) and C(id). Each one the zone still holds
        is deleted after the switch (a client certificate only once no hostname uses it), unless O(retire_replaced=false).
      - The plan carries them over in RV(plan.replaced) until they are gone.
    type: list
    elements: dict
    default: []
    version_added: 0.1.0
  previous_report:
    description:
      - The JSON report of an earlier run (C(rotation-report.json)), whose C(replaced) list adds to O(replaced). A file that
        does not exist adds nothing; one that cannot be read is a warning and adds nothing (nothing is deleted without proof).
    type: path
    version_added: 0.1.0
  retire:
    description:
      - Ids of client or zone certificates to delete on purpose once every switch is done, for example an unused standby
        the plan lists as kept. A client certificate some hostname still uses (and this plan does not switch away) is a
        problem. An id the zone does not hold is reported as deleted already.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  api_rate_limit:
    description:
      - The pace, in requests per second, the apply stage will run at (the other modules' O(certops.cloudflare.custom_hostname_cert#module:api_rate_limit)),
        for the estimate in RV(plan.estimate) only; this module makes no API call. V(0) means no pacing.
      - When not set, C(CLOUDFLARE_API_RATE_LIMIT), else 3.8 (Cloudflare's 1,200 requests per five minutes, less 5 %).
    type: float
    default: 3.8
    version_added: 0.1.0
  retire_replaced:
    description:
      - Delete the certificates this plan replaces and those O(replaced) names. When V(false) they are kept (action
        V(kept)) and still listed in RV(plan.replaced), so a later run may delete them. O(retire) applies either way.
    type: bool
    default: true
    version_added: 0.1.0
  revalidate:
    description: Plan to re-trigger validation of the custom hostnames whose SSL status is V(validation_timed_out).
    type: bool
    default: true
  material_dir:
    description:
      - A private directory (mode 0700) where certificates and keys given as content are written, one file each (mode
        0600), so the plan and the apply stage work on paths. Required when any is given as content.
      - The role creates it as a temporary directory and removes it at the end.
    type: path
  material_passphrase:
    description:
      - Private keys given as content are written encrypted (PKCS#8) with this passphrase, so a run killed before it
        can remove O(material_dir) leaves no key in clear behind. The apply stage passes the same passphrase.
      - The role makes a random one per run and keeps it only in memory.
      - Without it, keys given as content are written in clear (mode 0600).
    type: str
extends_documentation_fragment:
  - certops.cloudflare.attributes
  - certops.cloudflare.attributes.info_module
notes:
  - Each certificate and key is a file (C(_path)) or content; content is written to O(material_dir) and the plan
    names the files. It makes no API call and takes no credentials, so it is not in the action group
    C(certops.cloudflare.all).
  - Every new certificate is checked, each file once. Its PEM must parse, its key must match it, it must not be expired
    or not valid yet, an RSA key must have at least 2048 bits, it must cover its custom hostname, and it must expire after
    the certificate it replaces (new material that would not outlive what is served is refused, unless O(force=true)).
  - Custom hostname and zone certificates are verified as a browser would (the web-PKI profile of the Python library
    C(cryptography), version 45 or later), against O(ca_path) or else the CA bundle C(requests) uses (C(REQUESTS_CA_BUNDLE),
    else C(CURL_CA_BUNDLE), else C(certifi)). Names come from the subjectAltName extension only (browsers ignore the
    common name); a certificate without one, a self-signed one, a CA certificate or a chain that does not reach a
    trusted root is refused. A certificate sent with bundle_method V(force) must verify as uploaded. An RSA and ECDSA
    pair always is sent so, as is one added beside a certificate the hostname keeps, and a single one when the hostname's or
    O(zone_certs[].bundle_method) says so. With V(ubiquitous) or V(optimal) Cloudflare completes the chain, so a missing
    intermediate is a warning naming the missing issuer.
  - Client certificates (O(client_certs)) are not verified against a trust store. They must not be CA certificates, and
    an extended key usage, when present, must allow client authentication.
  - Key types are explicit. The key types of the new certificates of a custom hostname are rotated, each when its own
    served certificate is due; a key type not served yet is added beside the served one; a served key type the new
    material does not have is kept, unless O(custom_hostnames[].drop_key_types) names it.
  - A client or zone certificate is retired only with proof. The plan deletes one when this plan switches its
    hostnames away from it (or replaces it, for a zone certificate), when O(replaced) names it (an earlier run of the
    role replaced it and could not delete it), or when O(retire) lists its id. Any other unused client certificate, a
    standby for instance, is kept and listed (action V(kept)).
  - The zone must leave a slot for each new client certificate (10 per zone; V(pending_deletion) ones count), each
    O(zone_certs[].replaces) must name exactly one zone certificate, and each custom hostname must exist.
  - Every problem is listed, not only the first. With any problem the task fails with RV(problems) and the full RV(plan).
  - An object is rotated only when what is served differs from the new material and it is due (it expires within the
    renewal window) or O(force=true). A custom hostname with no custom certificate yet, or a client certificate for
    hostnames with none, gets a first upload. Identical material is up to date; anything else is skipped with the reason.
  - The lifetime used by O(renew_before_percentage) starts at the served certificate's C(not_before) when the
    discovered state holds it (custom hostnames and client certificates, from the PEM Cloudflare returns),
    else at its C(uploaded_on) (zone custom certificates; unverified against the live API, and a certificate uploaded
    long after its notBefore looks younger than it is). With neither, only O(renew_before_days) applies.
  - Listed certificate packs that are not found are reported (action V(missing)), not a problem; the role never orders packs.
  - Every plan is also an audit of the discovered state, and a plan with no new material at all is only that. Each custom
    hostname that serves custom certificates and has no entry in O(custom_hostnames), each client certificate some
    hostname uses that gets no new material for all of its hostnames, and each zone certificate no O(zone_certs) entry
    targets is listed in RV(plan.due_without_material) (action V(due), not a change) when its certificate is within the
    renewal window, O(force) aside. Managed hostname certificates and certificate packs are never due there, since
    Cloudflare renews them. RV(plan.audit) counts every certificate by the days it has left and lists what is not active.
  - The module reads the certificate and key files where it runs (the controller, in the role). No key material appears
    in its result.
seealso:
  - module: certops.cloudflare.custom_hostname_cert
  - module: certops.cloudflare.custom_hostname_cert_info
  - module: certops.cloudflare.hostname_client_cert_info
  - module: certops.cloudflare.custom_cert_info
  - module: certops.cloudflare.cert_pack_info
"""

EXAMPLES = r"""
- name: Discover the zone's custom hostnames
  certops.cloudflare.custom_hostname_cert_info:
    zone: example.com
  register: hostnames

- name: Discover the zone's client certificates
  certops.cloudflare.hostname_client_cert_info:
    zone: example.com
  register: client_certs

- name: Plan the rotation
  certops.cloudflare.rotation_plan:
    custom_hostnames:
      - hostname: app.customer.com
        certificates:
          - certificate_path: /secure/app.customer.com.pem
            private_key_path: /secure/app.customer.com.key
    client_certs:
      - certificate_path: /secure/origin-client.pem
        private_key_path: /secure/origin-client.key
        hostnames: [app.example.com]
    discovered:
      custom_hostnames: "{{ hostnames.custom_hostnames }}"
      hostname_client_certs: "{{ client_certs.hostname_client_certs }}"
    renew_before_days: 30
    renew_before_percentage: 33
  register: rotation

- name: Apply the custom hostname part with the list form
  certops.cloudflare.custom_hostname_cert:
    zone: example.com
    hostname_certificates: "{{ rotation.plan.hostname_certificates }}"
  when: rotation.plan.hostname_certificates | length > 0
"""

RETURN = r"""
plan:
  description: The plan, also returned when the task fails on problems.
  returned: always
  type: dict
  contains:
    objects:
      description:
        - One entry per object, each with C(kind) (V(custom_hostname), V(client_cert), V(zone_cert), V(cert_pack),
          V(managed_hostname), or V(certificate) for an id of O(retire) the zone does not hold), C(name), C(action)
          (V(rotate), V(upload), V(up_to_date), V(pending) for a custom hostname that already holds its new certificates
          but is still deploying them (SSL status V(pending_deployment), after an earlier run's wait timed out; listed in
          RV(plan.hostname_certificates) so that the apply task waits for it without writing), V(skipped), V(restart),
          V(revalidate), V(missing), V(retire) for a certificate deleted with proof, V(kept) for an unused one kept, or
          V(due) for one due with no new material, see RV(plan.due_without_material)), C(reason), C(old) and C(new) (each
          C(serial_number), C(fingerprint_sha256), C(expires_on), or V(null)).
        - A client certificate's entry has C(replaces), the ids of the certificates its switch frees.
        - A custom hostname's entry has C(key_types) (those that change), C(new_fingerprints) and C(drop_key_types);
          its C(reason) names what is added beside what, what is kept and what is dropped.
        - For a pair of certificates, C(old) and C(new) show the one that expires first.
        - With O(dest), the first 100 only.
      type: list
      elements: dict
      sample: [{"kind": "custom_hostname", "name": "app.customer.com", "action": "skipped", "reason": "not due: expires in 60 days, window 30 days",
                "old": {"serial_number": "12", "fingerprint_sha256": "3f1c", "expires_on": "2027-01-29T10:00:00Z"},
                "new": {"serial_number": "13", "fingerprint_sha256": "9a2b", "expires_on": "2027-04-01T10:00:00Z"}, "key_types": ["ecdsa"]}]
    changes:
      description:
        - One line per object to change, for people to read; the same facts as RV(plan.objects).
        - With O(dest), the first 100 only.
      type: list
      elements: str
      sample: ["rotate custom hostname app.customer.com: due: expires on 2026-12-20T10:00:00Z [12 (2026-12-20T10:00:00Z) -> 13 (2027-03-01T10:00:00Z)]"]
    hostname_certificates:
      description:
        - For O(certops.cloudflare.custom_hostname_cert#module:hostname_certificates), the hostnames to change only, each
          with the certificates of the key types that change and C(exclusive) (V(true) only when a key type is dropped),
          and the hostnames whose action is V(pending), each with all its new certificates (nothing is written for them;
          the apply task waits until they are live).
        - With O(dest), the first 100 only.
      type: list
      elements: dict
      sample: [{"hostname": "app.customer.com", "certificates": [{"certificate_path": "/secure/app.pem", "private_key_path": "/secure/app.key"}],
                "exclusive": false}]
    counts:
      description:
        - How many entries RV(plan.objects), RV(plan.hostname_certificates), RV(plan.changes) and RV(plan.due_without_material)
          have, also with O(dest).
      type: dict
      sample: {"objects": 10000, "hostname_certificates": 9800, "changes": 9800, "due_without_material": 12}
    due_without_material:
      description:
        - The discovered objects due within the renewal window (O(force) aside) for which no new material was given,
          each with C(kind) (V(custom_hostname), V(client_cert) or V(zone_cert)), C(name), C(id) and C(expires_on).
        - A custom hostname not in O(custom_hostnames) is due when the custom certificate it serves that expires first is
          due. A client certificate counts when some hostname uses it, it is not the new material, and not all of its
          hostnames get new material. A zone certificate counts when no O(zone_certs) entry targets it, this plan does not
          retire it, and no earlier run replaced it (O(replaced)). An object whose expiry is unknown is not listed.
        - Each one is also in RV(plan.objects), with action V(due), the served certificate as C(old), and a reason that
          gives its expiry (and says when it has expired already).
        - With O(dest), the first 100 only.
      type: list
      elements: dict
      sample: [{"kind": "custom_hostname", "name": "app.customer.com", "id": "0d89c70d-ad9f-4843-b99f-6cc0252067e9", "expires_on": "2026-12-20T10:00:00Z"}]
      version_added: 0.1.0
    audit:
      description:
        - The state of every discovered object, those with new material included.
      type: dict
      version_added: 0.1.0
      contains:
        buckets:
          description:
            - Per kind (V(custom_hostname), each custom certificate it serves; V(client_cert); V(zone_cert)), how many
              certificates have expired and how many expire in under 7, under 30 and under 90 days or later. Certificates
              deleted or pending deletion and those whose expiry is unknown are not counted. A kind not discovered is absent.
          type: dict
          sample: {"custom_hostname": {"expired": 0, "under_7": 1, "under_30": 4, "under_90": 9000, "later": 10},
                   "zone_cert": {"expired": 0, "under_7": 0, "under_30": 1, "under_90": 0, "later": 1}}
        not_active:
          description:
            - The custom hostnames whose SSL status is not V(active), each with C(kind) (V(custom_hostname) when it serves
              a custom certificate, else V(managed_hostname)), C(name), C(id) and C(status) (the SSL status), and the
              certificate packs whose status is not V(active) (C(kind) V(cert_pack), C(name) its hosts), those deleted
              or pending deletion aside.
          type: list
          elements: dict
          sample: [{"kind": "managed_hostname", "name": "new.customer.com", "id": "5e3c1f7a", "status": "pending_validation"}]
        due_without_material_count:
          description: How many entries RV(plan.due_without_material) has.
          type: int
          sample: 12
    client_cert_steps:
      description:
        - Client certificates to apply, new before old, each with C(certificate_path), C(private_key_path), C(hostnames),
          C(fingerprint_sha256), C(upload) (false when it is uploaded already) and C(retire) (ids to detach and delete afterwards).
      type: list
      elements: dict
    zone_cert_steps:
      description:
        - Zone certificates to apply, each with C(certificate_path), C(private_key_path), C(type), C(bundle_method), C(priority)
          and C(mode) V(edit) (with C(id), same hosts, edit in place), V(replace) (upload, give it C(new_priority) and
          C(above) the next number, then delete C(retire)) or V(upload). C(new_priority) is C(priority) when given, else
          the priority of the certificate it replaces; 0 is a priority like any other.
      type: list
      elements: dict
    origin_pull_steps:
      description:
        - The zone's origin pull certificate to apply (none or one), with C(certificate_path), C(private_key_path),
          C(fingerprint_sha256) and C(replaces), the ids M(certops.cloudflare.origin_pull_cert) deletes once it is active.
      type: list
      elements: dict
      version_added: 0.1.0
    retire_client_certs:
      description:
        - Ids of the client certificates to detach and delete once everything is switched, with proof. Those are the ones this plan
          switches the hostnames away from, those O(replaced) names, and those O(retire) lists.
      type: list
      elements: str
    estimate:
      description:
        - What the apply stage will cost, at least. C(calls), the API calls it makes (one write per custom hostname and
          a pass of list pages for their wait, a few calls per other step); C(rate), O(api_rate_limit); C(seconds), how
          long those calls take at least (the pacer lets one five-minute window's count through at once, then each further
          count one window later; an answer takes about a quarter of a second, unverified against the live API); and
          C(text), one line saying so.
      type: dict
      version_added: 0.1.0
      sample: {"calls": 10401, "rate": 3.8, "seconds": 2700,
               "text": "The apply stage makes about 10401 API calls: about 45 minutes at 3.8 requests per second."}
    retire_zone_certs:
      description: Ids of the zone certificates to delete once everything is switched, with the same proof.
      type: list
      elements: str
      version_added: 0.1.0
    replaced:
      description:
        - The certificates this plan replaces and those of O(replaced) the zone still holds, each with C(kind), C(id),
          C(hosts), C(expires_on) and C(replaced_by); M(certops.cloudflare.rotation_report) keeps those still there after
          the run, for the next one.
      type: list
      elements: dict
      version_added: 0.1.0
    restart_cert_packs:
      description: Ids of the listed certificate packs in a timed-out status.
      type: list
      elements: str
    revalidate_hostnames:
      description: Custom hostnames in V(validation_timed_out) (empty with O(revalidate=false)).
      type: list
      elements: str
problems:
  description: Every problem found, each naming its object. The task fails when there is any.
  returned: always
  type: list
  elements: str
  sample: ["custom hostname app.customer.com: /secure/app.pem: it expired on 2026-01-01T00:00:00Z"]
warnings:
  description:
    - What may be wrong but does not stop the plan, which Ansible shows as warnings, such as a certificate whose chain
      lacks its issuer, sent with bundle_method V(ubiquitous) or V(optimal) (Cloudflare completes the chain), or the
      objects due without new material.
    - The first 20, then a line counting the others; with O(dest) the file holds them all.
  returned: always
  type: list
  elements: str
  version_added: 0.1.0
summary:
  description: Counts of objects per action, C(total) and C(problems).
  returned: always
  type: dict
  sample: {"total": 22, "problems": 0, "rotate": 5, "upload": 1, "up_to_date": 14, "pending": 0, "skipped": 2, "restart": 0, "revalidate": 0,
           "missing": 0, "retire": 0, "kept": 1, "due": 0}
"""

from typing import Any, Dict, List

from ansible.module_utils.basic import env_fallback, missing_required_lib

from ansible_collections.certops.cloudflare.plugins.module_utils._base import MATERIAL_RULES, InputError, NamingModule, check_inputs, material_argument_spec
from ansible_collections.certops.cloudflare.plugins.module_utils._client import DEFAULT_RATE_LIMIT
from ansible_collections.certops.cloudflare.plugins.module_utils._pacer import duration_text, estimated_seconds
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CRYPTOGRAPHY_IMPORT_ERROR, HAS_CRYPTOGRAPHY, KEY_TYPES
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import (
    JsonSpool,
    read_compact_zone_state,
    read_entries_file,
    scan_replaced,
    write_json_spooled,
    write_material,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import first, plan_rotation

# Each certificate comes as files or as content; content, and keys given with their own passphrase, are written to
# material_dir with keys sealed by material_passphrase, so the plan names files and the apply stage needs one passphrase.
PATHS = material_argument_spec()
SHOWN_WARNINGS = 20

# Entries of each long list in the result with dest (the play shows the changes): a registered result stays far under
# 200 KB at any zone size. The file holds every entry, and each object's identity facts, which the result leaves out.
SHOWN = 100
IDENTITY_KEYS = ("new_certificates", "new_certificate", "new_identity")


def trim(plan: Dict[str, Any]) -> None:
    """The returned plan with the first entries of the lists that grow with the zone (they are whole in the file)."""
    for key in plan["counts"]:
        plan[key] = first(plan[key], SHOWN)
    plan["objects"] = [{k: v for k, v in obj.items() if k not in IDENTITY_KEYS} for obj in plan["objects"]]


def planned(params: Dict[str, Any], spools: List[JsonSpool]) -> Dict[str, Any]:
    """plan_rotation; with dest, each list that grows with the zone goes to a temporary file next to dest as it grows,
    keeping its first SHOWN entries for the result (write_json_spooled then puts it in the file): never whole in memory."""
    if params["dest"] is None:
        return plan_rotation(params)

    def spool(_key: str) -> JsonSpool:
        spools.append(JsonSpool(params["dest"], "dest", keep=SHOWN))
        return spools[-1]

    return plan_rotation(params, lists=spool)


def main() -> None:
    spec = dict(
        custom_hostnames_file=dict(type="path"),
        custom_hostnames=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                hostname=dict(type="str", required=True),
                certificates=dict(type="list", elements="dict", required=True, options=PATHS, **MATERIAL_RULES),
                drop_key_types=dict(type="list", elements="str", choices=list(KEY_TYPES), default=[]),
            ),
        ),
        client_certs=dict(
            type="list", elements="dict", default=[], options=dict(PATHS, hostnames=dict(type="list", elements="str", required=True)), **MATERIAL_RULES
        ),
        origin_pull_cert=dict(type="dict", options=PATHS, **MATERIAL_RULES),
        zone_certs=dict(
            type="list",
            elements="dict",
            default=[],
            options=dict(
                PATHS,
                type=dict(type="str", choices=["legacy_custom", "sni_custom"]),
                bundle_method=dict(type="str", choices=["ubiquitous", "optimal", "force"]),
                priority=dict(type="int"),
                replaces=dict(type="raw"),
            ),
            **MATERIAL_RULES,
        ),
        cert_packs=dict(type="list", elements="list", default=[]),
        discovered=dict(type="dict", default={}),
        dest=dict(type="path"),
        renew_before_days=dict(type="int"),
        renew_before_percentage=dict(type="int"),
        force=dict(type="bool", default=False),
        revalidate=dict(type="bool", default=True),
        material_dir=dict(type="path"),
        material_passphrase=dict(type="str", no_log=True),
        ca_path=dict(type="path"),
        replaced=dict(type="list", elements="dict", default=[]),
        previous_report=dict(type="path"),
        retire=dict(type="list", elements="str", default=[]),
        retire_replaced=dict(type="bool", default=True),
        api_rate_limit=dict(type="float", default=DEFAULT_RATE_LIMIT, fallback=(env_fallback, ["CLOUDFLARE_API_RATE_LIMIT"])),
    )
    # No API call and no credentials: no build_module (it would add the auth options).
    module = NamingModule(argument_spec=spec, supports_check_mode=True)
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(CRYPTOGRAPHY_IMPORT_ERROR))
    p = module.params
    spools: List[JsonSpool] = []
    try:
        if p["custom_hostnames_file"] is not None:
            if p["custom_hostnames"]:
                raise InputError("custom_hostnames and custom_hostnames_file are mutually exclusive: give the list one way")
            # The entries as custom_hostnames takes them: paths, or content (written to material_dir like the option's).
            p["custom_hostnames"] = read_entries_file(p["custom_hostnames_file"], spec["custom_hostnames"]["options"], module.no_log_values)
        check_inputs(module, spec, p, frozenset(("hostname", "hostnames")))
        if p["renew_before_days"] is not None and p["renew_before_days"] < 0:
            raise InputError("renew_before_days must be 0 or more days, not %s" % p["renew_before_days"])
        if p["renew_before_percentage"] is not None and not 0 < p["renew_before_percentage"] < 100:
            raise InputError("renew_before_percentage must be between 1 and 99 (percent of the lifetime), not %s" % p["renew_before_percentage"])
        replaces = [z["replaces"] for z in p["zone_certs"] if z.get("replaces") is not None]
        for value in replaces:
            if not (isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(h, str) for h in value))):
                raise InputError("zone_certs[].replaces must be a zone certificate id or a list of its hosts, not %r" % (value,))
        write_material(p)
        # Of each discovered custom hostname, only what the planner reads (files.compact_hostname), read as it goes.
        p["discovered"] = read_compact_zone_state(p["discovered"], "discovered")
        unread = None
        if p["previous_report"] is not None:
            earlier, unread = scan_replaced(p["previous_report"])
            p["replaced"] = p["replaced"] + earlier
        result = planned(p, spools)
        if unread:
            result["warnings"].insert(0, unread)
        estimate = result["plan"]["estimate"]
        seconds = estimated_seconds(estimate["calls"], p["api_rate_limit"])
        estimate.update(rate=p["api_rate_limit"], seconds=int(round(seconds)))
        estimate["text"] = "The apply stage makes about %d API calls: %s at %s." % (
            estimate["calls"],
            duration_text(seconds) if estimate["calls"] else "nothing to do",
            "%g requests per second" % p["api_rate_limit"] if p["api_rate_limit"] else "no pacing",
        )
        if p["dest"] is not None:
            write_json_spooled(p["dest"], result, "dest")
            trim(result["plan"])
        # Ansible shows a result's `warnings` as warnings (calling module.warn too would show each twice): the first ones.
        more = len(result["warnings"]) - SHOWN_WARNINGS
        if more > 0:
            result["warnings"] = result["warnings"][:SHOWN_WARNINGS] + ["... and %d more warnings%s" % (more, ": see the plan file" if p["dest"] else "")]
    except InputError as exc:
        module.fail_json(msg=str(exc))
    finally:
        for spool in spools:
            spool.close()
    # The discovered state and the material lists can hold 10,000 entries: not echoed back, so the result stays small.
    result["invocation"] = {
        "module_args": dict(p, discovered="not repeated here", custom_hostnames="%d entries, not repeated here" % len(p["custom_hostnames"]))
    }
    if result["problems"]:
        count = len(result["problems"])
        module.fail_json(
            msg="Rotation planning found %d problem%s; nothing was written: %s" % (count, "" if count == 1 else "s", "; ".join(result["problems"])), **result
        )
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
