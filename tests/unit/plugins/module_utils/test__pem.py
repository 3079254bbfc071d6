"""Certificate facts and checks: pure functions over real certificates minted here."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess
import types

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.certops.cloudflare.plugins.module_utils import _pem
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import CertificateError, expiry_bucket, serial_hex

NOW = datetime.datetime.now(datetime.timezone.utc)


def _name(cn, org=None):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _mint(subject, issuer, key, signer, hosts=(), days=90, start=-1, ca=False, serial=None):
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(NOW + datetime.timedelta(days=start))
        .not_valid_after(NOW + datetime.timedelta(days=start + days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if hosts:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def key_pem(key, fmt=serialization.PrivateFormat.PKCS8, password=None):
    enc = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, fmt, enc).decode()


@pytest.fixture(scope="module")
def ca():
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Test Root CA", "Certops Test CA")
    return key, name, _mint(name, name, key, key, ca=True, days=3650)


@pytest.fixture(scope="module")
def ec_leaf(ca):
    ca_key, ca_name = ca[:2]
    key = ec.generate_private_key(ec.SECP256R1())
    return key, _mint(_name("shop.example.com"), ca_name, key, ca_key, hosts=["shop.example.com", "*.shop.example.com"], serial=1234567890123)


@pytest.fixture(scope="module")
def rsa_leaf(ca):
    ca_key, ca_name = ca[:2]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key, _mint(_name("shop.example.com"), ca_name, key, ca_key, hosts=["shop.example.com"])


def test_ecdsa_leaf_facts(ec_leaf):
    key, cert = ec_leaf
    facts, upload_key = _pem.check_certificate(pem(cert), key_pem(key), hostname="shop.example.com")
    assert upload_key == key_pem(key)  # a clear key is uploaded as given
    assert facts["serial_number"] == "1234567890123"
    assert facts["serial_hex"] == format(1234567890123, "x")
    assert facts["fingerprint_sha256"] == cert.fingerprint(hashes.SHA256()).hex() and len(facts["fingerprint_sha256"]) == 64
    assert facts["issuer"] == "Certops Test CA"
    assert facts["subject"] == "CN=shop.example.com"
    assert facts["sans"] == ["shop.example.com", "*.shop.example.com"]
    assert facts["key_type"] == "ecdsa" and facts["curve"] == "secp256r1" and facts["key_size"] is None
    assert facts["signature_algorithm"] == "ECDSAWithSHA256"
    assert facts["days_remaining"] in (88, 89)
    assert facts["not_after"].endswith("Z")


def test_rsa_leaf_facts_and_key_formats(rsa_leaf):
    key, cert = rsa_leaf
    for fmt in (serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL):
        facts = _pem.check_certificate(pem(cert), key_pem(key, fmt))[0]
        assert facts["key_type"] == "rsa" and facts["key_size"] == 2048 and facts["curve"] is None


def test_sec1_ec_key_loads(ec_leaf):
    key, cert = ec_leaf
    text = key_pem(key, serialization.PrivateFormat.TraditionalOpenSSL)
    assert "BEGIN EC PRIVATE KEY" in text
    assert _pem.key_matches(cert, _pem.load_private_key(text))


def test_encrypted_key_needs_a_passphrase(ec_leaf):
    key, cert = ec_leaf
    text = key_pem(key, password=b"s3cret")
    with pytest.raises(CertificateError, match="encrypted; give its passphrase"):
        _pem.load_private_key(text)
    with pytest.raises(CertificateError, match="wrong passphrase"):
        _pem.load_private_key(text, "wrong")
    assert _pem.key_matches(cert, _pem.load_private_key(text, "s3cret"))
    clear = _pem.private_key_to_pem(_pem.load_private_key(text, "s3cret"))
    assert "ENCRYPTED" not in clear and _pem.key_matches(cert, _pem.load_private_key(clear))
    # check_certificate hands back the key decrypted, ready to upload
    upload_key = _pem.check_certificate(pem(cert), text, "s3cret")[1]
    assert "ENCRYPTED" not in upload_key and _pem.key_matches(cert, _pem.load_private_key(upload_key))


def test_chain_is_parsed_leaf_first_and_order_checked(ca, ec_leaf):
    ca_cert = ca[2]
    leaf = ec_leaf[1]
    bundle = pem(leaf) + "\r\n" + pem(ca_cert)
    certs = _pem.load_certificates(bundle)
    assert [c.subject for c in certs] == [leaf.subject, ca_cert.subject]
    assert _pem.chain_order_problems(certs) == []
    problems = _pem.chain_order_problems(list(reversed(certs)))
    assert len(problems) == 1 and "leaf first" in problems[0]
    assert _pem.normalize_pem(bundle).count("BEGIN CERTIFICATE") == 2


def test_mismatched_key_is_refused_without_key_material(ec_leaf, rsa_leaf):
    other_key = rsa_leaf[0]
    cert = ec_leaf[1]
    other = key_pem(other_key)
    with pytest.raises(CertificateError) as info:
        _pem.check_certificate(pem(cert), other, name="certificates[0]")
    assert "certificates[0]" in str(info.value) and "does not belong" in str(info.value)
    assert other.splitlines()[1] not in str(info.value)


def test_expired_certificate(ca):
    ca_key, ca_name = ca[:2]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _mint(_name("old.example.com"), ca_name, key, ca_key, hosts=["old.example.com"], start=-100, days=30)
    assert _pem.is_expired(cert)
    with pytest.raises(CertificateError, match="expired on"):
        _pem.check_certificate(pem(cert), key_pem(key))


def test_expiring_within(ec_leaf):
    cert = ec_leaf[1]
    assert _pem.expires_within(cert, 90) and not _pem.expires_within(cert, 30)


@pytest.mark.parametrize(
    "host, covered",
    [
        ("shop.example.com", True),
        ("www.shop.example.com", True),
        ("WWW.Shop.Example.com.", True),
        ("a.b.shop.example.com", False),
        ("example.com", False),
        ("evilshop.example.com", False),
    ],
)
def test_wildcard_coverage_is_one_label(ec_leaf, host, covered):
    cert = ec_leaf[1]
    assert _pem.covers_hostname(cert, host) is covered


def test_not_covering_hostname_is_named(ec_leaf):
    key, cert = ec_leaf
    with pytest.raises(CertificateError, match="does not cover other.example.net"):
        _pem.check_certificate(pem(cert), key_pem(key), hostname="other.example.net")


@pytest.mark.parametrize("text", ["", "not a pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_garbage_pem(text):
    with pytest.raises(CertificateError, match="leaf|no PEM certificate"):
        _pem.load_certificates(text, "certificates[1]")


def test_garbage_key():
    with pytest.raises(CertificateError, match="no PEM private key"):
        _pem.load_private_key("garbage")
    with pytest.raises(CertificateError, match="not a valid RSA or EC private key"):
        _pem.load_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_api_facts_helpers():
    facts = {"serial_number": "4660", "serial_hex": "1234"}
    assert _pem.serial_matches("4660", facts) and _pem.serial_matches("00:12:34", facts) and _pem.serial_matches("1234", facts)
    assert not _pem.serial_matches("4661", facts) and not _pem.serial_matches(None, facts) and not _pem.serial_matches("", facts)
    in_ten_days = _pem.isoformat(NOW + datetime.timedelta(days=10, hours=1))
    assert _pem.days_until(in_ten_days) == 10 and _pem.days_until(None) is None and _pem.days_until("soon") is None
    assert _pem.expires_on_within(in_ten_days, 11) and not _pem.expires_on_within(in_ten_days, 9)
    assert _pem.expires_on_within("2001-01-01T00:00:00Z", 0) and not _pem.expires_on_within(None, 30) and not _pem.expires_on_within("soon", 30)


def test_api_times_parse():
    assert _pem.parse_time("2026-01-02T03:04:05Z") == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    assert _pem.parse_time("2026-01-02T03:04:05.123456+00:00").year == 2026
    assert _pem.normalize_fingerprint("AB:CD:ef") == "abcdef"


def test_not_yet_valid_certificate_is_refused(ca):
    ca_key, ca_name = ca[:2]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _mint(_name("next.example.com"), ca_name, key, ca_key, hosts=["next.example.com"], start=7, days=90)
    assert _pem.is_not_yet_valid(cert) and not _pem.is_expired(cert)
    with pytest.raises(CertificateError, match="not valid yet \\(valid from "):
        _pem.check_certificate(pem(cert), key_pem(key), hostname="next.example.com")
    # the same certificate is fine once its time has come
    later = NOW + datetime.timedelta(days=8)
    assert _pem.check_certificate(pem(cert), key_pem(key), hostname="next.example.com", now=later)[0]["key_type"] == "ecdsa"


def test_small_rsa_key_is_refused(ca):
    ca_key, ca_name = ca[:2]
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    cert = _mint(_name("weak.example.com"), ca_name, key, ca_key, hosts=["weak.example.com"])
    with pytest.raises(CertificateError, match="RSA key has 1024 bits; at least 2048 are required"):
        _pem.check_certificate(pem(cert), key_pem(key))
    with pytest.raises(CertificateError, match="1024 bits"):
        _pem.check_certificate(pem(cert))  # without the key too


def test_chain_signed_with_rsa_pss_is_accepted():
    from cryptography.hazmat.primitives.asymmetric import padding

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("PSS Root", "PSS Test CA")
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)

    def build(subject, issuer, public_key, is_ca, hosts=()):
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=90))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        )
        if hosts:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hosts]), critical=False)
        return builder.sign(ca_key, hashes.SHA256(), rsa_padding=pss)

    root = build(ca_name, ca_name, ca_key.public_key(), True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = build(_name("pss.example.com"), ca_name, key.public_key(), False, ["pss.example.com"])
    certs = _pem.load_certificates(pem(leaf) + pem(root))
    assert _pem.chain_order_problems(certs) == []
    facts = _pem.check_certificate(pem(leaf) + pem(root), key_pem(key), hostname="pss.example.com")[0]
    assert facts["key_type"] == "ecdsa"
    # a PSS signature by another key is still caught
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = x509.CertificateBuilder().subject_name(_name("pss.example.com")).issuer_name(ca_name).public_key(key.public_key())
    forged = forged.serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=9))
    forged = forged.sign(other, hashes.SHA256(), rsa_padding=pss)
    assert len(_pem.chain_order_problems(_pem.load_certificates(pem(forged) + pem(root)))) == 1


def test_holds_private_key(ec_leaf):
    key, cert = ec_leaf
    assert _pem.holds_private_key(pem(cert) + key_pem(key))
    assert _pem.holds_private_key("-----BEGIN RSA PRIVATE KEY-----\nAAAA")  # a header alone is enough
    assert not _pem.holds_private_key(pem(cert)) and not _pem.holds_private_key(None)


# -- verify_chain: trust as Cloudflare checks an upload (web-PKI profile of cryptography.x509.verification) ----------


@pytest.fixture(scope="module")
def pki():
    """A root, an intermediate under it, and a leaf issued by the intermediate (testcerts builds them as public CAs do)."""
    from emulator.testcerts import make_ca, make_leaf

    root = make_ca("Verify Root", trusted=False)
    intermediate = make_ca("Verify Intermediate", parent=root, trusted=False)
    leaf = make_leaf(intermediate, ["shop.example.com", "*.shop.example.com"])
    return root, intermediate, leaf


def _subjects(chain):
    return [c.subject.rfc4514_string() for c in chain]


def test_verify_chain_returns_leaf_intermediate_and_root(pki):
    root, intermediate, leaf = pki
    chain = _pem.verify_chain(leaf.cert_pem + intermediate.cert_pem, [root.cert])
    assert _subjects(chain) == ["CN=shop.example.com", "CN=Verify Intermediate", "CN=Verify Root"]


def test_verify_chain_accepts_the_root_inside_the_upload(pki):
    root, _intermediate, leaf = pki
    assert len(_pem.verify_chain(leaf.chain_pem, [root.cert])) == 3


def test_verify_chain_refuses_a_missing_intermediate(pki):
    root, _intermediate, leaf = pki
    with pytest.raises(CertificateError, match="add the intermediate certificates"):
        _pem.verify_chain(leaf.cert_pem, [root.cert])


def test_a_missing_intermediate_is_an_incomplete_chain_error_naming_the_issuer(pki):
    root, _intermediate, leaf = pki
    with pytest.raises(_pem.IncompleteChainError) as info:
        _pem.verify_chain(leaf.cert_pem, [root.cert])
    assert info.value.issuer == "CN=Verify Intermediate"


def test_verify_chain_completes_a_missing_intermediate_from_complete_from(pki):
    root, intermediate, leaf = pki
    chain = _pem.verify_chain(leaf.cert_pem, [root.cert], complete_from=[intermediate.cert])
    assert chain[1] == intermediate.cert


def test_verify_chain_refuses_a_self_signed_leaf():
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("self.example.com")
    cert = _mint(name, name, key, key, hosts=["self.example.com"])
    with pytest.raises(CertificateError, match="self-signed"):
        _pem.verify_chain(pem(cert), [cert])


def test_verify_chain_refuses_a_ca_certificate_as_leaf(pki):
    root, intermediate, _leaf = pki
    with pytest.raises(CertificateError, match="is a CA certificate"):
        _pem.verify_chain(intermediate.chain_pem, [root.cert])


def test_verify_chain_refuses_an_untrusted_root(pki):
    from emulator.testcerts import make_ca

    _root, intermediate, leaf = pki
    other = make_ca("Other Root", trusted=False)
    with pytest.raises(CertificateError, match="does not lead to a trusted root"):
        _pem.verify_chain(leaf.cert_pem + intermediate.cert_pem, [other.cert])


def test_verify_chain_refuses_an_expired_leaf(pki):
    from emulator.testcerts import make_leaf

    root, intermediate, _leaf = pki
    expired = make_leaf(intermediate, ["shop.example.com"], days=-1, not_before_days=-90)
    with pytest.raises(CertificateError, match="expired on"):
        _pem.verify_chain(expired.chain_pem, [root.cert])


def test_verify_chain_checks_validity_at_the_given_time(pki):
    root, _intermediate, leaf = pki
    with pytest.raises(CertificateError, match="expired on"):
        _pem.verify_chain(leaf.chain_pem, [root.cert], now=NOW + datetime.timedelta(days=365))


def test_verify_chain_refuses_a_hostname_the_sans_do_not_cover(pki):
    root, _intermediate, leaf = pki
    with pytest.raises(CertificateError, match="does not cover other.example.com"):
        _pem.verify_chain(leaf.chain_pem, [root.cert], hostname="other.example.com")


def test_verify_chain_accepts_a_hostname_under_a_wildcard_san(pki):
    root, _intermediate, leaf = pki
    assert _pem.verify_chain(leaf.chain_pem, [root.cert], hostname="www.shop.example.com")[0] == leaf.cert


@pytest.fixture(scope="module")
def private_pki():
    """A private root (basic constraints and key usage, no key identifiers) and a leaf it issued, also without them."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("Private Root")
    usage = x509.KeyUsage(True, False, False, False, False, True, True, False, False)
    root = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    return root, _mint(_name("shop.example.com"), name, leaf_key, key, hosts=["shop.example.com"])


