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


def test_certificate_status_says_why_it_is_due(leaf):
    now = NOW
    hosts = ["*.example.com", "example.com"]
    fresh = oc.certificate_status(leaf.cert_pem, hosts, fresh_type(leaf), 30, None, now)
    assert fresh["present"] and not fresh["due"] and fresh["reason"].startswith("not due: expires in")
    assert oc.certificate_status(leaf.cert_pem, hosts, fresh_type(leaf), 100, None, now)["due"]
    assert oc.certificate_status(leaf.cert_pem, ["example.com"], fresh_type(leaf), 30, None, now)["reason"].startswith(
        "for *.example.com, example.com, not example.com"
    )
    other = "origin-rsa" if fresh_type(leaf) == "origin-ecc" else "origin-ecc"
    assert "key, not" in oc.certificate_status(leaf.cert_pem, hosts, other, 30, None, now)["reason"]
    assert oc.certificate_status("", hosts, "origin-rsa")["reason"] == "no certificate"
    assert oc.certificate_status("garbage", hosts, "origin-rsa")["reason"] == "the file holds no readable certificate"
    assert "PRIVATE" not in str(oc.certificate_status(leaf.cert_pem + leaf.key_pem, hosts, fresh_type(leaf)))


def fresh_type(leaf):
    return "origin-ecc"  # make_leaf makes ECDSA keys by default


def row(name, outcome, old=None, new=None):
    return {"name": name, "outcome": outcome, "old": {"serial_number": old} if old else None, "new": {"serial_number": new} if new else None}


def listed_cert(cert_id, serial, hostnames=("example.com",), revoked=False):
    return {"id": cert_id, "serial_number": serial, "hostnames": list(hostnames), "revoked_at": "2026-12-01T00:00:00Z" if revoked else None}


def test_revocations_only_what_was_replaced_and_no_host_serves():
    certs = [
        listed_cert("old", "1"),
        listed_cert("new", "2"),
        listed_cert("other", "3"),
        listed_cert("gone", "4", revoked=True),
        listed_cert("www", "5", ["www.example.com"]),
    ]
    # a rotated host left 1 for 2; a host not due still serves 3; 5 was never replaced
    rows = [row("a", "rotated", "1", "2"), row("b", "up_to_date", "3")]
    assert oc.revocations(rows, certs) == [{"hostnames": ["example.com"], "revoke": ["old"], "keep": ["new", "other"]}]
    # another host still serves 1: nothing to revoke
    assert oc.revocations(rows + [row("c", "up_to_date", "1")], certs) == []
    # nothing rotated: nothing to revoke
    assert oc.revocations([row("a", "up_to_date", "1")], certs) == []


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda f: f.origin_cert_status(17, ["example.com"]), "must be PEM text"),
        (lambda f: f.origin_cert_status("", []), "hostnames must be a non-empty list"),
        (lambda f: f.origin_cert_status("", ["example.com"], "keyless-certificate"), "request_type must be one of"),
        (lambda f: f.origin_cert_revocations("rows", []), "origin_cert_rotation_result"),
        (lambda f: f.origin_cert_revocations([], [{"id": "x"}]), "origin_ca_cert_info"),
    ],
)
def test_the_filters_refuse_bad_input_naming_it(call, message):
    from ansible.errors import AnsibleFilterError

    from ansible_collections.certops.cloudflare.plugins.filter import origin_cert

    with pytest.raises(AnsibleFilterError, match=message):
        call(origin_cert)


def test_a_csr_whose_signature_does_not_verify_is_named_so():
    import base64

    from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
    from ansible_collections.certops.cloudflare.plugins.modules.origin_ca_cert import load_csr
    from emulator.testcerts import make_csr

    pem = make_csr(["example.com"], key_type="rsa")[0]
    der = bytearray(base64.b64decode("".join(pem.splitlines()[1:-1])))
    der[-1] ^= 0x01  # the last byte of the signature
    body = base64.b64encode(bytes(der)).decode()
    tampered = "-----BEGIN CERTIFICATE REQUEST-----\n%s\n-----END CERTIFICATE REQUEST-----\n" % body
    with pytest.raises(InputError, match="signature does not verify"):
        load_csr(tampered, "csr_path")
    with pytest.raises(InputError, match="not a PEM certificate signing request"):
        load_csr("garbage", "csr_path")
    assert load_csr(pem, "csr_path").is_signature_valid
