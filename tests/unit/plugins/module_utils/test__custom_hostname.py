"""Custom hostname helpers: local checks, the certificates the API reports (key types, matching), the view."""

from __future__ import annotations

import json
from typing import Any, Dict
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from emulator.testcerts import make_ca, make_leaf

from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import (
    _leaf_facts,
    check_not_stuck,
    find_by_hostname,
    hostname_view,
    is_live,
    load_local_certificates,
    key_types,
    remote_certificates,
    ssl_config,
    view_of,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient, CloudflareError
from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CertificateError, isoformat

HOST = "app.customer.com"


def _key_pem(key, password=None):
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc).decode()


@pytest.fixture(scope="module")
def ca():
    return make_ca("Unit CA")


def mint(ca, key, hosts=(HOST,), start=-1, days=90):
    """A leaf valid from `start` days from now, for `days` days."""
    leaf = make_leaf(ca, list(hosts), days=start + days, not_before_days=start, key=key)
    return {"certificate": leaf.cert_pem, "private_key": leaf.key_pem}


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def load(items, hostname=HOST):
    return load_local_certificates(items, hostname, set())


# -- find_by_hostname: every page of the `hostname` filter, compared exactly -------------------------------


BASE = "https://api.test/client/v4"
ZONE = "023e105f4ecef8ad9ca31a8372d0c353"


