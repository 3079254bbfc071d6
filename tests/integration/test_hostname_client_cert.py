"""hostname_client_cert and hostname_client_cert_info against the emulator.

Every scenario asserts on the module result and on the emulator: its state, and the request
journal (the exact writes sent, and how many calls an unchanged run makes).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any, Dict, List, Sequence, Tuple

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf

MOD = "certops.cloudflare.hostname_client_cert"
INFO = "certops.cloudflare.hostname_client_cert_info"
H1, H2, H3 = "app.example.com", "api.example.com", "static.example.com"
VIEW_KEYS = {
    "id",
    "status",
    "serial_number",
    "fingerprint_sha256",
    "not_before",
    "hosts",
    "issuer",
    "signature",
    "uploaded_on",
    "expires_on",
    "days_remaining",
    "hostnames",
}


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Client CA", org="Certops Client CA")
    return SimpleNamespace(
        ca=ca,
        a=make_leaf(ca, ["origin-pull-a.example.com"]),
        b=make_leaf(ca, ["origin-pull-b.example.com"]),
        c=make_leaf(ca, ["origin-pull-c.example.com"], days=10),
        expired=make_leaf(ca, ["origin-pull.example.com"], days=-1, not_before_days=-90),
    )


def material(leaf: Any) -> Dict[str, str]:
    return {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}


def task(args: Dict[str, Any], module: str = MOD, **keywords: Any) -> Dict[str, Any]:
    return dict({"name": "%s %s" % (module, sorted(args)), module: args, "register": "result", "ignore_errors": True}, **keywords)


def writes(emulator: Any) -> List[Tuple[str, str, Any]]:
    """(method, path below the zone, request body) of every write in the journal."""
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, ""), e["request_body"]) for e in emulator.journal() if e["method"] != "GET"]


def certs_in_state(emulator: Any) -> List[Dict[str, Any]]:
    return emulator.dump_state()["zones"][0]["hostname_client_certs"]


def associations_in_state(emulator: Any) -> Dict[str, Tuple[str, bool]]:
    return {a["hostname"]: (a["cert_id"], a["enabled"]) for a in emulator.dump_state()["zones"][0]["hostname_associations"]}


def seed_cert(emulator: Any, leaf: Any, hostnames: Sequence[str] = (), status: str = "active") -> str:
    cert = emulator.state.add_client_cert(emulator.zone_id, certificate=leaf.chain_pem, status=status)
    for name in hostnames:
        emulator.state.add_association(emulator.zone_id, name, cert.id)
    return cert.id


def run_play(ansible: Any, tasks: List[Dict[str, Any]], **kwargs: Any) -> List[Dict[str, Any]]:
    play = ansible.run_tasks(tasks, **kwargs)
    assert len(play.results) == len(tasks), play.output
    return [r["result"] for r in play.results]


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


@pytest.fixture(scope="module")
def upload(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    args = dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1, H2, H3], wait=True)
    check, real = run_play(ansible, [task(args, check_mode=True, diff=True), task(args, diff=True)])
    upload_writes, certs = writes(emulator), certs_in_state(emulator)
    emulator.reset_journal()
    again, again_check = run_play(ansible, [task(args, diff=True), task(args, check_mode=True)])
    return SimpleNamespace(check=check, real=real, writes=upload_writes, certs=certs, again=again, again_check=again_check, again_counts=emulator.counts())


class TestAnUploadForThreeHostnamesWithCheckModeReRunsAndWait:
    """One play: check mode with diff, the upload with diff and wait; then another: a re-run with diff, a re-run in check mode."""

    def test_check_mode_reports_a_change(self, upload):
        assert upload.check["changed"], upload.check
        assert not upload.check.get("failed"), upload.check

    def test_check_mode_predicts_the_certificate_without_an_id(self, upload, pki):
        predicted = upload.check["hostname_client_cert"]
        assert parts(predicted, "id", "fingerprint_sha256") == {"id": None, "fingerprint_sha256": pki.a.fingerprint_sha256}

    def test_check_mode_predicts_the_three_hostnames_in_order(self, upload):
        assert [h["hostname"] for h in upload.check["hostname_client_cert"]["hostnames"]] == sorted([H1, H2, H3])

    def test_the_check_mode_diff_before_shows_the_hostnames_joining_from_nothing(self, upload):
        assert upload.check["diff"]["before"] == {"hostname_associations": {H1: None, H2: None, H3: None}}

    def test_the_check_mode_diff_after_shows_the_certificate_to_upload(self, upload, pki):
        assert upload.check["diff"]["after"]["serial_number"] == pki.a.serial_number

    def test_the_check_mode_diff_after_shows_the_hostnames_on_the_certificate_to_upload(self, upload):
        assert upload.check["diff"]["after"]["hostname_associations"] == {h: "(to be uploaded)" for h in (H1, H2, H3)}

    def test_the_upload_reports_a_change(self, upload):
        assert upload.real["changed"], upload.real
        assert not upload.real.get("failed"), upload.real

    def test_the_upload_reports_every_field_of_the_certificate(self, upload):
        assert set(upload.real["hostname_client_cert"]) == VIEW_KEYS

    def test_the_upload_waits_until_the_certificate_is_active(self, upload):
        assert upload.real["hostname_client_cert"]["status"] == "active"  # wait=true

    def test_the_upload_reports_the_certificate_uploaded(self, upload, pki):
        assert parts(upload.real["hostname_client_cert"], "fingerprint_sha256", "serial_number", "issuer") == {
            "fingerprint_sha256": pki.a.fingerprint_sha256,
            "serial_number": pki.a.serial_number,
            "issuer": "Certops Client CA",
        }

    def test_the_upload_reports_the_days_remaining(self, upload):
        assert upload.real["hostname_client_cert"]["days_remaining"] in (88, 89)

    def test_the_upload_reports_the_three_hostnames_enabled(self, upload):
        assert [(h["hostname"], h["enabled"]) for h in upload.real["hostname_client_cert"]["hostnames"]] == [(H2, True), (H1, True), (H3, True)]

    @pytest.mark.parametrize("side", ["before", "after"])
    def test_the_diff_shows_no_pem(self, upload, side):
        assert "BEGIN" not in str(upload.real["diff"][side])

    def test_one_upload_then_one_put_are_sent_and_check_mode_sends_nothing(self, upload):
        assert [w[:2] for w in upload.writes] == [("POST", "origin_tls_client_auth/hostnames/certificates"), ("PUT", "origin_tls_client_auth/hostnames")]

    def test_the_journal_shows_the_private_key_redacted(self, upload):
        post, _put = upload.writes
        assert post[2]["private_key"] == "<redacted>"

    def test_the_put_names_the_three_hostnames_on_the_new_certificate(self, upload):
        _post, put = upload.writes
        cert_id = upload.real["hostname_client_cert"]["id"]
        assert sorted(put[2]["config"], key=lambda e: e["hostname"]) == [{"hostname": h, "cert_id": cert_id, "enabled": True} for h in sorted([H1, H2, H3])]

    def test_the_emulator_holds_the_uploaded_certificate(self, upload):
        assert [c["id"] for c in upload.certs] == [upload.real["hostname_client_cert"]["id"]]

    @pytest.mark.parametrize("phase", ["again", "again_check"], ids=["re_run", "re_run_in_check_mode"])
    def test_a_re_run_changes_nothing(self, upload, phase):
        result = getattr(upload, phase)
        assert not result["changed"], result

    def test_a_re_run_reports_the_same_certificate(self, upload):
        again = upload.again["hostname_client_cert"]
        assert again == dict(upload.real["hostname_client_cert"], days_remaining=again["days_remaining"])

    def test_a_re_run_diff_shows_no_difference(self, upload):
        assert upload.again["diff"]["before"] == upload.again["diff"]["after"]

    def test_each_re_run_with_three_associated_hostnames_makes_two_reads_and_no_write(self, upload):
        assert upload.again_counts == {"reads": 4, "writes": 0}


def test_unchanged_run_makes_two_calls(ansible, emulator, pki):
    cert_id = seed_cert(emulator, pki.a, [H1, H2, H3])
    emulator.reset_journal()
    result = ansible.run_module(MOD, dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H3, H1, H2])).result
    assert not result["changed"], result
    assert result["hostname_client_cert"]["id"] == cert_id, result
    calls = emulator.journal()
    assert len(calls) <= 2
    assert [e["method"] for e in calls] == ["GET"] * len(calls)
    assert any(e["query"].get("status") == "all" and e["query"].get("per_page") == "1000" for e in calls)


@pytest.fixture(scope="module")
def still_deploying(scenario_emulator, pki):
    emulator, ansible = scenario_emulator(delay=3600)  # statuses stand still until the scenario speeds time up
    seed_cert(emulator, pki.a, [H1], status="initializing")
    args = dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1], wait=True, wait_timeout=60)
    check = ansible.run_module(MOD, args, check=True).result

    def activate_once_polled() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not [e for e in emulator.journal() if e["path"].endswith("/hostnames/certificates")]:
            time.sleep(0.05)
        time.sleep(0.5)
        emulator.delay = 0.001  # every status step is now long over: the certificate is active

    emulator.reset_journal()
    helper = threading.Thread(target=activate_once_polled, daemon=True)
    helper.start()
    real = ansible.run_module(MOD, args).result
    helper.join()
    reads = [e for e in emulator.journal() if e["path"].endswith("/hostnames/certificates")]
    return SimpleNamespace(check=check, real=real, certificate_reads=len(reads), writes=writes(emulator))


class TestAnUnchangedRunWaitsForACertificateStillDeploying:
    """The certificate is there, initializing; a run with wait in check mode, then one for real (time sped up once it polls)."""

    def test_check_mode_changes_nothing(self, still_deploying):
        assert not still_deploying.check["changed"], still_deploying.check

    def test_check_mode_never_waits(self, still_deploying):
        assert still_deploying.check["hostname_client_cert"]["status"] == "initializing", still_deploying.check

    def test_the_run_changes_nothing(self, still_deploying):
        assert not still_deploying.real["changed"], still_deploying.real

    def test_the_run_returns_once_the_certificate_is_active(self, still_deploying):
        assert still_deploying.real["hostname_client_cert"]["status"] == "active", still_deploying.real

    def test_the_run_reads_the_certificates_again_while_waiting(self, still_deploying):
        assert still_deploying.certificate_reads >= 2

    def test_the_run_sends_no_write(self, still_deploying):
        assert still_deploying.writes == []


@pytest.fixture(scope="module")
def move(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    old_id = seed_cert(emulator, pki.a, [H1, H2, H3])
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    moved = ansible.run_module(MOD, dict(material(pki.b), hostnames=[H1, H2], **zone), diff=True).result
    new_id = moved["hostname_client_cert"]["id"]
    move_writes, moved_associations = writes(emulator), associations_in_state(emulator)
    # Disable one (by id), then keep only H1 on the new certificate (purge removes H2 with enabled: null).
    emulator.reset_journal()
    disable = task({"certificate_id": new_id, "hostnames": [H1], "enabled": False, **zone})
    purge = task({"certificate_id": new_id, "hostnames": [H1], "enabled": False, "purge_hostnames": True, **zone}, diff=True)
    disabled, purged, purged_again = run_play(ansible, [disable, purge, purge])
    return SimpleNamespace(
        old_id=old_id,
        new_id=new_id,
        moved=moved,
        move_writes=move_writes,
        moved_associations=moved_associations,
        disabled=disabled,
        purged=purged,
        purged_again=purged_again,
        purge_writes=writes(emulator),
        purged_associations=associations_in_state(emulator),
    )


class TestMoveTwoHostnamesThenDisableOneAndPurge:
    """A certificate for three hostnames; another certificate for two of them; then one play: disable one by the new
    certificate's id, keep only that one with purge_hostnames, the same again."""

    def test_the_move_reports_a_change(self, move):
        assert move.moved["changed"], move.moved
        assert not move.moved.get("failed"), move.moved

    def test_the_move_reports_the_two_hostnames_on_the_new_certificate(self, move):
        assert [h["hostname"] for h in move.moved["hostname_client_cert"]["hostnames"]] == [H2, H1]

    def test_the_move_is_one_upload_then_one_put(self, move):
        assert [w[0] for w in move.move_writes] == ["POST", "PUT"]

    def test_the_put_moves_the_two_hostnames_to_the_new_certificate(self, move):
        _post, put = move.move_writes
        assert sorted(put[2]["config"], key=lambda e: e["hostname"]) == [
            {"hostname": H2, "cert_id": move.new_id, "enabled": True},
            {"hostname": H1, "cert_id": move.new_id, "enabled": True},
        ]

    def test_the_emulator_holds_the_two_on_the_new_certificate_and_the_third_on_the_old(self, move):
        assert move.moved_associations == {H1: (move.new_id, True), H2: (move.new_id, True), H3: (move.old_id, True)}

    def test_disabling_reports_a_change(self, move):
        assert move.disabled["changed"], move.disabled

    def test_disabling_keeps_both_hostnames_on_the_certificate(self, move):
        assert [h["hostname"] for h in move.disabled["hostname_client_cert"]["hostnames"]] == [H2, H1]

    def test_purging_reports_a_change(self, move):
        assert move.purged["changed"], move.purged

    def test_purging_again_changes_nothing(self, move):
        assert not move.purged_again["changed"], move.purged_again

    def test_purging_leaves_the_one_hostname_disabled(self, move):
        assert move.purged["hostname_client_cert"]["hostnames"] == [
            {"hostname": H1, "enabled": False, "status": move.purged_again["hostname_client_cert"]["hostnames"][0]["status"]}
        ]

    def test_one_put_disables_and_one_removes_the_other_with_enabled_null(self, move):
        assert move.purge_writes == [
            ("PUT", "origin_tls_client_auth/hostnames", {"config": [{"hostname": H1, "enabled": False, "cert_id": move.new_id}]}),
            ("PUT", "origin_tls_client_auth/hostnames", {"config": [{"hostname": H2, "enabled": None, "cert_id": move.new_id}]}),
        ]

    def test_the_emulator_holds_the_one_hostname_disabled_and_the_third_on_the_old_certificate(self, move):
        assert move.purged_associations == {H1: (move.new_id, False), H3: (move.old_id, True)}


