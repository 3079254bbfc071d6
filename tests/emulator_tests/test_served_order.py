"""Which certificate is served: history.served(), the one model the edge and the violation check use.

Cloudflare's "Certificate and hostname priority" (https://developers.cloudflare.com/ssl/reference/certificate-and-hostname-priority/):
hostname specificity, zone specificity, type, then (where this sits is unverified) the priority number, the latest
expiry, and the newest upload.
"""

from __future__ import annotations

import time

import pytest

from .conftest import Api
from .test_edge import fingerprint

WWW = "www.example.com"


def zone_cert(emu, cert, kind="sni_custom", priority=20):
    return emu.state.add_custom_certificate(emu.zone_id, cert.chain_pem, private_key=cert.key_pem, type=kind, priority=priority)


def served_id(emu, hostname=WWW, key_type=None):
    return emu.history.served(hostname, key_type).object_id


def test_an_exact_name_wins_over_a_wildcard(emulator, leaf):
    wildcard = zone_cert(emulator, leaf(["*.example.com"]), kind="legacy_custom", priority=1)
    exact = zone_cert(emulator, leaf([WWW]), kind="sni_custom", priority=50)
    assert served_id(emulator) == exact.id
    assert served_id(emulator, "api.example.com") == wildcard.id


def test_custom_legacy_wins_over_custom_modern(emulator, leaf):
    zone_cert(emulator, leaf([WWW]), kind="sni_custom", priority=1)
    legacy = zone_cert(emulator, leaf([WWW]), kind="legacy_custom", priority=30)
    assert served_id(emulator) == legacy.id


def test_a_zone_certificate_for_the_name_wins_over_the_custom_hostname_certificate(emulator, leaf):
    hostname = emulator.state.add_custom_hostname(emulator.zone_id, WWW, certificates=[{"certificate": leaf([WWW]).chain_pem}])
    assert served_id(emulator) == hostname.id
    zone = zone_cert(emulator, leaf([WWW]), kind="sni_custom")
    assert emulator.history.served(WWW).source == "zone_custom" and served_id(emulator) == zone.id


def test_a_custom_hostname_certificate_wins_over_a_zone_wildcard(emulator, leaf):
    zone_cert(emulator, leaf(["*.example.com"]), kind="legacy_custom", priority=1)
    hostname = emulator.state.add_custom_hostname(emulator.zone_id, WWW, certificates=[{"certificate": leaf([WWW]).chain_pem}])
    assert emulator.history.served(WWW).source == "custom_hostname" and served_id(emulator) == hostname.id


def test_a_zone_certificate_in_another_zone_does_not_count(emulator, leaf):
    emulator.state.add_zone("tenant.test")
    hostname = emulator.state.add_custom_hostname(emulator.zone_id, "shop.tenant.test", certificates=[{"certificate": leaf(["shop.tenant.test"]).chain_pem}])
    zone_cert(emulator, leaf(["shop.tenant.test"]))  # uploaded to example.com, which does not hold the name
    assert served_id(emulator, "shop.tenant.test") == hostname.id


def test_the_lower_priority_number_wins(emulator, leaf):
    first = zone_cert(emulator, leaf([WWW], days=30), priority=1)
    zone_cert(emulator, leaf([WWW], days=300), priority=2)
    assert served_id(emulator) == first.id


def test_the_later_expiry_wins_among_equals(emulator, leaf):
    zone_cert(emulator, leaf([WWW], days=300))
    later = zone_cert(emulator, leaf([WWW], days=301))
    zone_cert(emulator, leaf([WWW], days=299))
    assert served_id(emulator) == later.id


def test_the_newest_upload_is_the_last_tie_break(emulator, leaf):
    same = leaf([WWW])
    zone_cert(emulator, same)
    time.sleep(0.01)
    newer = zone_cert(emulator, same)
    assert served_id(emulator) == newer.id


def test_the_key_type_asked_for_comes_after_the_order(emulator, leaf):
    rsa = zone_cert(emulator, leaf([WWW], key_type="rsa"), priority=5)
    ecdsa = zone_cert(emulator, leaf([WWW]), priority=1)
    assert served_id(emulator, key_type="rsa") == rsa.id and served_id(emulator, key_type="ecdsa") == ecdsa.id
    assert served_id(emulator) == ecdsa.id


def test_the_edge_and_the_violation_check_use_the_same_order(emulator, leaf):
    emulator.start_edge()
    zone_cert(emulator, leaf(["*.example.com"]), kind="legacy_custom", priority=1)
    exact = leaf([WWW], days=300)
    zone_cert(emulator, exact, kind="sni_custom", priority=50)
    assert fingerprint(emulator.edge_port, WWW) == exact.fingerprint_sha256
    assert emulator.history.violations() == []


def test_an_expired_exact_certificate_falls_back_to_the_wildcard(emulator, leaf):
    wildcard = zone_cert(emulator, leaf(["*.example.com"]), kind="legacy_custom")
    emulator.state.add_custom_certificate(emulator.zone_id, leaf([WWW], days=-1, not_before_days=-90).chain_pem, type="sni_custom", status="expired")
    assert served_id(emulator) == wildcard.id


# -- the default priority of a new zone custom certificate -------------------------------------------------------------


def upload_priority(emu, cert):
    api = Api(emu)
    return api.post(api.zone("custom_certificates"), {"certificate": cert.chain_pem, "private_key": cert.key_pem})["result"]["priority"]


def test_the_default_priority_is_20(emulator, leaf):
    assert upload_priority(emulator, leaf([WWW])) == 20


@pytest.mark.emulator(default_priority=0)
def test_the_default_priority_can_be_0(emulator, leaf):
    assert upload_priority(emulator, leaf([WWW])) == 0
    assert zone_cert(emulator, leaf(["api.example.com"]), priority=0).priority == 0


def test_emulator_default_priority_sets_it(monkeypatch, emulator_factory, leaf):
    monkeypatch.setenv("EMULATOR_DEFAULT_PRIORITY", "0")
    emu = emulator_factory()
    assert upload_priority(emu, leaf([WWW])) == 0
    assert emu.state.add_custom_certificate(emu.zone_id, leaf(["api.example.com"]).chain_pem).priority == 0  # seeds too


@pytest.mark.emulator(default_priority=0)
def test_an_sni_custom_patch_gets_the_default_priority(emulator, leaf):
    api = Api(emulator)
    cert = leaf([WWW])
    created = api.post(api.zone("custom_certificates"), {"certificate": cert.chain_pem, "private_key": cert.key_pem, "type": "sni_custom"})["result"]
    api.put(api.zone("custom_certificates/prioritize"), {"certificates": [{"id": created["id"], "priority": 7}]})
    patched = api.patch(api.zone("custom_certificates/" + created["id"]), {"bundle_method": "force"})["result"]
    assert patched["id"] != created["id"] and patched["priority"] == 0
