"""_edge's pure parts: the TLS 1.2 Certificate message, expectations, untrusted chains, and what a context trusts."""

from __future__ import annotations

import ssl

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._edge import (
    CaStoreError,
    apply_expect,
    blank_entry,
    load_trust,
    normalize_expect,
    tls12_chain,
    untrusted_chains,
)
from ansible_collections.certops.cloudflare.plugins.module_utils._inputs import check_hostname

FP_OLD, FP_NEW, FP_RSA = "aa" * 32, "bb" * 32, "cc" * 32
TARGET = {"hostname": "app.example.com", "address": "127.0.0.1", "port": 8443}


def record(content_type: int, body: bytes) -> bytes:
    return bytes([content_type, 3, 3]) + len(body).to_bytes(2, "big") + body


def handshake_message(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def certificate_message(*ders: bytes) -> bytes:
    listed = b"".join(len(d).to_bytes(3, "big") + d for d in ders)
    return handshake_message(11, len(listed).to_bytes(3, "big") + listed)


def test_tls12_chain_reads_the_certificate_message_split_over_records():
    server_hello, done = handshake_message(2, b"\x03\x03" + b"\x00" * 34), handshake_message(14, b"")
    stream = server_hello + certificate_message(b"leaf-der", b"ca-der") + done
    received = record(22, stream[:20]) + record(22, stream[20:]) + record(20, b"\x01") + record(22, b"encrypted finished")
    assert tls12_chain(received) == [b"leaf-der", b"ca-der"]


def test_tls12_chain_is_empty_without_a_clear_certificate_message():
    assert tls12_chain(record(22, handshake_message(2, b"\x03\x04")) + record(23, b"encrypted")) == []
    assert tls12_chain(b"") == [] and tls12_chain(b"\x16\x03") == []


def entry(fingerprint, key_type="ecdsa", requested="ecdsa", hostname="app.example.com", error=None):
    found = blank_entry(dict(TARGET, hostname=hostname), requested)
    found.update(fingerprint_sha256=fingerprint, key_type=key_type if fingerprint else None, error=error)
    return found


def test_expect_takes_one_fingerprint_a_list_or_one_per_key_type():
    hosts = ["app.example.com", "shop.example.com"]
    expect = {"APP.example.com.": FP_NEW.upper(), "shop.example.com": {"rsa": [FP_RSA, ":".join(["dd"] * 32)]}}
    assert normalize_expect(expect, hosts, check_hostname) == {
        "app.example.com": {"rsa": [FP_NEW], "ecdsa": [FP_NEW]},
        "shop.example.com": {"rsa": [FP_RSA, "dd" * 32]},
    }


@pytest.mark.parametrize(
    "expect, message",
    [
        ({"other.example.com": FP_NEW}, "not one of hostnames"),
        ({"app.example.com": "abc"}, "is not a SHA-256 fingerprint"),
        ({"app.example.com": []}, "is not a SHA-256 fingerprint"),
        ({"app.example.com": {"dsa": FP_NEW}}, "must map to a fingerprint"),
        ({"app.example.com": 12}, "must map to a fingerprint"),
    ],
)
def test_expect_refuses_what_it_cannot_compare(expect, message):
    with pytest.raises(ValueError, match=message):
        normalize_expect(expect, ["app.example.com"], check_hostname)


def test_apply_expect_names_each_entry_that_differs():
    entries = [entry(FP_NEW), entry(FP_OLD, "rsa", "rsa"), entry(None, requested="ecdsa", hostname="gone.example.com", error="TLS handshake failed: X")]
    expected = {"app.example.com": {"ecdsa": [FP_NEW], "rsa": [FP_NEW, FP_RSA]}, "gone.example.com": {"ecdsa": [FP_NEW]}}
    problems = apply_expect(entries, expected)
    assert [e["matches"] for e in entries] == [True, False, False]
    assert problems == [
        "app.example.com (rsa): served %s, expected %s" % (FP_OLD, FP_RSA),  # FP_NEW is the ECDSA certificate, served by ECDSA
        "gone.example.com (ecdsa): TLS handshake failed: X, expected %s" % FP_NEW,
    ]


# -- each certificate expected is served by its own key type --------------------------------------------------------------

NO_RSA = "TLS handshake failed: SSLV3_ALERT_HANDSHAKE_FAILURE"
BOTH = ("rsa", "ecdsa")


def per_key_type(value, key_types=BOTH):
    """What normalize_expect makes of a value given for a hostname (a fingerprint or a list): the same for each key type."""
    return {"app.example.com": {k: value if isinstance(value, list) else [value] for k in key_types}}


def ecdsa_only(fingerprint=FP_NEW):
    """A hostname that serves one ECDSA certificate and no RSA one: its RSA probe gets a handshake error."""
    return [entry(None, requested="rsa", error=NO_RSA), entry(fingerprint)]


def decide(entries, expected):
    problems = apply_expect(entries, expected)
    return [e["matches"] for e in entries], problems


def test_a_hostname_serving_only_its_expected_ecdsa_certificate_passes_and_its_rsa_probe_is_not_compared():
    entries = ecdsa_only()
    assert decide(entries, per_key_type(FP_NEW)) == ([None, True], [])
    assert entries[0]["error"] == NO_RSA  # reported as it is: not served


def test_an_expected_certificate_no_key_type_serves_fails_naming_each_key_type_that_does_not_serve_it():
    assert decide(ecdsa_only(FP_OLD), per_key_type(FP_NEW)) == (
        [False, False],
        ["app.example.com (rsa): %s, expected %s" % (NO_RSA, FP_NEW), "app.example.com (ecdsa): served %s, expected %s" % (FP_OLD, FP_NEW)],
    )


def test_a_hostname_that_serves_nothing_fails_for_each_key_type():
    entries = [entry(None, requested=k, error="timed out") for k in BOTH]
    assert decide(entries, per_key_type(FP_NEW))[1] == ["app.example.com (%s): timed out, expected %s" % (k, FP_NEW) for k in BOTH]


def test_each_certificate_of_a_pair_must_be_served_by_its_key_type():
    assert decide(ecdsa_only(), per_key_type([FP_RSA, FP_NEW])) == ([False, True], ["app.example.com (rsa): %s, expected %s" % (NO_RSA, FP_RSA)])
    served = [entry(FP_RSA, "rsa", "rsa"), entry(FP_NEW)]
    assert decide(served, per_key_type([FP_RSA, FP_NEW])) == ([True, True], [])


def test_the_other_key_type_is_not_compared_when_the_expected_certificate_is_served_by_its_own():
    """One ECDSA fingerprint named for the hostname: what RSA clients get is reported, not held to it. To hold the RSA
    certificate to one too, name it per key type."""
    entries = [entry(FP_OLD, "rsa", "rsa"), entry(FP_NEW)]
    assert decide(entries, per_key_type(FP_NEW)) == ([None, True], [])
    entries = [entry(FP_OLD, "rsa", "rsa"), entry(FP_NEW)]
    assert decide(entries, {"app.example.com": {"rsa": [FP_RSA], "ecdsa": [FP_NEW]}}) == (
        [False, True],
        ["app.example.com (rsa): served %s, expected %s" % (FP_OLD, FP_RSA)],
    )


def test_a_key_type_named_per_key_type_fails_when_the_hostname_does_not_serve_it():
    assert decide(ecdsa_only(), {"app.example.com": {"rsa": [FP_RSA], "ecdsa": [FP_NEW]}}) == (
        [False, True],
        ["app.example.com (rsa): %s, expected %s" % (NO_RSA, FP_RSA)],
    )


def test_a_list_for_one_key_type_still_means_any_one_of_them():
    assert decide([entry(FP_NEW)], {"app.example.com": {"ecdsa": [FP_OLD, FP_NEW]}}) == ([True], [])


def test_what_another_hostname_serves_does_not_count():
    entries = [entry(None, requested="rsa", error=NO_RSA), entry(FP_OLD), entry(FP_NEW, hostname="shop.example.com")]
    expected = dict(per_key_type(FP_NEW), **{"shop.example.com": {"ecdsa": [FP_NEW]}})
    assert decide(entries, expected)[0] == [False, False, True]


def tls13_only(fingerprint, key_type):
    """The entries of a server that accepts only TLS 1.3: each probe read what it prefers, the key type unselected."""
    found = [entry(fingerprint, key_type, requested) for requested in BOTH]
    for item in found:
        item["key_type_selected"] = False
    return found


def test_from_a_tls_1_3_only_server_the_key_type_it_prefers_answers_for_its_certificate():
    assert decide(tls13_only(FP_NEW, "ecdsa"), per_key_type(FP_NEW)) == ([None, True], [])


def test_from_a_tls_1_3_only_server_a_certificate_of_a_key_type_that_could_not_be_asked_for_fails():
    assert decide(tls13_only(FP_NEW, "ecdsa"), per_key_type([FP_RSA, FP_NEW])) == (
        [False, True],
        [
            "app.example.com (rsa): served %s, an ECDSA certificate (the server accepts only TLS 1.3, so rsa could not be asked for), expected %s"
            % (FP_NEW, FP_RSA)
        ],
    )


def probed(hostname, matches, validates, error=None):
    """An entry as probe and apply_expect leave it: `matches` None when nothing was expected of it."""
    found = entry(FP_NEW if not error else None, hostname=hostname, error=error)
    found.update(matches=matches, validates=validates, validation_error=None if validates is not False else "unable to get local issuer certificate")
    return found


def test_untrusted_chains_names_each_expected_certificate_served_over_a_chain_that_does_not_validate():
    entries = [
        probed("good.example.com", True, True),
        probed("untrusted.example.com", True, False),
        probed("stale.example.com", False, False),  # a mismatch, which apply_expect names
        probed("down.example.com", False, None, error="timed out"),
    ]
    assert untrusted_chains(entries) == ["untrusted.example.com (ecdsa): the edge serves an untrusted chain: unable to get local issuer certificate"]


def test_untrusted_chains_ignores_entries_nothing_was_expected_of():
    assert untrusted_chains([probed("app.example.com", None, False)]) == []


# -- trust: ca_path, else the CA bundle requests uses ------------------------------------------------------------------


@pytest.fixture
def test_ca(tmp_path):
    from emulator.testcerts import make_ca

    ca = make_ca("Edge Unit CA", trusted=False)
    path = tmp_path / "edge-unit-ca.pem"
    path.write_text(ca.cert_pem)
    return ca, str(path)


def subjects(context):
    return [dict(item[0] for item in cert["subject"]).get("commonName") for cert in context.get_ca_certs()]


def test_without_ca_path_the_context_trusts_the_file_requests_ca_bundle_names(monkeypatch, test_ca):
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", test_ca[1])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    load_trust(context, None)
    assert subjects(context) == ["Edge Unit CA"]


def test_with_ca_path_the_context_trusts_only_it(monkeypatch, test_ca, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "not-read.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    load_trust(context, test_ca[1])
    assert subjects(context) == ["Edge Unit CA"]


def test_a_default_bundle_variable_naming_no_file_is_a_ca_store_error(monkeypatch, tmp_path):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    with pytest.raises(CaStoreError, match="REQUESTS_CA_BUNDLE names .*gone.pem, which is not a file"):
        load_trust(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), None)


def test_a_missing_ca_path_is_a_ca_store_error_naming_it(tmp_path):
    with pytest.raises(CaStoreError, match="ca_path .*missing.pem is neither a file nor a directory"):
        load_trust(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), str(tmp_path / "missing.pem"))