@pytest.fixture(scope="module")
def absent(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    old_id = seed_cert(emulator, pki.a, [H3, H2])
    keep_id = seed_cert(emulator, pki.b, [H1])
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    args = {"certificate": pki.a.cert_pem, "state": "absent", **zone}
    refused, check, detached, again = run_play(
        ansible,
        [task(args), task(dict(args, detach=True), check_mode=True), task(dict(args, detach=True), diff=True), task(dict(args, detach=True))],
    )
    state = SimpleNamespace(writes=writes(emulator), associations=associations_in_state(emulator), certs=certs_in_state(emulator))
    # A certificate id that is already gone: nothing to do.
    gone = ansible.run_module(MOD, {"certificate_id": "0" * 32, "state": "absent", **zone}).result
    return SimpleNamespace(old_id=old_id, keep_id=keep_id, refused=refused, check=check, detached=detached, again=again, state=state, gone=gone)


class TestAbsentIsRefusedWhileAssociatedThenDetached:
    """A certificate for two hostnames beside another; one play: absent, absent with detach in check mode, with detach and
    diff, the same again; then absent for a certificate id that is already gone."""

    def test_absent_without_detach_fails(self, absent):
        assert absent.refused["failed"], absent.refused

    def test_the_refusal_names_the_associated_hostnames(self, absent):
        assert H2 in absent.refused["msg"]
        assert H3 in absent.refused["msg"]

    def test_the_refusal_points_to_detach(self, absent):
        assert "detach" in absent.refused["msg"]

    def test_check_mode_predicts_the_certificate_gone(self, absent):
        assert absent.check["changed"], absent.check
        assert absent.check["hostname_client_cert"] is None

    def test_detaching_reports_a_change(self, absent):
        assert absent.detached["changed"], absent.detached
        assert not absent.detached.get("failed"), absent.detached

    def test_detaching_reports_the_certificate_gone(self, absent):
        assert absent.detached["hostname_client_cert"] is None

    def test_the_diff_shows_the_certificate_before(self, absent):
        assert absent.detached["diff"]["before"]["id"] == absent.old_id

    def test_a_re_run_changes_nothing(self, absent):
        assert not absent.again["changed"], absent.again
        assert not absent.again.get("failed"), absent.again

    def test_one_put_removes_the_hostnames_then_one_delete_removes_the_certificate(self, absent):
        assert absent.state.writes == [
            (
                "PUT",
                "origin_tls_client_auth/hostnames",
                {"config": [{"hostname": H2, "enabled": None, "cert_id": absent.old_id}, {"hostname": H3, "enabled": None, "cert_id": absent.old_id}]},
            ),
            ("DELETE", "origin_tls_client_auth/hostnames/certificates/" + absent.old_id, None),
        ]

    def test_the_emulator_keeps_the_other_certificate_s_hostname(self, absent):
        assert absent.state.associations == {H1: (absent.keep_id, True)}

    def test_the_emulator_holds_the_certificate_no_more(self, absent):
        assert {c["id"]: c["status"] for c in absent.state.certs}.get(absent.old_id) in (None, "pending_deletion", "deleted")

    def test_absent_for_an_id_already_gone_changes_nothing(self, absent):
        assert not absent.gone["changed"], absent.gone
        assert not absent.gone.get("failed"), absent.gone


@pytest.fixture(scope="module")
def eleventh(scenario_emulator, pki):
    emulator, ansible = scenario_emulator(delay=60)  # the certificate pending deletion stays so for the whole scenario
    ids = [emulator.state.add_client_cert(emulator.zone_id, mint={"hosts": ["seed%d.example.com" % i]}).id for i in range(9)]
    ids.append(emulator.state.add_client_cert(emulator.zone_id, mint={"hosts": ["leaving.example.com"]}, status="pending_deletion").id)
    emulator.reset_journal()
    args = dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1])
    refused, refused_check = run_play(ansible, [task(args), task(args, check_mode=True)])
    return SimpleNamespace(ids=ids, refused=refused, refused_check=refused_check, writes=writes(emulator), certs=certs_in_state(emulator))


