"""custom_cert, cert_priority and custom_cert_info against the emulator (issue 10).

Every scenario asserts on the module result and on the emulator: its state, and the request
journal (the exact writes sent; check mode and unchanged runs send none).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf

MOD = "certops.cloudflare.custom_cert"
PRIO = "certops.cloudflare.cert_priority"
INFO = "certops.cloudflare.custom_cert_info"
APEX = ["example.com", "www.example.com"]
STATIC = ["static.example.com"]
SHOP = ["shop.example.com"]
VIEW_KEYS = {
    "id",
    "previous_id",
    "hosts",
    "status",
    "priority",
    "type",
    "bundle_method",
    "geo_restrictions",
    "policy",
    "issuer",
    "signature",
    "uploaded_on",
    "expires_on",
    "days_remaining",
    "serial_number",
    "fingerprint_sha256",
}
PRIORITIZE = "custom_certificates/prioritize"


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Zone CA", org="Certops Zone CA")
    # Identity is hosts + issuer + expiry + signature (clarification 15): renewals expire on other days.
    return SimpleNamespace(
        apex_old=make_leaf(ca, APEX, days=20),
        apex_new=make_leaf(ca, list(reversed(APEX)), days=90),
        static_old=make_leaf(ca, STATIC, days=15),
        static_new=make_leaf(ca, STATIC, days=80),
        shop=make_leaf(ca, SHOP, days=60),
        wildcard=make_leaf(ca, ["*.example.com"], days=70),
        expired=make_leaf(ca, APEX, days=-1, not_before_days=-90),
    )


def material(leaf: Any) -> Dict[str, str]:
    return {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}


def task(args: Dict[str, Any], module: str = MOD, **keywords: Any) -> Dict[str, Any]:
    return dict({"name": "%s %s" % (module, sorted(args)), module: args, "register": "result", "ignore_errors": True}, **keywords)


def run_play(ansible: Any, tasks: List[Dict[str, Any]], **kwargs: Any) -> List[Dict[str, Any]]:
    play = ansible.run_tasks(tasks, **kwargs)
    assert len(play.results) == len(tasks), play.output
    return [r["result"] for r in play.results]


def writes(emulator: Any) -> List[Tuple[str, str, Any]]:
    """(method, path below the zone, request body) of every write in the journal."""
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, ""), e["request_body"]) for e in emulator.journal() if e["method"] != "GET"]


def certs_in_state(emulator: Any) -> List[Dict[str, Any]]:
    """The zone's custom certificates in the order they are used, as the emulator holds them."""
    return emulator.dump_state()["zones"][0]["custom_certificates"]


def priorities(emulator: Any) -> Dict[str, Any]:
    return {c["id"]: c["priority"] for c in certs_in_state(emulator)}


def seed(emulator: Any, leaf: Any, cert_type: str = "legacy_custom", priority: int = 20, **spec: Any) -> str:
    return emulator.state.add_custom_certificate(emulator.zone_id, certificate=leaf.chain_pem, type=cert_type, priority=priority, **spec).id


