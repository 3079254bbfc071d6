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
POLICY = "(country: US) or (region: EU)"
PASSPHRASE = "pass-PHRASE-9"


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Zone CA", org="Certops Zone CA")
    # Identity is hosts + issuer + expiry + signature (the API gives no serial or fingerprint): renewals expire on other days.
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


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


@pytest.fixture(scope="module")
def upload(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    args = dict(material(pki.apex_old), zone_id=emulator.zone_id, type="sni_custom", bundle_method="optimal", geo_restrictions="eu", wait=True)
    check, real, again, again_check = run_play(
        ansible, [task(args, check_mode=True, diff=True), task(args, diff=True), task(args, diff=True), task(args, check_mode=True)]
    )
    return SimpleNamespace(check=check, real=real, again=again, again_check=again_check, writes=writes(emulator), certs=certs_in_state(emulator))


class TestAnUploadWithCheckModeAndReRuns:
    """One play: check mode with diff, the upload with diff, a re-run with diff, a re-run in check mode."""

    def test_check_mode_reports_a_change(self, upload):
        assert upload.check["changed"], upload.check
        assert not upload.check.get("failed"), upload.check

    def test_check_mode_predicts_the_certificate_without_an_id_or_a_priority(self, upload, pki):
        predicted = upload.check["custom_cert"]
        assert set(predicted) == VIEW_KEYS
        assert parts(predicted, "id", "priority", "status", "hosts", "type", "fingerprint_sha256") == {
            "id": None,
            "priority": None,
            "status": "pending",
            "hosts": APEX,
            "type": "sni_custom",
            "fingerprint_sha256": pki.apex_old.fingerprint_sha256,
        }

    def test_the_check_mode_diff_goes_from_nothing_to_the_prediction(self, upload):
        assert (upload.check["diff"]["before"], upload.check["diff"]["after"]) == ({}, upload.check["custom_cert"])

    def test_the_upload_reports_a_change(self, upload):
        assert upload.real["changed"], upload.real
        assert not upload.real.get("failed"), upload.real

    def test_the_upload_waits_until_the_new_certificate_is_active(self, upload):
        view = upload.real["custom_cert"]
        assert view["id"], view
        assert parts(view, "previous_id", "status") == {"previous_id": None, "status": "active"}  # wait=true

    def test_the_upload_reports_the_certificate_with_its_options(self, upload, pki):
        view = upload.real["custom_cert"]
        assert parts(view, *sorted(VIEW_KEYS - {"id", "previous_id", "status", "uploaded_on", "expires_on", "days_remaining"})) == {
            "hosts": APEX,
            "issuer": "Certops Zone CA",
            "signature": "ECDSAWithSHA256",
            "type": "sni_custom",
            "bundle_method": "optimal",
            "geo_restrictions": "eu",
            "policy": None,
            "priority": 20,
            "serial_number": pki.apex_old.serial_number,
            "fingerprint_sha256": pki.apex_old.fingerprint_sha256,
        }
        assert view["days_remaining"] in (19, 20)

    def test_the_upload_diff_goes_from_nothing_to_the_uploaded_certificate(self, upload):
        assert (upload.real["diff"]["before"], upload.real["diff"]["after"]) == ({}, upload.real["custom_cert"])

    def test_the_diff_shows_no_pem(self, upload):
        assert "BEGIN" not in str(upload.real["diff"])

    def test_one_upload_is_sent_with_the_options_set_and_check_mode_and_re_runs_send_nothing(self, upload):
        ((method, path, body),) = upload.writes
        assert (method, path) == ("POST", "custom_certificates")
        assert {k: v for k, v in body.items() if k not in ("certificate", "private_key")} == {
            "type": "sni_custom",
            "bundle_method": "optimal",
            "geo_restrictions": {"label": "eu"},
        }

    def test_the_journal_shows_the_private_key_redacted(self, upload):
        ((_method, _path, body),) = upload.writes
        assert body["private_key"] == "<redacted>"

    def test_the_emulator_holds_the_uploaded_sni_custom_certificate(self, upload):
        assert [(c["id"], c["type"]) for c in upload.certs] == [(upload.real["custom_cert"]["id"], "sni_custom")]

    @pytest.mark.parametrize("phase", ["again", "again_check"], ids=["re_run", "re_run_in_check_mode"])
    def test_a_re_run_changes_nothing(self, upload, phase):
        result = getattr(upload, phase)
        assert not result["changed"], result
        assert not result.get("failed"), result

    def test_a_re_run_reports_the_certificate_without_the_type_which_only_the_upload_knows(self, upload):
        again = upload.again["custom_cert"]
        assert again == dict(upload.real["custom_cert"], type=None, days_remaining=again["days_remaining"])

    def test_a_re_run_diff_shows_no_difference(self, upload):
        assert upload.again["diff"]["before"] == upload.again["diff"]["after"]


@pytest.fixture(scope="module")
def legacy_renewal(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    old_id = seed(emulator, pki.apex_old, priority=3)
    seed(emulator, pki.shop, cert_type="sni_custom", priority=1)
    emulator.reset_journal()
    args = dict(material(pki.apex_new), zone_id=emulator.zone_id)
    check, real, again = run_play(ansible, [task(args, check_mode=True, diff=True), task(args, diff=True), task(args)])
    return SimpleNamespace(old_id=old_id, check=check, real=real, again=again, writes=writes(emulator), certs=certs_in_state(emulator))


class TestRenewalOfALegacyCustomCertificate:
    """A legacy_custom certificate (priority 3) beside an sni_custom one; one play: check mode with diff, the renewal with diff,
    a re-run. It is edited in place."""

    def test_check_mode_predicts_a_change_of_the_same_certificate_at_its_priority(self, legacy_renewal):
        assert legacy_renewal.check["changed"], legacy_renewal.check
        assert parts(legacy_renewal.check["custom_cert"], "id", "priority") == {"id": legacy_renewal.old_id, "priority": 3}

    def test_the_check_mode_diff_shows_the_new_expiry(self, legacy_renewal):
        assert legacy_renewal.check["diff"]["before"]["expires_on"] != legacy_renewal.check["diff"]["after"]["expires_on"]

    def test_the_check_mode_diff_shows_the_new_fingerprint_which_the_api_does_not_give_for_the_old(self, legacy_renewal, pki):
        diff = legacy_renewal.check["diff"]
        assert (diff["before"]["fingerprint_sha256"], diff["after"]["fingerprint_sha256"]) == (None, pki.apex_new.fingerprint_sha256)

    def test_the_renewal_reports_a_change(self, legacy_renewal):
        assert legacy_renewal.real["changed"], legacy_renewal.real
        assert not legacy_renewal.real.get("failed"), legacy_renewal.real

    def test_the_renewal_keeps_the_id_and_the_priority(self, legacy_renewal):
        assert parts(legacy_renewal.real["custom_cert"], "id", "previous_id", "priority") == {"id": legacy_renewal.old_id, "previous_id": None, "priority": 3}

    def test_the_renewal_reports_the_new_certificate(self, legacy_renewal, pki):
        view = legacy_renewal.real["custom_cert"]
        assert parts(view, "serial_number", "type") == {"serial_number": pki.apex_new.serial_number, "type": None}
        assert view["days_remaining"] in (89, 90)

    def test_a_re_run_changes_nothing_and_finds_the_same_certificate(self, legacy_renewal):
        assert not legacy_renewal.again["changed"], legacy_renewal.again
        assert legacy_renewal.again["custom_cert"]["id"] == legacy_renewal.old_id

    def test_one_patch_of_the_certificate_and_key_is_sent_and_no_upload_or_prioritize(self, legacy_renewal):
        (patch,) = legacy_renewal.writes
        assert patch[:2] == ("PATCH", "custom_certificates/" + legacy_renewal.old_id)
        assert set(patch[2]) == {"certificate", "private_key"}

    def test_the_journal_shows_the_private_key_redacted(self, legacy_renewal):
        (patch,) = legacy_renewal.writes
        assert patch[2]["private_key"] == "<redacted>"

    def test_the_emulator_keeps_the_priority_and_the_type_of_the_renewed_certificate(self, legacy_renewal):
        stored = {c["id"]: c for c in legacy_renewal.certs}
        assert parts(stored[legacy_renewal.old_id], "priority", "type") == {"priority": 3, "type": "legacy_custom"}
        assert "BEGIN CERTIFICATE" in stored[legacy_renewal.old_id]["certificate"]

    def test_the_emulator_still_holds_both_certificates(self, legacy_renewal):
        assert len(legacy_renewal.certs) == 2


@pytest.fixture(scope="module")
def sni_renewal(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    old_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=5)
    other_id = seed(emulator, pki.shop, priority=2)
    emulator.reset_journal()
    args = dict(material(pki.static_new), zone_id=emulator.zone_id)
    real, again, again_by_old_id = run_play(ansible, [task(args, diff=True), task(args), task(dict(args, custom_certificate_id=old_id))])
    return SimpleNamespace(
        old_id=old_id,
        other_id=other_id,
        new_id=real["custom_cert"]["id"],
        real=real,
        again=again,
        again_by_old_id=again_by_old_id,
        writes=writes(emulator),
        priorities=priorities(emulator),
    )


class TestRenewalOfAnSniCustomCertificate:
    """The document's PATCH description: PATCHing an sni_custom certificate returns a new id and deletes the previous one.
    One play: the renewal with diff, a re-run, a re-run given the old id."""

    def test_the_renewal_reports_a_change(self, sni_renewal):
        assert sni_renewal.real["changed"], sni_renewal.real
        assert not sni_renewal.real.get("failed"), sni_renewal.real

    def test_the_renewal_reports_the_new_id_and_the_previous_one_at_the_same_priority(self, sni_renewal):
        assert sni_renewal.new_id != sni_renewal.old_id
        assert parts(sni_renewal.real["custom_cert"], "previous_id", "priority") == {"previous_id": sni_renewal.old_id, "priority": 5}

    def test_the_diff_goes_from_the_old_id_to_the_new(self, sni_renewal):
        assert (sni_renewal.real["diff"]["before"]["id"], sni_renewal.real["diff"]["after"]["id"]) == (sni_renewal.old_id, sni_renewal.new_id)

    def test_the_old_certificate_is_patched_then_the_priority_put_back_and_the_re_runs_send_nothing(self, sni_renewal):
        patch, put = sni_renewal.writes
        assert patch[:2] == ("PATCH", "custom_certificates/" + sni_renewal.old_id)
        assert put == ("PUT", PRIORITIZE, {"certificates": [{"id": sni_renewal.new_id, "priority": 5}]})

    def test_the_emulator_holds_the_new_id_at_the_old_priority_and_the_old_id_is_gone(self, sni_renewal):
        assert sni_renewal.priorities == {sni_renewal.other_id: 2, sni_renewal.new_id: 5}

    # Re-runs change nothing, also when given the old id (an sni_custom PATCH answers a new id; a stale id is found again by identity).
    @pytest.mark.parametrize("phase", ["again", "again_by_old_id"], ids=["re_run", "re_run_given_the_old_id"])
    def test_a_re_run_changes_nothing_and_finds_the_new_certificate(self, sni_renewal, phase):
        result = getattr(sni_renewal, phase)
        assert not result["changed"], result
        assert not result.get("failed"), result
        assert parts(result["custom_cert"], "id", "previous_id") == {"id": sni_renewal.new_id, "previous_id": None}


def test_sni_edit_whose_answer_is_lost_is_settled_by_listing_again(ansible, emulator, pki):
    old_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=4)
    emulator.reset_journal()
    emulator.add_fault("reset_after", method="PATCH", path="custom_certificates/")
    result = ansible.run_module(MOD, dict(material(pki.static_new), zone_id=emulator.zone_id)).result
    assert result["changed"], result
    assert not result.get("failed"), result
    (new_id,) = priorities(emulator)
    assert new_id != old_id
    assert parts(result["custom_cert"], "id", "previous_id") == {"id": new_id, "previous_id": old_id}
    assert [w[:2] for w in writes(emulator)] == [("PATCH", "custom_certificates/" + old_id), ("PUT", PRIORITIZE)]  # the PATCH was not re-sent
    assert priorities(emulator) == {new_id: 4}


def test_upload_lost_after_processing_leaves_one_certificate(ansible, emulator, pki):
    emulator.add_fault("reset_after", method="POST", path="custom_certificates$")
    result = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    assert result["changed"], result
    assert not result.get("failed"), result
    (stored,) = certs_in_state(emulator)
    assert result["custom_cert"]["id"] == stored["id"]
    assert [w[0] for w in writes(emulator)] == ["POST"]


def test_an_upload_a_read_proves_was_not_applied_is_sent_once_more(ansible, emulator, pki):
    emulator.add_fault("reset_before", method="POST", path="custom_certificates$")
    result = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    assert not result.get("failed"), result
    assert result["changed"] and result["resent"] is True
    (stored,) = certs_in_state(emulator)
    assert result["custom_cert"]["id"] == stored["id"]
    assert [w[0] for w in writes(emulator)] == ["POST", "POST"]


def test_an_upload_lost_twice_fails_after_one_more_try(ansible, emulator, pki):
    emulator.add_fault("502", method="POST", path="custom_certificates$", count=2)
    result = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    assert result["failed"], result
    assert "after one more try" in result["msg"] and "running the task again is safe" in result["msg"]
    assert [w[0] for w in writes(emulator)] == ["POST", "POST"]
    assert certs_in_state(emulator) == []


@pytest.fixture(scope="module")
def beside(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    apex_id = seed(emulator, pki.apex_old, priority=1)
    emulator.reset_journal()
    other = ansible.run_module(MOD, dict(material(pki.shop), zone_id=emulator.zone_id)).result
    other_writes, other_priorities = writes(emulator), priorities(emulator)
    emulator.reset_journal()
    # match_hosts=false uploads beside a certificate with the same hosts too (renewal by upload, then priority).
    beside = ansible.run_module(MOD, dict(material(pki.apex_new), zone_id=emulator.zone_id, match_hosts=False)).result
    return SimpleNamespace(
        apex_id=apex_id,
        other=other,
        other_writes=other_writes,
        other_priorities=other_priorities,
        beside=beside,
        beside_writes=writes(emulator),
        certs=certs_in_state(emulator),
    )


class TestCertificatesUploadedBeside:
    """A legacy_custom certificate for the apex; a certificate for other hosts, then one for the apex's hosts with match_hosts=false."""

    def test_a_certificate_with_other_hosts_is_uploaded_as_a_new_one(self, beside):
        assert beside.other["changed"], beside.other
        assert beside.other["custom_cert"]["id"] != beside.apex_id
        assert beside.other["custom_cert"]["hosts"] == SHOP

    def test_its_upload_is_one_post(self, beside):
        assert [w[:2] for w in beside.other_writes] == [("POST", "custom_certificates")]

    def test_it_is_held_beside_the_first_at_the_default_priority(self, beside):
        assert beside.other_priorities == {beside.apex_id: 1, beside.other["custom_cert"]["id"]: 20}

    def test_with_match_hosts_false_a_certificate_with_the_same_hosts_is_uploaded_as_a_new_one(self, beside):
        assert beside.beside["changed"], beside.beside
        assert beside.beside["custom_cert"]["id"] not in (beside.apex_id, beside.other["custom_cert"]["id"])

    def test_with_match_hosts_false_the_upload_is_one_post(self, beside):
        assert [w[:2] for w in beside.beside_writes] == [("POST", "custom_certificates")]

    def test_the_emulator_then_holds_three_certificates(self, beside):
        assert len(beside.certs) == 3


@pytest.fixture(scope="module")
def options_change(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    cert_id = seed(emulator, pki.shop, bundle_method="ubiquitous", geo_restrictions={"label": "us"})
    emulator.reset_journal()
    args = dict(material(pki.shop), zone_id=emulator.zone_id, policy=POLICY, bundle_method="force")
    check, result, again = run_play(ansible, [task(args, check_mode=True), task(args, diff=True), task(args)])
    return SimpleNamespace(cert_id=cert_id, check=check, result=result, again=again, writes=writes(emulator))


class TestAnOptionsChangeOnAnIdenticalCertificate:
    """The certificate is already there with other options; one play: check mode, the change with diff, a re-run."""

    def test_check_mode_predicts_the_change_as_made(self, options_change):
        assert options_change.check["changed"], options_change.check
        assert options_change.check["custom_cert"] == dict(options_change.result["custom_cert"], status=options_change.check["custom_cert"]["status"])

    def test_the_change_is_reported_with_the_new_options(self, options_change):
        assert options_change.result["changed"], options_change.result
        assert parts(options_change.result["custom_cert"], "id", "policy", "bundle_method") == {
            "id": options_change.cert_id,
            "policy": POLICY,
            "bundle_method": "force",
        }

    def test_the_diff_shows_there_was_no_policy(self, options_change):
        assert options_change.result["diff"]["before"]["policy"] is None

    def test_a_re_run_changes_nothing(self, options_change):
        assert not options_change.again["changed"], options_change.again

    def test_one_patch_of_the_options_alone_is_sent(self, options_change):
        assert options_change.writes == [("PATCH", "custom_certificates/" + options_change.cert_id, {"bundle_method": "force", "policy": POLICY})]


@pytest.fixture(scope="module")
def priorities_set(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
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
    return SimpleNamespace(
        apex_id=apex_id,
        shop_id=shop_id,
        static_id=static_id,
        check=check,
        real=real,
        again=again,
        writes=writes(emulator),
        priorities=priorities(emulator),
    )


class TestPrioritiesSet:
    """Three certificates at 20, 20 and 7; one play of cert_priority: check mode with diff, the change with diff, a re-run."""

    def test_check_mode_reports_a_change(self, priorities_set):
        assert priorities_set.check["changed"], priorities_set.check
        assert not priorities_set.check.get("failed"), priorities_set.check

    def test_the_diff_before_shows_the_current_priorities(self, priorities_set):
        assert priorities_set.check["diff"]["before"] == {
            priorities_set.shop_id: {"hosts": SHOP, "priority": 20},
            priorities_set.apex_id: {"hosts": APEX, "priority": 20},
            priorities_set.static_id: {"hosts": STATIC, "priority": 7},
        }

    def test_the_diff_after_shows_the_priorities_asked_for(self, priorities_set):
        assert priorities_set.check["diff"]["after"] == {
            priorities_set.shop_id: {"hosts": SHOP, "priority": 1},
            priorities_set.apex_id: {"hosts": APEX, "priority": 2},
            priorities_set.static_id: {"hosts": STATIC, "priority": 7},
        }

    def test_check_mode_lists_the_certificates_in_their_current_order(self, priorities_set):
        assert [(c["id"], c["priority"]) for c in priorities_set.check["certificates"]] == [
            (priorities_set.apex_id, 2),
            (priorities_set.shop_id, 1),
            (priorities_set.static_id, 7),
        ]

    def test_the_change_is_reported_with_the_diff_check_mode_showed(self, priorities_set):
        assert priorities_set.real["changed"], priorities_set.real
        assert not priorities_set.real.get("failed"), priorities_set.real
        assert priorities_set.real["diff"] == priorities_set.check["diff"]

    def test_the_change_lists_the_certificates_in_the_new_order_of_use(self, priorities_set):
        # The order of use: legacy_custom first, lower number first (Cloudflare's "Certificate and hostname priority").
        assert [(c["id"], c["priority"]) for c in priorities_set.real["certificates"]] == [
            (priorities_set.shop_id, 1),
            (priorities_set.apex_id, 2),
            (priorities_set.static_id, 7),
        ]

    def test_each_listed_certificate_has_the_documented_fields(self, priorities_set):
        assert set(priorities_set.real["certificates"][0]) == {"id", "hosts", "priority", "status", "expires_on"}

    def test_a_re_run_changes_nothing_and_lists_the_same(self, priorities_set):
        assert not priorities_set.again["changed"], priorities_set.again
        assert priorities_set.again["certificates"] == priorities_set.real["certificates"]

    def test_one_put_sends_only_the_priorities_that_change(self, priorities_set):
        assert priorities_set.writes == [
            ("PUT", PRIORITIZE, {"certificates": [{"id": priorities_set.shop_id, "priority": 1}, {"id": priorities_set.apex_id, "priority": 2}]})
        ]

    def test_the_emulator_holds_the_new_priorities(self, priorities_set):
        assert priorities_set.priorities == {priorities_set.shop_id: 1, priorities_set.apex_id: 2, priorities_set.static_id: 7}


@pytest.fixture(scope="module")
def upload_then_prioritise(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
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
    return SimpleNamespace(
        apex_id=apex_id,
        results=dict(uploaded=uploaded, by_hosts=by_hosts, wild=wild, by_id=by_id),
        shop_id=uploaded["custom_cert"]["id"],
        wild_id=wild["custom_cert"]["id"],
        writes=writes(emulator),
        priorities=priorities(emulator),
    )


class TestUploadThenPrioritiseByHostsAndByTheRegisteredId:
    """One play: an upload, priorities by hosts; an upload with match_hosts=false, its priority by the id it registered."""

    @pytest.mark.parametrize("step", ["uploaded", "by_hosts", "wild", "by_id"])
    def test_every_step_changes_something(self, upload_then_prioritise, step):
        assert upload_then_prioritise.results[step]["changed"], upload_then_prioritise.results[step]

    def test_the_last_step_lists_the_certificates_in_the_new_order(self, upload_then_prioritise):
        assert [c["id"] for c in upload_then_prioritise.results["by_id"]["certificates"]] == [
            upload_then_prioritise.shop_id,
            upload_then_prioritise.wild_id,
            upload_then_prioritise.apex_id,
        ]

    def test_the_emulator_holds_the_priorities_set(self, upload_then_prioritise):
        assert upload_then_prioritise.priorities == {upload_then_prioritise.shop_id: 1, upload_then_prioritise.wild_id: 2, upload_then_prioritise.apex_id: 3}

    def test_each_upload_is_one_post_and_each_priority_step_one_put(self, upload_then_prioritise):
        assert [w[:2] for w in upload_then_prioritise.writes] == [
            ("POST", "custom_certificates"),
            ("PUT", PRIORITIZE),
            ("POST", "custom_certificates"),
            ("PUT", PRIORITIZE),
        ]


@pytest.fixture(scope="module")
def deletion(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    apex_id = seed(emulator, pki.apex_old)
    shop_id = seed(emulator, pki.shop)
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    by_id = {"custom_certificate_id": apex_id, "state": "absent", **zone}
    by_pem = {"certificate": pki.shop.chain_pem, "state": "absent", **zone}
    check, real, again, pem, pem_again = run_play(
        ansible, [task(by_id, check_mode=True, diff=True), task(by_id, diff=True), task(by_id), task(by_pem), task(by_pem)]
    )
    return SimpleNamespace(
        apex_id=apex_id,
        shop_id=shop_id,
        check=check,
        real=real,
        again=again,
        pem=pem,
        pem_again=pem_again,
        writes=writes(emulator),
        certs=certs_in_state(emulator),
    )


class TestDeleteByIdAndByCertificate:
    """One play: by id in check mode with diff, by id with diff, by id again; by certificate, by certificate again."""

    def test_check_mode_predicts_the_certificate_gone(self, deletion):
        assert deletion.check["changed"], deletion.check
        assert deletion.check["custom_cert"] is None

    def test_the_check_mode_diff_shows_the_certificate_before(self, deletion):
        assert deletion.check["diff"]["before"]["id"] == deletion.apex_id

    def test_the_delete_by_id_reports_the_certificate_gone(self, deletion):
        assert deletion.real["changed"], deletion.real
        assert deletion.real["custom_cert"] is None

    def test_the_delete_diff_goes_from_the_certificate_to_nothing(self, deletion):
        assert deletion.real["diff"] == {"before": deletion.check["diff"]["before"], "after": {}}

    def test_deleting_by_id_again_changes_nothing(self, deletion):
        assert not deletion.again["changed"], deletion.again
        assert not deletion.again.get("failed"), deletion.again

    def test_deleting_by_certificate_changes_then_changes_nothing(self, deletion):
        assert (deletion.pem["changed"], deletion.pem_again["changed"]) == (True, False), (deletion.pem, deletion.pem_again)

    def test_each_certificate_is_deleted_once(self, deletion):
        assert deletion.writes == [("DELETE", "custom_certificates/" + deletion.apex_id, None), ("DELETE", "custom_certificates/" + deletion.shop_id, None)]

    def test_the_emulator_holds_no_certificate(self, deletion):
        assert deletion.certs == []


# The bad inputs found locally, and the words their messages must have.
LOCAL_FAILURES = {
    "garbage": ["certificate: no PEM certificate found"],
    "mismatch": ["private key does not belong to this certificate"],
    "expired": ["expired on"],
    "bad_type": ["type", "legacy_custom"],
    "geo_and_policy": ["mutually exclusive"],
    "bad_id": ["certificates[0].id"],
}
# The bad inputs found on reading the zone; {apex_id} and {twin_id} are the two certificates with the apex's hosts.
READ_FAILURES = {
    "unknown_id": ["custom_certificate_id " + "f" * 32, "{apex_id}"],
    "two_match": ["{apex_id}", "{twin_id}", "custom_certificate_id"],
    "prio_unknown_id": ["certificates[0] (id " + "e" * 32 + ") matches no custom certificate"],
    "prio_unknown_hosts": ["certificates[0] (hosts nowhere.example.com) matches no"],
    "prio_ambiguous": ["matches 2 custom certificates", "{twin_id}"],
    "prio_second_unknown": ["certificates[1] (hosts shop.example.com)"],
    "no_key": ["private_key or private_key_path"],
    "prio_twice": ["certificates[0] and certificates[1] both name the custom certificate {apex_id}"],
}


@pytest.fixture(scope="module")
def bad_inputs(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    zone = {"zone_id": emulator.zone_id}
    local = [
        task({"certificate": "not a certificate", "private_key": pki.shop.key_pem, **zone}),
        task({"certificate": pki.shop.chain_pem, "private_key": pki.apex_old.key_pem, **zone}),
        task(dict(material(pki.expired), **zone)),
        task(dict(material(pki.shop), type="custom", **zone)),
        task(dict(material(pki.shop), geo_restrictions="us", policy="(country: US)", **zone)),
        task({"certificates": [{"id": "abc/def", "priority": 1}], **zone}, module=PRIO),
    ]
    local_results = dict(zip(LOCAL_FAILURES, run_play(ansible, local)))
    local_journal = emulator.journal()

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
    read_results = dict(zip(READ_FAILURES, run_play(ansible, reads)))
    return SimpleNamespace(
        ids={"apex_id": apex_id, "twin_id": twin_id},
        local=local_results,
        local_journal=local_journal,
        read=read_results,
        read_writes=writes(emulator),
        priorities=priorities(emulator),
    )


class TestBadInputsFailBeforeAnyWrite:
    """Two plays: inputs that are wrong by themselves, on an empty zone; then inputs that are wrong for what the zone holds."""

    @pytest.mark.parametrize("case", list(LOCAL_FAILURES))
    def test_an_input_wrong_by_itself_fails_with_a_message_naming_the_fault(self, bad_inputs, case):
        result = bad_inputs.local[case]
        assert result["failed"], result
        for words in LOCAL_FAILURES[case]:
            assert words in result["msg"]

    @pytest.mark.parametrize("case", ["garbage", "mismatch", "expired", "bad_type", "bad_id"])
    def test_an_input_wrong_by_itself_fails_without_a_traceback(self, bad_inputs, case):
        result = bad_inputs.local[case]
        assert result.get("exception") in (None, "(traceback unavailable)"), result
        assert not result["msg"].startswith("Unexpected error")

    def test_inputs_wrong_by_themselves_are_found_without_a_single_call(self, bad_inputs):
        assert bad_inputs.local_journal == []

    @pytest.mark.parametrize("case", list(READ_FAILURES))
    def test_an_input_wrong_for_the_zone_fails_with_a_message_naming_the_fault(self, bad_inputs, case):
        result = bad_inputs.read[case]
        assert result["failed"], result
        for words in READ_FAILURES[case]:
            assert words.format(**bad_inputs.ids) in result["msg"]

    def test_inputs_wrong_for_the_zone_send_no_write(self, bad_inputs):
        assert bad_inputs.read_writes == []

    def test_inputs_wrong_for_the_zone_leave_the_priorities_as_they_were(self, bad_inputs):
        assert bad_inputs.priorities == {bad_inputs.ids["apex_id"]: 20, bad_inputs.ids["twin_id"]: 20}


@pytest.fixture(scope="module")
def at_vvvv(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    key_file = tmp_path_factory.mktemp("vvvv") / "static.key"
    key_file.write_text(
        pki.static_new.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSPHRASE.encode())
        ).decode()
    )
    old_id = seed(emulator, pki.static_old, cert_type="sni_custom", priority=3)
    zone = {"zone_id": emulator.zone_id}
    upload = dict(material(pki.shop), **zone)
    renew = {"certificate": pki.static_new.chain_pem, "private_key_path": str(key_file), "private_key_passphrase": PASSPHRASE, **zone}
    delete = dict(upload, state="absent")
    play = ansible.run_tasks([task(upload, diff=True), task(renew, diff=True), task(delete, diff=True)], verbosity=4)
    return SimpleNamespace(old_id=old_id, play=play)


class TestTheKeyAppearsNowhereAtVvvv:
    """One play at -vvvv, with diff: an upload, a renewal from an encrypted key file, a delete."""

    def test_the_upload_the_renewal_and_the_delete_each_change_something(self, at_vvvv):
        assert [r["result"]["changed"] for r in at_vvvv.play.results] == [True, True, True], at_vvvv.play.output

    def test_the_renewal_replaces_the_sni_custom_certificate(self, at_vvvv):
        assert at_vvvv.play.results[1]["result"]["custom_cert"]["previous_id"] == at_vvvv.old_id

    @pytest.mark.parametrize("leaf", ["shop", "static_new"])
    def test_no_line_of_the_key_is_printed(self, at_vvvv, pki, leaf):
        for line in getattr(pki, leaf).key_pem.splitlines()[1:-1]:
            assert line not in at_vvvv.play.output

    def test_no_key_marker_is_printed(self, at_vvvv):
        assert "PRIVATE KEY-----" not in at_vvvv.play.output

    def test_the_passphrase_is_not_printed(self, at_vvvv):
        assert PASSPHRASE not in at_vvvv.play.output

    def test_no_key_is_in_the_results(self, at_vvvv):
        assert "PRIVATE KEY" not in str(at_vvvv.play.results)


@pytest.fixture(scope="module")
def info(scenario_emulator, pki):
    emulator, ansible = scenario_emulator(delay=3600)  # the pending certificate stays pending
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
    ids = SimpleNamespace(static=static_id, apex=apex_id, wild=wild_id, pending=pending_id)
    return SimpleNamespace(ids=ids, everything=everything, expiring=expiring, www=www, pending=pending, counts=emulator.counts())


class TestInfoListsInOrderOfUseWithFilters:
    """Four certificates, one pending (the emulator's delay keeps it so); one play of custom_cert_info: everything, then
    filtered by expiry, by hosts, by status."""

    def test_it_changes_nothing(self, info):
        assert not info.everything["changed"], info.everything

    def test_it_lists_every_certificate_in_the_order_of_use(self, info):
        ids = info.ids
        assert [c["id"] for c in info.everything["custom_certs"]] == [ids.wild, ids.apex, ids.pending, ids.static]

    def test_a_listed_certificate_has_what_the_api_gives(self, info):
        apex = info.everything["custom_certs"][1]
        assert set(apex) == VIEW_KEYS
        assert parts(apex, "hosts", "policy", "priority", "type") == {"hosts": APEX, "policy": "(region: EU)", "priority": 2, "type": None}
        assert apex["days_remaining"] in (19, 20)

    def test_a_listed_certificate_has_no_serial_or_fingerprint_which_the_api_does_not_give(self, info):
        apex = info.everything["custom_certs"][1]
        assert parts(apex, "serial_number", "fingerprint_sha256") == {"serial_number": None, "fingerprint_sha256": None}

    def test_expiring_within_days_lists_those_that_expire_sooner(self, info):
        assert [c["id"] for c in info.expiring["custom_certs"]] == [info.ids.static]

    def test_hosts_lists_the_certificates_that_cover_any_of_them(self, info):
        # the wildcard covers www, the apex certificate names it
        assert [c["id"] for c in info.www["custom_certs"]] == [info.ids.wild, info.ids.apex]

    def test_status_lists_the_certificates_in_that_status(self, info):
        assert [c["id"] for c in info.pending["custom_certs"]] == [info.ids.pending]

    def test_each_run_is_one_read_and_no_write(self, info):
        assert info.counts == {"reads": 4, "writes": 0}