class TestAnEleventhCertificateIsRefusedBeforeAnyPost:
    """Nine certificates and one pending deletion; one play: an upload, the same in check mode."""

    @pytest.mark.parametrize("phase", ["refused", "refused_check"], ids=["upload", "upload_in_check_mode"])
    def test_it_fails_naming_the_limit_of_ten(self, eleventh, phase):
        result = getattr(eleventh, phase)
        assert result["failed"], result
        assert "10 client certificates" in result["msg"], result

    @pytest.mark.parametrize("phase", ["refused", "refused_check"], ids=["upload", "upload_in_check_mode"])
    def test_the_message_names_the_certificate_pending_deletion(self, eleventh, phase):
        assert "pending deletion" in getattr(eleventh, phase)["msg"]

    @pytest.mark.parametrize("phase", ["refused", "refused_check"], ids=["upload", "upload_in_check_mode"])
    def test_the_message_names_every_certificate(self, eleventh, phase):
        msg = getattr(eleventh, phase)["msg"]
        for cert_id in eleventh.ids:
            assert cert_id in msg

    @pytest.mark.parametrize("phase", ["refused", "refused_check"], ids=["upload", "upload_in_check_mode"])
    def test_the_message_gives_their_expiry(self, eleventh, phase):
        assert "expires 20" in getattr(eleventh, phase)["msg"]

    def test_no_write_is_sent(self, eleventh):
        assert eleventh.writes == []

    def test_the_emulator_still_holds_ten_certificates(self, eleventh):
        assert len(eleventh.certs) == 10