def test_upload_check_mode_rerun_and_diff(ansible, emulator, pki):
    args = dict(material(pki.apex_old), zone_id=emulator.zone_id, type="sni_custom", bundle_method="optimal", geo_restrictions="eu", wait=True)
    check, real, again, again_check = run_play(
        ansible, [task(args, check_mode=True, diff=True), task(args, diff=True), task(args, diff=True), task(args, check_mode=True)]
    )

    assert check["changed"] and not check.get("failed"), check
    predicted = check["custom_cert"]
    assert set(predicted) == VIEW_KEYS and predicted["id"] is None and predicted["priority"] is None and predicted["status"] == "pending"
    assert predicted["hosts"] == APEX and predicted["type"] == "sni_custom" and predicted["fingerprint_sha256"] == pki.apex_old.fingerprint_sha256
    assert check["diff"]["before"] == {} and check["diff"]["after"] == predicted

    assert real["changed"] and not real.get("failed"), real
    view = real["custom_cert"]
    assert view["id"] and view["previous_id"] is None and view["status"] == "active"  # wait=true
    assert view["hosts"] == APEX and view["issuer"] == "Certops Zone CA" and view["signature"] == "ECDSAWithSHA256"
    assert view["type"] == "sni_custom" and view["bundle_method"] == "optimal" and view["geo_restrictions"] == "eu" and view["policy"] is None
    assert view["priority"] == 20 and view["days_remaining"] in (19, 20)
    assert view["serial_number"] == pki.apex_old.serial_number and view["fingerprint_sha256"] == pki.apex_old.fingerprint_sha256
    assert real["diff"]["before"] == {} and real["diff"]["after"] == view and "BEGIN" not in str(real["diff"])

    # One upload with the options set; check mode and the re-runs wrote nothing.
    ((method, path, body),) = writes(emulator)
    assert (method, path) == ("POST", "custom_certificates") and body["private_key"] == "<redacted>"
    assert {k: v for k, v in body.items() if k not in ("certificate", "private_key")} == {
        "type": "sni_custom",
        "bundle_method": "optimal",
        "geo_restrictions": {"label": "eu"},
    }
    assert [(c["id"], c["type"]) for c in certs_in_state(emulator)] == [(view["id"], "sni_custom")]

    for result in (again, again_check):
        assert not result["changed"] and not result.get("failed"), result
    assert again["custom_cert"] == dict(view, type=None, days_remaining=again["custom_cert"]["days_remaining"])  # the type is what was sent
    assert again["diff"]["before"] == again["diff"]["after"]


def test_renewal_of_a_legacy_custom_certificate_edits_it_in_place(ansible, emulator, pki):
    old_id = seed(emulator, pki.apex_old, priority=3)
    seed(emulator, pki.shop, cert_type="sni_custom", priority=1)
    emulator.reset_journal()
    args = dict(material(pki.apex_new), zone_id=emulator.zone_id)
    check, real, again = run_play(ansible, [task(args, check_mode=True, diff=True), task(args, diff=True), task(args)])

    assert check["changed"] and check["custom_cert"]["id"] == old_id and check["custom_cert"]["priority"] == 3, check
    assert check["diff"]["before"]["expires_on"] != check["diff"]["after"]["expires_on"]
    assert check["diff"]["before"]["fingerprint_sha256"] is None and check["diff"]["after"]["fingerprint_sha256"] == pki.apex_new.fingerprint_sha256

    assert real["changed"] and not real.get("failed"), real
    view = real["custom_cert"]
    assert view["id"] == old_id and view["previous_id"] is None and view["priority"] == 3 and view["days_remaining"] in (89, 90)
    assert view["serial_number"] == pki.apex_new.serial_number and view["type"] is None
    assert not again["changed"] and again["custom_cert"]["id"] == old_id, again

    (patch,) = writes(emulator)  # one PATCH; no upload, no prioritize
    assert patch[:2] == ("PATCH", "custom_certificates/" + old_id) and set(patch[2]) == {"certificate", "private_key"}
    assert patch[2]["private_key"] == "<redacted>"
    stored = {c["id"]: c for c in certs_in_state(emulator)}
    assert stored[old_id]["priority"] == 3 and stored[old_id]["type"] == "legacy_custom" and "BEGIN CERTIFICATE" in stored[old_id]["certificate"]
    assert len(stored) == 2