def loose_list(items, pages_read):
    """A list GET whose `hostname` filter matches every name containing the value, paged as the API pages."""

    def answer(request):
        query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        pages_read.append((query.get("hostname"), page, per_page))
        matches = [item for item in items if query.get("hostname", "") in item["hostname"]]
        chunk = matches[(page - 1) * per_page : page * per_page]
        info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(matches), "total_pages": -(-len(matches) // per_page)}
        return 200, {}, json.dumps({"success": True, "errors": [], "messages": [], "result": chunk, "result_info": info})

    return answer


@responses.activate
def test_find_by_hostname_reads_every_page_of_a_loose_filter_and_compares_exactly():
    # 60 longer names containing the wanted one come first: it is on the second page of 50.
    items = [{"id": "%032x" % i, "hostname": "v%02d-%s" % (i, HOST)} for i in range(60)] + [{"id": "f" * 32, "hostname": HOST}]
    pages_read: list = []
    responses.add_callback(responses.GET, "%s/zones/%s/custom_hostnames" % (BASE, ZONE), callback=loose_list(items, pages_read))
    client = CloudflareClient(api_token="t", base_url=BASE, rate_limit=0)
    assert find_by_hostname(client, ZONE, " App.Customer.com. ", ZONE) == items[-1]
    assert pages_read == [(HOST, 1, 50), (HOST, 2, 50)]
    pages_read.clear()
    # A name only longer names contain: every page read, none taken.
    assert find_by_hostname(client, ZONE, "customer.com", ZONE) is None and [page for _h, page, _n in pages_read] == [1, 2]
    pages_read.clear()
    # Found on the first page: names are unique in a zone, so the next pages are not read.
    items.insert(0, items.pop())
    assert find_by_hostname(client, ZONE, HOST, ZONE) == items[0] and len(pages_read) == 1


def test_pair_loads_with_facts(ca, rsa_key):
    locals_ = load([mint(ca, rsa_key), mint(ca, ec_key(), hosts=("*.customer.com",))])
    assert [c.key_type for c in locals_] == ["rsa", "ecdsa"]
    assert locals_[1].view()["hosts"] == ["*.customer.com"] and locals_[1].view()["id"] is None


@pytest.mark.parametrize(
    "case, expected",
    [
        ("garbage", "certificates[0]: no PEM certificate found"),
        ("other key", "certificates[0]: the private key does not belong to this certificate"),
        ("expired", "certificates[0]: it expired on"),
        ("other host", "certificates[0]: it does not cover app.customer.com (it is for other.example.com)"),
        ("two ecdsa", "certificates[0] and certificates[1] are both ECDSA certificates"),
        ("three", "at most two certificates (one RSA and one ECDSA); 3 were given"),
    ],
)
def test_bad_input_names_the_certificate_and_the_reason(ca, case, expected):
    good = mint(ca, ec_key())
    items = {
        "garbage": [{"certificate": "not a pem", "private_key": good["private_key"]}],
        "other key": [{"certificate": good["certificate"], "private_key": mint(ca, ec_key())["private_key"]}],
        "expired": [mint(ca, ec_key(), start=-100, days=99)],
        "other host": [mint(ca, ec_key(), hosts=("other.example.com",))],
        "two ecdsa": [good, mint(ca, ec_key())],
        "three": [good, good, good],
    }[case]
    with pytest.raises(CertificateError) as info:
        load(items)
    assert expected in str(info.value)
    assert "PRIVATE KEY" not in str(info.value)


def test_encrypted_key_is_decrypted_locally_and_hidden(ca):
    key = ec_key()
    item = dict(mint(ca, key), private_key=_key_pem(key, b"s3cret"), private_key_passphrase="s3cret")
    hidden = set()
    local = load_local_certificates([item], HOST, hidden)[0]
    assert "ENCRYPTED" not in local.private_key and local.private_key in hidden


def test_path_forms_are_read(tmp_path, ca):
    item = mint(ca, ec_key())
    (tmp_path / "c.pem").write_text(item["certificate"])
    (tmp_path / "k.pem").write_text(item["private_key"])
    local = load([{"certificate_path": str(tmp_path / "c.pem"), "private_key_path": str(tmp_path / "k.pem")}])[0]
    assert local.name == "certificates[0] (%s)" % (tmp_path / "c.pem")
    with pytest.raises(InputError, match=r"certificates\[0\]\.certificate_path: cannot read"):
        load([{"certificate_path": str(tmp_path / "missing.pem"), "private_key": item["private_key"]}])


def _entry(local, cert_id, **extra):
    facts = local.facts
    entry = {"id": cert_id, "issuer": facts["issuer"], "serial_number": facts["serial_number"], "expires_on": facts["not_after"]}
    entry.update(extra)
    return entry


def test_remote_matches_by_fingerprint_and_takes_the_local_key_type(ca, rsa_key):
    rsa_local, ec_local = load([mint(ca, rsa_key), mint(ca, ec_key())])
    current = {"ssl": {"certificates": [_entry(ec_local, "e1", fingerprint_sha256=ec_local.fingerprint.upper(), signature="ECDSAWithSHA256")]}}
    (remote,) = remote_certificates(current, [rsa_local, ec_local])
    assert remote.local is ec_local and remote.key_type == "ecdsa" and remote.hosts == [HOST]


def test_remote_without_fingerprint_matches_by_serial_and_issuer(ca):
    (local,) = load([mint(ca, ec_key())])
    (remote,) = remote_certificates({"ssl": {"certificates": [_entry(local, "e1")]}}, [local])
    assert remote.local is local


def test_key_type_of_a_pair_member_is_the_other_of_its_known_partner(ca, rsa_key):
    (rsa_local,) = load([mint(ca, rsa_key)])
    other = {"id": "x", "serial_number": "1", "issuer": "Someone", "expires_on": "2030-01-01T00:00:00Z", "signature": "SHA256WithRSA"}
    current = {"ssl": {"certificates": [_entry(rsa_local, "r1", fingerprint_sha256=rsa_local.fingerprint), other]}}
    types = {c.id: c.key_type for c in remote_certificates(current, [rsa_local])}
    assert types == {"r1": "rsa", "x": "ecdsa"}


def test_key_type_from_signature_only_when_it_tells_a_pair_apart():
    entry = {"serial_number": "1", "issuer": "I", "expires_on": "2030-01-01T00:00:00Z"}
    apart = {"ssl": {"certificates": [dict(entry, id="a", signature="SHA256WithRSA"), dict(entry, id="b", signature="ECDSAWithSHA256")]}}
    assert [c.key_type for c in remote_certificates(apart)] == ["rsa", "ecdsa"]
    same = {"ssl": {"certificates": [dict(entry, id="a", signature="SHA256WithRSA"), dict(entry, id="b", signature="SHA256WithRSA")]}}
    assert [c.key_type for c in remote_certificates(same)] == [None, None]
    pss = {"ssl": {"certificates": [dict(entry, id="a", signature="SHA256WithRSAPSS")]}}
    assert remote_certificates(pss)[0].key_type == "rsa"


def test_a_key_type_in_an_api_entry_is_not_read():
    # The API's entries declare none (cloudflare-go's CustomHostnameSSLCertificates): a stray one is not believed.
    entry = {"id": "a", "serial_number": "1", "issuer": "I", "expires_on": "2030-01-01T00:00:00Z", "key_type": "ecdsa", "signature": "SHA256WithRSA"}
    assert remote_certificates({"ssl": {"certificates": [entry]}})[0].key_type == "rsa"
    assert key_types([dict(entry, signature=None)]) == [None]


def test_the_collections_own_view_keeps_the_key_type_it_derived():
    # custom_hostname_cert_info's view, given back as discovered_hostnames: its entries have days_remaining.
    view = {"id": "b", "serial_number": "2", "issuer": "I", "expires_on": "2030-01-01T00:00:00Z", "days_remaining": 30, "key_type": "rsa"}
    other = dict(view, id="a", serial_number="1", key_type=None)
    assert [c.key_type for c in remote_certificates({"ssl": {"certificates": [other, view]}})] == ["ecdsa", "rsa"]


def api_entry(issued, cert_id):
    """An `ssl.certificates` entry as the API answers it: no key type."""
    cert = issued.cert
    return {
        "id": cert_id,
        "issuer": "Unit CA",
        "serial_number": str(cert.serial_number),
        "signature": "ECDSAWithSHA256",  # the algorithm of the issuer's key: the Unit CA's is ECDSA
        "expires_on": isoformat(cert.not_valid_after_utc),
        "issued_on": isoformat(cert.not_valid_before_utc),
        "fingerprint_sha256": issued.fingerprint_sha256,
    }


def test_key_types_of_a_pair_from_the_served_pem_when_the_signatures_say_nothing(ca, rsa_key):
    # Both leaves are signed by the ECDSA CA, so both signatures read ECDSAWithSHA256: the PEM of
    # ssl.custom_certificate tells its leaf's key type, and the other of a pair is the other one.
    rsa_leaf, ec_leaf = make_leaf(ca, [HOST], key=rsa_key), make_leaf(ca, [HOST])
    entries = [api_entry(ec_leaf, "e"), api_entry(rsa_leaf, "r")]
    assert [e["signature"] for e in entries] == ["ECDSAWithSHA256", "ECDSAWithSHA256"]
    for served, first in ((rsa_leaf, "rsa"), (ec_leaf, "ecdsa")):
        current = {"ssl": {"custom_certificate": served.chain_pem, "certificates": entries}}
        assert {c.id: c.key_type for c in remote_certificates(current)} == {"e": "ecdsa", "r": "rsa"}, first
    # Without the PEM the signatures cannot tell the pair apart: no guess.
    assert [c.key_type for c in remote_certificates({"ssl": {"certificates": entries}})] == [None, None]


def test_the_key_type_of_one_certificate_comes_from_the_pem_before_the_signature(ca, rsa_key):
    rsa_leaf = make_leaf(ca, [HOST], key=rsa_key)  # an RSA leaf signed by an ECDSA CA
    current = {"ssl": {"custom_certificate": rsa_leaf.chain_pem, "certificates": [api_entry(rsa_leaf, "r")]}}
    (cert,) = remote_certificates(current)
    assert cert.key_type == "rsa" and view_of(dict(current, id="h", hostname=HOST))["ssl"]["certificates"][0]["key_type"] == "rsa"
    # An answer without the `certificates` list: the one certificate from `ssl` itself, typed by its PEM.
    legacy = {"ssl": {"custom_certificate": rsa_leaf.chain_pem, "serial_number": str(rsa_leaf.cert.serial_number), "signature": "ECDSAWithSHA256"}}
    assert remote_certificates(legacy)[0].key_type == "rsa"


def test_view_has_facts_only_and_sorts_rsa_first():
    current = {
        "id": "h1",
        "hostname": HOST,
        "status": "active",
        "ssl": {
            "id": "p1",
            "status": "active",
            "bundle_method": "ubiquitous",
            "custom_certificate": "-----BEGIN CERTIFICATE-----...",
            "hosts": [HOST],
            "certificates": [
                {
                    "id": "e",
                    "signature": "ECDSAWithSHA256",
                    "serial_number": "2",
                    "issuer": "I",
                    "expires_on": "2030-01-01T00:00:00.123456Z",
                    "fingerprint_sha256": "AB:CD",
                },
                {
                    "id": "r",
                    "signature": "SHA256WithRSA",
                    "serial_number": "1",
                    "issuer": "I",
                    "expires_on": "2030-01-01T00:00:00Z",
                    "fingerprint_sha256": "ef",
                },
            ],
        },
    }
    view = view_of(current)
    assert set(view) == {
        "id",
        "hostname",
        "status",
        "verification_errors",
        "ownership_verification",
        "ownership_verification_http",
        "custom_metadata",
        "custom_origin_server",
        "custom_origin_sni",
        "ssl",
    }
    assert set(view["ssl"]) == {
        "id",
        "status",
        "method",
        "type",
        "certificate_authority",
        "bundle_method",
        "wildcard",
        "settings",
        "validation_records",
        "validation_errors",
        "dcv_delegation_records",
        "certificates",
    }
    assert [c["id"] for c in view["ssl"]["certificates"]] == ["r", "e"]
    ecdsa = view["ssl"]["certificates"][1]
    assert ecdsa["fingerprint_sha256"] == "abcd" and ecdsa["expires_on"] == "2030-01-01T00:00:00Z" and ecdsa["hosts"] is None
    assert view_of({"id": "h", "hostname": HOST, "ssl": {"status": "pending_validation"}})["ssl"]["certificates"] == []


def test_ssl_config_sends_back_what_was_read():
    current = {
        "ssl": {
            "id": "p",
            "status": "active",
            "method": "txt",
            "type": "dv",
            "settings": {"min_tls_version": "1.2", "http2": None},
            "bundle_method": "force",
            "wildcard": False,
            "certificate_authority": None,
            "certificates": [],
        }
    }
    assert ssl_config(current) == {"method": "txt", "type": "dv", "settings": {"min_tls_version": "1.2"}, "bundle_method": "force", "wildcard": False}
    assert ssl_config(current, "optimal")["bundle_method"] == "optimal"


def test_hostname_view_without_certificates_holds_settings_and_records_to_publish():
    record = {"status": "pending", "txt_name": "_acme-challenge." + HOST, "txt_value": "v"}
    current = {
        "id": "h1",
        "hostname": HOST,
        "status": "pending",
        "created_at": "2026-01-01T00:00:00Z",
        "ownership_verification": {"type": "txt", "name": "_cf-custom-hostname." + HOST, "value": "t"},
        "custom_origin_sni": ":request_host_header:",
        "ssl": {
            "id": "p1",
            "status": "pending_validation",
            "method": "txt",
            "type": "dv",
            "settings": {"http2": "on", "ciphers": None},
            "validation_records": [record],
        },
    }
    view = hostname_view(current)
    assert "certificates" not in view["ssl"] and "created_at" not in view
    assert view["ownership_verification"]["value"] == "t" and view["custom_origin_sni"] == ":request_host_header:" and view["custom_metadata"] is None
    assert view["verification_errors"] == [] and view["ssl"]["validation_errors"] == [] and view["ssl"]["dcv_delegation_records"] == []
    assert view["ssl"]["validation_records"] == [record] and view["ssl"]["settings"] == {"http2": "on"} and view["ssl"]["certificate_authority"] is None


@pytest.mark.parametrize(
    "status, ssl_status, live, stuck",
    [
        ("active", "active", True, False),
        ("pending", "active", False, False),
        ("active", "pending_validation", False, False),
        ("blocked", "active", False, True),
        ("active", "validation_timed_out", False, True),
        ("active", "issuance_timed_out", False, True),
    ],
)
def test_live_needs_both_statuses_active_and_some_statuses_never_get_there(status, ssl_status, live, stuck):
    current = {"hostname": HOST, "status": status, "ssl": {"status": ssl_status, "validation_errors": [{"message": "SERVFAIL looking up CAA"}]}}
    assert is_live(current) is live
    if stuck:
        with pytest.raises(CloudflareError) as info:
            check_not_stuck(current)
        assert (status if status == "blocked" else ssl_status) in info.value.message and "SERVFAIL" in info.value.message
    else:
        check_not_stuck(current)


# -- _leaf_facts: the served leaf parsed once per PEM ------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Any:
    return make_leaf(make_ca("Handoff Unit CA"), ["*.customer.example"], days=10, not_before_days=-80)


def hostname(served_pem: str, serial: str, uploaded_on: str = "2026-01-01T00:00:00Z") -> Dict[str, Any]:
    certificates = [{"id": "c1", "serial_number": serial, "fingerprint_sha256": "ab" * 32, "expires_on": "2026-12-01T00:00:00Z"}]
    return {"hostname": "x", "ssl": {"custom_certificate": served_pem, "uploaded_on": uploaded_on, "certificates": certificates}}


def test_hostnames_sharing_one_served_pem_parse_it_once(served):
    _leaf_facts.cache_clear()
    serial_hex = "%x" % served.cert.serial_number  # as Cloudflare reports serials
    first = remote_certificates(hostname(served.chain_pem, serial_hex))
    second = remote_certificates(hostname(served.chain_pem, serial_hex))
    info = _leaf_facts.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    expected = isoformat(served.cert.not_valid_before_utc)
    assert first[0].not_before == expected and second[0].not_before == expected
    # The cache must not carry one hostname's answer to a certificate it does not match.
    other = remote_certificates(hostname(served.chain_pem, "1234"))
    assert other[0].not_before is None and _leaf_facts.cache_info().hits == 2
    assert first[0].key_type == "ecdsa" and other[0].key_type is None  # the PEM types its own leaf only


@pytest.mark.parametrize(
    "pem",
    [
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "no PEM here",
        "-----BEGIN CERTIFICATE-----\nÿÿ\n-----END CERTIFICATE-----\n",
    ],
    ids=["not-der", "no-block", "not-ascii"],
)
def test_a_bad_served_pem_gives_no_start_date_and_no_exception(pem):
    _leaf_facts.cache_clear()
    (cert,) = remote_certificates(hostname(pem, "12"))
    assert cert.not_before is None
    assert cert.uploaded_on == "2026-01-01T00:00:00Z"  # the rest of the facts still come through
    assert _leaf_facts(pem) is None