def many(first: int, count: int) -> List[str]:
    return ["h%03d.example.com" % i for i in range(first, first + count)]


@pytest.fixture(scope="module")
def over_the_limit(scenario_emulator, pki):
    emulator, ansible = scenario_emulator(delay=60)
    full = seed_cert(emulator, pki.b, many(0, 100))  # the most one certificate takes
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    new_101 = dict(material(pki.a), hostnames=many(200, 101), **zone)
    one_more = dict(certificate_id=full, hostnames=["h100.example.com"], **zone)
    refused = run_play(ansible, [task(new_101), task(new_101, check_mode=True)])
    local_journal = emulator.journal()
    refused += run_play(ansible, [task(one_more), task(one_more, check_mode=True)])
    refused_journal = emulator.journal()
    # At the limit: 100 listed with purge (one in, one out), a certificate uploaded with 100, a re-run adding none.
    purge = dict(certificate_id=full, hostnames=many(1, 100), purge_hostnames=True, **zone)
    new_100 = dict(material(pki.a), hostnames=many(200, 100), **zone)
    accepted = run_play(ansible, [task(purge), task(new_100), task(dict(certificate_id=full, hostnames=["h050.example.com"], **zone))])
    return SimpleNamespace(
        full=full,
        refused=dict(zip(["new_101", "new_101_check", "one_more", "one_more_check"], refused)),
        local_journal=local_journal,
        refused_journal=refused_journal,
        accepted=dict(zip(["purge", "new_100", "none_added"], accepted)),
        associations=associations_in_state(emulator),
    )


