"""Client certificate identity, live associations and the view: pure functions, no API."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.certops.cloudflare.plugins.module_utils import _hostname_client_cert as hcc
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import certificate_facts, expires_on_within

NOW = datetime.datetime.now(datetime.timezone.utc)


def _cert(serial=0x0A1B2C, org="Certops Client CA", days=90):
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Client CA"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "origin-pull")]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert, cert.public_bytes(serialization.Encoding.PEM).decode()


@pytest.fixture(scope="module")
def leaf():
    return _cert()


def test_same_certificate_by_fingerprint_when_the_api_returns_pem(leaf):
    cert, text = leaf
    facts = certificate_facts(cert)
    assert hcc.is_same_certificate({"certificate": text, "serial_number": "1", "issuer": "x"}, facts)
    other = _cert(serial=cert.serial_number)[1]
    assert not hcc.is_same_certificate({"certificate": other, "serial_number": str(cert.serial_number), "issuer": "Certops Client CA"}, facts)


@pytest.mark.parametrize("serial", [str(0x0A1B2C), "0a1b2c", "0A:1B:2C", "a1b2c"])
def test_same_certificate_by_serial_and_issuer_without_pem(leaf, serial):
    facts = certificate_facts(leaf[0])
    assert hcc.is_same_certificate({"serial_number": serial, "issuer": "Certops Client CA"}, facts)
    assert not hcc.is_same_certificate({"serial_number": serial, "issuer": "Another CA"}, facts)
    assert not hcc.is_same_certificate({"serial_number": "99", "issuer": "Certops Client CA"}, facts)


def test_pending_deletion_counts_deleted_does_not():
    certs = [{"id": "a", "status": "active"}, {"id": "b", "status": "pending_deletion"}, {"id": "c", "status": "deleted"}]
    assert [c["id"] for c in hcc.live_certificates(certs)] == ["a", "b"]


def test_live_associations_skip_removed_and_keep_the_latest():
    assocs = [
        {"hostname": "A.example.com", "cert_id": "old", "enabled": True, "status": "active", "updated_at": "2026-01-01T00:00:00Z"},
        {"hostname": "a.example.com.", "cert_id": "new", "enabled": False, "status": "active", "updated_at": "2026-02-01T00:00:00Z"},
        {"hostname": "b.example.com", "cert_id": "old", "enabled": None, "status": "active"},
        {"hostname": "c.example.com", "cert_id": "old", "enabled": True, "status": "pending_deletion"},
        {"hostname": "d.example.com", "cert_id": "old", "enabled": True, "status": "deleted"},
    ]
    live = hcc.live_associations(assocs)
    assert list(live) == ["a.example.com"] and live["a.example.com"]["cert_id"] == "new"
    assert hcc.hostnames_of("new", live) == [{"hostname": "a.example.com", "enabled": False, "status": "active"}]
    assert hcc.hostnames_of(None, live) == []


def test_check_hostnames_normalises_and_refuses_long_ones():
    assert hcc.check_hostnames(["App.Example.com.", "app.example.com", " b.example.com"]) == ["app.example.com", "b.example.com"]
    with pytest.raises(ValueError, match="at most 255"):
        hcc.check_hostnames(["a" * 250 + ".example.com"])
    with pytest.raises(ValueError, match="empty hostname"):
        hcc.check_hostnames([" "])


def test_view_and_expiry_filter(leaf):
    cert, text = leaf
    facts = certificate_facts(cert)
    api = {"id": "c1", "status": "active", "certificate": text, "serial_number": str(cert.serial_number), "issuer": "Certops Client CA"}
    api["expires_on"] = facts["not_after"]
    view = hcc.certificate_view(api, {"x.example.com": {"cert_id": "c1", "enabled": True, "status": "active"}})
    assert view["fingerprint_sha256"] == facts["fingerprint_sha256"]
    assert view["days_remaining"] in (88, 89)
    assert view["hostnames"] == [{"hostname": "x.example.com", "enabled": True, "status": "active"}]
    assert "certificate" not in view and "private_key" not in view
    assert expires_on_within(view["expires_on"], 90) and not expires_on_within(view["expires_on"], 80)


def test_describe_lists_soonest_expiry_first():
    text = hcc.describe_certificates([{"id": "late", "expires_on": "2030-01-01T00:00:00Z"}, {"id": "soon", "expires_on": "2027-01-01T00:00:00Z"}])
    assert text.index("soon") < text.index("late") and "expires 2027-01-01T00:00:00Z" in text


def test_at_most_100_hostnames_on_one_certificate():
    # "100 maximum associations on a single certificate are allowed." (the association PUT's description)
    assert hcc.MAX_HOSTNAMES_PER_CERTIFICATE == 100
    assert hcc.hostname_limit_problem("c1", 0, 100) is None
    assert hcc.hostname_limit_problem("c1", 99, 100) is None
    first = hcc.hostname_limit_problem("(to be uploaded)", 0, 101)
    assert "101 hostnames" in first and "at most 100" in first and "several client certificates" in first
    more = hcc.hostname_limit_problem("c1", 95, 101)
    assert "c1" in more and "101 hostnames" in more and "the 95 it has now and 6 more" in more and "so 5 more fit" in more
    assert "purge_hostnames=true" in more


def test_a_certificate_already_over_the_limit_is_refused_only_hostnames_it_does_not_have():
    assert hcc.hostname_limit_problem("c1", 120, 120) is None
    assert "so 0 more fit" in hcc.hostname_limit_problem("c1", 120, 121)
