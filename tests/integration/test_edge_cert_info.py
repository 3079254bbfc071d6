"""edge_cert_info through ansible-playbook against the emulator's TLS edge (tests/emulator/edge.py).

The hostnames come as a list (`hostnames`) or as the file custom_hostname_cert's list form wrote (`targets_file`); with
`dest` every entry goes to a file and the result keeps the counts and a few entries that do not match.
The 1,000-hostname run is a CI leg after `make test` (`make edge-scale`); `make test` skips it.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from emulator.testcerts import make_ca, make_leaf, new_key

HOST = "app.example.com"


@pytest.fixture(scope="module")
def ca():
    return make_ca("Edge Tests CA")


@pytest.fixture(scope="module")
def rsa_key():
    return new_key("rsa")


@pytest.fixture
def edge(emulator):
    emulator.start_edge()
    return emulator


@pytest.fixture
def ca_file(tmp_path: Path, edge, ca) -> str:
    """The emulator's CA (managed certificates) and the tests' CA, as one PEM file."""
    path = tmp_path / "trusted.pem"
    path.write_text(edge.edge.ca_pem + ca.cert_pem)
    return str(path)


def edge_scenario(scenario_emulator, **kwargs: Any):
    """For a scenario of several runs: an emulator with its TLS edge open and an Ansible bound to it, kept for the module."""
    emu, ansible = scenario_emulator(**kwargs)
    emu.start_edge()
    return emu, ansible


def with_certs(emu, hostname: str, *issued) -> Any:
    return emu.state.add_custom_hostname(emu.zone_id, hostname, certificates=[{"certificate": i.chain_pem, "private_key": i.key_pem} for i in issued])


def probe_args(emu, hostnames: List[str], **extra: Any) -> Dict[str, Any]:
    return dict({"hostnames": hostnames, "address": "127.0.0.1", "port": emu.edge_port}, **extra)


def by_key_type(result: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {e["requested_key_type"]: e for e in result["edge_certs"]}


@pytest.mark.parametrize("check", [False, True], ids=["real", "check_mode"])
def test_a_bundle_shows_both_certificates(ansible, edge, ca, rsa_key, ca_file, check):
    rsa, ecdsa = make_leaf(ca, [HOST], key_type="rsa", key=rsa_key), make_leaf(ca, [HOST])
    with_certs(edge, HOST, rsa, ecdsa)
    run = ansible.run_module("edge_cert_info", probe_args(edge, [HOST], key_types=["rsa", "ecdsa"], ca_path=ca_file), check=check)
    assert not run.failed, run.output
    assert not run.changed, run.output
    entries = by_key_type(run.result)
    for key_type, issued in (("rsa", rsa), ("ecdsa", ecdsa)):
        entry = entries[key_type]
        assert entry["fingerprint_sha256"] == issued.fingerprint_sha256, key_type
        assert entry["fingerprint_sha256"] == edge.history.served(HOST, key_type).fingerprint_sha256, key_type
        assert {k: entry[k] for k in ("key_type", "key_type_selected", "tls_version")} == {
            "key_type": key_type,
            "key_type_selected": True,
            "tls_version": "TLSv1.2",
        }
        assert {k: entry[k] for k in ("serial_number", "sans", "subject", "issuer")} == {
            "serial_number": issued.serial_number,
            "sans": [HOST],
            "subject": "CN=" + HOST,
            "issuer": "Edge Tests CA",
        }
        assert 88 <= entry["days_remaining"] <= 90, key_type
        assert entry["not_after"].endswith("Z"), key_type
        assert [c["fingerprint_sha256"] for c in entry["chain"]] == [issued.fingerprint_sha256, ca.fingerprint_sha256]
        assert {k: entry[k] for k in ("validates", "validation_error", "error", "matches")} == {
            "validates": True,
            "validation_error": None,
            "error": None,
            "matches": None,
        }
    assert "PRIVATE KEY" not in run.output


@pytest.fixture(scope="module")
def pending_deployment(scenario_emulator, ca):
    emu, ansible = edge_scenario(scenario_emulator, delay=8)
    old, new = make_leaf(ca, [HOST]), make_leaf(ca, [HOST])
    created = with_certs(emu, HOST, old)
    body = {"ssl": {"type": "dv", "custom_certificate": new.chain_pem, "custom_key": new.key_pem}}
    headers = {"Authorization": "Bearer " + emu.token}
    answer = requests.patch("%s/zones/%s/custom_hostnames/%s" % (emu.url, emu.zone_id, created.id), json=body, headers=headers, timeout=10).json()
    during = ansible.run_module("edge_cert_info", probe_args(emu, [HOST], key_types=["ecdsa"], expect={HOST: old.fingerprint_sha256}))
    while emu.history.served(HOST, "ecdsa").fingerprint_sha256 != new.fingerprint_sha256:
        time.sleep(0.2)
    after = ansible.run_module("edge_cert_info", probe_args(emu, [HOST], key_types=["ecdsa"], expect={HOST: {"ecdsa": new.fingerprint_sha256.upper()}}))
    return SimpleNamespace(old=old, new=new, answer=answer, during=during, after=after)


class TestDuringAPendingDeploymentTheOldCertificateIsServedThenTheNew:
    """A hostname's certificate replaced through the API (the emulator's delay keeps it pending deployment for 8 s); a probe
    expecting the old certificate, then, once the edge serves the new one, a probe expecting it (its fingerprint upper-case)."""

    def test_the_replacement_is_pending_deployment(self, pending_deployment):
        assert pending_deployment.answer["result"]["ssl"]["status"] == "pending_deployment"

    def test_the_probe_during_the_deployment_does_not_fail(self, pending_deployment):
        assert not pending_deployment.during.failed, pending_deployment.during.output

    def test_during_the_deployment_the_old_certificate_is_served(self, pending_deployment):
        assert pending_deployment.during.result["edge_certs"][0]["matches"] is True, pending_deployment.during.output

    def test_the_probe_after_the_deployment_does_not_fail(self, pending_deployment):
        assert not pending_deployment.after.failed, pending_deployment.after.output

    def test_after_the_deployment_the_new_certificate_is_served(self, pending_deployment):
        after = pending_deployment.after
        assert after.result["edge_certs"][0]["fingerprint_sha256"] == pending_deployment.new.fingerprint_sha256, after.output


def test_expect_mismatch_fails_naming_the_hostname_and_key_type(ansible, edge, ca):
    good, stale, wanted = make_leaf(ca, ["good.example.com"]), make_leaf(ca, ["stale.example.com"]), make_leaf(ca, ["stale.example.com"])
    with_certs(edge, "good.example.com", good)
    with_certs(edge, "stale.example.com", stale)
    expect = {"good.example.com": good.fingerprint_sha256, "stale.example.com": wanted.fingerprint_sha256}
    run = ansible.run_module("edge_cert_info", probe_args(edge, ["good.example.com", "stale.example.com"], key_types=["ecdsa"], expect=expect))
    assert run.failed
    assert "stale.example.com (ecdsa): served %s, expected %s" % (stale.fingerprint_sha256, wanted.fingerprint_sha256) in run.msg
    assert "good.example.com" not in run.msg
    assert [e["matches"] for e in run.result["edge_certs"]] == [True, False]
    assert len(run.result["mismatches"]) == 1


def test_an_unknown_name_reports_a_handshake_error_without_failing_the_others(ansible, edge, ca, ca_file):
    issued = make_leaf(ca, [HOST])
    with_certs(edge, HOST, issued)
    run = ansible.run_module("edge_cert_info", probe_args(edge, ["unknown.example.net", HOST], key_types=["ecdsa"], ca_path=ca_file))
    assert not run.failed, run.output
    unknown, known = run.result["edge_certs"]
    assert (unknown["hostname"], unknown["fingerprint_sha256"]) == ("unknown.example.net", None)
    assert "UNRECOGNIZED_NAME" in unknown["error"]
    assert {k: known[k] for k in ("error", "fingerprint_sha256", "validates")} == {
        "error": None,
        "fingerprint_sha256": issued.fingerprint_sha256,
        "validates": True,
    }


def test_an_unknown_name_in_expect_fails(ansible, edge):
    run = ansible.run_module("edge_cert_info", probe_args(edge, ["unknown.example.net"], expect={"unknown.example.net": "ab" * 32}))
    assert run.failed, run.output
    assert "unknown.example.net (rsa): TLS handshake failed" in run.msg
    assert "unknown.example.net (ecdsa)" in run.msg


@pytest.fixture(scope="module")
def one_key_type(scenario_emulator, ca, rsa_key):
    """Hostnames that serve an ECDSA certificate and no RSA one, probed for both key types. First only.example.com alone,
    expected to serve its certificate; then with stale.example.com, expected to serve a certificate it does not serve
    (it serves another), and pair.example.com, expected to serve both certificates of a pair (it serves the ECDSA one)."""
    emu, ansible = edge_scenario(scenario_emulator)
    only, stale, wanted = make_leaf(ca, ["only.example.com"]), make_leaf(ca, ["stale.example.com"]), make_leaf(ca, ["stale.example.com"])
    pair = SimpleNamespace(rsa=make_leaf(ca, ["pair.example.com"], key_type="rsa", key=rsa_key), ecdsa=make_leaf(ca, ["pair.example.com"]))
    with_certs(emu, "only.example.com", only)
    with_certs(emu, "stale.example.com", stale)
    with_certs(emu, "pair.example.com", pair.ecdsa)
    both = ["rsa", "ecdsa"]
    passing = ansible.run_module("edge_cert_info", probe_args(emu, ["only.example.com"], key_types=both, expect={"only.example.com": only.fingerprint_sha256}))
    expect = {
        "only.example.com": only.fingerprint_sha256,
        "stale.example.com": wanted.fingerprint_sha256,
        "pair.example.com": [pair.rsa.fingerprint_sha256, pair.ecdsa.fingerprint_sha256],
    }
    failing = ansible.run_module("edge_cert_info", probe_args(emu, list(expect), key_types=both, expect=expect))
    return SimpleNamespace(only=only, stale=stale, wanted=wanted, pair=pair, passing=passing, failing=failing)


def entry_of(run: Any, hostname: str, key_type: str) -> Dict[str, Any]:
    (found,) = [e for e in run.result["edge_certs"] if (e["hostname"], e["requested_key_type"]) == (hostname, key_type)]
    return found


class TestEachExpectedCertificateIsServedByOneOfTheKeyTypesProbed:
    """expect names a hostname's certificates; the key type of each must serve it. A key type the hostname does not serve
    is reported (its handshake error), not a mismatch, unless something expected is served by no key type."""

    def test_a_hostname_serving_only_its_expected_ecdsa_certificate_passes(self, one_key_type):
        assert not one_key_type.passing.failed, one_key_type.passing.output

    def test_its_ecdsa_entry_matches(self, one_key_type):
        found = entry_of(one_key_type.passing, "only.example.com", "ecdsa")
        assert (found["fingerprint_sha256"], found["matches"]) == (one_key_type.only.fingerprint_sha256, True)

    def test_its_rsa_probe_is_reported_as_not_served_and_not_compared(self, one_key_type):
        found = entry_of(one_key_type.passing, "only.example.com", "rsa")
        assert (found["fingerprint_sha256"], found["matches"]) == (None, None), found
        assert found["error"].startswith("TLS handshake failed: "), found

    def test_the_counts_show_the_rsa_probe_as_an_error_and_no_mismatch(self, one_key_type):
        assert one_key_type.passing.result["summary"] == {"total": 2, "matched": 1, "mismatched": 0, "errors": 1}
        assert one_key_type.passing.result["mismatches"] == []

    def test_a_hostname_whose_expected_certificate_no_key_type_serves_fails(self, one_key_type):
        assert one_key_type.failing.failed, one_key_type.failing.output

    def test_the_message_names_its_ecdsa_mismatch_and_its_rsa_probe_that_got_nothing(self, one_key_type):
        stale, wanted = one_key_type.stale.fingerprint_sha256, one_key_type.wanted.fingerprint_sha256
        msg = one_key_type.failing.msg
        assert "stale.example.com (ecdsa): served %s, expected %s" % (stale, wanted) in msg
        assert "stale.example.com (rsa): TLS handshake failed: " in msg
        assert msg.split("stale.example.com (rsa): ", 1)[1].split(";")[0].endswith(", expected %s" % wanted), msg

    def test_the_message_names_the_rsa_certificate_of_the_pair_that_is_not_served(self, one_key_type):
        msg = one_key_type.failing.msg
        assert "pair.example.com (rsa): TLS handshake failed: " in msg
        assert msg.split("pair.example.com (rsa): ", 1)[1].split(";")[0].endswith(", expected %s" % one_key_type.pair.rsa.fingerprint_sha256), msg

    def test_the_message_names_no_key_type_that_serves_what_is_expected_of_it(self, one_key_type):
        msg = one_key_type.failing.msg
        assert "only.example.com" not in msg
        assert "pair.example.com (ecdsa)" not in msg

    def test_the_failing_run_counts_each_entry(self, one_key_type):
        failing = one_key_type.failing
        assert failing.result["summary"] == {"total": 6, "matched": 2, "mismatched": 1, "errors": 3}
        assert len(failing.result["mismatches"]) == 3
        assert failing.msg.startswith("The edge does not serve the expected certificate for 3 of 6 entries: "), failing.msg
        assert [entry_of(failing, h, k)["matches"] for h in ("only.example.com", "stale.example.com", "pair.example.com") for k in ("rsa", "ecdsa")] == [
            None,
            True,
            False,
            False,
            False,
            True,
        ]


def test_targets_file_still_fails_a_pair_whose_rsa_certificate_the_edge_does_not_serve(ansible, edge, ca, rsa_key, ca_file, tmp_path):
    new_rsa, new_ecdsa = make_leaf(ca, [HOST], key_type="rsa", key=rsa_key), make_leaf(ca, [HOST])
    with_certs(edge, HOST, new_ecdsa)  # as if the edge had dropped the RSA certificate of the pair the rotation switched to
    run = ansible.run_module("edge_cert_info", file_args(edge, targets(tmp_path, [switched(HOST, new_rsa, new_ecdsa)]), ca_path=ca_file))
    assert run.failed, run.output
    assert "for 1 of 2 entries: %s (rsa): TLS handshake failed: " % HOST in run.msg
    assert run.msg.endswith(", expected %s" % new_rsa.fingerprint_sha256), run.msg
    assert [(e["requested_key_type"], e["matches"]) for e in run.result["edge_certs"]] == [("rsa", False), ("ecdsa", True)]
    assert (run.result["summary"], run.result["untrusted"]) == ({"total": 2, "matched": 1, "mismatched": 0, "errors": 1}, 0)


@pytest.fixture(scope="module")
def untrusted(scenario_emulator, ca, tmp_path_factory):
    emu, ansible = edge_scenario(scenario_emulator)
    issued = make_leaf(ca, [HOST])
    with_certs(emu, HOST, issued)
    other = tmp_path_factory.mktemp("other-ca") / "other.pem"
    other.write_text(make_ca("Someone Else").cert_pem)
    entries = {}
    for store, ca_path in (("another_ca", str(other)), ("the_default_bundle", None)):
        args = probe_args(emu, [HOST], key_types=["ecdsa"], **({"ca_path": ca_path} if ca_path else {}))
        entries[store] = ansible.run_module("edge_cert_info", args, env=NO_BUNDLE_VARIABLES).result["edge_certs"][0]
    return SimpleNamespace(issued=issued, entries=entries)


STORES = ["another_ca", "the_default_bundle"]
# Unset in the playbook's environment: without ca_path the probe then trusts certifi's bundle, as requests does.
NO_BUNDLE_VARIABLES = {"REQUESTS_CA_BUNDLE": None, "CURL_CA_BUNDLE": None}


class TestValidationAgainstCaPathAndTheDefaultBundle:
    """A certificate of the tests' CA; a probe with ca_path naming another CA, then one with the default bundle (certifi's)."""

    @pytest.mark.parametrize("store", STORES)
    def test_the_certificate_does_not_validate(self, untrusted, store):
        assert untrusted.entries[store]["validates"] is False, untrusted.entries[store]

    @pytest.mark.parametrize("store", STORES)
    def test_the_validation_error_says_the_issuer_is_unknown(self, untrusted, store):
        assert untrusted.entries[store]["validation_error"] in (
            "self-signed certificate in certificate chain",
            "unable to get local issuer certificate",
        )

    @pytest.mark.parametrize("store", STORES)
    def test_the_certificate_is_read_anyway(self, untrusted, store):
        assert untrusted.entries[store]["fingerprint_sha256"] == untrusted.issued.fingerprint_sha256


def test_a_managed_certificate_validates_for_its_name_only(ansible, edge, ca_file):
    edge.state.add_custom_hostname(edge.zone_id, "shop.example.com", ssl={"status": "active"})
    run = ansible.run_module("edge_cert_info", probe_args(edge, ["shop.example.com"], ca_path=ca_file))
    entries = by_key_type(run.result)
    assert {k: e["key_type"] for k, e in entries.items()} == {"rsa": "rsa", "ecdsa": "ecdsa"}
    assert entries["rsa"]["validates"] is True
    assert entries["rsa"]["issuer"] == "Certops Emulator"


# Bad inputs beside a valid hostname (the ca_path case names a file in the scenario's directory), and the words of their messages.
BAD_INPUTS = {
    "expect_for_another_hostname": ({"expect": {"other.example.com": "ab" * 32}}, "expect: other.example.com is not one of hostnames"),
    "expect_not_a_fingerprint": ({"expect": {HOST: "not-a-fingerprint"}}, "is not a SHA-256 fingerprint"),
    "expect_for_an_unknown_key_type": ({"expect": {HOST: {"dsa": "ab" * 32}}}, "must map to a fingerprint"),
    "no_workers": ({"workers": 0}, "workers must be from 1 to 256"),
    "too_many_workers": ({"workers": 100000}, "workers must be from 1 to 256"),
    "missing_ca_path": ({"ca_path": "{missing}"}, "neither a file nor a directory"),
}


@pytest.fixture(scope="module")
def bad_inputs(scenario_emulator, tmp_path_factory):
    emu, ansible = edge_scenario(scenario_emulator)
    missing = str(tmp_path_factory.mktemp("bad-inputs") / "missing.pem")
    runs = {}
    for case, (extra, _message) in BAD_INPUTS.items():
        extra = {k: (missing if v == "{missing}" else v) for k, v in extra.items()}
        runs[case] = ansible.run_module("edge_cert_info", probe_args(emu, [HOST], **extra))
    bad_host = ansible.run_module("edge_cert_info", {"hostnames": ["bad host"]})
    return SimpleNamespace(runs=runs, bad_host=bad_host)


class TestBadInputsFailBeforeAnyConnection:
    """One run per bad input beside a valid hostname, then one with a bad hostname."""

    @pytest.mark.parametrize("case", list(BAD_INPUTS))
    def test_a_bad_input_fails(self, bad_inputs, case):
        assert bad_inputs.runs[case].failed, bad_inputs.runs[case].output

    @pytest.mark.parametrize("case", list(BAD_INPUTS))
    def test_the_message_names_the_fault(self, bad_inputs, case):
        assert BAD_INPUTS[case][1] in bad_inputs.runs[case].msg, bad_inputs.runs[case].msg

    def test_a_bad_hostname_fails(self, bad_inputs):
        assert bad_inputs.bad_host.failed, bad_inputs.bad_host.output


class Tls13OnlyServer:
    """A real TLS server outside the emulator that refuses anything below TLS 1.3, as some origins and edges do."""

    def __init__(self, issued: Any, tmp_path: Path) -> None:
        bundle = tmp_path / "tls13.pem"
        bundle.write_text(issued.chain_pem + issued.key_pem)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        self.context.load_cert_chain(str(bundle))
        bundle.unlink()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()


def test_a_tls_1_3_only_server_is_reported_with_key_type_selected_false(ansible, emulator, ca, tmp_path):
    issued = make_leaf(ca, [HOST])
    server = Tls13OnlyServer(issued, tmp_path)
    try:
        run = ansible.run_module("edge_cert_info", {"hostnames": [HOST], "address": "127.0.0.1", "port": server.port, "key_types": ["rsa"]})
    finally:
        server.sock.close()
    assert not run.failed, run.output
    entry = run.result["edge_certs"][0]
    assert (entry["key_type_selected"], entry["tls_version"]) == (False, "TLSv1.3")
    assert entry["fingerprint_sha256"] == issued.fingerprint_sha256
    assert (entry["requested_key_type"], entry["key_type"]) == ("rsa", "ecdsa")


@pytest.mark.skipif(not os.environ.get("CERTOPS_EDGE_SCALE"), reason="1,000 handshakes: run by `make edge-scale`, a CI leg after `make test`")
def test_one_thousand_hostnames_with_the_default_workers(ansible, edge, ca, ca_file):
    hostnames = ["shop%04d.tenant.test" % n for n in range(1000)]
    issued = {}
    for hostname in hostnames:
        issued[hostname] = make_leaf(ca, [hostname])
        with_certs(edge, hostname, issued[hostname])
    expect = {h: i.fingerprint_sha256 for h, i in issued.items()}
    started = time.monotonic()
    run = ansible.run_module("edge_cert_info", probe_args(edge, hostnames, key_types=["ecdsa"], ca_path=ca_file, expect=expect))
    elapsed = time.monotonic() - started
    assert not run.failed, run.msg[:2000]
    assert len(run.result["edge_certs"]) == 1000
    assert [e["hostname"] for e in run.result["edge_certs"] if not e["matches"]] == []
    assert [e["hostname"] for e in run.result["edge_certs"] if not e["validates"]] == []
    print("edge_cert_info: 1,000 hostnames in %.1f s with the default 8 workers" % elapsed)  # reported, not asserted


# -- targets_file and dest ---------------------------------------------------------------------------------------


class ConnectionCounter:
    """A TCP listener that counts the connections it gets and closes them: where a probe must not go."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.count = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _address = self.sock.accept()
            except OSError:
                return
            self.count += 1
            conn.close()