class TestMoreThan100HostnamesOnOneCertificateFailBeforeAnyWrite:
    """A certificate with 100 hostnames; two plays: 101 hostnames for a new certificate, then one more for the full one
    (each also in check mode). Then one play at the limit: 100 with purge_hostnames, 100 for a new certificate, none added."""

    @pytest.mark.parametrize("case", ["new_101", "new_101_check", "one_more", "one_more_check"])
    def test_it_fails_naming_the_limit_of_100(self, over_the_limit, case):
        result = over_the_limit.refused[case]
        assert result["failed"], result
        assert not result.get("changed"), result
        assert "at most 100 associations on one certificate" in result["msg"] and "101 hostnames" in result["msg"], result

    @pytest.mark.parametrize("case", ["one_more", "one_more_check"])
    def test_the_message_counts_what_the_certificate_has_and_what_would_be_added(self, over_the_limit, case):
        msg = over_the_limit.refused[case]["msg"]
        assert over_the_limit.full in msg and "the 100 it has now and 1 more" in msg and "0 more fit" in msg, msg

    def test_more_than_100_listed_is_found_without_a_single_call(self, over_the_limit):
        assert over_the_limit.local_journal == []

    def test_no_write_is_sent(self, over_the_limit):
        assert [e for e in over_the_limit.refused_journal if e["method"] in ("POST", "PUT", "PATCH", "DELETE")] == []

    @pytest.mark.parametrize("case", ["purge", "new_100", "none_added"])
    def test_up_to_100_are_accepted(self, over_the_limit, case):
        result = over_the_limit.accepted[case]
        assert not result.get("failed"), result

    def test_the_certificates_hold_100_hostnames_each(self, over_the_limit):
        counts: Dict[str, int] = {}
        for cert_id, _enabled in over_the_limit.associations.values():
            counts[cert_id] = counts.get(cert_id, 0) + 1
        assert sorted(counts.values()) == [100, 100] and counts[over_the_limit.full] == 100
        assert over_the_limit.associations["h100.example.com"][0] == over_the_limit.full and "h000.example.com" not in over_the_limit.associations


