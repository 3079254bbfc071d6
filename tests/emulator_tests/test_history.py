"""The one model of what is served, `served(hostname, key_type, at)`, and the history's `violations()` over time.

Time is a fake clock on the emulator's state, so pending periods and expiries are stepped, not slept.
"""

from __future__ import annotations

import time

import pytest

from .conftest import Api

DELAY = 10.0  # seconds a pending status lasts
DAY = 86400.0
HOST = "app.example.com"


class Clock:
    """Replaces state.now; `advance(seconds)` moves it on."""

    def __init__(self, state) -> None:
        self.t = time.time()
        state.now = lambda: self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


@pytest.fixture
def emu(emulator_factory):
    return emulator_factory(delay=DELAY)


@pytest.fixture
def clock(emu):
    return Clock(emu.state)


@pytest.fixture
def api(emu):
    return Api(emu)


def served(emu, hostname, key_type=None, at=None):
    return emu.history.served(hostname, key_type, at)


# -- custom hostnames ---------------------------------------------------------------------------


def test_custom_hostname_serves_the_old_certificate_of_each_key_type_while_the_new_one_is_pending(emu, clock, api, leaf):
    rsa, old_ec, new_ec = leaf(key_type="rsa"), leaf(), leaf()
    created = emu.state.add_custom_hostname(emu.zone_id, HOST, certificates=[{"certificate": rsa.chain_pem}, {"certificate": old_ec.chain_pem}])
    before = clock.advance(1)
    bundle = [{"custom_certificate": new_ec.chain_pem, "custom_key": new_ec.key_pem}]
    api.patch(api.zone("custom_hostnames/" + created.id), {"ssl": {"type": "dv", "bundle_method": "force", "custom_cert_bundle": bundle}})
    pending = clock.advance(DELAY / 2)
    assert api.get(api.zone("custom_hostnames/" + created.id))["result"]["ssl"]["status"] == "pending_deployment"
    assert served(emu, HOST, "ecdsa").fingerprint_sha256 == old_ec.fingerprint_sha256  # the old one is served while the new one is pending_deployment
    assert served(emu, HOST, "rsa").fingerprint_sha256 == rsa.fingerprint_sha256
    clock.advance(DELAY)
    now = served(emu, HOST, "ecdsa")
    assert (now.source, now.fingerprint_sha256, now.key_type, now.hosts) == ("custom_hostname", new_ec.fingerprint_sha256, "ecdsa", [HOST])
    assert now.object_id == created.id and now.not_after == new_ec.cert.not_valid_after_utc.timestamp()
    assert served(emu, HOST, "rsa").fingerprint_sha256 == rsa.fingerprint_sha256
    assert served(emu, HOST, "ecdsa", at=before).fingerprint_sha256 == old_ec.fingerprint_sha256
    assert served(emu, HOST, "ecdsa", at=pending).fingerprint_sha256 == old_ec.fingerprint_sha256
    assert emu.history.violations() == []


def test_a_hostname_with_one_key_type_serves_it_to_every_client(emu, clock, leaf):
    only_rsa = leaf(key_type="rsa")
    emu.state.add_custom_hostname(emu.zone_id, HOST, certificates=[{"certificate": only_rsa.chain_pem}])
    assert served(emu, HOST, "ecdsa").fingerprint_sha256 == served(emu, HOST, "rsa").fingerprint_sha256 == only_rsa.fingerprint_sha256
    assert served(emu, HOST).fingerprint_sha256 == only_rsa.fingerprint_sha256


def test_managed_and_unknown_hostnames(emu, clock):
    emu.state.add_custom_hostname(emu.zone_id, "shop.example.com", ssl={"status": "active"})
    assert served(emu, "shop.example.com", "rsa").source == "managed" and served(emu, "shop.example.com").fingerprint_sha256 is None
    assert served(emu, "nothing.example.com", "rsa").source == "none" and served(emu, "nothing.example.com").hosts == []
    assert emu.history.violations() == []


def test_custom_hostname_certificate_expiring_while_served_is_a_violation(emu, clock, leaf):
    emu.state.add_custom_hostname(emu.zone_id, HOST, certificates=[{"certificate": leaf(days=1).chain_pem}])
    clock.advance(DAY / 2)
    assert emu.history.violations() == []
    clock.advance(DAY)
    problems = emu.history.violations()
    assert len(problems) == 1 and problems[0].startswith(HOST + " from ") and "expired" in problems[0]


