"""custom_hostname_cert planning where the emulator cannot take us: an API that reports no key type."""

from __future__ import annotations

import pytest
from ansible.module_utils.testing import patch_module_args
from emulator.testcerts import make_ca, make_leaf

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.modules import custom_hostname_cert
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname_cert import CustomHostnameCert

ZONE = "0" * 32
HOST = "app.customer.com"


def resource(**args):
    params = dict({"api_token": "t", "zone_id": ZONE, "hostname": HOST, "api_rate_limit": 0}, **args)
    with patch_module_args(params):
        module = custom_hostname_cert.build_module(
            dict(
                hostname=dict(type="str"),
                custom_hostname_id=dict(type="str"),
                state=dict(type="str", default="present"),
                certificates=dict(type="list", elements="dict"),
                bundle_method=dict(type="str"),
                key_type=dict(type="str", no_log=False),
                exclusive=dict(type="bool", default=True),
                force=dict(type="bool", default=False),
                wait=dict(type="bool", default=False),
                wait_timeout=dict(type="int", default=300),
            )
        )
    return CustomHostnameCert(module)


def hostname(*signatures):
    certs = [
        {"id": "c%d" % i, "serial_number": str(i), "issuer": "CA", "signature": sig, "expires_on": "2030-01-01T00:00:00Z", "fingerprint_sha256": "%064x" % i}
        for i, sig in enumerate(signatures)
    ]
    return {"id": "h1", "hostname": HOST, "status": "active", "ssl": {"id": "p1", "status": "active", "bundle_method": "ubiquitous", "certificates": certs}}


def test_absent_deletes_the_pair_member_whose_signature_names_the_key_type():
    steps, predicted = resource(state="absent", key_type="ecdsa").plan(hostname("SHA256WithRSA", "ECDSAWithSHA256"))
    assert [s.key for s in steps] == ["delete ecdsa certificate c1"]
    assert [c["id"] for c in predicted["ssl"]["certificates"]] == ["c0"]


def test_absent_refuses_to_guess_when_a_pair_cannot_be_told_apart():
    with pytest.raises(InputError, match="cannot tell which certificate of app.customer.com is the RSA one"):
        resource(state="absent", key_type="rsa").plan(hostname("SHA256WithRSA", "SHA256WithRSA"))


def test_absent_of_a_key_type_the_hostname_does_not_have_changes_nothing():
    steps, predicted = resource(state="absent", key_type="ecdsa").plan(hostname("SHA256WithRSA"))
    assert steps == [] and predicted["ssl"]["certificates"][0]["id"] == "c0"


def test_absent_of_the_only_certificate_is_refused():
    with pytest.raises(InputError, match="only custom certificate"):
        resource(state="absent", key_type="rsa").plan(hostname("SHA256WithRSA"))


# -- answers without key_type, and the single-certificate PUT only in a pack of two -----------------------


@pytest.fixture(scope="module")
def leaves():
    """An RSA and an ECDSA leaf, both signed by an ECDSA CA: both signatures read ECDSAWithSHA256."""
    ca = make_ca("Unit Pair CA")
    return {"rsa": make_leaf(ca, [HOST], key_type="rsa"), "ecdsa": make_leaf(ca, [HOST]), "rsa2": make_leaf(ca, [HOST], key_type="rsa")}


def answer(*issued, served=None):
    """A hostname as the API answers it: `ssl.certificates` with no key type, `ssl.custom_certificate` the first's PEM."""
    certs = [
        {
            "id": "c%d" % i,
            "issuer": "Unit Pair CA",
            "serial_number": str(leaf.cert.serial_number),
            "signature": "ECDSAWithSHA256",
            "expires_on": "2030-01-01T00:00:00Z",
            "issued_on": "2026-01-01T00:00:00Z",
            "fingerprint_sha256": leaf.fingerprint_sha256,
        }
        for i, leaf in enumerate(issued)
    ]
    ssl = {"id": "p1", "status": "active", "bundle_method": "force", "certificates": certs, "custom_certificate": (served or issued[0]).chain_pem}
    return {"id": "h1", "hostname": HOST, "status": "active", "ssl": ssl}


class Recorder:
    """A client that records the writes a plan's steps send."""

    def __init__(self):
        self.sent = []

    def __getattr__(self, verb):
        return lambda path, body=None: self.sent.append((verb.upper(), path, sorted((body or {}).get("ssl", body or {}))))


def planned(current, *locals_, **args):
    res = resource(certificates=[{"certificate": leaf.cert_pem, "private_key": leaf.key_pem} for leaf in locals_], **args)
    res.validate()
    res._client = Recorder()
    steps, _predicted = res.plan(current)
    for step in steps:
        step.call()
    return res._client.sent


def test_a_pair_member_is_replaced_by_put_though_the_answer_carries_no_key_type(leaves):
    # The RSA one is served (its PEM in custom_certificate); the ECDSA one is the other of the pair.
    for served in ("rsa", "ecdsa"):
        current = answer(leaves["rsa"], leaves["ecdsa"], served=leaves[served])
        sent = planned(current, leaves["rsa2"], exclusive=False)
        assert sent == [("PUT", "zones/%s/custom_hostnames/h1/certificate_pack/p1/certificates/c0" % ZONE, ["custom_certificate", "custom_key"])], served


def test_a_pack_of_one_never_gets_the_single_certificate_put(leaves):
    # Same key type: the PATCH with custom_certificate replaces the pack's only certificate.
    sent = planned(answer(leaves["rsa"]), leaves["rsa2"], exclusive=False)
    assert [(verb, body) for verb, _path, body in sent] == [("PATCH", ["bundle_method", "custom_certificate", "custom_key"])]
    # The other key type: the one-item custom_cert_bundle with bundle_method force joins it.
    sent = planned(answer(leaves["rsa"]), leaves["ecdsa"], exclusive=False)
    assert [(verb, body) for verb, _path, body in sent] == [("PATCH", ["bundle_method", "custom_cert_bundle"])]
    assert not any(verb == "PUT" for verb, _path, _body in sent)