def test_renewal_of_an_sni_custom_certificate_reports_the_new_id_and_puts_its_priority_back(ansible, emulator, pki):
    # The document's PATCH description: PATCHing an sni_custom certificate returns a new id and deletes the previous one.
    old_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=5)
    other_id = seed(emulator, pki.shop, priority=2)
    emulator.reset_journal()
    args = dict(material(pki.static_new), zone_id=emulator.zone_id)
    real, again, again_by_old_id = run_play(ansible, [task(args, diff=True), task(args), task(dict(args, custom_certificate_id=old_id))])

    assert real["changed"] and not real.get("failed"), real
    view = real["custom_cert"]
    new_id = view["id"]
    assert new_id != old_id and view["previous_id"] == old_id and view["priority"] == 5, view
    assert real["diff"]["before"]["id"] == old_id and real["diff"]["after"]["id"] == new_id
    patch, put = writes(emulator)
    assert patch[:2] == ("PATCH", "custom_certificates/" + old_id)
    assert put == ("PUT", PRIORITIZE, {"certificates": [{"id": new_id, "priority": 5}]})
    assert priorities(emulator) == {other_id: 2, new_id: 5}  # the old id is gone

    # Re-runs change nothing, also when given the old id (found again by identity, clarification 32).
    for result in (again, again_by_old_id):
        assert not result["changed"] and not result.get("failed") and result["custom_cert"]["id"] == new_id, result
        assert result["custom_cert"]["previous_id"] is None
    assert len(writes(emulator)) == 2


def test_sni_edit_whose_answer_is_lost_is_settled_by_listing_again(ansible, emulator, pki):
    old_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=4)
    emulator.reset_journal()
    emulator.add_fault("reset_after", method="PATCH", path="custom_certificates/")
    result = ansible.run_module(MOD, dict(material(pki.static_new), zone_id=emulator.zone_id)).result
    assert result["changed"] and not result.get("failed"), result
    (new_id,) = priorities(emulator)
    assert new_id != old_id and result["custom_cert"]["id"] == new_id and result["custom_cert"]["previous_id"] == old_id
    assert [w[:2] for w in writes(emulator)] == [("PATCH", "custom_certificates/" + old_id), ("PUT", PRIORITIZE)]  # the PATCH was not re-sent
    assert priorities(emulator) == {new_id: 4}


def test_upload_lost_after_processing_leaves_one_certificate(ansible, emulator, pki):
    emulator.add_fault("reset_after", method="POST", path="custom_certificates$")
    result = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    assert result["changed"] and not result.get("failed"), result
    (stored,) = certs_in_state(emulator)
    assert result["custom_cert"]["id"] == stored["id"] and [w[0] for w in writes(emulator)] == ["POST"]


def test_upload_lost_before_processing_is_not_resent(ansible, emulator, pki):
    emulator.add_fault("502", method="POST", path="custom_certificates$")
    result = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    assert result["failed"] and "running the task again is safe" in result["msg"], result
    assert [w[0] for w in writes(emulator)] == ["POST"] and certs_in_state(emulator) == []


def test_second_certificate_with_other_hosts_is_uploaded_beside(ansible, emulator, pki):
    apex_id = seed(emulator, pki.apex_old, priority=1)
    emulator.reset_journal()
    result = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    assert result["changed"] and result["custom_cert"]["id"] != apex_id and result["custom_cert"]["hosts"] == SHOP, result
    assert [w[:2] for w in writes(emulator)] == [("POST", "custom_certificates")]
    assert priorities(emulator) == {apex_id: 1, result["custom_cert"]["id"]: 20}

    # match_hosts=false uploads beside a certificate with the same hosts too (renewal by upload, then priority).
    emulator.reset_journal()
    beside = ansible.run_module(MOD, dict(material(pki.apex_new), zone_id=emulator.zone_id, match_hosts=False)).result
    assert beside["changed"] and beside["custom_cert"]["id"] not in (apex_id, result["custom_cert"]["id"]), beside
    assert [w[:2] for w in writes(emulator)] == [("POST", "custom_certificates")] and len(certs_in_state(emulator)) == 3


def test_options_change_on_an_identical_certificate_is_one_patch(ansible, emulator, pki):
    cert_id = seed(emulator, pki.shop, bundle_method="ubiquitous", geo_restrictions={"label": "us"})
    emulator.reset_journal()
    args = dict(material(pki.shop), zone_id=emulator.zone_id, policy="(country: US) or (region: EU)", bundle_method="force")
    check, result, again = run_play(ansible, [task(args, check_mode=True), task(args, diff=True), task(args)])
    assert check["changed"] and check["custom_cert"] == dict(result["custom_cert"], status=check["custom_cert"]["status"]), (check, result)
    assert result["changed"] and result["custom_cert"]["policy"] == "(country: US) or (region: EU)" and result["custom_cert"]["bundle_method"] == "force"
    assert result["diff"]["before"]["policy"] is None and result["custom_cert"]["id"] == cert_id, result
    assert not again["changed"], again
    assert writes(emulator) == [("PATCH", "custom_certificates/" + cert_id, {"bundle_method": "force", "policy": "(country: US) or (region: EU)"})]


