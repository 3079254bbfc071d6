"""What a hostile review found, proven through ansible-playbook against the emulator (issue 8).

Redirects never followed, writes judged by their own answers, `changed` after a partial failure,
server text scrubbed, certificates not valid yet refused, ids and hostnames checked before any write.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from emulator.testcerts import make_ca, make_leaf

CHC = "certops.cloudflare.custom_hostname_cert"
HCC = "certops.cloudflare.hostname_client_cert"
HOST = "app.customer.com"
H1 = "app.example.com"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Hardening CA")
    return SimpleNamespace(
        old=make_leaf(ca, [HOST]),
        new=make_leaf(ca, [HOST]),
        future=make_leaf(ca, [HOST], not_before_days=7),
        client_old=make_leaf(ca, ["origin-pull-old.example.com"]),
        client_new=make_leaf(ca, ["origin-pull-new.example.com"]),
        client_future=make_leaf(ca, ["origin-pull-new.example.com"], not_before_days=3),
    )


def material(leaf: Any) -> Dict[str, str]:
    return {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}


def writes(emulator: Any) -> List[Dict[str, Any]]:
    return [e for e in emulator.journal() if e["method"] in WRITE_METHODS]


def key_lines(*leaves: Any) -> List[str]:
    """Lines of the private keys' bodies: none may show anywhere."""
    return [line for leaf in leaves for line in leaf.key_pem.splitlines() if line and not line.startswith("-----")]


def assert_no_key(text: str, *leaves: Any) -> None:
    assert "PRIVATE KEY" not in text
    for line in key_lines(*leaves):
        assert line not in text


def seed_hostname(emulator: Any, leaf: Any) -> Any:
    return emulator.state.add_custom_hostname(emulator.zone_id, HOST, ssl={"method": "http", "type": "dv"}, certificates=[{"certificate": leaf.chain_pem}])


def test_a_redirect_on_an_upload_is_not_followed_and_sends_nothing_elsewhere(ansible, emulator, emulator_factory, pki):
    seed_hostname(emulator, pki.old)
    elsewhere = emulator_factory()
    emulator.add_fault("redirect", method="PATCH", location=elsewhere.url + "/zones/%s/custom_hostnames" % emulator.zone_id, status=307)
    run = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]}, verbosity=4)
    assert run.failed
    assert not run.changed
    for words in ("HTTP 307", "127.0.0.1", "api_base_url", "never followed"):
        assert words in run.msg
    assert elsewhere.journal() == []  # neither the body (with its key) nor the token went there
    assert [e["fault"] for e in writes(emulator)] == ["redirect"]
    assert_no_key(run.output, pki.new)


def test_a_redirect_on_a_read_does_not_forward_the_global_api_key(ansible, emulator, emulator_factory, pki):
    elsewhere = emulator_factory()
    emulator.add_fault("redirect", method="GET", location=elsewhere.url + "/zones", status=302)
    env = {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_EMAIL": emulator.api_email, "CLOUDFLARE_API_KEY": emulator.api_key}
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone="example.com", hostnames=[H1]), env=env)
    assert run.failed
    assert "HTTP 302" in run.msg
    assert "never followed" in run.msg
    assert elsewhere.journal() == []
    assert writes(emulator) == []
    assert emulator.api_key not in run.output


def test_an_upload_answered_without_applying_it_fails_instead_of_reporting_success(ansible, emulator, pki):
    hostname = seed_hostname(emulator, pki.old)
    emulator.add_fault("unapplied", method="PATCH", answer="stale")
    run = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]})
    assert run.failed
    assert run.changed  # the API accepted a write: it may have happened
    assert "does not show the uploaded certificate" in run.msg
    assert "it came back as" in run.msg
    assert "Already changed before this failure: patch ssl uploading %s" % pki.new.fingerprint_sha256 in run.msg
    assert_no_key(run.output, pki.new)
    assert len(writes(emulator)) == 1
    assert not [e for e in emulator.journal() if e["method"] == "GET"][1:]  # no read-back
    # the emulator still holds the old certificate
    assert [c.info.fingerprint_sha256 for c in hostname.certs] == [pki.old.fingerprint_sha256]


