"""custom_hostname_cert against the emulator: every transition, check mode, diff, bad input, faults, secrecy.

Each transition runs in one play: check mode, the change, the re-run, the re-run in check mode (all with
--diff). The journal must then hold exactly the one write the transition calls for: so check mode and
the re-runs wrote nothing.
"""

from __future__ import annotations

import json
import re
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytest
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf, new_key

MOD = "certops.cloudflare.custom_hostname_cert"
HOST = "app.customer.com"
# A non-default SSL configuration: every PATCH must send it back unchanged (a PATCH replaces the stored SSL configuration).
SSL_CONFIG = {
    "method": "txt",
    "type": "dv",
    "bundle_method": "force",
    "wildcard": False,
    "certificate_authority": "google",
    "settings": {"min_tls_version": "1.2", "http2": "on"},
}
CERT_VIEW_KEYS = {"id", "key_type", "serial_number", "fingerprint_sha256", "issuer", "expires_on", "days_remaining", "not_before", "uploaded_on", "hosts"}


@pytest.fixture(scope="module")
def pki() -> SimpleNamespace:
    ca = make_ca("Certops Test CA")
    rsa_a, rsa_b = new_key("rsa"), new_key("rsa")
    return SimpleNamespace(
        ca=ca,
        rsa1=make_leaf(ca, [HOST], key_type="rsa", key=rsa_a),
        rsa2=make_leaf(ca, [HOST, "www." + HOST], key_type="rsa", key=rsa_b),
        rsa3=make_leaf(ca, [HOST], key_type="rsa", key=rsa_a),
        ec1=make_leaf(ca, [HOST]),
        ec2=make_leaf(ca, ["*.customer.com"]),
        expired=make_leaf(ca, [HOST], days=-1, not_before_days=-90),
        other_host=make_leaf(ca, ["other.example.com"]),
    )


def item(leaf: Any) -> Dict[str, str]:
    return {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}


def seed(emulator: Any, leaves: Sequence[Any] = (), hostname: str = HOST, ssl: Optional[Dict[str, Any]] = None) -> Any:
    spec: Dict[str, Any] = {"ssl": dict(ssl or SSL_CONFIG)}
    if leaves:
        spec["certificates"] = [{"certificate": leaf.chain_pem} for leaf in leaves]
    return emulator.state.add_custom_hostname(emulator.zone_id, hostname, **spec)


def writes(emulator: Any) -> List[Tuple[str, str, Any]]:
    """(method, path below the zone, request body) of every write in the journal."""
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, ""), e["request_body"]) for e in emulator.journal() if e["method"] != "GET"]


def facts(view: Dict[str, Any]) -> List[Tuple[str, str]]:
    return sorted((c["key_type"], c["fingerprint_sha256"]) for c in view["ssl"]["certificates"])


def leaf_facts(leaves: Sequence[Any]) -> List[Tuple[str, str]]:
    return sorted(("rsa" if "RSA" in type(leaf.key).__name__ else "ecdsa", leaf.fingerprint_sha256) for leaf in leaves)


def stored(emulator: Any, hostname: str = HOST) -> Any:
    return next(h for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values() if h.hostname == hostname)


def no_traceback(result: Dict[str, Any]) -> bool:
    """No traceback in a failed result (ansible-core 2.19 puts a placeholder where a hidden one would be)."""
    return result.get("exception") in (None, "(traceback unavailable)")


def converge(ansible: Any, args: Dict[str, Any]) -> List[Dict[str, Any]]:
    """check mode, real, again; all with diff. Returns the three results."""
    tasks = [
        {"name": "check", MOD: args, "check_mode": True, "diff": True},
        {"name": "real", MOD: args, "diff": True},
        {"name": "again", MOD: args, "diff": True},
    ]
    run = ansible.run_tasks(tasks)
    results = [r["result"] for r in run.results]
    assert len(results) == 3 and not any(r.get("failed") for r in results), run.output
    return results