def test_priorities_set_rerun_unchanged_and_one_put(ansible, emulator, pki):
    apex_id = seed(emulator, pki.apex_old)
    shop_id = seed(emulator, pki.shop)
    static_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=7)
    emulator.reset_journal()
    args = {
        "zone_id": emulator.zone_id,
        "certificates": [
            {"id": shop_id, "priority": 1},
            {"hosts": list(reversed(APEX)), "priority": 2},  # by hosts, in any order
            {"id": static_id, "priority": 7},  # already so: not sent
        ],
    }
    check, real, again = run_play(ansible, [task(args, module=PRIO, check_mode=True, diff=True), task(args, module=PRIO, diff=True), task(args, module=PRIO)])

    assert check["changed"] and not check.get("failed"), check
    assert check["diff"]["before"] == {
        shop_id: {"hosts": SHOP, "priority": 20},
        apex_id: {"hosts": APEX, "priority": 20},
        static_id: {"hosts": STATIC, "priority": 7},
    }
    assert check["diff"]["after"] == {
        shop_id: {"hosts": SHOP, "priority": 1},
        apex_id: {"hosts": APEX, "priority": 2},
        static_id: {"hosts": STATIC, "priority": 7},
    }
    assert [(c["id"], c["priority"]) for c in check["certificates"]] == [(apex_id, 2), (shop_id, 1), (static_id, 7)]  # current order

    assert real["changed"] and not real.get("failed"), real
    assert real["diff"] == check["diff"]
    # The order of use: legacy_custom first, lower number first (clarification 9).
    assert [(c["id"], c["priority"]) for c in real["certificates"]] == [(shop_id, 1), (apex_id, 2), (static_id, 7)]
    assert set(real["certificates"][0]) == {"id", "hosts", "priority", "status", "expires_on"}
    assert not again["changed"] and again["certificates"] == real["certificates"], again

    assert writes(emulator) == [("PUT", PRIORITIZE, {"certificates": [{"id": shop_id, "priority": 1}, {"id": apex_id, "priority": 2}]})]
    assert priorities(emulator) == {shop_id: 1, apex_id: 2, static_id: 7}


def test_upload_then_prioritise_by_hosts_and_by_the_registered_id(ansible, emulator, pki):
    apex_id = seed(emulator, pki.apex_old, priority=1)
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    tasks = [
        dict(task(dict(material(pki.shop), **zone)), register="uploaded"),
        task({"certificates": [{"hosts": SHOP, "priority": 1}, {"id": apex_id, "priority": 3}], **zone}, module=PRIO),
        dict(task(dict(material(pki.wildcard), match_hosts=False, **zone)), register="wild"),
        task({"certificates": [{"id": "{{ wild.custom_cert.id }}", "priority": 2}], **zone}, module=PRIO),
    ]
    uploaded, by_hosts, wild, by_id = run_play(ansible, tasks)
    assert uploaded["changed"] and by_hosts["changed"] and wild["changed"] and by_id["changed"], (uploaded, by_hosts, wild, by_id)
    shop_id, wild_id = uploaded["custom_cert"]["id"], wild["custom_cert"]["id"]
    assert [c["id"] for c in by_id["certificates"]] == [shop_id, wild_id, apex_id]
    assert priorities(emulator) == {shop_id: 1, wild_id: 2, apex_id: 3}
    assert [w[:2] for w in writes(emulator)] == [("POST", "custom_certificates"), ("PUT", PRIORITIZE), ("POST", "custom_certificates"), ("PUT", PRIORITIZE)]


