"""One identity rule per kind: the planner and the modules that apply its plan agree on "is this the same certificate".

Each row is a served certificate, as the API reports it, against one new certificate: the planner (rotation_plan's
decision, from the views the _info modules return) must say up_to_date exactly when the module's own comparison finds
nothing to do, and both must match the row's expectation.
"""

from __future__ import annotations

import datetime
from typing import Any, Dict, Optional

import pytest
from ansible.module_utils.testing import patch_module_args
from emulator.testcerts import make_ca, make_leaf

from ansible_collections.certops.cloudflare.plugins.module_utils._base import build_module, material_argument_spec
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_cert import cert_view, is_identical
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import view_of
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname_cert import CustomHostnameCert
from ansible_collections.certops.cloudflare.plugins.module_utils._hostname_client_cert import certificate_view, is_same_certificate
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import certificate_facts
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import Planner

HOST = "app.customer.example"
ZONE = "0" * 32
ALWAYS_DUE = 100000  # days: whatever differs from the new certificate is rotated


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Dict[str, Any]:
    ca = make_ca("Identity CA", org="Identity Org")
    other_ca = make_ca("Other CA", org="Other Org")
    new = make_leaf(ca, [HOST], days=120)  # outlives the other leaves: a rotation to it is allowed
    directory = tmp_path_factory.mktemp("identity")
    (directory / "new.pem").write_text(new.chain_pem)
    (directory / "new.key").write_text(new.key_pem)
    material = {"certificate_path": str(directory / "new.pem"), "private_key_path": str(directory / "new.key")}
    return {"new": new, "material": material, "other_key": make_leaf(ca, [HOST], days=90), "other_issuer": make_leaf(other_ca, [HOST], days=90)}


# (row id, served leaf, what the API shows of it, identical for custom hostnames and client certificates, for zone certificates)
ROWS = [
    ("the same leaf with its fingerprint", "new", {}, True, True),
    ("the same leaf without a fingerprint", "new", {"fingerprint": False}, True, True),
    ("the same serial from another issuer", "new", {"fingerprint": False, "issuer": "Other Org"}, False, False),
    ("the issuer written as a DN in upper case", "new", {"fingerprint": False, "issuer": "dn-upper"}, True, True),
    ("the issuer name in lower case", "new", {"fingerprint": False, "issuer": "identity org"}, True, True),
    ("another signature algorithm", "new", {"fingerprint": False, "signature": "ecdsa-with-SHA512"}, True, False),
    # A zone certificate has no serial or fingerprint in the API: the same hosts, issuer and expiry with another key cannot
    # be told apart (custom_cert and the planner agree on that).
    ("the same hosts and expiry but another key", "other_key", {"expires": "new"}, False, True),
    ("another issuer's certificate", "other_issuer", {}, False, False),
]


def api_fields(pki: Dict[str, Any], leaf_name: str, shown: Dict[str, Any]) -> Dict[str, Any]:
    """The served certificate as the API reports it: serial in hex, issuer name, signature, expiry, fingerprint."""
    facts = certificate_facts(pki[leaf_name].cert)
    issuer = shown.get("issuer", facts["issuer"])
    if issuer == "dn-upper":
        issuer = facts["issuer_dn"].upper()
    expires = certificate_facts(pki[shown["expires"]].cert)["not_after"] if "expires" in shown else facts["not_after"]
    return {
        "id": "c" * 32,
        "serial_number": facts["serial_hex"],
        "issuer": issuer,
        "signature": shown.get("signature", facts["signature_algorithm"]),
        "expires_on": expires,
        "fingerprint_sha256": facts["fingerprint_sha256"] if shown.get("fingerprint", True) else None,
        "hosts": [HOST],
        "status": "active",
    }