def test_verify_chain_needs_key_identifiers_on_the_web_pki_profile(private_pki):
    root, leaf = private_pki
    with pytest.raises(CertificateError, match="authorityKeyIdentifier"):
        _pem.verify_chain(pem(leaf), [root])


def test_verify_chain_relaxed_allows_absent_key_identifiers(private_pki):
    root, leaf = private_pki
    assert _pem.verify_chain(pem(leaf), [root], relaxed=True) == [leaf, root]


def test_verify_chain_names_the_upgrade_when_cryptography_is_too_old(monkeypatch, pki):
    root, _intermediate, leaf = pki
    monkeypatch.setattr(_pem, "HAS_X509_VERIFICATION", False)
    with pytest.raises(CertificateError, match="cryptography 45 or later"):
        _pem.verify_chain(leaf.chain_pem, [root.cert])


def test_verify_chain_refuses_a_chain_in_reverse_order_saying_to_put_the_leaf_first(pki):
    root, intermediate, leaf = pki
    with pytest.raises(CertificateError, match="is a CA certificate, not a server certificate; put the server certificate first"):
        _pem.verify_chain(intermediate.cert_pem + leaf.cert_pem, [root.cert])


def test_verify_chain_refuses_a_leaf_with_a_common_name_and_no_subject_alternative_name(ca):
    ca_key, ca_name, ca_cert = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cn_only = _mint(_name("cn.example.com"), ca_name, key, ca_key)
    with pytest.raises(CertificateError, match="names no DNS hostname in its subject alternative name extension"):
        _pem.verify_chain(pem(cn_only), [ca_cert], hostname="cn.example.com")


