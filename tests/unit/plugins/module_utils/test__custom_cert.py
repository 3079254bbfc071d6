"""Zone custom certificates: identity against the API's fields, the view, coverage. Pure functions, no API."""

from __future__ import annotations

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils import _custom_cert as cc
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import certificate_facts
from emulator.testcerts import make_ca, make_leaf


@pytest.fixture(scope="module")
def facts():
    leaf = make_leaf(make_ca("Unit CA", org="Unit Org"), ["www.example.com", "Example.com"], days=30)
    return certificate_facts(leaf.cert)


def api_cert(facts, **changes):
    """The certificate as the API describes it (the seed's example shape)."""
    cert = {
        "id": "2458ce5a0b0d4d8a9d2f3e4c5b6a7980",
        "hosts": ["www.example.com", "example.com"],
        "issuer": "Unit Org",
        "signature": "ECDSAWithSHA256",
        "expires_on": facts["not_after"].replace("Z", ".000000Z"),
        "priority": 20.0,
        "status": "active",
        "bundle_method": "ubiquitous",
        "geo_restrictions": {"label": "us"},
        "policy_restrictions": "(country: US)",
    }
    cert.update(changes)
    return cert


def test_identity_is_sorted_hosts_issuer_expiry_and_signature(facts):
    assert cc.is_identical(api_cert(facts), facts)
    assert cc.is_identical(api_cert(facts, hosts=["EXAMPLE.com.", "www.example.com"], signature=None), facts)  # no signature: not compared
    assert not cc.is_identical(api_cert(facts, hosts=["example.com"]), facts)
    assert not cc.is_identical(api_cert(facts, issuer="Other CA"), facts)
    assert not cc.is_identical(api_cert(facts, expires_on="2030-01-01T00:00:00Z"), facts)
    assert not cc.is_identical(api_cert(facts, signature="SHA256WithRSA"), facts)
    assert not cc.is_identical(api_cert(facts, expires_on="not a time"), facts)


def test_view_takes_serial_and_fingerprint_from_the_local_pem_only(facts):
    view = cc.cert_view(api_cert(facts), facts, "sni_custom", "7b163417a1d24c84a38a2fb7a0cd7752")
    assert view["hosts"] == ["example.com", "www.example.com"] and view["priority"] == 20 and isinstance(view["priority"], int)
    assert view["geo_restrictions"] == "us" and view["policy"] == "(country: US)" and view["expires_on"] == facts["not_after"]
    assert view["serial_number"] == facts["serial_number"] and view["fingerprint_sha256"] == facts["fingerprint_sha256"]
    assert view["type"] == "sni_custom" and view["previous_id"] == "7b163417a1d24c84a38a2fb7a0cd7752"
    bare = cc.cert_view(api_cert(facts, priority=1.5, geo_restrictions=None, policy_restrictions=None, policy="(region: EU)"))
    assert bare["serial_number"] is None and bare["fingerprint_sha256"] is None and bare["type"] is None and bare["previous_id"] is None
    assert bare["priority"] == 1.5 and bare["geo_restrictions"] is None and bare["policy"] == "(region: EU)"


def test_priorities_compare_as_numbers():
    assert cc.same_priority(1, 1.0) and not cc.same_priority(1, 2) and not cc.same_priority(None, 20) and not cc.same_priority("x", 1)


def test_coverage_with_wildcards():
    assert cc.covers_any({"hosts": ["*.example.com"]}, ["www.example.com"])
    assert cc.covers_any({"hosts": ["*.example.com"]}, ["*.example.com"])
    assert not cc.covers_any({"hosts": ["*.example.com"]}, ["a.b.example.com", "example.com"])
    assert cc.covers_any({"hosts": ["example.com"]}, ["other.org", "example.com"])


def test_describe_names_each_certificate(facts):
    text = cc.describe_certs([api_cert(facts, id="a" * 32, priority=3.0)])
    assert text == "%s (example.com, www.example.com, priority 3)" % ("a" * 32)