def planned_action(kind: str, pki: Dict[str, Any], discovered: Dict[str, Any]) -> str:
    material = pki["material"]
    params: Dict[str, Any] = {"renew_before_days": ALWAYS_DUE, "discovered": discovered}
    if kind == "custom_hostname":
        params["custom_hostnames"] = [{"hostname": HOST, "certificates": [material]}]
    elif kind == "client_cert":
        params["client_certs"] = [dict(material, hostnames=[HOST])]
    else:
        params["zone_certs"] = [material]
    planner = Planner(renew_before_days=ALWAYS_DUE, now=datetime.datetime.now(datetime.timezone.utc))
    if kind == "custom_hostname":
        planner.custom_hostnames(params["custom_hostnames"], discovered["custom_hostnames"])
    elif kind == "client_cert":
        planner.client_certs(params["client_certs"], discovered["hostname_client_certs"])
    else:
        planner.zone_certs(params["zone_certs"], discovered["custom_certs"])
    # The one refusal a row may meet: a served certificate given the new one's expiry is not outlived by it.
    assert [p for p in planner.problems if "would not outlive" not in p] == []
    return planner.objects[0]["action"]


def hostname_module_finds_nothing_to_do(pki: Dict[str, Any], current: Dict[str, Any]) -> bool:
    new = pki["new"]
    args = {"api_token": "t", "zone_id": ZONE, "hostname": HOST, "certificates": [{"certificate": new.chain_pem, "private_key": new.key_pem}]}
    spec = dict(
        hostname=dict(type="str"),
        custom_hostname_id=dict(type="str"),
        state=dict(type="str", default="present"),
        certificates=dict(type="list", elements="dict", options=material_argument_spec()),
        bundle_method=dict(type="str"),
        key_type=dict(type="str", no_log=False),
        exclusive=dict(type="bool", default=True),
        force=dict(type="bool", default=False),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=300),
    )
    with patch_module_args(args):
        resource = CustomHostnameCert(build_module(spec))
    resource.validate()
    steps, _predicted = resource.plan(current)
    return steps == []


def custom_hostname(served: Dict[str, Any]) -> Dict[str, Any]:
    entry = {k: served[k] for k in ("id", "serial_number", "issuer", "signature", "expires_on", "fingerprint_sha256")}
    return {"id": "h" * 32, "hostname": HOST, "status": "active", "ssl": {"id": "s" * 32, "status": "active", "certificates": [entry]}}


@pytest.mark.parametrize("row_id, leaf_name, shown, identical, zone_identical", ROWS, ids=[r[0] for r in ROWS])
def test_the_planner_and_custom_hostname_cert_agree_on_identity(pki, row_id, leaf_name, shown, identical, zone_identical):
    current = custom_hostname(api_fields(pki, leaf_name, shown))
    module_says = hostname_module_finds_nothing_to_do(pki, current)
    planner_says = planned_action("custom_hostname", pki, {"custom_hostnames": [view_of(current)]}) == "up_to_date"
    assert (planner_says, module_says) == (identical, identical)


@pytest.mark.parametrize("row_id, leaf_name, shown, identical, zone_identical", ROWS, ids=[r[0] for r in ROWS])
def test_the_planner_and_hostname_client_cert_agree_on_identity(pki, row_id, leaf_name, shown, identical, zone_identical):
    served = api_fields(pki, leaf_name, shown)
    raw = {k: served[k] for k in ("id", "serial_number", "issuer", "signature", "expires_on", "status")}
    if shown.get("fingerprint", True):
        raw["certificate"] = pki[leaf_name].cert_pem  # the API gives the PEM: the fingerprint is known
    association = {HOST: {"hostname": HOST, "cert_id": raw["id"], "enabled": True, "status": "active"}}
    module_says = is_same_certificate(raw, certificate_facts(pki["new"].cert))
    planner_says = planned_action("client_cert", pki, {"hostname_client_certs": [certificate_view(raw, association)]}) == "up_to_date"
    assert (planner_says, module_says) == (identical, identical)


@pytest.mark.parametrize("row_id, leaf_name, shown, identical, zone_identical", ROWS, ids=[r[0] for r in ROWS])
def test_the_planner_and_custom_cert_agree_on_identity(pki, row_id, leaf_name, shown, identical, zone_identical):
    served = api_fields(pki, leaf_name, shown)
    raw: Optional[Dict[str, Any]] = {k: served[k] for k in ("id", "hosts", "issuer", "signature", "expires_on", "status")}
    module_says = is_identical(raw, certificate_facts(pki["new"].cert))
    planner_says = planned_action("zone_cert", pki, {"custom_certs": [cert_view(raw)]}) == "up_to_date"
    assert (planner_says, module_says) == (zone_identical, zone_identical)