def test_verify_chain_refuses_an_expired_intermediate_naming_it(pki):
    from emulator.testcerts import make_ca, make_leaf

    root = pki[0]
    expired = make_ca("Expired Intermediate", parent=root, days=-1, trusted=False)
    leaf = make_leaf(expired, ["shop.example.com"])
    with pytest.raises(CertificateError, match="issuing certificate CN=Expired Intermediate expired on"):
        _pem.verify_chain(leaf.cert_pem + expired.cert_pem, [root.cert])


# -- client_certificate_problems: per-hostname authenticated origin pull client certificates ------------------------


def _client_cert(ca, usages=None, is_ca=False):
    """A certificate the `ca` fixture issued, with the extended key usages `usages` (None: no such extension)."""
    ca_key, ca_name = ca[:2]
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name("origin-pull.example.com"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - datetime.timedelta(days=1))
        .not_valid_after(NOW + datetime.timedelta(days=90))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if usages is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


@pytest.mark.parametrize(
    "usages",
    [[ExtendedKeyUsageOID.CLIENT_AUTH], [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE], None],
    ids=["clientAuth only", "anyExtendedKeyUsage", "no extended key usage"],
)
def test_a_client_certificate_whose_usages_allow_client_authentication_has_no_problem(ca, usages):
    assert _pem.client_certificate_problems(_client_cert(ca, usages)) == []


