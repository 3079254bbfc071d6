"""Rotation decisions a production zone can trust: retire only with proof, chains a browser accepts, explicit key
types, force that forces. Over real certificates minted here; the test CA registry's roots are the trusted ones
(tests/unit/plugins/conftest.py), and a CA made with trusted=False is one no browser knows."""

from __future__ import annotations

from pathlib import Path

from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import SHORTER_FORCED, plan_rotation
from emulator.testcerts import make_ca, make_leaf, new_key
from planning import NOW, at, files

ROOT = make_ca("Decisions Root CA")
ISSUING = make_ca("Decisions Issuing CA", parent=ROOT)
STRANGER = make_ca("Decisions Unknown CA", trusted=False)
RSA_KEY = new_key("rsa")  # RSA keys are slow to make: one for every RSA leaf here


def served(leaf, key_type: str = "ecdsa", cid: str = "c1") -> dict:
    return {
        "id": cid,
        "key_type": key_type,
        "serial_number": str(leaf.cert.serial_number),
        "fingerprint_sha256": leaf.fingerprint_sha256,
        "expires_on": isoformat(leaf.cert.not_valid_after_utc),
        "not_before": isoformat(leaf.cert.not_valid_before_utc),
    }


def hostname(name: str, *certs: dict, bundle_method: str = "ubiquitous") -> dict:
    return {"id": "h-" + name, "hostname": name, "status": "active", "ssl": {"status": "active", "bundle_method": bundle_method, "certificates": list(certs)}}


def one_hostname(tmp_path: Path, host: dict, *entries, **params) -> dict:
    item = {"hostname": host["hostname"], "certificates": [files(tmp_path, "new%d" % i, leaf, chain) for i, (leaf, chain) in enumerate(entries)]}
    item.update(params.pop("entry", {}))
    return plan_rotation(dict({"custom_hostnames": [item], "discovered": {"custom_hostnames": [host]}}, **params), now=NOW)


def only(out: dict) -> dict:
    (obj,) = out["plan"]["objects"]
    return obj


NAME = "shop.example.com"
DUE_RSA = make_leaf(ROOT, [NAME], key_type="rsa", key=RSA_KEY, days=10, not_before_days=-80)
DUE_EC = make_leaf(ROOT, [NAME], days=10, not_before_days=-80)
FRESH_EC = make_leaf(ROOT, [NAME], days=80, not_before_days=-10)
NEW_EC = make_leaf(ROOT, [NAME], days=90)
NEW_RSA = make_leaf(ROOT, [NAME], key_type="rsa", key=RSA_KEY, days=90)


# -- key types --------------------------------------------------------------------------------------------------------


def test_ecdsa_material_for_a_pair_rotates_ecdsa_and_keeps_rsa(tmp_path):
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_RSA, "rsa", "r"), served(DUE_EC, "ecdsa", "e"), bundle_method="force"), (NEW_EC, None))
    assert (only(out)["action"], only(out)["reason"]) == ("rotate", "due: expires on %s; keeps RSA" % served(DUE_EC)["expires_on"])


def test_ecdsa_material_for_a_pair_is_applied_without_exclusive(tmp_path):
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_RSA, "rsa", "r"), served(DUE_EC, "ecdsa", "e"), bundle_method="force"), (NEW_EC, None))
    assert out["plan"]["hostname_certificates"][0]["exclusive"] is False


def test_rsa_material_for_an_ecdsa_hostname_is_added_beside_it(tmp_path):
    out = one_hostname(tmp_path, hostname(NAME, served(FRESH_EC)), (NEW_RSA, None))
    assert (only(out)["action"], only(out)["reason"]) == ("upload", "add RSA beside ECDSA")


def test_rsa_material_added_beside_ecdsa_shows_what_stays_as_old(tmp_path):
    out = one_hostname(tmp_path, hostname(NAME, served(FRESH_EC)), (NEW_RSA, None))
    assert only(out)["old"]["fingerprint_sha256"] == FRESH_EC.fingerprint_sha256


def test_drop_key_types_drops_the_served_rsa_with_the_rotation(tmp_path):
    host = hostname(NAME, served(DUE_RSA, "rsa", "r"), served(DUE_EC, "ecdsa", "e"), bundle_method="force")
    out = one_hostname(tmp_path, host, (NEW_EC, None), entry={"drop_key_types": ["rsa"]})
    assert (only(out)["reason"].endswith("; drops RSA"), only(out)["drop_key_types"], out["plan"]["hostname_certificates"][0]["exclusive"]) == (
        True,
        ["rsa"],
        True,
    )


def test_drop_waits_while_the_given_key_type_is_not_due(tmp_path):
    host = hostname(NAME, served(DUE_RSA, "rsa", "r"), served(FRESH_EC, "ecdsa", "e"), bundle_method="force")
    out = one_hostname(tmp_path, host, (NEW_EC, None), entry={"drop_key_types": ["rsa"]})
    assert (only(out)["action"], out["plan"]["hostname_certificates"]) == ("skipped", [])


