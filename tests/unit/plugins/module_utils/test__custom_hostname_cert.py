"""custom_hostname_cert planning where the emulator cannot take us: an API that reports no key type."""

from __future__ import annotations

import pytest
from ansible.module_utils.testing import patch_module_args

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