@pytest.mark.parametrize("answer, expected", [("stale", "has no certificate id"), ("empty", "got null"), ("no_result", "without a result")])
def test_an_upload_without_an_id_never_leads_to_an_association_put(ansible, emulator, pki, answer, expected):
    emulator.add_fault("unapplied", method="POST", answer=answer)
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone_id=emulator.zone_id, hostnames=[H1]))
    assert run.failed, run.msg
    assert expected in run.msg, run.msg
    assert [e["method"] for e in writes(emulator)] == ["POST"]  # no PUT of associations
    assert_no_key(run.output, pki.client_new)


def test_a_failure_after_the_upload_reports_changed_and_names_what_was_done(ansible, emulator, pki):
    emulator.add_fault("echo", method="PUT")  # 400 echoing the request: not retried
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone_id=emulator.zone_id, hostnames=[H1]))
    assert run.failed
    assert run.changed
    assert "Already changed before this failure: upload certificate %s" % pki.client_new.fingerprint_sha256 in run.msg
    assert [e["method"] for e in writes(emulator)] == ["POST", "PUT"]
    assert len(emulator.dump_state()["zones"][0]["hostname_client_certs"]) == 1


def test_a_wait_that_times_out_after_the_patch_reports_changed(ansible, emulator, pki):
    seed_hostname(emulator, pki.old)
    emulator.delay = 30  # deployment takes far longer than wait_timeout
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)], "wait": True, "wait_timeout": 1}
    run = ansible.run_module(CHC, args)
    assert run.failed
    assert run.changed
    assert "timed out after 1s" in run.msg
    assert "Already changed before this failure: patch ssl uploading" in run.msg
    assert [e["method"] for e in writes(emulator)] == ["PATCH"]


@pytest.mark.parametrize("variant", ["list", "string", "escaped"])
def test_a_server_echoing_the_request_never_shows_the_key(ansible, emulator, pki, variant):
    seed_hostname(emulator, pki.old)
    emulator.add_fault("echo", method="PATCH", answer=variant)
    run = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]}, verbosity=4)
    assert run.failed
    assert "Invalid request" in run.msg
    assert "[PEM block removed]" in run.msg
    assert_no_key(run.output, pki.new)
    assert emulator.token not in run.output
    for entry in emulator.journal():
        assert_no_key(str(entry), pki.new)


@pytest.fixture(scope="module")
def not_valid_yet(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    seed_hostname(emulator, pki.old)
    emulator.reset_journal()
    chc = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.future)]})
    hcc = ansible.run_module(HCC, dict(material(pki.client_future), zone_id=emulator.zone_id, hostnames=[H1]))
    return SimpleNamespace(runs={"custom_hostname_cert": chc, "hostname_client_cert": hcc}, journal=emulator.journal())


class TestCertificatesNotValidYetAreRefusedBeforeAnyCall:
    """A hostname with a certificate; a custom hostname certificate valid from next week, then a client certificate valid in
    three days."""

    @pytest.mark.parametrize("module", ["custom_hostname_cert", "hostname_client_cert"])
    def test_it_fails_and_changes_nothing(self, not_valid_yet, module):
        run = not_valid_yet.runs[module]
        assert run.failed
        assert not run.changed

    @pytest.mark.parametrize("module", ["custom_hostname_cert", "hostname_client_cert"])
    def test_the_message_gives_the_date_it_is_valid_from(self, not_valid_yet, module):
        assert "not valid yet (valid from " in not_valid_yet.runs[module].msg

    def test_no_call_is_made(self, not_valid_yet):
        assert not_valid_yet.journal == []