def test_dropping_the_key_type_given_is_a_problem(tmp_path):
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC)), (NEW_EC, None), entry={"drop_key_types": ["ecdsa"]})
    assert "drop_key_types names ECDSA" in out["problems"][0]


def test_the_renewal_window_applies_per_key_type(tmp_path):
    host = hostname(NAME, served(DUE_RSA, "rsa", "r"), served(FRESH_EC, "ecdsa", "e"), bundle_method="force")
    out = one_hostname(tmp_path, host, (NEW_RSA, None), (NEW_EC, None))
    sent = out["plan"]["hostname_certificates"][0]["certificates"]
    assert (only(out)["key_types"], [Path(c["certificate_path"]).name for c in sent]) == (["rsa"], ["new0.pem"])


# -- force --------------------------------------------------------------------------------------------------------------


def test_force_installs_a_shorter_lived_certificate_and_says_so(tmp_path):
    short = make_leaf(ROOT, [NAME], days=30)
    out = one_hostname(tmp_path, hostname(NAME, served(FRESH_EC)), (short, None), force=True)
    assert (only(out)["action"], only(out)["reason"], out["problems"]) == ("rotate", SHORTER_FORCED, [])


def test_without_force_a_shorter_lived_certificate_is_a_problem(tmp_path):
    short = make_leaf(ROOT, [NAME], days=5)
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC)), (short, None))
    assert "would not outlive what is served (force replaces it anyway)" in out["problems"][0]


# -- trust ---------------------------------------------------------------------------------------------------------------


def test_a_pair_with_a_missing_intermediate_is_a_problem_naming_force(tmp_path):
    rsa, ec = make_leaf(ISSUING, [NAME], key_type="rsa", key=RSA_KEY), make_leaf(ISSUING, [NAME])
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_RSA, "rsa", "r"), served(DUE_EC)), (rsa, rsa.cert_pem), (ec, ec.cert_pem))
    assert "sent with bundle_method force" in out["problems"][0] and "Decisions Issuing CA" in out["problems"][0]


def test_a_single_certificate_with_a_missing_intermediate_and_ubiquitous_is_a_warning(tmp_path):
    leaf = make_leaf(ISSUING, [NAME])
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC)), (leaf, leaf.cert_pem))
    assert (only(out)["action"], out["problems"], "Decisions Issuing CA" in out["warnings"][0]) == ("rotate", [], True)


def test_a_single_certificate_with_a_missing_intermediate_and_force_is_a_problem(tmp_path):
    leaf = make_leaf(ISSUING, [NAME])
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC), bundle_method="force"), (leaf, leaf.cert_pem))
    assert len(out["problems"]) == 1 and only(out)["action"] == "skipped"


def test_a_complete_chain_through_an_intermediate_passes(tmp_path):
    leaf = make_leaf(ISSUING, [NAME])
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC), bundle_method="force"), (leaf, None))
    assert (out["problems"], out["warnings"], only(out)["action"]) == ([], [], "rotate")


def test_a_certificate_without_subject_alternative_name_is_a_problem(tmp_path):
    bare = make_leaf(ROOT, [NAME], sans=[])
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC)), (bare, None))
    assert "subject alternative name" in out["problems"][0]


def test_a_certificate_of_an_unknown_ca_is_a_problem(tmp_path):
    leaf = make_leaf(STRANGER, [NAME])
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC)), (leaf, None))
    assert "trusted root" in out["problems"][0]


def test_a_private_ca_is_trusted_through_ca_path(tmp_path):
    leaf = make_leaf(STRANGER, [NAME])
    (tmp_path / "private-ca.pem").write_text(STRANGER.cert_pem)
    out = one_hostname(tmp_path, hostname(NAME, served(DUE_EC)), (leaf, None), ca_path=str(tmp_path / "private-ca.pem"))
    assert (out["problems"], only(out)["action"]) == ([], "rotate")


def test_a_client_certificate_for_server_authentication_only_is_a_problem(tmp_path):
    leaf = make_leaf(ROOT, ["origin.example.com"], usages=[ExtendedKeyUsageOID.SERVER_AUTH])
    out = plan_rotation(
        {"client_certs": [dict(files(tmp_path, "client", leaf), hostnames=["app.example.com"])], "discovered": {"hostname_client_certs": []}}, now=NOW
    )
    assert "client authentication" in out["problems"][0]


def test_a_client_certificate_of_a_private_ca_needs_no_trust(tmp_path):
    leaf = make_leaf(STRANGER, ["origin.example.com"], usages=[ExtendedKeyUsageOID.CLIENT_AUTH])
    out = plan_rotation(
        {"client_certs": [dict(files(tmp_path, "client", leaf), hostnames=["app.example.com"])], "discovered": {"hostname_client_certs": []}}, now=NOW
    )
    assert (out["problems"], out["plan"]["objects"][0]["action"]) == ([], "upload")


