"""Origin CA certificates: signing from a CSR, the request's rules, the list by zone, revocation and the credentials."""

from __future__ import annotations

import datetime
import json

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from emulator.testcerts import make_csr

from .conftest import Api, codes

HOSTS = ("example.com", "*.example.com")


@pytest.fixture(scope="module")
def ecdsa_csr():
    return make_csr(HOSTS)


@pytest.fixture(scope="module")
def rsa_csr(rsa_key):
    return make_csr(HOSTS, key=rsa_key)


def create(api, csr, hostnames=HOSTS, expect=200, **fields):
    body = dict({"csr": csr, "hostnames": list(hostnames), "request_type": "origin-ecc"}, **fields)
    return api.post("certificates", body, expect=expect)


def roots(emu):
    answer = requests.get(emu.admin_url + "/origin-ca", timeout=10).json()
    return {kind: x509.load_pem_x509_certificate(pem.encode("ascii")) for kind, pem in answer.items()}


def spki(key):
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_a_created_certificate_is_signed_from_the_csr_by_the_origin_ca_root(emulator, api, ecdsa_csr):
    csr, key = ecdsa_csr
    before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    result = create(api, csr, requested_validity=90)["result"]
    assert set(result) == {"id", "certificate", "csr", "expires_on", "hostnames", "request_type", "requested_validity"}
    assert (result["csr"], result["hostnames"], result["request_type"], result["requested_validity"]) == (csr, list(HOSTS), "origin-ecc", 90)
    cert = x509.load_pem_x509_certificate(result["certificate"].encode("ascii"))
    cert.verify_directly_issued_by(roots(emulator)["ecc"])
    assert spki(cert.public_key()) == spki(key.public_key())
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == list(HOSTS)
    assert cert.serial_number == int(result["id"], 16) and len(result["id"]) == 32
    assert datetime.timedelta(days=90) <= cert.not_valid_after_utc - before <= datetime.timedelta(days=90, seconds=5)
    assert result["expires_on"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert api.get("certificates/" + result["id"])["result"] == result


def test_request_type_picks_the_signing_root_whatever_the_csr_key(emulator, api, ecdsa_csr, rsa_csr):
    trusted = roots(emulator)
    signed = {}
    for (csr, _key), request_type in ((rsa_csr, "origin-ecc"), (ecdsa_csr, "origin-rsa"), (ecdsa_csr, "keyless-certificate")):
        result = create(api, csr, request_type=request_type)["result"]
        signed[request_type] = x509.load_pem_x509_certificate(result["certificate"].encode("ascii"))
        assert result["request_type"] == request_type
    signed["origin-ecc"].verify_directly_issued_by(trusted["ecc"])
    assert isinstance(signed["origin-ecc"].public_key(), rsa.RSAPublicKey)
    assert isinstance(trusted["ecc"].public_key(), ec.EllipticCurvePublicKey) and isinstance(trusted["rsa"].public_key(), rsa.RSAPublicKey)
    for request_type in ("origin-rsa", "keyless-certificate"):
        signed[request_type].verify_directly_issued_by(trusted["rsa"])
        assert isinstance(signed[request_type].public_key(), ec.EllipticCurvePublicKey)


def test_origin_ca_certificates_are_not_publicly_trusted(emulator, api, ecdsa_csr):
    csr, key = ecdsa_csr
    certificate = create(api, csr)["result"]["certificate"]
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")
    refused = api.post(api.zone("custom_certificates"), {"certificate": certificate, "private_key": key_pem}, expect=400)
    assert codes(refused) == [1411]


def test_validity_defaults_to_5475_days_and_takes_each_documented_value(api, ecdsa_csr):
    csr, _key = ecdsa_csr
    assert create(api, csr)["result"]["requested_validity"] == 5475
    for days in (7, 30, 90, 365, 730, 1095, 5475):
        result = create(api, csr, requested_validity=days)["result"]
        cert = x509.load_pem_x509_certificate(result["certificate"].encode("ascii"))
        assert result["requested_validity"] == days
        assert (cert.not_valid_after_utc - cert.not_valid_before_utc) == datetime.timedelta(days=days)


@pytest.mark.parametrize(
    "change",
    [
        {"requested_validity": 15},
        {"requested_validity": "365"},
        {"requested_validity": True},
        {"request_type": "origin-dsa"},
        {"request_type": None},
        {"csr": None},
        {"hostnames": None},
        {"hostnames": []},
        {"hostnames": "example.com"},
    ],
)
def test_invalid_requests_are_refused(api, ecdsa_csr, change):
    body = {"csr": ecdsa_csr[0], "hostnames": HOSTS, "request_type": "origin-rsa"}
    body.update({k: v for k, v in change.items() if v is not None})
    for name in [k for k, v in change.items() if v is None]:
        del body[name]
    assert codes(api.post("certificates", body, expect=400)) == [1004]


def test_a_hostname_outside_the_accounts_zones_is_refused(emulator, api, ecdsa_csr):
    body = create(api, ecdsa_csr[0], hostnames=["app.example.com", "app.example.org"], expect=400)
    assert codes(body) == [1010] and "app.example.org" in body["errors"][0]["message"]
    emulator.state.add_zone("example.org")
    assert create(api, ecdsa_csr[0], hostnames=["app.example.com", "app.example.org"])["result"]["hostnames"] == ["app.example.com", "app.example.org"]


@pytest.mark.parametrize(
    "name, accepted", [("*.example.com", True), ("*.deep.example.com", True), ("*.*.example.com", False), ("foo.*.example.com", False), ("*.com", False)]
)
def test_wildcards_of_one_level_as_cloudflare_allows(api, ecdsa_csr, name, accepted):
    body = create(api, ecdsa_csr[0], hostnames=[name], expect=200 if accepted else 400)
    assert body["result"]["hostnames"] == [name] if accepted else codes(body) == [1004]


def test_at_most_200_hostnames(api, ecdsa_csr):
    names = ["h%03d.example.com" % i for i in range(201)]
    assert codes(create(api, ecdsa_csr[0], hostnames=names, expect=400)) == [1004]
    assert len(create(api, ecdsa_csr[0], hostnames=names[:200])["result"]["hostnames"]) == 200


def test_a_csr_of_a_wrong_key_type_or_that_does_not_parse_is_refused(api):
    for key in (ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP521R1()), rsa.generate_private_key(public_exponent=65537, key_size=1024)):
        body = create(api, make_csr(HOSTS, key=key)[0], expect=400)
        assert codes(body) == [1413], body
    assert codes(create(api, "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n", expect=400)) == [1413]
    assert codes(create(api, "not a csr", expect=400)) == [1413]