# (seeded, wanted, extra args, expected write, final) -- leaves by name; the write as (method, what).
TRANSITIONS = {
    "none to rsa": ([], ["rsa1"], {}, ("PATCH", "custom_certificate"), ["rsa1"]),
    "none to ecdsa": ([], ["ec1"], {}, ("PATCH", "custom_certificate"), ["ec1"]),
    "none to bundle": ([], ["rsa1", "ec1"], {}, ("PATCH", "bundle of 2"), ["rsa1", "ec1"]),
    "rsa to new rsa": (["rsa1"], ["rsa2"], {}, ("PATCH", "custom_certificate"), ["rsa2"]),
    "ecdsa to new ecdsa": (["ec1"], ["ec2"], {}, ("PATCH", "custom_certificate"), ["ec2"]),
    "rsa to ecdsa": (["rsa1"], ["ec1"], {}, ("PATCH", "custom_certificate"), ["ec1"]),
    # A pack of one never gets the single-certificate PUT, which replaces within a pack of two only.
    "rsa to new rsa, not exclusive": (["rsa1"], ["rsa2"], {"exclusive": False}, ("PATCH", "custom_certificate"), ["rsa2"]),
    "ecdsa to new ecdsa, not exclusive": (["ec1"], ["ec2"], {"exclusive": False}, ("PATCH", "custom_certificate"), ["ec2"]),
    "rsa to bundle": (["rsa1"], ["rsa1", "ec1"], {}, ("PATCH", "bundle of 1"), ["rsa1", "ec1"]),
    "ecdsa to bundle": (["ec1"], ["rsa1", "ec1"], {}, ("PATCH", "bundle of 1"), ["rsa1", "ec1"]),
    "ecdsa plus rsa, not exclusive": (["ec1"], ["rsa1"], {"exclusive": False}, ("PATCH", "bundle of 1"), ["rsa1", "ec1"]),
    "rsa to new bundle": (["rsa1"], ["rsa2", "ec1"], {}, ("PATCH", "bundle of 2"), ["rsa2", "ec1"]),
    "bundle, replace the ecdsa one": (["rsa1", "ec1"], ["rsa1", "ec2"], {}, ("PUT", "ec1"), ["rsa1", "ec2"]),
    "bundle, replace the rsa one": (["rsa1", "ec1"], ["rsa2", "ec1"], {}, ("PUT", "rsa1"), ["rsa2", "ec1"]),
    "bundle, replace both": (["rsa1", "ec1"], ["rsa2", "ec2"], {}, ("PATCH", "bundle of 2"), ["rsa2", "ec2"]),
    "bundle to its rsa one": (["rsa1", "ec1"], ["rsa1"], {}, ("DELETE", "ec1"), ["rsa1"]),
    "bundle to its ecdsa one": (["rsa1", "ec1"], ["ec1"], {}, ("DELETE", "rsa1"), ["ec1"]),
    "bundle to a new ecdsa": (["rsa1", "ec1"], ["ec2"], {}, ("PATCH", "custom_certificate"), ["ec2"]),
    "bundle, new ecdsa, not exclusive": (["rsa1", "ec1"], ["ec2"], {"exclusive": False}, ("PUT", "ec1"), ["rsa1", "ec2"]),
    "bundle, remove the ecdsa one": (["rsa1", "ec1"], None, {"state": "absent", "key_type": "ecdsa"}, ("DELETE", "ec1"), ["rsa1"]),
    "bundle, remove the rsa one": (["rsa1", "ec1"], None, {"state": "absent", "key_type": "rsa"}, ("DELETE", "rsa1"), ["ec1"]),
}


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