# -- retirement ----------------------------------------------------------------------------------------------------------

CLIENT_NEW = make_leaf(ROOT, ["origin.example.com"], days=90)


def client(cid: str, *hostnames: str, days: float = 60) -> dict:
    return {
        "id": cid,
        "status": "active",
        "hosts": ["origin.example.com"],
        "expires_on": at(days),
        "serial_number": "1%s" % len(cid),
        "issuer": "Someone Else",
        "hostnames": [{"hostname": h, "enabled": True, "status": "active"} for h in hostnames],
    }


def client_plan(tmp_path: Path, discovered: list, **params) -> dict:
    item = dict(files(tmp_path, "client", CLIENT_NEW), hostnames=["app.example.com"])
    return plan_rotation(dict({"client_certs": [item], "discovered": {"hostname_client_certs": discovered}}, **params), now=NOW)


def uploaded_new() -> dict:
    return dict(client("new", "app.example.com", days=90), serial_number=str(CLIENT_NEW.cert.serial_number), fingerprint_sha256=CLIENT_NEW.fingerprint_sha256)


def test_an_unused_standby_the_role_did_not_replace_is_kept_and_listed(tmp_path):
    out = client_plan(tmp_path, [uploaded_new(), client("standby")])
    kept = [o for o in out["plan"]["objects"] if o["action"] == "kept"]
    assert (out["plan"]["retire_client_certs"], [o["id"] for o in kept], "list its id in retire" in kept[0]["reason"]) == ([], ["standby"], True)


def test_a_certificate_an_earlier_run_replaced_is_retired_by_the_proof(tmp_path):
    proof = [{"kind": "client_cert", "id": "old", "replaced_by": CLIENT_NEW.fingerprint_sha256}]
    out = client_plan(tmp_path, [uploaded_new(), client("old")], replaced=proof)
    assert (out["plan"]["retire_client_certs"], [o["action"] for o in out["plan"]["objects"]]) == (["old"], ["up_to_date", "retire"])


def test_the_proof_carries_over_while_the_certificate_is_there(tmp_path):
    proof = [{"kind": "client_cert", "id": "old"}]
    out = client_plan(tmp_path, [uploaded_new(), client("old")], replaced=proof, retire_replaced=False)
    assert ([e["id"] for e in out["plan"]["replaced"]], out["plan"]["retire_client_certs"]) == (["old"], [])


def test_a_spent_proof_is_dropped(tmp_path):
    out = client_plan(tmp_path, [uploaded_new()], replaced=[{"kind": "client_cert", "id": "gone"}])
    assert out["plan"]["replaced"] == []


def test_a_proof_for_a_kind_not_discovered_is_carried_over_unjudged():
    out = plan_rotation({"discovered": {"custom_hostnames": []}, "replaced": [{"kind": "zone_cert", "id": "z9"}]}, now=NOW)
    assert (out["plan"]["replaced"], out["plan"]["retire_zone_certs"]) == ([{"kind": "zone_cert", "id": "z9"}], [])


def test_retire_deletes_a_named_standby(tmp_path):
    out = client_plan(tmp_path, [uploaded_new(), client("standby")], retire=["standby"])
    assert out["plan"]["retire_client_certs"] == ["standby"]


def test_retire_of_a_certificate_still_in_use_is_a_problem(tmp_path):
    out = client_plan(tmp_path, [uploaded_new(), client("busy", "other.example.com")], retire=["busy"])
    assert "still use it" in out["problems"][0]


def test_retire_of_an_id_the_zone_does_not_hold_is_up_to_date(tmp_path):
    out = client_plan(tmp_path, [uploaded_new()], retire=["gone"])
    assert [(o["kind"], o["action"]) for o in out["plan"]["objects"]] == [("client_cert", "up_to_date"), ("certificate", "up_to_date")]


def test_a_rotation_records_what_it_replaced_as_proof(tmp_path):
    out = client_plan(tmp_path, [client("old", "app.example.com", days=5)])
    assert ([e["id"] for e in out["plan"]["replaced"]], out["plan"]["retire_client_certs"]) == (["old"], ["old"])


def test_a_pair_rotated_by_one_key_type_expects_only_that_one_and_what_it_serves_already(tmp_path):
    host = hostname(NAME, served(DUE_RSA, "rsa", "r"), served(FRESH_EC, "ecdsa", "e"), bundle_method="force")
    out = one_hostname(tmp_path, host, (NEW_RSA, None), (NEW_EC, None))
    assert [c["fingerprint_sha256"] for c in only(out)["new_certificates"]] == [NEW_RSA.fingerprint_sha256]