def test_the_list_needs_a_zone_id_and_holds_the_certificates_of_that_zone(emulator, api, ecdsa_csr):
    other = emulator.state.add_zone("tenant.test")
    in_zone = create(api, ecdsa_csr[0])["result"]["id"]
    in_both = create(api, ecdsa_csr[0], hostnames=["a.example.com", "b.tenant.test"])["result"]["id"]
    in_other = create(api, ecdsa_csr[0], hostnames=["*.tenant.test"])["result"]["id"]
    body = api.get("certificates", expect=400)
    assert codes(body) == [1012] and "zone id" in body["errors"][0]["message"]
    assert [c["id"] for c in api.get("certificates", zone_id=emulator.zone_id)["result"]] == [in_zone, in_both]
    assert [c["id"] for c in api.get("certificates", zone_id=other.id)["result"]] == [in_both, in_other]
    assert codes(api.get("certificates", zone_id="0" * 32, expect=404)) == [1001]


def test_the_list_is_paged(emulator, api, ecdsa_csr):
    ids = [create(api, ecdsa_csr[0], hostnames=["h%d.example.com" % i])["result"]["id"] for i in range(5)]
    pages = [api.get("certificates", zone_id=emulator.zone_id, per_page=2, page=n) for n in (1, 2, 3)]
    assert [c["id"] for p in pages for c in p["result"]] == ids
    assert [p["result_info"] for p in pages] == [
        {"page": n, "per_page": 2, "count": count, "total_count": 5, "total_pages": 3} for n, count in ((1, 2), (2, 2), (3, 1))
    ]
    assert api.get("certificates", zone_id=emulator.zone_id)["result_info"]["per_page"] == 20
    assert codes(api.get("certificates", zone_id=emulator.zone_id, per_page=51, expect=400)) == [1004]
    assert codes(api.get("certificates", zone_id=emulator.zone_id, page=0, expect=400)) == [1004]


