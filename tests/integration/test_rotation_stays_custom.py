"""The role keeps what Cloudflare would keep: custom certificates stay custom, pairs go with force, priority 0 holds.

One rotation of a small zone, asserted on by one test per fact:
- two custom hostnames with custom certificates and a DCV method in their SSL configuration: one due, one an RSA and
  ECDSA pair due. A PATCH with a DCV method would move them to a Cloudflare certificate ("Manage custom certificates",
  "Move to a Cloudflare certificate"), so no PATCH may carry `method`, and the pair goes with `bundle_method: force`
  ("Use certificate packs: RSA and ECDSA");
- a zone custom certificate at the emulator's default priority (0 as newer schemas say, 20 as the 2024 document; the
  scenario runs with both), replaced by one for more hosts: the new one takes that priority (0 is a priority like any
  other, not a missing one), the old one the next number until it is deleted.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from emulator.testcerts import make_ca, make_leaf, write_files

# Role runs of many playbooks each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
SINGLE, PAIR = "single.customer.example", "pair.customer.example"
OLD_ZONE_HOSTS = ["example.com", "www.example.com"]
NEW_ZONE_HOSTS = ["example.com", "www.example.com", "api.example.com"]
SSL = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}


def hostname_patches(emulator: Any) -> List[Dict[str, Any]]:
    return [e["request_body"] for e in emulator.journal() if e["method"] == "PATCH" and "/custom_hostnames/" in e["path"]]


def stored_hostname(emulator: Any, hostname: str) -> Any:
    return next(h for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values() if h.hostname == hostname)


@pytest.fixture(scope="module", params=[0, 20], ids=["default_priority_0", "default_priority_20"])
def rotation(request, scenario_emulator, tmp_path_factory) -> SimpleNamespace:
    ca = make_ca("Certops Stays Custom CA")
    hosts = ["*.customer.example"]
    leaves = dict(
        due=make_leaf(ca, hosts, days=10, not_before_days=-80),
        due_rsa=make_leaf(ca, hosts, key_type="rsa", days=10, not_before_days=-80),
        new=make_leaf(ca, hosts, days=90),
        new_rsa=make_leaf(ca, hosts, key_type="rsa", days=90),
        zone_old=make_leaf(ca, OLD_ZONE_HOSTS, key_type="rsa", days=10, not_before_days=-80),
        zone_new=make_leaf(ca, NEW_ZONE_HOSTS, key_type="rsa", days=90),
    )
    files = write_files(tmp_path_factory.mktemp("stays-custom-pki"), leaves)
    emulator, ansible = scenario_emulator(default_priority=request.param)
    zone = emulator.zone_id
    emulator.state.add_custom_hostname(zone, SINGLE, ssl=SSL, certificates=[{"certificate": leaves["due"].chain_pem}])
    emulator.state.add_custom_hostname(zone, PAIR, ssl=SSL, certificates=[{"certificate": leaves[k].chain_pem} for k in ("due_rsa", "due")])
    old_zone_cert = emulator.state.add_custom_certificate(zone, certificate=leaves["zone_old"].chain_pem, type="sni_custom").id
    play_vars = dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[
            {"hostname": SINGLE, "certificates": [files["new"]]},
            {"hostname": PAIR, "certificates": [files["new_rsa"], files["new"]]},
        ],
        cert_rotation_zone_certs=[dict(files["zone_new"], type="sni_custom", replaces=old_zone_cert)],
        cert_rotation_report_dir=str(tmp_path_factory.mktemp("stays-custom-report")),
        cert_rotation_wait_timeout=60,
    )
    run = ansible.run_tasks(ROLE, play_vars=play_vars)
    zone_certs = list(emulator.state.zones[zone].custom_certs.values())
    prioritize = [e["request_body"] for e in emulator.journal() if e["method"] == "PUT" and e["path"].endswith("/custom_certificates/prioritize")]
    return SimpleNamespace(
        run=run,
        default_priority=request.param,
        leaves=leaves,
        patches=hostname_patches(emulator),
        single=stored_hostname(emulator, SINGLE),
        pair=stored_hostname(emulator, PAIR),
        old_zone_cert=old_zone_cert,
        zone_certs={c.id: c for c in zone_certs},
        prioritize=prioritize,
        served_zone=emulator.history.served("api.example.com", "rsa").fingerprint_sha256,
        violations=emulator.history.violations(),
    )


class TestARotationKeepsCustomCertificatesCustom:
    def test_the_rotation_succeeds(self, rotation):
        assert rotation.run.rc == 0, rotation.run.output[-3000:]

    def test_one_patch_per_rotated_hostname(self, rotation):
        assert len(rotation.patches) == 2

    def test_no_patch_carries_a_validation_method(self, rotation):
        assert [sorted(p["ssl"]) for p in rotation.patches if "method" in p["ssl"]] == []

    def test_the_pair_is_sent_with_bundle_method_force(self, rotation):
        (pair,) = [p["ssl"] for p in rotation.patches if "custom_cert_bundle" in p["ssl"]]
        assert (pair["bundle_method"], len(pair["custom_cert_bundle"])) == ("force", 2)

    def test_the_single_hostname_holds_its_new_custom_certificate(self, rotation):
        assert [c.info.fingerprint_sha256 for c in rotation.single.certs] == [rotation.leaves["new"].fingerprint_sha256]

    def test_the_pair_holds_its_new_custom_certificates(self, rotation):
        expected = sorted(rotation.leaves[k].fingerprint_sha256 for k in ("new_rsa", "new"))
        assert sorted(c.info.fingerprint_sha256 for c in rotation.pair.certs) == expected

    def test_no_hostname_ever_lacked_a_valid_certificate(self, rotation):
        assert rotation.violations == []


class TestAZoneCertificateKeepsItsPlaceAtPriorityZeroOrTwenty:
    def test_the_new_zone_certificate_takes_the_priority_of_the_one_it_replaces(self, rotation):
        (new,) = [c for c in rotation.zone_certs.values() if c.info.fingerprint_sha256 == rotation.leaves["zone_new"].fingerprint_sha256]
        assert new.priority == rotation.default_priority

    def test_the_replaced_one_went_to_the_next_number_before_it_was_deleted(self, rotation):
        (body,) = rotation.prioritize  # the new one already holds the default; only what changes is sent
        assert [item["priority"] for item in body["certificates"] if item["id"] == rotation.old_zone_cert] == [rotation.default_priority + 1]

    def test_the_replaced_zone_certificate_is_deleted(self, rotation):
        assert rotation.old_zone_cert not in rotation.zone_certs

    def test_the_edge_serves_the_new_zone_certificate(self, rotation):
        assert rotation.served_zone == rotation.leaves["zone_new"].fingerprint_sha256