def run_transition(scenario_emulator: Any, pki: SimpleNamespace, name: str) -> SimpleNamespace:
    """One transition on a fresh emulator: the hostname seeded, then converge; with the emulator read back."""
    emulator, ansible = scenario_emulator()
    seeded_names, wanted, extra, (method, what), final_names = TRANSITIONS[name]
    hostname = seed(emulator, [getattr(pki, n) for n in seeded_names])
    cert_ids = {n: c.id for n, c in zip(seeded_names, hostname.certs)}  # before the change replaces them
    args = dict({"zone_id": emulator.zone_id, "hostname": HOST}, **extra)
    if wanted is not None:
        args["certificates"] = [item(getattr(pki, n)) for n in wanted]
    check, real, again = converge(ansible, args)
    return SimpleNamespace(
        seeded=[getattr(pki, n) for n in seeded_names],
        final=[getattr(pki, n) for n in final_names],
        method=method,
        what=what,
        hostname_id=hostname.id,
        cert_ids=cert_ids,
        pack_path="custom_hostnames/%s/certificate_pack/%s/certificates/" % (hostname.id, hostname.pack_id),
        check=check,
        real=real,
        again=again,
        writes=writes(emulator),
        stored_fingerprints=sorted(c.info.fingerprint_sha256 for c in stored(emulator).certs),
        stored_config=stored(emulator).config,
    )


# Two halves, each its own class, so that `--dist loadscope` runs them on two workers.
FROM_NONE_OR_ONE = [name for name in TRANSITIONS if not name.startswith("bundle")]
FROM_A_BUNDLE = [name for name in TRANSITIONS if name.startswith("bundle")]


@pytest.fixture(scope="module", params=FROM_NONE_OR_ONE)
def transition_from_none_or_one(request, scenario_emulator, pki):
    return run_transition(scenario_emulator, pki, request.param)


@pytest.fixture(scope="module", params=FROM_A_BUNDLE)
def transition_from_a_bundle(request, scenario_emulator, pki):
    return run_transition(scenario_emulator, pki, request.param)


class TransitionFacts:
    """What every transition must show; a class's `t` fixture gives the transition's run. The change is predicted in check
    mode, made for real, and nothing more on the re-runs."""

    def test_check_mode_and_the_change_report_a_change(self, t):
        assert (t.check["changed"], t.real["changed"]) == (True, True)

    def test_a_re_run_changes_nothing(self, t):
        assert not t.again["changed"]

    def test_check_mode_predicts_the_certificates_wanted(self, t):
        assert facts(t.check["custom_hostname"]) == leaf_facts(t.final)

    def test_the_change_reports_the_certificates_wanted(self, t):
        assert facts(t.real["custom_hostname"]) == leaf_facts(t.final)

    def test_a_re_run_reports_the_certificates_wanted(self, t):
        assert facts(t.again["custom_hostname"]) == leaf_facts(t.final)

    def test_the_emulator_holds_the_certificates_wanted(self, t):
        assert t.stored_fingerprints == sorted(leaf.fingerprint_sha256 for leaf in t.final)

    def test_exactly_one_write_is_sent_where_the_transition_calls_for_it(self, t):
        # check mode and the re-runs wrote nothing
        (sent,) = t.writes
        path = "custom_hostnames/%s" % t.hostname_id if t.method == "PATCH" else t.pack_path + t.cert_ids[t.what]
        assert sent[:2] == (t.method, path)

    def test_a_patch_sends_back_the_whole_ssl_configuration_less_the_method_beside_custom_certificates(self, t):
        # A DCV method sent for a hostname with custom certificates moves it to a Cloudflare certificate ("Manage custom
        # certificates", "Move to a Cloudflare certificate"): it goes back only where none is served yet.
        if t.method != "PATCH":
            pytest.skip("this transition sends a %s" % t.method)
        ssl = t.writes[0][2]["ssl"]
        expected = {k: v for k, v in SSL_CONFIG.items() if k != "method" or not t.seeded}
        assert {k: ssl.get(k) for k in SSL_CONFIG} == dict({k: None for k in SSL_CONFIG}, **expected)

    def test_a_patch_sends_one_certificate_with_its_key_redacted_or_a_bundle_of_the_size_called_for(self, t):
        if t.method != "PATCH":
            pytest.skip("this transition sends a %s" % t.method)
        ssl = t.writes[0][2]["ssl"]
        if t.what == "custom_certificate":
            assert ssl["custom_key"] == "<redacted>"
            assert "custom_cert_bundle" not in ssl
        else:
            assert len(ssl["custom_cert_bundle"]) == int(t.what.split()[-1])
            assert "custom_certificate" not in ssl

    def test_the_ssl_configuration_does_not_change(self, t):
        assert t.stored_config == dict(SSL_CONFIG, settings=SSL_CONFIG["settings"])

    # The diff: before and after as facts, never PEM or keys.
    @pytest.mark.parametrize("phase", ["check", "real"])
    def test_the_diff_has_before_and_after(self, t, phase):
        assert set(getattr(t, phase)["diff"]) == {"before", "after"}

    @pytest.mark.parametrize("phase", ["check", "real"])
    def test_the_diff_before_shows_the_seeded_certificates(self, t, phase):
        assert facts(getattr(t, phase)["diff"]["before"]) == leaf_facts(t.seeded)

    @pytest.mark.parametrize("phase", ["check", "real"])
    def test_the_diff_after_shows_the_certificates_wanted(self, t, phase):
        assert facts(getattr(t, phase)["diff"]["after"]) == leaf_facts(t.final)

    @pytest.mark.parametrize("phase", ["check", "real"])
    def test_the_diff_shows_each_certificate_by_its_facts(self, t, phase):
        diff = getattr(t, phase)["diff"]
        for cert in diff["before"]["ssl"]["certificates"] + diff["after"]["ssl"]["certificates"]:
            assert set(cert) == CERT_VIEW_KEYS

    @pytest.mark.parametrize("phase", ["check", "real"])
    def test_no_pem_is_in_the_diff_or_the_result(self, t, phase):
        result = getattr(t, phase)
        assert "BEGIN" not in json.dumps(result["diff"])
        assert "BEGIN" not in json.dumps(result["custom_hostname"])

    def test_a_re_run_diff_shows_no_difference(self, t):
        assert t.again["diff"]["before"] == t.again["diff"]["after"]

    def test_after_the_change_every_certificate_has_an_id(self, t):
        # Certificates not uploaded yet have no id in check mode.
        assert [c["id"] for c in t.real["custom_hostname"]["ssl"]["certificates"] if not c["id"]] == []

    def test_the_bundle_method_is_kept(self, t):
        assert t.real["custom_hostname"]["ssl"]["bundle_method"] == SSL_CONFIG["bundle_method"]