def test_a_server_only_certificate_is_no_client_certificate(ca):
    problems = _pem.client_certificate_problems(_client_cert(ca, [ExtendedKeyUsageOID.SERVER_AUTH]))
    assert problems == ["its extended key usage does not allow client authentication (it allows serverAuth); issue it with the clientAuth extended key usage"]


def test_a_ca_certificate_is_no_client_certificate(ca):
    problems = _pem.client_certificate_problems(_client_cert(ca, is_ca=True))
    assert problems == ["it is a CA certificate (basic constraints CA=true); use a client certificate that CA issued instead"]


# -- load_trust and default_ca_bundle: the roots verify_chain is given ----------------------------------------------


@pytest.fixture
def no_bundle_variables(monkeypatch):
    """Neither REQUESTS_CA_BUNDLE nor CURL_CA_BUNDLE set, whatever the environment running the tests sets."""
    for variable in _pem.CA_BUNDLE_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def test_load_trust_with_a_file_gives_its_certificates_relaxed(pki, tmp_path):
    root, intermediate, _leaf = pki
    path = tmp_path / "cas.pem"
    path.write_text(root.cert_pem + intermediate.cert_pem)
    assert _pem.load_trust(str(path)) == ([root.cert, intermediate.cert], True)


def test_load_trust_with_a_directory_reads_its_pem_files_in_name_order_and_skips_others(pki, private_pki, tmp_path):
    (tmp_path / "b-private.pem").write_text(pem(private_pki[0]))
    (tmp_path / "a-public.crt").write_text(pki[0].cert_pem)
    (tmp_path / "README").write_text("CA certificates, one per file\n")
    assert _pem.load_trust(str(tmp_path)) == ([pki[0].cert, private_pki[0]], True)


