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
    assert not run.failed and not run.changed, run.output
    entries = by_key_type(run.result)
    for key_type, issued in (("rsa", rsa), ("ecdsa", ecdsa)):
        entry = entries[key_type]
        assert entry["fingerprint_sha256"] == issued.fingerprint_sha256 == edge.history.served(HOST, key_type).fingerprint_sha256
        assert entry["key_type"] == key_type and entry["key_type_selected"] is True and entry["tls_version"] == "TLSv1.2"
        assert entry["serial_number"] == issued.serial_number and entry["sans"] == [HOST] and entry["subject"] == "CN=" + HOST
        assert entry["issuer"] == "Edge Tests CA" and 88 <= entry["days_remaining"] <= 90 and entry["not_after"].endswith("Z")
        assert [c["fingerprint_sha256"] for c in entry["chain"]] == [issued.fingerprint_sha256, ca.fingerprint_sha256]
        assert entry["validates"] is True and entry["validation_error"] is None and entry["error"] is None and entry["matches"] is None
    assert "PRIVATE KEY" not in run.output


def test_during_pending_deployment_the_old_certificate_is_served_then_the_new(ansible, emulator_factory, ca, tmp_path):
    emu = emulator_factory(delay=8)
    emu.start_edge()
    old, new = make_leaf(ca, [HOST]), make_leaf(ca, [HOST])
    created = with_certs(emu, HOST, old)
    ansible.emulator = emu
    body = {"ssl": {"type": "dv", "custom_certificate": new.chain_pem, "custom_key": new.key_pem}}
    headers = {"Authorization": "Bearer " + emu.token}
    answer = requests.patch("%s/zones/%s/custom_hostnames/%s" % (emu.url, emu.zone_id, created.id), json=body, headers=headers, timeout=10).json()
    assert answer["result"]["ssl"]["status"] == "pending_deployment"
    during = ansible.run_module("edge_cert_info", probe_args(emu, [HOST], key_types=["ecdsa"], expect={HOST: old.fingerprint_sha256}))
    assert not during.failed and during.result["edge_certs"][0]["matches"] is True, during.output
    while emu.history.served(HOST, "ecdsa").fingerprint_sha256 != new.fingerprint_sha256:
        time.sleep(0.2)
    after = ansible.run_module("edge_cert_info", probe_args(emu, [HOST], key_types=["ecdsa"], expect={HOST: {"ecdsa": new.fingerprint_sha256.upper()}}))
    assert not after.failed and after.result["edge_certs"][0]["fingerprint_sha256"] == new.fingerprint_sha256, after.output


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
    assert unknown["hostname"] == "unknown.example.net" and "UNRECOGNIZED_NAME" in unknown["error"] and unknown["fingerprint_sha256"] is None
    assert known["error"] is None and known["fingerprint_sha256"] == issued.fingerprint_sha256 and known["validates"] is True


def test_an_unknown_name_in_expect_fails(ansible, edge):
    run = ansible.run_module("edge_cert_info", probe_args(edge, ["unknown.example.net"], expect={"unknown.example.net": "ab" * 32}))
    assert run.failed and "unknown.example.net (rsa): TLS handshake failed" in run.msg and "unknown.example.net (ecdsa)" in run.msg


def test_validation_against_ca_path_and_the_system_store(ansible, edge, ca, tmp_path):
    issued = make_leaf(ca, [HOST])
    with_certs(edge, HOST, issued)
    other = tmp_path / "other.pem"
    other.write_text(make_ca("Someone Else").cert_pem)
    for ca_path in (str(other), None):
        args = probe_args(edge, [HOST], key_types=["ecdsa"], **({"ca_path": ca_path} if ca_path else {}))
        entry = ansible.run_module("edge_cert_info", args).result["edge_certs"][0]
        assert entry["validates"] is False and entry["validation_error"] in (
            "self-signed certificate in certificate chain",
            "unable to get local issuer certificate",
        )
        assert entry["fingerprint_sha256"] == issued.fingerprint_sha256  # read anyway


def test_a_managed_certificate_validates_for_its_name_only(ansible, edge, ca_file):
    edge.state.add_custom_hostname(edge.zone_id, "shop.example.com", ssl={"status": "active"})
    run = ansible.run_module("edge_cert_info", probe_args(edge, ["shop.example.com"], ca_path=ca_file))
    entries = by_key_type(run.result)
    assert entries["rsa"]["key_type"] == "rsa" and entries["ecdsa"]["key_type"] == "ecdsa" and entries["rsa"]["validates"] is True
    assert entries["rsa"]["issuer"] == "Certops Emulator"


def test_bad_inputs_fail_before_any_connection(ansible, edge, tmp_path):
    cases = [
        ({"expect": {"other.example.com": "ab" * 32}}, "expect: other.example.com is not one of hostnames"),
        ({"expect": {HOST: "not-a-fingerprint"}}, "is not a SHA-256 fingerprint"),
        ({"expect": {HOST: {"dsa": "ab" * 32}}}, "must map to a fingerprint"),
        ({"workers": 0}, "workers must be from 1 to 256"),
        ({"workers": 100000}, "workers must be from 1 to 256"),
        ({"ca_path": str(tmp_path / "missing.pem")}, "neither a file nor a directory"),
    ]
    for extra, message in cases:
        run = ansible.run_module("edge_cert_info", probe_args(edge, [HOST], **extra))
        assert run.failed and message in run.msg, (extra, run.msg)
    assert ansible.run_module("edge_cert_info", {"hostnames": ["bad host"]}).failed


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
    entry = run.result["edge_certs"][0]
    assert not run.failed and entry["key_type_selected"] is False and entry["tls_version"] == "TLSv1.3", run.output
    assert entry["fingerprint_sha256"] == issued.fingerprint_sha256 and entry["key_type"] == "ecdsa" and entry["requested_key_type"] == "rsa"


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
    assert len(run.result["edge_certs"]) == 1000 and all(e["matches"] and e["validates"] for e in run.result["edge_certs"])
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