class TestTransitionFromNoCertificateOrOne(TransitionFacts):
    @pytest.fixture
    def t(self, transition_from_none_or_one):
        return transition_from_none_or_one


class TestTransitionFromABundle(TransitionFacts):
    @pytest.fixture
    def t(self, transition_from_a_bundle):
        return transition_from_a_bundle


def test_unchanged_run_makes_exactly_one_call(ansible, emulator, pki):
    seed(emulator, [pki.rsa1, pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec1), item(pki.rsa1)]}
    result = ansible.run_module(MOD, args)
    assert not result.failed, result.msg
    assert not result.changed, result.msg
    (call,) = emulator.journal()
    query = {"hostname": HOST, "page": "1", "per_page": "50"}  # the first page of the filter's matches holds it
    assert (call["method"], call["path"].split("/client/v4/")[1], call["query"]) == ("GET", "zones/%s/custom_hostnames" % emulator.zone_id, query)
    view = result.result["custom_hostname"]
    assert (view["hostname"], view["ssl"]["status"]) == (HOST, "active")
    assert [c["key_type"] for c in view["ssl"]["certificates"]] == ["rsa", "ecdsa"]
    rsa = view["ssl"]["certificates"][0]
    assert parts(rsa, "serial_number", "fingerprint_sha256", "issuer", "hosts") == {
        "serial_number": pki.rsa1.serial_number,
        "fingerprint_sha256": pki.rsa1.fingerprint_sha256,
        "issuer": "Certops Test CA",
        "hosts": [HOST],
    }
    assert 85 <= rsa["days_remaining"] <= 90


def test_bundle_method_alone_is_one_patch_keeping_the_certificate_and_sending_no_method(ansible, emulator, pki):
    hostname = seed(emulator, [pki.rsa1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa1)], "bundle_method": "optimal"}
    check, real, again = converge(ansible, args)
    assert [r["changed"] for r in (check, real, again)] == [True, True, False]
    assert (check["custom_hostname"]["ssl"]["bundle_method"], real["custom_hostname"]["ssl"]["bundle_method"]) == ("optimal", "optimal")
    ((method, path, body),) = writes(emulator)
    assert (method, path) == ("PATCH", "custom_hostnames/%s" % hostname.id)
    assert body == {"ssl": dict({k: v for k, v in SSL_CONFIG.items() if k != "method"}, bundle_method="optimal")}
    assert facts(real["custom_hostname"]) == leaf_facts([pki.rsa1])