# -- zone custom certificates ---------------------------------------------------------------------


def upload(api, cert, **options):
    return api.post(api.zone("custom_certificates"), dict(options, certificate=cert.chain_pem, private_key=cert.key_pem))["result"]


ZONE_HOSTS = ["example.com", "www.example.com"]


def test_zone_certificate_replaced_new_uploaded_prioritised_old_deleted_is_valid(emu, clock, api, leaf):
    old = emu.state.add_custom_certificate(emu.zone_id, mint={"hosts": ZONE_HOSTS, "key_type": "rsa", "days": 20}, type="sni_custom", priority=1)
    new_pem = leaf(ZONE_HOSTS, key_type="rsa")
    new = upload(api, new_pem, type="sni_custom")
    clock.advance(DELAY / 2)
    assert served(emu, "www.example.com", "rsa").fingerprint_sha256 == old.info.fingerprint_sha256  # the new one is pending
    clock.advance(DELAY)
    assert served(emu, "www.example.com", "rsa").object_id == old.id  # active, but priority 20 ranks after 1
    before = clock.advance(1)
    clock.advance(1)
    api.put(api.zone("custom_certificates/prioritize"), {"certificates": [{"id": new["id"], "priority": 1}, {"id": old.id, "priority": 2}]})
    clock.advance(1)
    now = served(emu, "www.example.com", "rsa")
    assert (now.source, now.object_id, now.fingerprint_sha256) == ("zone_custom", new["id"], new_pem.fingerprint_sha256)
    api.delete(api.zone("custom_certificates/" + old.id))
    clock.advance(DAY)
    assert served(emu, "example.com", "ecdsa").object_id == new["id"]
    assert served(emu, "www.example.com", "rsa", at=before).object_id == old.id
    assert emu.history.violations() == []
    spans = emu.history.segments("www.example.com", kind="zone_custom")
    assert [(s["cert_id"], s["priority"]) for s in spans] == [(old.id, 1), (new["id"], 20), (new["id"], 1), (old.id, 2)]
    assert spans[-1]["end"] is not None and spans[-2]["end"] is None  # the old one ended when deleted


def test_zone_certificate_deleted_before_its_replacement_is_a_violation(emu, clock, api, leaf):
    old = emu.state.add_custom_certificate(emu.zone_id, mint={"hosts": ZONE_HOSTS, "days": 20})
    clock.advance(1)
    api.delete(api.zone("custom_certificates/" + old.id))
    clock.advance(5)
    assert served(emu, "example.com", "ecdsa").source == "none"
    upload(api, leaf(ZONE_HOSTS))
    clock.advance(DELAY * 2)
    problems = emu.history.violations()
    assert sorted(p.split(" ")[0] for p in problems) == ZONE_HOSTS
    assert all("served no valid certificate" in p for p in problems)
    with pytest.raises(AssertionError, match="lacked a valid certificate"):
        emu.history.assert_valid()


def test_zone_certificate_choice_type_priority_key_type_expiry_and_zone(emu, clock, leaf):
    add = emu.state.add_custom_certificate
    legacy = add(emu.zone_id, mint={"hosts": ["*.example.com"], "key_type": "rsa", "days": 2}, type="legacy_custom", priority=9)
    sni_first = add(emu.zone_id, mint={"hosts": ["*.example.com"], "key_type": "rsa", "days": 30}, type="sni_custom", priority=1)
    sni_ecdsa = add(emu.zone_id, mint={"hosts": ["*.example.com"], "key_type": "ecdsa", "days": 30}, type="sni_custom", priority=5)
    add(emu.zone_id, mint={"hosts": ["*.example.com"], "key_type": "rsa", "days": 30}, type="sni_custom", priority=3)
    add(emu.zone_id, mint={"hosts": ["other.test"], "days": 30}, type="sni_custom", priority=1)
    assert served(emu, "www.example.com", "rsa").object_id == legacy.id  # legacy_custom before sni_custom ("Re-prioritize SSL Certificates")
    assert served(emu, "www.example.com", "ecdsa").object_id == sni_ecdsa.id  # the key type asked for, when there is one
    assert served(emu, "other.test", "rsa").source == "none"  # not a hostname of the zone
    assert served(emu, "a.b.example.com", "rsa").source == "none"  # a wildcard covers one label
    clock.advance(3 * DAY)
    assert served(emu, "www.example.com", "rsa").object_id == sni_first.id  # the legacy one expired: lower priority next
    emu.state.add_custom_hostname(emu.zone_id, "www.example.com", certificates=[{"mint": {"key_type": "rsa", "days": 30}}])
    assert served(emu, "www.example.com", "rsa").source == "custom_hostname"  # a custom hostname's own certificate wins
    assert emu.history.violations() == []  # www is served by sni_first after the legacy one expires