@pytest.fixture
def counter():
    listener = ConnectionCounter()
    yield listener
    listener.sock.close()


def switched(hostname: str, *issued: Any) -> Dict[str, Any]:
    """An entry of the `switched` list custom_hostname_cert's list form writes: a hostname and its new certificates."""
    key_types = sorted({"rsa" if isinstance(i.key, rsa.RSAPrivateKey) else "ecdsa" for i in issued})
    return {"hostname": hostname, "key_types": key_types, "fingerprints": sorted(i.fingerprint_sha256 for i in issued)}


def targets(tmp_path: Path, entries: Any, **extra: Any) -> str:
    """A file as custom_hostname_cert's list form writes it with dest: the zone's hostnames, the results, `switched`."""
    path = tmp_path / "applied-hostnames.json"
    data = dict({"zone_id": "023e105f4ecef8ad9ca31a8372d0c353", "custom_hostnames": [], "results": []}, **extra)
    if entries is not None:
        data["switched"] = entries
    path.write_text(json.dumps(data))
    return str(path)


def file_args(emu, path: str, **extra: Any) -> Dict[str, Any]:
    return dict({"targets_file": path, "address": "127.0.0.1", "port": emu.edge_port}, **extra)


def test_targets_file_probes_each_switched_hostname_for_the_key_types_of_its_new_certificates(ansible, edge, ca, rsa_key, ca_file, tmp_path):
    rsa, ecdsa, single = make_leaf(ca, [HOST], key_type="rsa", key=rsa_key), make_leaf(ca, [HOST]), make_leaf(ca, ["one.example.com"])
    with_certs(edge, HOST, rsa, ecdsa)
    with_certs(edge, "one.example.com", single)
    path = targets(tmp_path, [switched(HOST, rsa, ecdsa), switched("one.example.com", single)])
    run = ansible.run_module("edge_cert_info", file_args(edge, path, ca_path=ca_file))
    assert not run.failed, run.output
    assert not run.changed, run.output
    probed = [(e["hostname"], e["requested_key_type"], e["fingerprint_sha256"], e["matches"]) for e in run.result["edge_certs"]]
    assert probed == [
        (HOST, "rsa", rsa.fingerprint_sha256, True),
        (HOST, "ecdsa", ecdsa.fingerprint_sha256, True),
        ("one.example.com", "ecdsa", single.fingerprint_sha256, True),  # its new certificate is ECDSA only: no RSA handshake
    ]
    assert run.result["summary"] == {"total": 3, "matched": 3, "mismatched": 0, "errors": 0}
    assert (run.result["mismatches"], run.result["untrusted"]) == ([], 0)


