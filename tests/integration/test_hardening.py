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
    assert run.failed and not run.changed
    assert "HTTP 307" in run.msg and "127.0.0.1" in run.msg and "api_base_url" in run.msg and "never followed" in run.msg
    assert elsewhere.journal() == []  # neither the body (with its key) nor the token went there
    assert [e["fault"] for e in writes(emulator)] == ["redirect"]
    assert_no_key(run.output, pki.new)


def test_a_redirect_on_a_read_does_not_forward_the_global_api_key(ansible, emulator, emulator_factory, pki):
    elsewhere = emulator_factory()
    emulator.add_fault("redirect", method="GET", location=elsewhere.url + "/zones", status=302)
    env = {"CLOUDFLARE_API_TOKEN": None, "CLOUDFLARE_EMAIL": emulator.api_email, "CLOUDFLARE_API_KEY": emulator.api_key}
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone="example.com", hostnames=[H1]), env=env)
    assert run.failed and "HTTP 302" in run.msg and "never followed" in run.msg
    assert elsewhere.journal() == [] and writes(emulator) == []
    assert emulator.api_key not in run.output


def test_an_upload_answered_without_applying_it_fails_instead_of_reporting_success(ansible, emulator, pki):
    hostname = seed_hostname(emulator, pki.old)
    emulator.add_fault("unapplied", method="PATCH", answer="stale")
    run = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]})
    assert run.failed and run.changed  # the API accepted a write: it may have happened
    assert "does not show the uploaded certificate" in run.msg and "it came back as" in run.msg
    assert "Already changed before this failure: patch ssl uploading %s" % pki.new.fingerprint_sha256 in run.msg
    assert_no_key(run.output, pki.new)
    assert len(writes(emulator)) == 1 and not [e for e in emulator.journal() if e["method"] == "GET"][1:]  # no read-back
    # the emulator still holds the old certificate
    assert [c.info.fingerprint_sha256 for c in hostname.certs] == [pki.old.fingerprint_sha256]


@pytest.mark.parametrize("answer, expected", [("stale", "has no certificate id"), ("empty", "got null"), ("no_result", "without a result")])
def test_an_upload_without_an_id_never_leads_to_an_association_put(ansible, emulator, pki, answer, expected):
    emulator.add_fault("unapplied", method="POST", answer=answer)
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone_id=emulator.zone_id, hostnames=[H1]))
    assert run.failed and expected in run.msg, run.msg
    assert [e["method"] for e in writes(emulator)] == ["POST"]  # no PUT of associations
    assert_no_key(run.output, pki.client_new)


def test_a_failure_after_the_upload_reports_changed_and_names_what_was_done(ansible, emulator, pki):
    emulator.add_fault("echo", method="PUT")  # 400 echoing the request: not retried
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone_id=emulator.zone_id, hostnames=[H1]))
    assert run.failed and run.changed
    assert "Already changed before this failure: upload certificate %s" % pki.client_new.fingerprint_sha256 in run.msg
    assert [e["method"] for e in writes(emulator)] == ["POST", "PUT"]
    assert len(emulator.dump_state()["zones"][0]["hostname_client_certs"]) == 1


def test_a_wait_that_times_out_after_the_patch_reports_changed(ansible, emulator, pki):
    seed_hostname(emulator, pki.old)
    emulator.delay = 30  # deployment takes far longer than wait_timeout
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)], "wait": True, "wait_timeout": 1}
    run = ansible.run_module(CHC, args)
    assert run.failed and run.changed
    assert "timed out after 1s" in run.msg and "Already changed before this failure: patch ssl uploading" in run.msg
    assert [e["method"] for e in writes(emulator)] == ["PATCH"]