def test_load_trust_names_a_missing_ca_path(tmp_path):
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(CertificateError, match="ca_path %s is neither a file nor a directory" % re.escape(missing)):
        _pem.load_trust(missing)


def test_load_trust_refuses_a_file_holding_no_certificate(tmp_path):
    path = tmp_path / "empty.pem"
    path.write_text("no certificate here\n")
    with pytest.raises(CertificateError, match="ca_path %s holds no PEM certificate" % re.escape(str(path))):
        _pem.load_trust(str(path))


def test_load_trust_without_ca_path_reads_requests_ca_bundle_strict(no_bundle_variables, pki, tmp_path):
    path = tmp_path / "bundle.pem"
    path.write_text(pki[0].cert_pem)
    no_bundle_variables.setenv("REQUESTS_CA_BUNDLE", str(path))
    assert _pem.load_trust() == ([pki[0].cert], False)


BROKEN_BLOCK = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


def test_load_trust_skips_a_certificate_of_the_default_bundle_it_cannot_parse(no_bundle_variables, pki, tmp_path):
    path = tmp_path / "bundle.pem"
    path.write_text(BROKEN_BLOCK + pki[0].cert_pem)
    no_bundle_variables.setenv("REQUESTS_CA_BUNDLE", str(path))
    assert _pem.load_trust()[0] == [pki[0].cert]


def test_load_trust_names_a_certificate_of_ca_path_it_cannot_parse(pki, tmp_path):
    path = tmp_path / "cas.pem"
    path.write_text(pki[0].cert_pem + BROKEN_BLOCK)
    with pytest.raises(CertificateError, match="ca_path .*: certificate 2 of .*cas.pem is not a valid PEM certificate"):
        _pem.load_trust(str(path))