def test_targets_file_fails_naming_a_hostname_that_still_serves_its_old_certificate(ansible, edge, ca, ca_file, tmp_path):
    old, new, fine = make_leaf(ca, ["stale.example.com"]), make_leaf(ca, ["stale.example.com"]), make_leaf(ca, ["good.example.com"])
    with_certs(edge, "stale.example.com", old)
    with_certs(edge, "good.example.com", fine)
    path = targets(tmp_path, [switched("good.example.com", fine), switched("stale.example.com", new)])
    run = ansible.run_module("edge_cert_info", file_args(edge, path, ca_path=ca_file))
    assert run.failed
    assert "for 1 of 2 entries: stale.example.com (ecdsa): served %s, expected %s" % (old.fingerprint_sha256, new.fingerprint_sha256) in run.msg
    assert "good.example.com" not in run.msg
    assert run.result["summary"] == {"total": 2, "matched": 1, "mismatched": 1, "errors": 0}


@pytest.fixture(scope="module")
def untrusted_after_rotation(scenario_emulator, ca, tmp_path_factory):
    """Seeded as if a rotation had switched them (seeds skip the emulator's upload check): good.example.com serves a
    certificate of the tests' CA, app.example.com one of a CA no trust store holds. A targets_file probe of both with
    ca_path naming the tests' CA and dest; then one of good.example.com without ca_path, REQUESTS_CA_BUNDLE naming the tests' CA."""
    emu, ansible = edge_scenario(scenario_emulator)
    good, rogue = make_leaf(ca, ["good.example.com"]), make_leaf(make_ca("Untrusted Tests CA", trusted=False), [HOST])
    with_certs(emu, "good.example.com", good)
    with_certs(emu, HOST, rogue)
    work = tmp_path_factory.mktemp("untrusted")
    (work / "ca.pem").write_text(ca.cert_pem)
    both = targets(work, [switched("good.example.com", good), switched(HOST, rogue)])
    probe = ansible.run_module("edge_cert_info", file_args(emu, both, ca_path=str(work / "ca.pem"), dest=str(work / "edge-certs.json")))
    (work / "good").mkdir()
    only_good = targets(work / "good", [switched("good.example.com", good)])
    bundle_env = dict(NO_BUNDLE_VARIABLES, REQUESTS_CA_BUNDLE=str(work / "ca.pem"))
    by_bundle = ansible.run_module("edge_cert_info", file_args(emu, only_good), env=bundle_env)
    return SimpleNamespace(probe=probe, by_bundle=by_bundle)


