"""Trust: every server certificate upload is verified (trust.py) against the emulator's stand-in for "publicly trusted".

Cloudflare's "Manage custom certificates" says custom certificates must be publicly trusted and a self-signed one is
rejected; the refusal code 1411 is a guess. `force` verifies the chain as uploaded, `ubiquitous`/`optimal` complete it.
"""

from __future__ import annotations

import datetime

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulator import Emulator
from emulator.testcerts import make_ca, make_leaf

from .conftest import Api, codes
from .test_edge import handshake

HOST = "app.example.com"


def custom(cert, chain=None):
    return {"custom_certificate": chain if chain is not None else cert.chain_pem, "custom_key": cert.key_pem}


def zone_upload(cert, chain=None, **extra):
    return dict(extra, certificate=chain if chain is not None else cert.chain_pem, private_key=cert.key_pem)


@pytest.fixture(scope="module")
def untrusted():
    return make_ca("Untrusted Root", trusted=False)


@pytest.fixture(scope="module")
def chain_ca():
    """A trusted root with an intermediate under it (both in the registry, as make_ca keeps them)."""
    root = make_ca("Chain Root")
    return root, make_ca("Chain Intermediate", parent=root)


def self_signed(hostname=HOST):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return pem, key_pem


def test_a_certificate_from_the_test_ca_registry_is_accepted(api, leaf):
    assert api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": custom(leaf())})["success"] is True


def test_a_custom_hostname_certificate_from_an_untrusted_root_is_refused(api, untrusted):
    body = api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": custom(make_leaf(untrusted, [HOST]))}, expect=400)
    assert codes(body) == [1411] and "trusted" in body["errors"][0]["message"]
    assert api.get(api.zone("custom_hostnames"))["result"] == []


def test_a_zone_certificate_from_an_untrusted_root_is_refused(api, untrusted):
    body = api.post(api.zone("custom_certificates"), zone_upload(make_leaf(untrusted, ["www.example.com"])), expect=400)
    assert codes(body) == [1411]


def test_a_self_signed_certificate_is_refused(api):
    pem, key_pem = self_signed()
    body = api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": {"custom_certificate": pem, "custom_key": key_pem}}, expect=400)
    assert codes(body) == [1411] and "self-signed" in body["errors"][0]["message"]


def test_a_ca_certificate_as_the_leaf_is_refused(api):
    intermediate = make_ca("Leaf-like Intermediate", parent=make_ca("Leaf-like Root"))
    body = api.post(api.zone("custom_certificates"), {"certificate": intermediate.chain_pem, "private_key": intermediate.key_pem}, expect=400)
    assert codes(body) == [1411] and "CA certificate" in body["errors"][0]["message"]


def test_a_pack_certificate_put_from_an_untrusted_root_is_refused(api, leaf, untrusted):
    # The PUT replaces within a pack of two (an RSA and an ECDSA certificate): the ECDSA one here.
    ecdsa = leaf()
    pair = {"custom_cert_bundle": [custom(ecdsa), custom(leaf(key_type="rsa"))], "bundle_method": "force"}
    created = api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": pair})["result"]
    (cert_id,) = [c["id"] for c in created["ssl"]["certificates"] if c["fingerprint_sha256"] == ecdsa.fingerprint_sha256]
    path = "custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (created["id"], created["ssl"]["id"], cert_id)
    assert codes(api.put(api.zone(path), custom(make_leaf(untrusted, [HOST])), expect=400)) == [1411]


def test_a_zone_certificate_patch_from_an_untrusted_root_is_refused(api, leaf, untrusted):
    created = api.post(api.zone("custom_certificates"), zone_upload(leaf(["www.example.com"])))["result"]
    body = api.patch(api.zone("custom_certificates/" + created["id"]), zone_upload(make_leaf(untrusted, ["www.example.com"])), expect=400)
    assert codes(body) == [1411]


def test_a_client_certificate_for_origin_pulls_is_not_checked(api, untrusted):
    client = make_leaf(untrusted, ["origin-pull.example.com"])
    api.post(api.zone("origin_tls_client_auth/hostnames/certificates"), {"certificate": client.cert_pem, "private_key": client.key_pem})