def test_default_ca_bundle_takes_curl_ca_bundle_when_requests_ca_bundle_is_unset(no_bundle_variables, tmp_path):
    path = tmp_path / "curl.pem"
    path.write_text("")
    no_bundle_variables.setenv("CURL_CA_BUNDLE", str(path))
    assert _pem.default_ca_bundle() == str(path)


def test_default_ca_bundle_names_a_variable_naming_no_file(no_bundle_variables, tmp_path):
    no_bundle_variables.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "gone.pem"))
    with pytest.raises(CertificateError, match="the environment variable REQUESTS_CA_BUNDLE names .*gone.pem, which is not a file"):
        _pem.default_ca_bundle()


def test_default_ca_bundle_is_certifis_when_no_variable_is_set(no_bundle_variables):
    certifi = pytest.importorskip("certifi")
    assert _pem.default_ca_bundle() == certifi.where()


def test_load_trust_without_anything_set_gives_certifis_roots_strict(no_bundle_variables):
    pytest.importorskip("certifi")
    roots, relaxed = _pem.load_trust()
    assert (len(roots) > 0, relaxed) == (True, False)


def test_default_ca_bundle_without_certifi_or_openssl_file_says_what_to_set(no_bundle_variables):
    no_bundle_variables.setattr(_pem, "certifi", None)
    no_bundle_variables.setattr(_pem.ssl, "get_default_verify_paths", lambda: types.SimpleNamespace(cafile=None))
    with pytest.raises(CertificateError, match="set REQUESTS_CA_BUNDLE to a PEM file of trusted CA certificates, install certifi, or give ca_path"):
        _pem.default_ca_bundle()


def test_load_trust_parses_the_default_bundle_once_per_modification_time(no_bundle_variables, pki, tmp_path):
    path = tmp_path / "bundle.pem"
    path.write_text(pki[0].cert_pem)
    no_bundle_variables.setenv("REQUESTS_CA_BUNDLE", str(path))
    reads = []
    read_roots = _pem._read_roots
    no_bundle_variables.setattr(_pem, "_read_roots", lambda *args, **kwargs: reads.append(args) or read_roots(*args, **kwargs))
    _pem.load_trust()
    _pem.load_trust()
    os.utime(path, (1, 1))  # a new bundle in place: read again
    _pem.load_trust()
    assert len(reads) == 2


def test_a_private_root_from_ca_path_verifies_a_leaf_without_key_identifiers(private_pki, tmp_path):
    root, leaf = private_pki
    path = tmp_path / "private-root.pem"
    path.write_text(pem(root))
    roots, relaxed = _pem.load_trust(str(path))
    assert _pem.verify_chain(pem(leaf), roots, relaxed=relaxed) == [leaf, root]


# -- serial numbers and expiry buckets as reports show them ------------------------------------------------------------


def test_a_serial_is_shown_as_openssl_prints_it():
    assert serial_hex("6743787633689793699141714808227354901") == "0512CE66AD630E7B0CD49D076879D915"
    assert serial_hex("12") == "0C" and serial_hex(255) == "FF" and serial_hex("256") == "0100"  # even digits, as openssl
    assert serial_hex("0a:1b:2c") == "0A1B2C" and serial_hex("abc") == "0ABC"  # hex stays hex, colons go
    assert serial_hex(None) == "" and serial_hex("not a serial") == "not a serial"


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed: the comparison with its output needs it")
@pytest.mark.parametrize("serial", [0x0F00, 0x7FFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF, None])
def test_a_serial_from_the_api_reads_as_openssl_prints_the_certificate(ca, serial):
    ca_key, ca_name = ca[:2]
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _mint(_name("serial.example"), ca_name, key, ca_key, serial=serial)
    printed = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem(cert), capture_output=True, text=True, check=True).stdout
    assert printed.strip() == "serial=" + serial_hex(str(cert.serial_number))  # the API gives the decimal text


def test_the_expiry_buckets_count_days_left_from_now():
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    days = [-1, 0, 6.9, 7, 29, 30, 89, 90, 400]
    got = [expiry_bucket(now + datetime.timedelta(days=d), now) for d in days]
    assert got == ["expired", "under_7", "under_7", "under_30", "under_30", "under_90", "under_90", "later", "later"]