def test_upload_reset_after_processing_leaves_one_certificate(ansible, emulator, pki):
    emulator.add_fault("reset_after", method="POST", path="origin_tls_client_auth/hostnames/certificates$")
    result = ansible.run_module(MOD, dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1])).result
    assert result["changed"], result
    assert not result.get("failed"), result
    (stored,) = certs_in_state(emulator)
    assert result["hostname_client_cert"]["id"] == stored["id"]
    assert [w[0] for w in writes(emulator)] == ["POST", "PUT"]
    assert [e["fault"] for e in emulator.journal() if e["method"] == "POST"] == ["reset_after"]
    assert associations_in_state(emulator) == {H1: (stored["id"], True)}


@pytest.mark.parametrize("fault", ["502", "reset_before"])
def test_an_upload_a_read_proves_was_not_applied_is_sent_once_more(ansible, emulator, pki, fault):
    emulator.add_fault(fault, method="POST", path="origin_tls_client_auth/hostnames/certificates$")
    result = ansible.run_module(MOD, dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1])).result
    assert not result.get("failed"), result
    assert result["changed"] and result["resent"] is True
    (stored,) = certs_in_state(emulator)
    assert result["hostname_client_cert"]["id"] == stored["id"]
    assert [w[0] for w in writes(emulator)] == ["POST", "POST", "PUT"]
    assert associations_in_state(emulator) == {H1: (stored["id"], True)}


def test_an_upload_lost_twice_fails_after_one_more_try(ansible, emulator, pki):
    emulator.add_fault("502", method="POST", path="origin_tls_client_auth/hostnames/certificates$", count=2)
    result = ansible.run_module(MOD, dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1])).result
    assert result["failed"], result
    assert "after one more try" in result["msg"] and "running the task again is safe" in result["msg"], result
    assert [w[0] for w in writes(emulator)] == ["POST", "POST"]
    assert certs_in_state(emulator) == []


# The bad inputs found locally, and the words their messages must have.
LOCAL_FAILURES = {
    "garbage": ["certificate: no PEM certificate found"],
    "mismatch": ["private key does not belong to this certificate"],
    "expired": ["expired on"],
    "too_long": ["at most 253", "hostnames"],
}
# The bad inputs found on reading the zone.
READ_FAILURES = {
    "unknown_id": ["certificate_id " + "f" * 32, "no such client certificate"],
    "unknown_zone_id": ["Invalid zone identifier"],
    "unknown_zone": ["no-such-zone.example"],
    "no_key": ["is not in zone", "private_key or private_key_path"],
}


