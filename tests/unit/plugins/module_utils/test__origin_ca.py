"""Origin CA certificates: the view of an untrusted answer, times in the live API's layout, identity, the renewal
window. Pure functions, no API."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils import _origin_ca as oc
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import certificate_facts
from emulator.testcerts import make_ca, make_leaf

NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def leaf():
    return make_leaf(make_ca("Unit Origin CA", org="Unit Org"), ["example.com", "*.example.com"], days=90)


def api_cert(leaf, **changes):
    item = {
        "id": str(leaf.cert.serial_number),
        "certificate": leaf.cert_pem,
        "hostnames": ["*.example.com", "Example.com"],
        "request_type": "origin-ecc",
        "requested_validity": 90,
        "expires_on": "2032-01-29 22:36:00 +0000 UTC",
        "csr": "-----BEGIN CERTIFICATE REQUEST-----...",
    }
    item.update(changes)
    return item


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2032-01-29 22:36:00 +0000 UTC", datetime.datetime(2032, 1, 29, 22, 36, tzinfo=datetime.timezone.utc)),
        ("2032-01-29T22:36:00Z", datetime.datetime(2032, 1, 29, 22, 36, tzinfo=datetime.timezone.utc)),
        ("2032-01-29T23:36:00.000000+01:00", datetime.datetime(2032, 1, 29, 22, 36, tzinfo=datetime.timezone.utc)),
        ("next tuesday", None),
        (None, None),
        (17, None),
    ],
)
def test_api_times_in_either_layout(text, expected):
    assert oc.parse_api_time(text) == expected


def test_view_takes_dates_serial_and_key_from_the_pem(leaf):
    view = oc.origin_cert_view(api_cert(leaf), now=NOW)
    facts = certificate_facts(leaf.cert)
    assert view["hostnames"] == ["*.example.com", "example.com"]
    assert view["expires_on"] == facts["not_after"] and view["serial_number"] == facts["serial_number"]
    assert view["key_type"] == facts["key_type"] and view["revoked_at"] is None
    assert "certificate" not in view and "csr" not in view


def test_view_without_a_pem_falls_back_to_the_api_fields(leaf):
    view = oc.origin_cert_view(api_cert(leaf, certificate="not a certificate", revoked_at="2027-01-01 00:00:00 +0000 UTC"), now=NOW)
    assert view["expires_on"] == "2032-01-29T22:36:00Z" and view["key_type"] == "ecdsa"
    assert view["serial_number"] is None and view["revoked_at"] == "2027-01-01T00:00:00Z"
    assert view["days_remaining"] == (datetime.datetime(2032, 1, 29, 22, 36, tzinfo=datetime.timezone.utc) - NOW).days


@pytest.mark.parametrize(
    "item",
    [None, [], {"id": "abc"}, {"id": "../zones", "hostnames": []}, {"hostnames": ["a.example.com"]}, {"id": "a b", "hostnames": []}],
)
def test_malformed_answers_are_refused(item):
    with pytest.raises(CloudflareError):
        oc.origin_cert_view(item)


def test_identity_by_fingerprint_else_by_serial(leaf):
    facts = certificate_facts(leaf.cert)
    assert oc.is_same_certificate(oc.origin_cert_view(api_cert(leaf)), facts)
    without_pem = oc.origin_cert_view(api_cert(leaf, certificate=None))
    assert oc.is_same_certificate(without_pem, facts)
    other = oc.origin_cert_view(api_cert(leaf, certificate=None, id="12345"))
    assert not oc.is_same_certificate(other, facts)


def test_renewal_window_days_share_and_default():
    view = {"not_before": "2026-12-01T00:00:00Z", "expires_on": "2027-03-01T00:00:00Z"}  # 90 days, 84 left
    assert not oc.renewal_due(view, None, None, now=NOW)  # 30 days by default
    assert oc.renewal_due(view, 85, None, now=NOW)
    assert oc.renewal_due(view, None, 95, now=NOW) and not oc.renewal_due(view, None, 90, now=NOW)
    assert oc.renewal_due({"expires_on": None}, 30, None, now=NOW)  # no known end: renewing is the safe side


def test_covers_wildcards_one_label(leaf):
    view = oc.origin_cert_view(api_cert(leaf))
    assert oc.covers(view, "www.example.com") and oc.covers(view, "*.example.com") and oc.covers(view, "example.com")
    assert not oc.covers(view, "a.b.example.com")