def test_revoke_then_the_certificate_lists_with_revoked_at(emulator, api, ecdsa_csr):
    kept = create(api, ecdsa_csr[0])["result"]["id"]
    revoked = create(api, ecdsa_csr[0])["result"]["id"]
    assert api.delete("certificates/" + revoked)["result"] == {"id": revoked}
    listed = {c["id"]: c for c in api.get("certificates", zone_id=emulator.zone_id)["result"]}
    assert set(listed) == {kept, revoked} and "revoked_at" not in listed[kept]
    revoked_at = listed[revoked]["revoked_at"]
    assert abs(datetime.datetime.fromisoformat(revoked_at.replace("Z", "+00:00")).timestamp() - emulator.state.now()) < 5
    assert api.get("certificates/" + revoked)["result"]["revoked_at"] == revoked_at
    assert api.delete("certificates/" + revoked)["result"] == {"id": revoked}
    assert api.get("certificates/" + revoked)["result"]["revoked_at"] == revoked_at
    assert codes(api.delete("certificates/" + "0" * 32, expect=404)) == [1005]
    assert codes(api.get("certificates/" + "0" * 32, expect=404)) == [1005]


def test_token_origin_ca_key_and_global_key_are_accepted(emulator, ecdsa_csr):
    by_key = Api(emulator, {"X-Auth-User-Service-Key": emulator.service_key})
    cert_id = create(by_key, ecdsa_csr[0])["result"]["id"]
    Api(emulator).get("certificates/" + cert_id)
    Api(emulator, {"X-Auth-Email": emulator.api_email, "X-Auth-Key": emulator.api_key}).get("certificates", zone_id=emulator.zone_id)
    by_key.delete("certificates/" + cert_id)
    assert [(e["auth_scheme"], e["credential"]) for e in emulator.journal()] == [
        ("service_key", "service-key"),
        ("token", "token"),
        ("key", "global-key"),
        ("service_key", "service-key"),
    ]


def test_the_origin_ca_key_is_for_origin_ca_operations_only(emulator, ecdsa_csr):
    by_key = Api(emulator, {"X-Auth-User-Service-Key": emulator.service_key})
    assert codes(by_key.get("zones", expect=400)) == [9106, 9107]
    assert codes(by_key.get(by_key.zone("origin_tls_client_auth/settings"), expect=400)) == [9106, 9107]
    assert codes(Api(emulator, {"X-Auth-User-Service-Key": "v1.0-not-a-key"}).get("certificates", zone_id=emulator.zone_id, expect=403)) == [10000]
    added = emulator.add_service_key("v1.0-another-key", name="ci-origin-ca")
    Api(emulator, {"X-Auth-User-Service-Key": "v1.0-another-key"}).get("certificates", zone_id=emulator.zone_id)
    assert added == "ci-origin-ca" and emulator.journal()[-1]["credential"] == "ci-origin-ca"


def test_a_read_only_token_lists_but_cannot_create_or_revoke(emulator, api, ecdsa_csr):
    cert_id = create(api, ecdsa_csr[0])["result"]["id"]
    readonly = Api(emulator, {"Authorization": "Bearer " + emulator.readonly_token})
    assert [c["id"] for c in readonly.get("certificates", zone_id=emulator.zone_id)["result"]] == [cert_id]
    assert codes(create(readonly, ecdsa_csr[0], expect=403)) == [10000]
    assert codes(readonly.delete("certificates/" + cert_id, expect=403)) == [10000]


def test_the_journal_keeps_the_csr_but_no_key_and_no_credential(emulator, ecdsa_csr):
    csr, key = ecdsa_csr
    create(Api(emulator, {"X-Auth-User-Service-Key": emulator.service_key}), csr)
    journal = json.dumps(emulator.journal())
    assert emulator.journal()[0]["request_body"]["csr"] == csr
    assert "PRIVATE KEY" not in journal and emulator.service_key not in journal and emulator.token not in journal


def test_the_admin_api_serves_the_two_roots_which_stay_across_a_state_load(emulator):
    first = roots(emulator)
    assert set(first) == {"rsa", "ecc"}
    for root in first.values():
        assert root.issuer == root.subject and root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        root.verify_directly_issued_by(root)
    emulator.load_state(None)
    assert roots(emulator) == first and emulator.origin_ca_roots() == {k: v.public_bytes(serialization.Encoding.PEM).decode("ascii") for k, v in first.items()}