@pytest.fixture(scope="module")
def moving(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    old = emulator.state.add_client_cert(emulator.zone_id, certificate=pki.client_old.chain_pem, status="active")
    emulator.state.add_association(emulator.zone_id, H1, old.id)
    emulator.reset_journal()
    no_key = ansible.run_module(HCC, {"zone_id": emulator.zone_id, "certificate": pki.client_new.chain_pem, "hostnames": [H1]}, check=True, diff=True)
    preview = ansible.run_module(HCC, dict(material(pki.client_new), zone_id=emulator.zone_id, hostnames=[H1]), check=True, diff=True)
    check_writes = writes(emulator)
    # with the certificate already uploaded, no key is needed to move a hostname to it
    new = emulator.state.add_client_cert(emulator.zone_id, certificate=pki.client_new.chain_pem, status="active")
    emulator.reset_journal()
    moved = ansible.run_module(HCC, {"zone_id": emulator.zone_id, "certificate": pki.client_new.chain_pem, "hostnames": [H1]}, diff=True)
    return SimpleNamespace(
        old_id=old.id,
        new_id=new.id,
        no_key=no_key,
        preview=preview,
        check_writes=check_writes,
        moved=moved,
        moved_writes=writes(emulator),
        moved_reads=len([e for e in emulator.journal() if e["method"] == "GET"]),
    )


class TestMovingAHostnameShowsItLeavingTheOldCertificateInTheDiff:
    """A hostname on a client certificate; in check mode with diff: another certificate without its key, then with it;
    then, that certificate uploaded meanwhile, the move without the key, with diff."""

    def test_check_mode_without_the_key_of_a_certificate_to_upload_fails_asking_for_it(self, moving):
        # no private key given: a check-mode preview of an upload still works; the real run would ask for it
        assert moving.no_key.failed
        assert "needs its private key" in moving.no_key.msg

    def test_check_mode_with_the_key_predicts_a_change(self, moving):
        assert moving.preview.changed
        assert not moving.preview.failed

    def test_the_check_mode_diff_before_shows_the_hostname_on_the_old_certificate(self, moving):
        assert moving.preview.result["diff"]["before"]["hostname_associations"] == {H1: moving.old_id}

    def test_the_check_mode_diff_after_shows_the_hostname_on_the_certificate_to_upload(self, moving):
        assert moving.preview.result["diff"]["after"]["hostname_associations"] == {H1: "(to be uploaded)"}

    def test_check_mode_sends_no_write(self, moving):
        assert moving.check_writes == []

    def test_moving_to_a_certificate_already_uploaded_needs_no_key(self, moving):
        assert moving.moved.changed, moving.moved.msg
        assert not moving.moved.failed, moving.moved.msg

    def test_the_diff_before_shows_the_hostname_on_the_old_certificate(self, moving):
        assert moving.moved.result["diff"]["before"]["hostname_associations"] == {H1: moving.old_id}

    def test_the_diff_after_shows_the_hostname_on_the_new_certificate(self, moving):
        assert moving.moved.result["diff"]["after"]["hostname_associations"] == {H1: moving.new_id}

    def test_the_move_is_one_put(self, moving):
        assert [e["method"] for e in moving.moved_writes] == ["PUT"]

    def test_the_move_reads_the_two_lists_and_nothing_after_the_put(self, moving):
        assert moving.moved_reads == 2  # the PUT's answer is the new state


@pytest.fixture(scope="module", params=["../../zones", "abc/def", "abc?x=1", "abc#frag", ".."])
def bad_id(request, scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    chc = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "custom_hostname_id": request.param, "certificates": [material(pki.new)]})
    hcc = ansible.run_module(HCC, {"zone_id": request.param, "certificate_id": "a" * 32, "hostnames": [H1]})
    return SimpleNamespace(chc=chc, hcc=hcc, journal=emulator.journal())


class TestIdsThatCouldReachOtherRoutesAreRefusedBeforeAnyCall:
    """For each id: custom_hostname_cert given it as custom_hostname_id, then hostname_client_cert given it as zone_id."""

    def test_a_custom_hostname_id_is_refused_naming_the_option(self, bad_id):
        assert bad_id.chc.failed
        assert "custom_hostname_id" in bad_id.chc.msg

    def test_the_message_says_it_is_not_a_valid_id(self, bad_id):
        assert "not a valid Cloudflare id" in bad_id.chc.msg

    def test_a_zone_id_is_refused_naming_the_option(self, bad_id):
        assert bad_id.hcc.failed
        assert "zone_id" in bad_id.hcc.msg

    def test_no_call_is_made(self, bad_id):
        assert bad_id.journal == []


def test_module_defaults_zone_and_task_zone_id_combine(ansible, emulator, pki):
    seed_hostname(emulator, pki.old)
    play = ansible.run_tasks(
        [{"name": "rotate", CHC: {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]}, "register": "r"}],
        play_extra={"module_defaults": {"group/certops.cloudflare.all": {"zone": "not-this-zone.example"}}},
    )
    result = play.result()
    assert not result.get("failed"), play.output
    assert result["changed"], play.output
    assert not [e for e in emulator.journal() if e["path"].endswith("/zones")]  # zone_id won: no zone lookup