@pytest.mark.parametrize("bundle_method", ["ubiquitous", "optimal"])
def test_a_pair_with_a_bundle_method_other_than_force_fails_before_any_write(ansible, emulator, pki, bundle_method):
    seed(emulator, [pki.rsa1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2), item(pki.ec1)], "bundle_method": bundle_method}
    result = ansible.run_module(MOD, args)
    assert result.failed
    assert "bundle_method %s cannot go with an RSA and ECDSA pair" % bundle_method in result.msg
    assert writes(emulator) == []


def test_a_pair_is_sent_with_bundle_method_force(ansible, emulator, pki):
    seed(emulator, [pki.rsa1], ssl=dict(SSL_CONFIG, bundle_method="ubiquitous"))
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2), item(pki.ec1)]}
    result = ansible.run_module(MOD, args)
    assert not result.failed, result.msg
    ((method, _path, body),) = writes(emulator)
    assert (method, body["ssl"]["bundle_method"], len(body["ssl"]["custom_cert_bundle"])) == ("PATCH", "force", 2)


def test_a_key_type_added_beside_the_served_one_is_sent_with_bundle_method_force(ansible, emulator, pki):
    seed(emulator, [pki.rsa1], ssl=dict(SSL_CONFIG, bundle_method="ubiquitous"))
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec1)], "exclusive": False}
    result = ansible.run_module(MOD, args)
    assert not result.failed, result.msg
    ((method, _path, body),) = writes(emulator)
    assert (method, body["ssl"]["bundle_method"], len(body["ssl"]["custom_cert_bundle"])) == ("PATCH", "force", 1)


def test_force_uploads_identical_certificates_again(ansible, emulator, pki):
    seed(emulator, [pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec1)], "force": True}
    result = ansible.run_module(MOD, args)
    assert result.changed, result.msg
    assert not result.failed, result.msg
    assert [(m, "custom_certificate" in b["ssl"]) for m, _p, b in writes(emulator)] == [("PATCH", True)]


def test_by_id_with_zone_name_and_a_wildcard_certificate(ansible, emulator, pki):
    hostname = seed(emulator, [pki.rsa1])
    args = {"zone": "example.com", "custom_hostname_id": hostname.id, "certificates": [item(pki.ec2)], "exclusive": False, "wait": True}
    result = ansible.run_module(MOD, args)
    assert result.changed, result.msg
    assert not result.failed, result.msg
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa1, pki.ec2])
    assert result.result["custom_hostname"]["ssl"]["status"] == "active"
    reads = [(e["path"].split("/client/v4/")[1], e["query"]) for e in emulator.journal() if e["method"] == "GET"][:2]
    assert reads == [("zones", {"name": "example.com", "page": "1", "per_page": "50"}), ("zones/%s/custom_hostnames/%s" % (emulator.zone_id, hostname.id), {})]


@pytest.fixture(scope="module")
def wait_until_active(scenario_emulator, pki):
    emulator, ansible = scenario_emulator(delay=1.0)
    seed(emulator, [pki.ec1])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.ec2)], "wait": True, "wait_timeout": 30}
    result = ansible.run_module(MOD, args)
    by_id = [e for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith(stored(emulator).id)]
    emulator.reset_journal()
    check = ansible.run_module(MOD, dict(args, certificates=[item(pki.ec1)]), check=True)
    return SimpleNamespace(result=result, statuses=[e["response_body"]["result"]["ssl"]["status"] for e in by_id], check=check, check_counts=emulator.counts())