@pytest.fixture(scope="module")
def bad_inputs(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    zone = {"zone_id": emulator.zone_id}
    long_name = ".".join(c * 60 for c in "abcd") + ".x.example.com."  # 257 characters without the final dot
    assert len(long_name.rstrip(".")) == 257
    local = [
        task({"certificate": "not a certificate", "private_key": pki.a.key_pem, **zone}),
        task({"certificate": pki.a.cert_pem, "private_key": pki.b.key_pem, **zone}),
        task(dict(material(pki.expired), **zone)),
        task(dict(material(pki.a), hostnames=[H1, long_name], **zone)),
    ]
    local_results = dict(zip(LOCAL_FAILURES, run_play(ansible, local)))
    local_journal = emulator.journal()

    seed_cert(emulator, pki.b, [H2])
    reads = [
        task({"certificate_id": "f" * 32, "hostnames": [H1], **zone}),
        task(dict(material(pki.a), zone_id="e" * 32)),
        task(dict(material(pki.a), zone="no-such-zone.example")),
        task({"certificate": pki.a.cert_pem, **zone}),  # the key is asked for only when the certificate must be uploaded
    ]
    read_results = dict(zip(READ_FAILURES, run_play(ansible, reads)))
    return SimpleNamespace(local=local_results, local_journal=local_journal, read=read_results, writes=writes(emulator))


class TestBadInputsFailBeforeAnyWrite:
    """Two plays: inputs that are wrong by themselves, on an empty zone; then inputs that are wrong for what the zone holds."""

    @pytest.mark.parametrize("case", list(LOCAL_FAILURES))
    def test_an_input_wrong_by_itself_fails_with_a_message_naming_the_fault(self, bad_inputs, case):
        result = bad_inputs.local[case]
        assert result["failed"], result
        for words in LOCAL_FAILURES[case]:
            assert words in result["msg"]

    # ansible-core 2.19 puts a placeholder where a hidden traceback would be; a real one would be text.
    @pytest.mark.parametrize("case", list(LOCAL_FAILURES))
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
            assert words in result["msg"]

    def test_no_write_is_sent(self, bad_inputs):
        assert bad_inputs.writes == []


@pytest.fixture(scope="module")
def from_paths(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    root = tmp_path_factory.mktemp("client-files")
    cert_file, key_file = root / "client.pem", root / "client.key"
    cert_file.write_text(pki.a.chain_pem)
    encrypted = pki.a.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret-pass")
    ).decode()
    key_file.write_text(encrypted)
    args = {"certificate_path": str(cert_file), "private_key_path": str(key_file), "private_key_passphrase": "s3cret-pass", "zone_id": emulator.zone_id}
    wrong = dict(args, private_key_passphrase="not-the-passphrase")
    bad, good = run_play(ansible, [task(wrong), task(args)])
    return SimpleNamespace(bad=bad, good=good, writes=writes(emulator))


class TestPathsAndAnEncryptedKey:
    """Files for the certificate and an encrypted key; one play: the wrong passphrase, then the right one."""

    def test_the_wrong_passphrase_fails_with_a_message_saying_so(self, from_paths):
        assert from_paths.bad["failed"], from_paths.bad
        assert "wrong passphrase or damaged key" in from_paths.bad["msg"]

    def test_the_right_passphrase_uploads_the_certificate(self, from_paths, pki):
        assert from_paths.good["changed"], from_paths.good
        assert from_paths.good["hostname_client_cert"]["fingerprint_sha256"] == pki.a.fingerprint_sha256, from_paths.good

    def test_one_upload_is_sent(self, from_paths):
        assert [w[0] for w in from_paths.writes] == ["POST"]


PASSPHRASE = "pass-PHRASE-9"


@pytest.fixture(scope="module")
def at_vvvv(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    args = dict(material(pki.a), zone_id=emulator.zone_id, hostnames=[H1], private_key_passphrase=PASSPHRASE)
    return ansible.run_tasks([task(args, diff=True), task(dict(args, state="absent", detach=True), diff=True)], verbosity=4)


class TestTheKeyAppearsNowhereAtVvvv:
    """One play at -vvvv, with diff: an upload, then absent with detach."""

    def test_the_upload_and_the_removal_each_change_something(self, at_vvvv):
        assert [r["result"]["changed"] for r in at_vvvv.results] == [True, True], at_vvvv.output

    def test_no_line_of_the_key_is_printed(self, at_vvvv, pki):
        for line in pki.a.key_pem.splitlines()[1:-1]:
            assert line not in at_vvvv.output

    def test_the_key_s_body_is_not_printed(self, at_vvvv, pki):
        assert "".join(pki.a.key_pem.splitlines()[1:-1]) not in at_vvvv.output

    def test_no_key_marker_is_printed(self, at_vvvv):
        assert "PRIVATE KEY-----" not in at_vvvv.output

    def test_the_passphrase_is_not_printed(self, at_vvvv):
        assert PASSPHRASE not in at_vvvv.output

    def test_no_key_is_in_the_results(self, at_vvvv):
        assert "PRIVATE KEY" not in str(at_vvvv.results)


@pytest.fixture(scope="module")
def info(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    a_id = seed_cert(emulator, pki.a, [H1, H2])
    c_id = seed_cert(emulator, pki.c, [H3])
    emulator.state.add_association(emulator.zone_id, "off.example.com", c_id, enabled=False)
    emulator.reset_journal()
    zone = {"zone_id": emulator.zone_id}
    everything, expiring = run_play(ansible, [task(zone, module=INFO), task(dict(zone, expiring_within_days=30), module=INFO)])
    return SimpleNamespace(a_id=a_id, c_id=c_id, everything=everything, expiring=expiring, counts=emulator.counts())


class TestInfoListsCertificatesWithTheirHostnamesAndFiltersByExpiry:
    """Two certificates, one expiring in 10 days with a disabled hostname; one play of hostname_client_cert_info: everything,
    then those expiring within 30 days."""

    def test_it_changes_nothing(self, info):
        assert not info.everything["changed"], info.everything

    def test_it_lists_every_certificate_soonest_expiry_first(self, info):
        assert [c["id"] for c in info.everything["hostname_client_certs"]] == [info.c_id, info.a_id]

    def test_a_listed_certificate_has_every_field(self, info):
        assert set(info.everything["hostname_client_certs"][0]) == VIEW_KEYS

    def test_a_listed_certificate_has_its_fingerprint_and_days_remaining(self, info, pki):
        first = info.everything["hostname_client_certs"][0]
        assert first["fingerprint_sha256"] == pki.c.fingerprint_sha256
        assert first["days_remaining"] in (9, 10)

    def test_a_listed_certificate_has_its_hostnames_enabled_or_not(self, info):
        assert [(h["hostname"], h["enabled"]) for h in info.everything["hostname_client_certs"][0]["hostnames"]] == [("off.example.com", False), (H3, True)]

    def test_the_other_certificate_has_its_hostnames(self, info):
        assert [h["hostname"] for h in info.everything["hostname_client_certs"][1]["hostnames"]] == [H2, H1]

    def test_expiring_within_days_lists_those_that_expire_sooner(self, info):
        assert [c["id"] for c in info.expiring["hostname_client_certs"]] == [info.c_id]

    def test_each_run_makes_two_reads_and_no_write(self, info):
        assert info.counts == {"reads": 4, "writes": 0}


@pytest.mark.emulator(delay=0.5)
def test_wait_moves_hostnames_only_once_the_new_certificate_is_active_and_waits_for_them(ansible, emulator, pki):
    old_id = seed_cert(emulator, pki.a, [H1, H2])
    result = ansible.run_module(MOD, dict(material(pki.b), zone_id=emulator.zone_id, hostnames=[H1, H2], wait=True, wait_timeout=60))
    assert result.changed, result.msg
    assert not result.failed, result.msg
    new_id = result.result["hostname_client_cert"]["id"]
    assert new_id != old_id
    assert result.result["hostname_client_cert"]["status"] == "active"
    journal = emulator.journal()
    post = next(i for i, e in enumerate(journal) if e["method"] == "POST")
    put = next(i for i, e in enumerate(journal) if e["method"] == "PUT")
    # Between the upload and the PUT the module read the certificates until the new one was active.
    reads = [e for e in journal[post + 1 : put] if e["path"].endswith("/hostnames/certificates")]
    assert reads, journal
    last = next(c for c in reads[-1]["response_body"]["result"] if c["id"] == new_id)
    assert last["status"] == "active"
    assert associations_in_state(emulator) == {H1: (new_id, True), H2: (new_id, True)}
    # ...and returned only once the moved associations were deployed too, so the old certificate can go.
    assert [(h["hostname"], h["status"]) for h in result.result["hostname_client_cert"]["hostnames"]] == sorted([(H1, "active"), (H2, "active")])
