"""Certificate facts derived from uploaded PEM, refusal of bad uploads, and the test certificate helpers."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.certs import covers, parse_certificate
from emulator.testcerts import make_ca, make_leaf, new_key

from .conftest import codes

UPLOADS = {
    "custom hostname": ("custom_hostnames", lambda cert, key: {"hostname": "app.example.com", "ssl": {"custom_certificate": cert, "custom_key": key}}),
    "client certificate": ("origin_tls_client_auth/hostnames/certificates", lambda cert, key: {"certificate": cert, "private_key": key}),
    "zone custom certificate": ("custom_certificates", lambda cert, key: {"certificate": cert, "private_key": key}),
}


def test_facts_from_an_ecdsa_certificate(api, ca, leaf):
    cert = leaf(["example.com", "*.example.com"])
    result = api.post(api.zone("custom_certificates"), {"certificate": cert.chain_pem, "private_key": cert.key_pem})["result"]
    assert result["hosts"] == ["example.com", "*.example.com"]
    assert result["issuer"] == "Emulator Tests CA"  # no organizationName: the common name
    assert result["signature"] == "ECDSAWithSHA256"
    expected = cert.not_after.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["expires_on"] == expected and result["uploaded_on"].endswith("Z")
    client = api.post(api.zone("origin_tls_client_auth/hostnames/certificates"), {"certificate": cert.cert_pem, "private_key": cert.key_pem})["result"]
    assert client["serial_number"] == str(cert.cert.serial_number) and client["serial_number"].isdigit()


def test_facts_from_an_rsa_certificate_of_an_organization(api, rsa_key):
    rsa_ca = make_ca("Issuing CA R1", org="Example Trust Services", key_type="rsa")
    cert = make_leaf(rsa_ca, ["app.example.com"], key_type="rsa", key=rsa_key)
    ssl = api.post(api.zone("custom_hostnames"), {"hostname": "app.example.com", "ssl": {"custom_certificate": cert.chain_pem, "custom_key": cert.key_pem}})[
        "result"
    ]["ssl"]
    entry = ssl["certificates"][0]
    assert entry["issuer"] == "Example Trust Services" and entry["signature"] == "SHA256WithRSA" and "key_type" not in entry
    assert entry["fingerprint_sha256"] == cert.fingerprint_sha256 and len(entry["fingerprint_sha256"]) == 64 and ":" not in entry["fingerprint_sha256"]


@pytest.mark.parametrize("endpoint", sorted(UPLOADS))
def test_bad_uploads_are_refused(api, leaf, endpoint):
    path, body = UPLOADS[endpoint]
    good, other = leaf(), leaf()
    expired = leaf(days=-1, not_before_days=-30)
    encrypted = good.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret")).decode(
        "ascii"
    )
    cases = [
        ("not a certificate", good.key_pem, 1401),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", good.key_pem, 1401),
        (good.cert_pem, "not a key", 1402),
        (good.cert_pem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 1402),
        (good.cert_pem, encrypted, 1402),
        (good.cert_pem, other.key_pem, 1403),
        (expired.cert_pem, expired.key_pem, 1404),
    ]
    for cert, key, code in cases:
        assert codes(api.post(api.zone(path), body(cert, key), expect=400)) == [code], (cert[:30], key[:30])


def test_wildcards_cover_exactly_one_label():
    hosts = ["example.com", "*.example.com"]
    assert covers(hosts, "example.com") and covers(hosts, "app.example.com") and covers(hosts, "APP.example.com.")
    assert not covers(hosts, "a.b.example.com") and not covers(hosts, "example.org")


def test_testcerts_helpers(ca):
    intermediate = make_ca("Intermediate", parent=ca)
    cert = make_leaf(intermediate, ["a.example.com", "b.example.com"], days=10, not_before_days=-2)
    info = parse_certificate(cert.chain_pem)
    assert info.hosts == ["a.example.com", "b.example.com"] and info.issuer == "Intermediate" and info.key_type == "ecdsa"
    assert cert.chain_pem == cert.cert_pem + intermediate.cert_pem + ca.cert_pem and info.leaf_pem == cert.cert_pem
    now = datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=9.9) < cert.not_after - now < datetime.timedelta(days=10.1)
    assert make_leaf(ca, ["x.example.com"], days=-1, not_before_days=-3).not_after < now
    assert "BEGIN PRIVATE KEY" in cert.key_pem and cert.fingerprint_sha256 == info.fingerprint_sha256
    with pytest.raises(ValueError):
        new_key("dsa")