@pytest.mark.parametrize("variant", ["list", "string", "escaped"])
def test_a_server_echoing_the_request_never_shows_the_key(ansible, emulator, pki, variant):
    seed_hostname(emulator, pki.old)
    emulator.add_fault("echo", method="PATCH", answer=variant)
    run = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]}, verbosity=4)
    assert run.failed and "Invalid request" in run.msg and "[PEM block removed]" in run.msg
    assert_no_key(run.output, pki.new)
    assert emulator.token not in run.output
    for entry in emulator.journal():
        assert_no_key(str(entry), pki.new)


def test_certificates_not_valid_yet_are_refused_before_any_call(ansible, emulator, pki):
    seed_hostname(emulator, pki.old)
    emulator.reset_journal()
    chc = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.future)]})
    hcc = ansible.run_module(HCC, dict(material(pki.client_future), zone_id=emulator.zone_id, hostnames=[H1]))
    for run in (chc, hcc):
        assert run.failed and not run.changed and "not valid yet (valid from " in run.msg
    assert emulator.journal() == []


def test_moving_a_hostname_shows_it_leaving_the_old_certificate_in_the_diff(ansible, emulator, pki):
    old = emulator.state.add_client_cert(emulator.zone_id, certificate=pki.client_old.chain_pem, status="active")
    emulator.state.add_association(emulator.zone_id, H1, old.id)
    emulator.reset_journal()
    run = ansible.run_module(HCC, {"zone_id": emulator.zone_id, "certificate": pki.client_new.chain_pem, "hostnames": [H1]}, check=True, diff=True)
    # no private key given: a check-mode preview of an upload still works; the real run would ask for it
    assert run.failed and "needs its private key" in run.msg
    run = ansible.run_module(HCC, dict(material(pki.client_new), zone_id=emulator.zone_id, hostnames=[H1]), check=True, diff=True)
    assert run.changed and not run.failed
    assert run.result["diff"]["before"]["hostname_associations"] == {H1: old.id}
    assert run.result["diff"]["after"]["hostname_associations"] == {H1: "(to be uploaded)"}
    assert writes(emulator) == []
    # with the certificate already uploaded, no key is needed to move a hostname to it
    new = emulator.state.add_client_cert(emulator.zone_id, certificate=pki.client_new.chain_pem, status="active")
    emulator.reset_journal()
    run = ansible.run_module(HCC, {"zone_id": emulator.zone_id, "certificate": pki.client_new.chain_pem, "hostnames": [H1]}, diff=True)
    assert run.changed and not run.failed, run.msg
    assert run.result["diff"]["before"]["hostname_associations"] == {H1: old.id}
    assert run.result["diff"]["after"]["hostname_associations"] == {H1: new.id}
    assert [e["method"] for e in writes(emulator)] == ["PUT"]
    assert len([e for e in emulator.journal() if e["method"] == "GET"]) == 2  # the two lists; the PUT's answer is the new state


@pytest.mark.parametrize("bad_id", ["../../zones", "abc/def", "abc?x=1", "abc#frag", ".."])
def test_ids_that_could_reach_other_routes_are_refused_before_any_call(ansible, emulator, pki, bad_id):
    run = ansible.run_module(CHC, {"zone_id": emulator.zone_id, "custom_hostname_id": bad_id, "certificates": [material(pki.new)]})
    assert run.failed and "custom_hostname_id" in run.msg and "not a valid Cloudflare id" in run.msg
    run = ansible.run_module(HCC, {"zone_id": bad_id, "certificate_id": "a" * 32, "hostnames": [H1]})
    assert run.failed and "zone_id" in run.msg
    assert emulator.journal() == []


def test_module_defaults_zone_and_task_zone_id_combine(ansible, emulator, pki):
    seed_hostname(emulator, pki.old)
    play = ansible.run_tasks(
        [{"name": "rotate", CHC: {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [material(pki.new)]}, "register": "r"}],
        play_extra={"module_defaults": {"group/certops.cloudflare.all": {"zone": "not-this-zone.example"}}},
    )
    result = play.result()
    assert not result.get("failed") and result["changed"], play.output
    assert not [e for e in emulator.journal() if e["path"].endswith("/zones")]  # zone_id won: no zone lookup