class TestWaitUntilActive:
    """A hostname with a certificate, statuses moving every second: another certificate with a wait; then check mode."""

    def test_the_change_is_reported(self, wait_until_active):
        assert wait_until_active.result.changed, wait_until_active.result.msg
        assert not wait_until_active.result.failed, wait_until_active.result.msg

    def test_it_returns_once_the_ssl_is_active(self, wait_until_active):
        assert wait_until_active.result.result["custom_hostname"]["ssl"]["status"] == "active"

    def test_it_read_the_hostname_through_pending_deployment_until_active(self, wait_until_active):
        assert "pending_deployment" in wait_until_active.statuses
        assert wait_until_active.statuses[-1] == "active"

    def test_check_mode_predicts_a_change(self, wait_until_active):
        assert wait_until_active.check.changed, wait_until_active.check.msg

    def test_check_mode_waits_for_nothing_and_writes_nothing(self, wait_until_active):
        assert wait_until_active.check_counts == {"reads": 1, "writes": 0}


def test_patch_lost_after_it_was_applied_is_settled_by_reading_again(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    emulator.add_fault("reset_after", method="PATCH")
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2)]}
    result = ansible.run_module(MOD, args)
    assert result.changed, result.msg
    assert not result.failed, result.msg
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa2])
    assert [m for m, _p, _b in writes(emulator)] == ["PATCH"], "the PATCH must not be sent twice"
    assert [e["method"] for e in emulator.journal()] == ["GET", "PATCH", "GET"]  # the re-read is the state: no read-back after it


def test_put_retried_after_a_lost_answer_is_settled_by_reading_again(ansible, emulator, pki):
    hostname = seed(emulator, [pki.rsa1, pki.ec1])
    old_id = hostname.certs[1].id
    emulator.add_fault("reset_after", method="PUT")
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa1), item(pki.ec2)]}
    result = ansible.run_module(MOD, args)
    assert result.changed, result.msg
    assert not result.failed, result.msg
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa1, pki.ec2])
    # The client sent the PUT again (idempotent); the certificate it replaced was gone, so the module read the state.
    puts = [(e["path"].rsplit("/", 1)[1], e["status"]) for e in emulator.journal() if e["method"] == "PUT"]
    assert puts == [(old_id, 202), (old_id, 404)]
    assert [m for m, _p, _b in writes(emulator)] == ["PUT", "PUT"]


@pytest.fixture(scope="module")
def patch_lost_before(scenario_emulator, pki):
    emulator, ansible = scenario_emulator()
    seed(emulator, [pki.rsa1])
    emulator.add_fault("reset_before", method="PATCH")
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2)]}
    result = ansible.run_module(MOD, args)
    state = SimpleNamespace(writes=writes(emulator), fingerprints=[c.info.fingerprint_sha256 for c in stored(emulator).certs])
    return SimpleNamespace(result=result, state=state, again=ansible.run_module(MOD, args))


class TestAPatchLostBeforeItWasAppliedIsSentOnceMore:
    """A hostname with a certificate; another, whose PATCH never reaches the API the first time; then the same again."""

    def test_it_succeeds_saying_it_sent_the_patch_once_more(self, patch_lost_before):
        assert not patch_lost_before.result.failed, patch_lost_before.result.msg
        assert patch_lost_before.result.changed and patch_lost_before.result.result["resent"] is True

    def test_no_traceback_is_shown(self, patch_lost_before):
        assert "Traceback" not in patch_lost_before.result.output
        assert no_traceback(patch_lost_before.result.result)

    def test_the_patch_is_sent_twice_only(self, patch_lost_before):
        assert [m for m, _p, _b in patch_lost_before.state.writes] == ["PATCH", "PATCH"]

    def test_the_emulator_holds_the_new_certificate(self, patch_lost_before, pki):
        assert patch_lost_before.state.fingerprints == [pki.rsa2.fingerprint_sha256]

    def test_the_same_again_changes_nothing(self, patch_lost_before):
        assert not patch_lost_before.again.failed and not patch_lost_before.again.changed, patch_lost_before.again.msg