def test_targets_file_probes_each_switched_hostname_for_the_key_types_of_its_new_certificates(ansible, edge, ca, rsa_key, tmp_path):
    rsa, ecdsa, single = make_leaf(ca, [HOST], key_type="rsa", key=rsa_key), make_leaf(ca, [HOST]), make_leaf(ca, ["one.example.com"])
    with_certs(edge, HOST, rsa, ecdsa)
    with_certs(edge, "one.example.com", single)
    run = ansible.run_module("edge_cert_info", file_args(edge, targets(tmp_path, [switched(HOST, rsa, ecdsa), switched("one.example.com", single)])))
    assert not run.failed and not run.changed, run.output
    probed = [(e["hostname"], e["requested_key_type"], e["fingerprint_sha256"], e["matches"]) for e in run.result["edge_certs"]]
    assert probed == [
        (HOST, "rsa", rsa.fingerprint_sha256, True),
        (HOST, "ecdsa", ecdsa.fingerprint_sha256, True),
        ("one.example.com", "ecdsa", single.fingerprint_sha256, True),  # its new certificate is ECDSA only: no RSA handshake
    ]
    assert run.result["summary"] == {"total": 3, "matched": 3, "mismatched": 0, "errors": 0} and run.result["mismatches"] == []


def test_targets_file_fails_naming_a_hostname_that_still_serves_its_old_certificate(ansible, edge, ca, tmp_path):
    old, new, fine = make_leaf(ca, ["stale.example.com"]), make_leaf(ca, ["stale.example.com"]), make_leaf(ca, ["good.example.com"])
    with_certs(edge, "stale.example.com", old)
    with_certs(edge, "good.example.com", fine)
    path = targets(tmp_path, [switched("good.example.com", fine), switched("stale.example.com", new)])
    run = ansible.run_module("edge_cert_info", file_args(edge, path))
    assert run.failed
    assert "for 1 of 2 entries: stale.example.com (ecdsa): served %s, expected %s" % (old.fingerprint_sha256, new.fingerprint_sha256) in run.msg
    assert "good.example.com" not in run.msg and run.result["summary"] == {"total": 2, "matched": 1, "mismatched": 1, "errors": 0}


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
    assert run.failed and message in run.msg and "targets_file" in run.msg, run.msg
    assert "summary" not in run.result and counter.count == 0 and "Traceback" not in run.output


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
    assert run.failed and message in run.msg, run.msg


def test_dest_holds_every_entry_and_the_result_only_counts(ansible, edge, ca, tmp_path):
    issued = {h: make_leaf(ca, [h]) for h in ("a.example.com", "b.example.com")}
    for hostname, leaf in issued.items():
        with_certs(edge, hostname, leaf)
    dest = tmp_path / "edge-certs.json"
    run = ansible.run_module("edge_cert_info", file_args(edge, targets(tmp_path, [switched(h, i) for h, i in issued.items()]), dest=str(dest)))
    assert not run.failed and not run.changed, run.output
    assert run.result["edge_certs"] == [] and run.result["mismatches"] == [] and run.result["dest"] == str(dest)
    assert run.result["summary"] == {"total": 2, "matched": 2, "mismatched": 0, "errors": 0}
    entries = json.loads(dest.read_text())["edge_certs"]
    assert [(e["hostname"], e["fingerprint_sha256"], e["matches"]) for e in entries] == [(h, i.fingerprint_sha256, True) for h, i in issued.items()]
    assert oct(dest.stat().st_mode & 0o777) == "0o600" and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


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
    assert "stale19.example.com (ecdsa)" in run.msg and "stale20.example.com" not in run.msg
    assert run.msg.endswith("; and 5 more (see %s)" % dest)
    assert len(run.result["mismatches"]) == 20 and [e["hostname"] for e in run.result["edge_certs"]] == names[:20]
    assert run.result["summary"] == {"total": 25, "matched": 0, "mismatched": 25, "errors": 0}
    assert [e["matches"] for e in json.loads(dest.read_text())["edge_certs"]] == [False] * 25  # the file holds them all


def test_dest_is_written_in_check_mode_too(ansible, edge, ca, tmp_path):
    issued = make_leaf(ca, [HOST])
    with_certs(edge, HOST, issued)
    dest = tmp_path / "edge-certs.json"
    run = ansible.run_module("edge_cert_info", file_args(edge, targets(tmp_path, [switched(HOST, issued)]), dest=str(dest)), check=True)
    assert not run.failed and not run.changed, run.output
    assert run.result["summary"]["matched"] == 1
    assert [e["fingerprint_sha256"] for e in json.loads(dest.read_text())["edge_certs"]] == [issued.fingerprint_sha256]


def test_dest_in_a_missing_directory_fails_before_any_probe(ansible, emulator, counter, tmp_path):
    path = targets(tmp_path, [switched(HOST, make_leaf(make_ca("Any"), [HOST]))])
    run = ansible.run_module("edge_cert_info", {"targets_file": path, "address": "127.0.0.1", "port": counter.port, "dest": str(tmp_path / "no" / "edge.json")})
    assert run.failed and "dest: cannot write" in run.msg and "does not exist" in run.msg, run.msg
    assert counter.count == 0