def test_delete_by_id_and_by_certificate(ansible, emulator, pki):
    apex_id = seed(emulator, pki.apex_old)
    shop_id = seed(emulator, pki.shop)
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    by_id = {"custom_certificate_id": apex_id, "state": "absent", **zone}
    by_pem = {"certificate": pki.shop.chain_pem, "state": "absent", **zone}
    check, real, again, pem, pem_again = run_play(
        ansible, [task(by_id, check_mode=True, diff=True), task(by_id, diff=True), task(by_id), task(by_pem), task(by_pem)]
    )
    assert check["changed"] and check["custom_cert"] is None and check["diff"]["before"]["id"] == apex_id, check
    assert real["changed"] and real["custom_cert"] is None and real["diff"] == {"before": check["diff"]["before"], "after": {}}, real
    assert not again["changed"] and not again.get("failed"), again
    assert pem["changed"] and not pem_again["changed"], (pem, pem_again)
    assert writes(emulator) == [("DELETE", "custom_certificates/" + apex_id, None), ("DELETE", "custom_certificates/" + shop_id, None)]
    assert certs_in_state(emulator) == []


def test_bad_inputs_fail_before_any_write(ansible, emulator, pki):
    zone = {"zone_id": emulator.zone_id}
    local = [
        task({"certificate": "not a certificate", "private_key": pki.shop.key_pem, **zone}),
        task({"certificate": pki.shop.chain_pem, "private_key": pki.apex_old.key_pem, **zone}),
        task(dict(material(pki.expired), **zone)),
        task(dict(material(pki.shop), type="custom", **zone)),
        task(dict(material(pki.shop), geo_restrictions="us", policy="(country: US)", **zone)),
        task({"certificates": [{"id": "abc/def", "priority": 1}], **zone}, module=PRIO),
    ]
    garbage, mismatch, expired, bad_type, geo_and_policy, bad_id = run_play(ansible, local)
    assert garbage["failed"] and "certificate: no PEM certificate found" in garbage["msg"], garbage
    assert mismatch["failed"] and "private key does not belong to this certificate" in mismatch["msg"], mismatch
    assert expired["failed"] and "expired on" in expired["msg"], expired
    assert bad_type["failed"] and "type" in bad_type["msg"] and "legacy_custom" in bad_type["msg"], bad_type
    assert geo_and_policy["failed"] and "mutually exclusive" in geo_and_policy["msg"], geo_and_policy
    assert bad_id["failed"] and "certificates[0].id" in bad_id["msg"], bad_id
    for result in (garbage, mismatch, expired, bad_type, bad_id):
        assert result.get("exception") in (None, "(traceback unavailable)") and not result["msg"].startswith("Unexpected error")
    assert emulator.journal() == []  # local checks: not a single call

    apex_id = seed(emulator, pki.apex_old)
    twin_id = seed(emulator, make_leaf(make_ca("Other CA"), APEX, days=40))
    emulator.reset_journal()
    reads = [
        task(dict(material(pki.shop), custom_certificate_id="f" * 32, **zone)),
        task(dict(material(pki.apex_new), **zone)),  # two certificates have its hosts
        task({"certificates": [{"id": "e" * 32, "priority": 1}], **zone}, module=PRIO),
        task({"certificates": [{"hosts": ["nowhere.example.com"], "priority": 1}], **zone}, module=PRIO),
        task({"certificates": [{"hosts": APEX, "priority": 1}], **zone}, module=PRIO),
        task({"certificates": [{"id": apex_id, "priority": 1}, {"hosts": SHOP, "priority": 2}], **zone}, module=PRIO),
        task({"certificate": pki.shop.chain_pem, **zone}),  # the key is needed to upload
        task({"certificates": [{"id": apex_id, "priority": 1}, {"id": apex_id, "priority": 2}], **zone}, module=PRIO),
    ]
    unknown_id, two_match, prio_unknown_id, prio_unknown_hosts, prio_ambiguous, prio_second_unknown, no_key, prio_twice = run_play(ansible, reads)
    assert unknown_id["failed"] and "custom_certificate_id " + "f" * 32 in unknown_id["msg"] and apex_id in unknown_id["msg"], unknown_id
    assert two_match["failed"] and apex_id in two_match["msg"] and twin_id in two_match["msg"] and "custom_certificate_id" in two_match["msg"], two_match
    assert prio_unknown_id["failed"] and "certificates[0] (id " + "e" * 32 + ") matches no custom certificate" in prio_unknown_id["msg"], prio_unknown_id
    assert prio_unknown_hosts["failed"] and "certificates[0] (hosts nowhere.example.com) matches no" in prio_unknown_hosts["msg"], prio_unknown_hosts
    assert prio_ambiguous["failed"] and "matches 2 custom certificates" in prio_ambiguous["msg"] and twin_id in prio_ambiguous["msg"], prio_ambiguous
    assert prio_second_unknown["failed"] and "certificates[1] (hosts shop.example.com)" in prio_second_unknown["msg"], prio_second_unknown
    assert no_key["failed"] and "private_key or private_key_path" in no_key["msg"], no_key
    assert prio_twice["failed"] and "certificates[0] and certificates[1] both name the custom certificate " + apex_id in prio_twice["msg"], prio_twice
    assert writes(emulator) == []
    assert priorities(emulator) == {apex_id: 20, twin_id: 20}