def test_bad_inputs_fail_before_any_write(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    seed(emulator, [pki.ec1, pki.rsa1], hostname="pair.customer.com")
    zone = {"zone_id": emulator.zone_id}
    base = dict(zone, hostname=HOST)
    wrong_key = {"certificate": pki.ec1.chain_pem, "private_key": pki.ec2.key_pem}
    cases = [
        (
            "garbage PEM",
            dict(base, certificates=[{"certificate": "-----BEGIN CERTIFICATE-----\nnot base64\n", "private_key": pki.ec1.key_pem}]),
            "certificates[0]: no PEM certificate found",
        ),
        (
            "garbage key",
            dict(base, certificates=[{"certificate": pki.ec1.chain_pem, "private_key": "garbage"}]),
            "certificates[0] private key: no PEM private key found",
        ),
        ("key of another certificate", dict(base, certificates=[wrong_key]), "certificates[0]: the private key does not belong to this certificate"),
        ("expired", dict(base, certificates=[item(pki.expired)]), "certificates[0]: it expired on"),
        (
            "not covering the hostname",
            dict(base, certificates=[item(pki.other_host)]),
            "certificates[0]: it does not cover app.customer.com (it is for other.example.com)",
        ),
        (
            "not covering, hostname by id",
            dict(zone, custom_hostname_id=stored(emulator).id, certificates=[item(pki.other_host)]),
            "certificates[0]: it does not cover app.customer.com",
        ),
        ("two RSA", dict(base, certificates=[item(pki.rsa1), item(pki.rsa2)]), "certificates[0] and certificates[1] are both RSA certificates"),
        ("three", dict(base, certificates=[item(pki.rsa1), item(pki.ec1), item(pki.ec2)]), "at most two certificates (one RSA and one ECDSA); 3 were given"),
        (
            "unknown hostname",
            dict(zone, hostname="nope.customer.com", certificates=[item(pki.ec2)]),
            "custom hostname nope.customer.com does not exist in zone %s" % emulator.zone_id,
        ),
        (
            "unknown hostname id",
            dict(zone, custom_hostname_id="0" * 32, certificates=[item(pki.ec1)]),
            "custom hostname id %s does not exist in zone %s" % ("0" * 32, emulator.zone_id),
        ),
        (
            "unknown zone id",
            dict(base, zone_id="f" * 32, certificates=[item(pki.ec1)]),
            "zone %s was not found or these credentials cannot read it" % ("f" * 32),
        ),
        ("unknown zone name", dict(base, zone_id=None, zone="nope.example", certificates=[item(pki.ec1)]), "no zone named 'nope.example'"),
        (
            "removing the last certificate",
            dict(base, state="absent", key_type="rsa"),
            "cannot remove the RSA certificate of app.customer.com in zone %s: it is the hostname's only custom certificate" % emulator.zone_id,
        ),
        ("no certificate", dict(base, certificates=[]), "certificates must hold one or two certificates with state=present"),
        ("absent without key_type", dict(base, state="absent"), "state is absent but all of the following are missing: key_type"),
        ("absent with certificates", dict(base, state="absent", key_type="rsa", certificates=[item(pki.rsa1)]), "certificates is not used with state=absent"),
        (
            "both content and path",
            dict(base, certificates=[dict(item(pki.ec1), certificate_path="/tmp/x.pem")]),
            "parameters are mutually exclusive: certificate|certificate_path",
        ),
        (
            "a path that cannot be read",
            dict(base, certificates=[{"certificate_path": "/nonexistent/c.pem", "private_key": pki.ec1.key_pem}]),
            "certificates[0].certificate_path: cannot read /nonexistent/c.pem",
        ),
    ]
    tasks = [{"name": name, MOD: {k: v for k, v in args.items() if v is not None}, "ignore_errors": True} for name, args, _msg in cases]
    run = ansible.run_tasks(tasks)
    assert len(run.results) == len(cases), run.output
    for (name, _args, expected), entry in zip(cases, run.results):
        result = entry["result"]
        assert result.get("failed"), name
        assert expected in result["msg"], "%s: %s" % (name, result["msg"])
        assert no_traceback(result), name
        assert not any(line in result["msg"] for leaf in (pki.ec1, pki.ec2) for line in _key_body(leaf.key_pem)), name
    assert "Traceback" not in run.output
    assert emulator.counts()["writes"] == 0
    assert writes(emulator) == []
    # Local checks come before any call: garbage PEM cost nothing, a missing hostname one read.
    assert len(emulator.journal()) == 6


def test_wrong_credentials_fail_clearly(ansible, emulator, pki):
    seed(emulator, [pki.rsa1])
    token = "wrong-token-5ecr3t"
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "certificates": [item(pki.rsa2)]}
    result = ansible.run_module(MOD, args, env={"CLOUDFLARE_API_TOKEN": token})
    assert result.failed
    assert "Authentication error (code 10000)" in result.msg
    assert "HTTP 403" in result.msg
    assert token not in result.output
    assert "Traceback" not in result.output
    assert no_traceback(result.result), result.result
    assert emulator.counts() == {"reads": 1, "writes": 0}


