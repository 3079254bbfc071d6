"""edge_cert_info through ansible-playbook against the emulator's TLS edge (tests/emulator/edge.py).

The 1,000-hostname run is a CI leg after `make test` (`make edge-scale`); `make test` skips it.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests

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