@pytest.mark.parametrize("cert_type", ["legacy_custom", "sni_custom"])
def test_zone_certificate_patched_serves_the_old_one_until_the_new_one_is_deployed(emu, clock, api, leaf, cert_type):
    old = emu.state.add_custom_certificate(emu.zone_id, mint={"hosts": ZONE_HOSTS, "days": 20}, type=cert_type, priority=1)
    old_id, old_fingerprint = old.id, old.info.fingerprint_sha256  # the PATCH changes the object in place
    new_pem = leaf(ZONE_HOSTS)
    patched = api.patch(api.zone("custom_certificates/" + old_id), {"certificate": new_pem.chain_pem, "private_key": new_pem.key_pem})["result"]
    assert (patched["id"] == old_id) == (cert_type == "legacy_custom")  # sni_custom gets a new id (the document's PATCH description)
    clock.advance(DELAY / 2)
    assert served(emu, "example.com", "ecdsa").fingerprint_sha256 == old_fingerprint != new_pem.fingerprint_sha256
    clock.advance(DELAY)
    now = served(emu, "example.com", "ecdsa")
    assert (now.object_id, now.fingerprint_sha256) == (patched["id"], new_pem.fingerprint_sha256)
    assert emu.history.violations() == []


# -- client certificate associations --------------------------------------------------------------


def client_cert(api, cert):
    return api.post(api.zone("origin_tls_client_auth/hostnames/certificates"), {"certificate": cert.chain_pem, "private_key": cert.key_pem})["result"]


def associate(api, cert_id, enabled=True):
    return api.put(api.zone("origin_tls_client_auth/hostnames"), {"config": [{"hostname": HOST, "cert_id": cert_id, "enabled": enabled}]})


@pytest.mark.parametrize("key_type", ["rsa", "ecdsa"])
def test_association_moved_to_a_new_client_certificate_is_valid(emu, clock, api, leaf, key_type):
    old = emu.state.add_client_cert(emu.zone_id, mint={"hosts": ["origin-pull.example.com"], "key_type": key_type, "days": 20})
    emu.state.add_association(emu.zone_id, HOST, old.id)
    new_pem = leaf(["origin-pull.example.com"], key_type=key_type)
    new = client_cert(api, new_pem)
    clock.advance(DELAY * 3)
    associate(api, new["id"])
    clock.advance(DELAY / 2)
    assert emu.history.served_client_cert(HOST).object_id == old.id  # pending_deployment: the old one is presented
    clock.advance(DELAY)
    now = emu.history.served_client_cert(HOST)
    assert (now.source, now.object_id, now.fingerprint_sha256, now.key_type) == ("association", new["id"], new_pem.fingerprint_sha256, key_type)
    api.delete(api.zone("origin_tls_client_auth/hostnames/certificates/" + old.id))
    clock.advance(DAY)
    assert emu.history.violations() == []
    assert [s["cert_id"] for s in emu.history.segments(HOST, kind="association")] == [old.id, new["id"]]


def test_association_removed_after_its_certificate_expired_is_a_violation(emu, clock, api):
    expiring = emu.state.add_client_cert(emu.zone_id, mint={"hosts": ["origin-pull.example.com"], "days": 1})
    emu.state.add_association(emu.zone_id, HOST, expiring.id)
    clock.advance(2 * DAY)
    associate(api, expiring.id, enabled=None)
    clock.advance(1)
    assert emu.history.served_client_cert(HOST).source == "none"
    problems = emu.history.violations()
    assert len(problems) == 1 and problems[0].startswith(HOST + " from ") and "presented client certificate" in problems[0] and "expired" in problems[0]


def test_association_removed_in_time_is_valid(emu, clock, api):
    expiring = emu.state.add_client_cert(emu.zone_id, mint={"hosts": ["origin-pull.example.com"], "days": 1})
    emu.state.add_association(emu.zone_id, HOST, expiring.id)
    clock.advance(DAY / 2)
    associate(api, expiring.id, enabled=None)
    clock.advance(2 * DAY)
    assert emu.history.violations() == []