def test_force_refuses_a_chain_without_its_intermediate(api, chain_ca):
    _root, intermediate = chain_ca
    cert = make_leaf(intermediate, [HOST])
    ssl = dict(custom(cert, chain=cert.cert_pem), bundle_method="force")
    body = api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": ssl}, expect=400)
    assert codes(body) == [1411] and "intermediate" in body["errors"][0]["message"]


@pytest.mark.emulator(delay=0)
@pytest.mark.parametrize("bundle_method", ["ubiquitous", "optimal"])
def test_ubiquitous_and_optimal_complete_the_chain_the_edge_serves(emulator, api, chain_ca, bundle_method):
    root, intermediate = chain_ca
    cert = make_leaf(intermediate, [HOST])
    ssl = dict(custom(cert, chain=cert.cert_pem), bundle_method=bundle_method)
    created = api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": ssl})["result"]
    assert created["ssl"]["custom_certificate"] == cert.cert_pem  # the answer keeps the upload as it was
    assert emulator.history.served(HOST).info.served_pem == cert.cert_pem + intermediate.cert_pem  # completed, root left out
    emulator.start_edge()
    _version, served = handshake(emulator.edge_port, HOST, ca_pem=root.cert_pem)  # verifies: the intermediate was sent
    assert served == cert.fingerprint_sha256


@pytest.mark.emulator(delay=0)
def test_force_serves_the_chain_as_uploaded(emulator, api, chain_ca):
    _root, intermediate = chain_ca
    cert = make_leaf(intermediate, [HOST])
    api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": dict(custom(cert), bundle_method="force")})
    assert emulator.history.served(HOST).info.served_pem == cert.chain_pem


def test_a_ca_made_after_the_emulator_started_is_trusted(api):
    later = make_ca("Made Later")  # the registry is read when the upload is verified
    api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": custom(make_leaf(later, [HOST]))})


def test_the_admin_api_adds_lists_and_resets_trusted_roots(emulator, api, untrusted):
    url = emulator.admin_url + "/trusted-roots"
    listed = requests.get(url, timeout=5).json()["roots"]
    assert untrusted.fingerprint_sha256 not in [r["fingerprint_sha256"] for r in listed]
    assert {"subject", "fingerprint_sha256", "source", "root"} <= set(listed[0])
    added = requests.post(url, json={"roots": [untrusted.cert_pem]}, timeout=5).json()["roots"]
    assert {"subject": "CN=Untrusted Root", "fingerprint_sha256": untrusted.fingerprint_sha256, "source": "admin", "root": True} in added
    api.post(api.zone("custom_hostnames"), {"hostname": HOST, "ssl": custom(make_leaf(untrusted, [HOST]))})
    requests.delete(url, timeout=5)
    assert codes(api.post(api.zone("custom_hostnames"), {"hostname": "b.example.com", "ssl": custom(make_leaf(untrusted, ["b.example.com"]))}, expect=400)) == [
        1411
    ]


def test_the_admin_api_refuses_a_bad_root(emulator):
    answer = requests.post(emulator.admin_url + "/trusted-roots", json={"roots": ["not a certificate"]}, timeout=5)
    assert answer.status_code == 400


def test_the_emulator_trusts_its_own_ca(emulator):
    fingerprints = [r["fingerprint_sha256"] for r in emulator.trusted_roots() if r["source"] in ("emulator", "registry")]
    assert emulator.state.ca.fingerprint_sha256 in fingerprints


def test_emulator_trusted_roots_names_a_pem_bundle(monkeypatch, tmp_path, emulator_factory, untrusted):
    bundle = tmp_path / "roots.pem"
    bundle.write_text(untrusted.cert_pem)
    monkeypatch.setenv("EMULATOR_TRUSTED_ROOTS", str(bundle))
    emu = emulator_factory()
    assert any(r["source"] == "environment" and r["fingerprint_sha256"] == untrusted.fingerprint_sha256 for r in emu.trusted_roots())
    Api(emu).post(Api(emu).zone("custom_hostnames"), {"hostname": HOST, "ssl": custom(make_leaf(untrusted, [HOST]))})


def test_a_bad_emulator_trusted_roots_file_stops_the_start(monkeypatch, tmp_path):
    bundle = tmp_path / "roots.pem"
    bundle.write_text("nothing here")
    monkeypatch.setenv("EMULATOR_TRUSTED_ROOTS", str(bundle))
    with pytest.raises(ValueError, match="EMULATOR_TRUSTED_ROOTS"):
        Emulator()