class TestAfterARotationAnUntrustedChainFailsTheProbe:
    """The expected certificate served over a chain that does not validate fails a targets_file probe; the CA bundle
    REQUESTS_CA_BUNDLE names is what validates without ca_path."""

    def test_the_probe_fails(self, untrusted_after_rotation):
        assert untrusted_after_rotation.probe.failed, untrusted_after_rotation.probe.output

    def test_the_message_names_the_hostname_and_key_type_with_an_untrusted_chain(self, untrusted_after_rotation):
        assert "app.example.com (ecdsa): the edge serves an untrusted chain: " in untrusted_after_rotation.probe.msg

    def test_the_message_does_not_name_the_trusted_hostname(self, untrusted_after_rotation):
        assert "good.example.com" not in untrusted_after_rotation.probe.msg

    def test_untrusted_counts_one_entry(self, untrusted_after_rotation):
        assert untrusted_after_rotation.probe.result["untrusted"] == 1

    def test_with_dest_the_result_keeps_the_untrusted_entry_only(self, untrusted_after_rotation):
        assert [e["hostname"] for e in untrusted_after_rotation.probe.result["edge_certs"]] == [HOST]

    def test_both_entries_serve_the_expected_certificate(self, untrusted_after_rotation):
        assert untrusted_after_rotation.probe.result["summary"] == {"total": 2, "matched": 2, "mismatched": 0, "errors": 0}

    def test_without_ca_path_the_bundle_requests_ca_bundle_names_validates(self, untrusted_after_rotation):
        by_bundle = untrusted_after_rotation.by_bundle
        assert [e["validates"] for e in by_bundle.result["edge_certs"]] == [True], by_bundle.output

    def test_without_ca_path_a_trusted_chain_passes(self, untrusted_after_rotation):
        by_bundle = untrusted_after_rotation.by_bundle
        assert (by_bundle.failed, by_bundle.result["untrusted"]) == (False, 0), by_bundle.output


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "targets_file: cannot read"),
        ("not json", "does not hold JSON"),
        (json.dumps({"zone_id": "x", "results": []}), "holds no `switched` list; give the file the list form of certops.cloudflare.custom_hostname_cert wrote"),
        (json.dumps({"switched": [{"hostname": HOST, "key_types": ["dsa"], "fingerprints": ["ab" * 32]}]}), "switched[0] (app.example.com): key_types"),
        (json.dumps({"switched": [{"hostname": HOST, "key_types": ["rsa"], "fingerprints": ["abc"]}]}), "switched[0] (app.example.com): fingerprints"),
        (json.dumps({"switched": [{"hostname": "bad host", "key_types": ["rsa"], "fingerprints": ["ab" * 32]}]}), "switched[0].hostname"),
    ],
    ids=["missing", "not json", "no switched", "bad key type", "bad fingerprint", "bad hostname"],
)
def test_a_bad_targets_file_fails_naming_the_option_before_any_probe(ansible, emulator, counter, tmp_path, content, message):
    path = tmp_path / "applied-hostnames.json"
    if content is not None:
        path.write_text(content)
    run = ansible.run_module("edge_cert_info", {"targets_file": str(path), "address": "127.0.0.1", "port": counter.port})
    assert run.failed, run.output
    assert message in run.msg
    assert "targets_file" in run.msg
    assert "summary" not in run.result
    assert counter.count == 0
    assert "Traceback" not in run.output