def test_private_key_appears_nowhere_at_vvvv(ansible, emulator, pki, tmp_path):
    seed(emulator, [pki.rsa1])
    # An encrypted ECDSA key: decrypted locally, the clear key is uploaded and must not show either.
    encrypted = pki.ec1.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pass phrase")
    ).decode()
    key_file = tmp_path / "rsa.key"
    key_file.write_text(pki.rsa2.key_pem)
    args = {
        "zone_id": emulator.zone_id,
        "hostname": HOST,
        "certificates": [
            {"certificate": pki.ec1.chain_pem, "private_key": encrypted, "private_key_passphrase": "pass phrase"},
            {"certificate": pki.rsa2.chain_pem, "private_key_path": str(key_file)},
        ],
    }
    result = ansible.run_module(MOD, args, diff=True, verbosity=4)
    assert result.changed, result.msg
    assert not result.failed, result.msg
    bodies = [_key_body(leaf.key_pem) for leaf in (pki.ec1, pki.rsa2)] + [_key_body(encrypted)]
    output = result.output + json.dumps(result.result) + json.dumps(emulator.dump_state()) + json.dumps(emulator.journal())
    for body in bodies:
        for line in body:
            assert line not in output
    assert "pass phrase" not in result.output
    assert facts(result.result["custom_hostname"]) == leaf_facts([pki.rsa2, pki.ec1])


def _key_body(pem: str) -> List[str]:
    """The base64 lines of a PEM key (the part that is secret)."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----") and not re.match(r"^[A-Za-z-]+:", line)]


def test_a_loose_hostname_filter_still_finds_the_hostname_by_name(ansible, emulator, pki):
    # 60 longer names containing HOST come first; with the emulator's loose filter HOST is on the second page of 50.
    for index in range(60):
        seed(emulator, hostname="v%02d-%s" % (index, HOST))
    hostname = seed(emulator, [pki.rsa1])
    emulator.set_hostname_filter("contains")
    emulator.reset_journal()
    args = {"zone_id": emulator.zone_id, "hostname": HOST}
    tasks = [
        {"name": "unchanged", MOD: dict(args, certificates=[item(pki.rsa1)]), "register": "r1", "ignore_errors": True},
        {"name": "add ecdsa", MOD: dict(args, certificates=[item(pki.rsa1), item(pki.ec1)]), "register": "r2", "ignore_errors": True},
        {"name": "info", "certops.cloudflare.custom_hostname_cert_info": args, "register": "r3", "ignore_errors": True},
    ]
    run = ansible.run_tasks(tasks)
    unchanged, added, info = [r["result"] for r in run.results]
    assert not unchanged.get("failed") and not unchanged["changed"], unchanged
    assert not added.get("failed") and added["changed"] and added["custom_hostname"]["id"] == hostname.id, added
    assert [(method, path) for method, path, _body in writes(emulator)] == [("PATCH", "custom_hostnames/%s" % hostname.id)]
    assert [h["id"] for h in info["custom_hostnames"]] == [hostname.id] and facts(info["custom_hostnames"][0]) == leaf_facts([pki.rsa1, pki.ec1])
    assert sorted(c.info.fingerprint_sha256 for c in stored(emulator).certs) == sorted([pki.rsa1.fingerprint_sha256, pki.ec1.fingerprint_sha256])
    assert [h.hostname for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values()].count(HOST) == 1