def test_key_appears_nowhere_at_vvvv(ansible, emulator, pki, tmp_path):
    key_file = tmp_path / "static.key"
    key_file.write_text(
        pki.static_new.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pass-PHRASE-9")
        ).decode()
    )
    old_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=3)
    zone = {"zone_id": emulator.zone_id}
    upload = dict(material(pki.shop), **zone)
    renew = {"certificate": pki.static_new.chain_pem, "private_key_path": str(key_file), "private_key_passphrase": "pass-PHRASE-9", **zone}
    delete = dict(upload, state="absent")
    play = ansible.run_tasks([task(upload, diff=True), task(renew, diff=True), task(delete, diff=True)], verbosity=4)
    assert [r["result"]["changed"] for r in play.results] == [True, True, True], play.output
    assert play.results[1]["result"]["custom_cert"]["previous_id"] == old_id
    for leaf in (pki.shop, pki.static_new):
        for line in leaf.key_pem.splitlines()[1:-1]:
            assert line not in play.output
    assert "PRIVATE KEY-----" not in play.output and "pass-PHRASE-9" not in play.output
    assert "PRIVATE KEY" not in str(play.results)


@pytest.mark.emulator(delay=3600)  # the pending certificate stays pending
def test_info_lists_in_order_of_use_with_filters(ansible, emulator, pki):
    static_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=1)
    apex_id = seed(emulator, pki.apex_old, priority=2, policy="(region: EU)")
    wild_id = seed(emulator, pki.wildcard, priority=1)
    pending_id = seed(emulator, pki.shop, status="pending")
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    everything, expiring, www, pending = run_play(
        ansible,
        [
            task(zone, module=INFO),
            task(dict(zone, expiring_within_days=18), module=INFO),
            task(dict(zone, hosts=["WWW.example.com", "nothing.example.org"]), module=INFO),
            task(dict(zone, status="pending"), module=INFO),
        ],
    )
    assert not everything["changed"] and [c["id"] for c in everything["custom_certs"]] == [wild_id, apex_id, pending_id, static_id], everything
    apex = everything["custom_certs"][1]
    assert set(apex) == VIEW_KEYS and apex["hosts"] == APEX and apex["policy"] == "(region: EU)" and apex["priority"] == 2
    assert apex["serial_number"] is None and apex["fingerprint_sha256"] is None and apex["type"] is None and apex["days_remaining"] in (19, 20)
    assert [c["id"] for c in expiring["custom_certs"]] == [static_id]
    assert [c["id"] for c in www["custom_certs"]] == [wild_id, apex_id]  # the wildcard covers www, the apex certificate names it
    assert [c["id"] for c in pending["custom_certs"]] == [pending_id]
    assert emulator.counts() == {"reads": 4, "writes": 0}  # one call per run