@pytest.mark.parametrize(
    "args, message",
    [
        ({"hostnames": [HOST], "targets_file": "/nonexistent.json"}, "mutually exclusive: hostnames|targets_file"),
        ({"targets_file": "/nonexistent.json", "key_types": ["rsa"]}, "mutually exclusive: targets_file|key_types"),
        ({"targets_file": "/nonexistent.json", "expect": {HOST: "ab" * 32}}, "mutually exclusive: targets_file|expect"),
        ({}, "one of the following is required: hostnames, targets_file"),
    ],
    ids=["with hostnames", "with key_types", "with expect", "neither"],
)
def test_exactly_one_of_hostnames_and_targets_file(ansible, emulator, args, message):
    run = ansible.run_module("edge_cert_info", args)
    assert run.failed, run.output
    assert message in run.msg


def test_dest_holds_every_entry_and_the_result_only_counts(ansible, edge, ca, ca_file, tmp_path):
    issued = {h: make_leaf(ca, [h]) for h in ("a.example.com", "b.example.com")}
    for hostname, leaf in issued.items():
        with_certs(edge, hostname, leaf)
    dest = tmp_path / "edge-certs.json"
    path = targets(tmp_path, [switched(h, i) for h, i in issued.items()])
    run = ansible.run_module("edge_cert_info", file_args(edge, path, dest=str(dest), ca_path=ca_file))
    assert not run.failed, run.output
    assert not run.changed, run.output
    assert {k: run.result[k] for k in ("edge_certs", "mismatches", "dest")} == {"edge_certs": [], "mismatches": [], "dest": str(dest)}
    assert run.result["summary"] == {"total": 2, "matched": 2, "mismatched": 0, "errors": 0}
    entries = json.loads(dest.read_text())["edge_certs"]
    assert [(e["hostname"], e["fingerprint_sha256"], e["matches"]) for e in entries] == [(h, i.fingerprint_sha256, True) for h, i in issued.items()]
    assert oct(dest.stat().st_mode & 0o777) == "0o600"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind


def test_dest_with_hostnames_keeps_only_the_entries_that_got_no_certificate(ansible, edge, ca, tmp_path):
    with_certs(edge, HOST, make_leaf(ca, [HOST]))
    dest = tmp_path / "edge-certs.json"
    run = ansible.run_module("edge_cert_info", probe_args(edge, [HOST, "unknown.example.net"], key_types=["ecdsa"], dest=str(dest)))
    assert not run.failed, run.output  # nothing expected: a handshake error is reported, not a failure
    assert [(e["hostname"], e["fingerprint_sha256"]) for e in run.result["edge_certs"]] == [("unknown.example.net", None)]
    assert run.result["summary"] == {"total": 2, "matched": 0, "mismatched": 0, "errors": 1}
    assert len(json.loads(dest.read_text())["edge_certs"]) == 2


def test_dest_failure_names_the_first_20_mismatches_and_how_many_more(ansible, edge, ca, tmp_path):
    names = ["stale%02d.example.com" % n for n in range(25)]
    for hostname in names:
        with_certs(edge, hostname, make_leaf(ca, [hostname]))
    dest = tmp_path / "edge-certs.json"
    wanted = make_leaf(ca, ["*.example.com"])  # what none of them serves
    run = ansible.run_module("edge_cert_info", file_args(edge, targets(tmp_path, [switched(h, wanted) for h in names]), dest=str(dest)))
    assert run.failed
    assert run.msg.startswith("The edge does not serve the expected certificate for 25 of 25 entries: stale00.example.com (ecdsa): served")
    assert "stale19.example.com (ecdsa)" in run.msg
    assert "stale20.example.com" not in run.msg
    assert run.msg.endswith("; and 5 more (see %s)" % dest)
    assert len(run.result["mismatches"]) == 20
    assert [e["hostname"] for e in run.result["edge_certs"]] == names[:20]
    assert run.result["summary"] == {"total": 25, "matched": 0, "mismatched": 25, "errors": 0}
    assert [e["matches"] for e in json.loads(dest.read_text())["edge_certs"]] == [False] * 25  # the file holds them all


def test_dest_is_written_in_check_mode_too(ansible, edge, ca, ca_file, tmp_path):
    issued = make_leaf(ca, [HOST])
    with_certs(edge, HOST, issued)
    dest = tmp_path / "edge-certs.json"
    run = ansible.run_module("edge_cert_info", file_args(edge, targets(tmp_path, [switched(HOST, issued)]), dest=str(dest), ca_path=ca_file), check=True)
    assert not run.failed, run.output
    assert not run.changed, run.output
    assert run.result["summary"]["matched"] == 1
    assert [e["fingerprint_sha256"] for e in json.loads(dest.read_text())["edge_certs"]] == [issued.fingerprint_sha256]


def test_dest_in_a_missing_directory_fails_before_any_probe(ansible, emulator, counter, tmp_path):
    path = targets(tmp_path, [switched(HOST, make_leaf(make_ca("Any"), [HOST]))])
    run = ansible.run_module("edge_cert_info", {"targets_file": path, "address": "127.0.0.1", "port": counter.port, "dest": str(tmp_path / "no" / "edge.json")})
    assert run.failed, run.output
    assert "dest: cannot write" in run.msg
    assert "does not exist" in run.msg
    assert counter.count == 0
