"""The TLS edge (edge.py): each SNI answered from `history.served()`, per key type by what the client offers."""

from __future__ import annotations

import hashlib
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import pytest
import requests

from real_parts import free_port

from .conftest import Api, watch

HOST = "app.example.com"
ECDSA_SUITES = "aECDSA"  # OpenSSL cipher strings: only suites an ECDSA (or RSA) certificate can serve
RSA_SUITES = "aRSA"


def handshake(port: int, hostname: Optional[str], suites: Optional[str] = None, ca_pem: Optional[str] = None, tls12: bool = False) -> Tuple[str, str]:
    """(TLS version, SHA-256 fingerprint of the leaf) the edge serves; suites pins TLS 1.2 and those cipher suites."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_pem:
        context.load_verify_locations(cadata=ca_pem)
    else:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    if suites or tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    if suites:
        context.set_ciphers(suites)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=hostname) as tls:
            return tls.version(), hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def fingerprint(port: int, hostname: str, suites: Optional[str] = None) -> str:
    return handshake(port, hostname, suites)[1]


@pytest.fixture
def edge(emulator):
    emulator.start_edge()
    return emulator


def bundle_host(emu, leaf, hostname=HOST):
    rsa, ecdsa = leaf([hostname], key_type="rsa"), leaf([hostname])
    certificates = [{"certificate": c.chain_pem, "private_key": c.key_pem} for c in (rsa, ecdsa)]
    created = emu.state.add_custom_hostname(emu.zone_id, hostname, certificates=certificates)
    return created, rsa, ecdsa


def test_a_bundle_serves_each_key_type_to_the_client_that_offers_it(edge, leaf):
    _created, rsa, ecdsa = bundle_host(edge, leaf)
    assert fingerprint(edge.edge_port, HOST, ECDSA_SUITES) == ecdsa.fingerprint_sha256 == edge.history.served(HOST, "ecdsa").fingerprint_sha256
    assert fingerprint(edge.edge_port, HOST, RSA_SUITES) == rsa.fingerprint_sha256 == edge.history.served(HOST, "rsa").fingerprint_sha256
    assert fingerprint(edge.edge_port, HOST.upper() + ".") == ecdsa.fingerprint_sha256  # TLS 1.3 clients offer both: OpenSSL takes ECDSA


def test_the_old_certificate_is_served_while_the_new_one_is_pending_deployment(emulator_factory, leaf):
    emu = emulator_factory(delay=0.6)
    emu.start_edge()
    old, new = leaf(), leaf()
    created = emu.state.add_custom_hostname(emu.zone_id, HOST, certificates=[{"certificate": old.chain_pem, "private_key": old.key_pem}])
    api = Api(emu)
    api.patch(api.zone("custom_hostnames/" + created.id), {"ssl": {"type": "dv", "custom_certificate": new.chain_pem, "custom_key": new.key_pem}})
    seen = watch(lambda: fingerprint(emu.edge_port, HOST, ECDSA_SUITES), lambda fp: fp == new.fingerprint_sha256, timeout=5)
    assert seen == [old.fingerprint_sha256, new.fingerprint_sha256]


def test_a_hostname_without_a_custom_certificate_gets_a_managed_one_from_the_emulator_ca(edge):
    edge.state.add_custom_hostname(edge.zone_id, "shop.example.com", ssl={"status": "active"})
    for suites in (ECDSA_SUITES, RSA_SUITES):
        version, served = handshake(edge.edge_port, "shop.example.com", suites, ca_pem=edge.edge.ca_pem)  # verifies chain and name
        assert version == "TLSv1.2" and served
    assert fingerprint(edge.edge_port, "shop.example.com", ECDSA_SUITES) != fingerprint(edge.edge_port, "shop.example.com", RSA_SUITES)
    assert edge.history.served("shop.example.com").source == "managed"


def test_zone_custom_certificates_follow_the_priority_rules(edge, leaf):
    first_sni, second_sni, legacy = leaf(["*.example.com"]), leaf(["*.example.com"]), leaf(["*.example.com"])
    for cert, kind, priority in ((second_sni, "sni_custom", 2), (first_sni, "sni_custom", 1)):
        edge.state.add_custom_certificate(edge.zone_id, cert.chain_pem, private_key=cert.key_pem, type=kind, priority=priority)
    assert fingerprint(edge.edge_port, "www.example.com") == first_sni.fingerprint_sha256  # the lower number first ("Certificate and hostname priority")
    edge.state.add_custom_certificate(edge.zone_id, legacy.chain_pem, private_key=legacy.key_pem, type="legacy_custom", priority=30)
    assert fingerprint(edge.edge_port, "www.example.com") == legacy.fingerprint_sha256  # legacy_custom before sni_custom
    assert fingerprint(edge.edge_port, "www.example.com") == edge.history.served("www.example.com", "ecdsa").fingerprint_sha256


@pytest.mark.parametrize("hostname", ["unknown.test", "deep.www.example.com", None])
def test_an_unknown_name_or_no_sni_fails_the_handshake(edge, leaf, hostname):
    bundle_host(edge, leaf)
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        handshake(edge.edge_port, hostname)
    assert fingerprint(edge.edge_port, HOST)  # the edge still answers the others


def test_a_certificate_seeded_without_its_key_fails_the_handshake(edge, leaf):
    cert = leaf()
    edge.state.add_custom_hostname(edge.zone_id, HOST, certificates=[{"certificate": cert.chain_pem}])
    with pytest.raises(ssl.SSLError):
        handshake(edge.edge_port, HOST)


def test_hold_keeps_serving_the_old_certificate_until_released(emulator, leaf):
    emulator.delay = 0
    emulator.start_edge()
    old, new = leaf(), leaf()
    created = emulator.state.add_custom_hostname(emulator.zone_id, HOST, certificates=[{"certificate": old.chain_pem, "private_key": old.key_pem}])
    api = Api(emulator)
    assert requests.post(emulator.admin_url + "/edge", json={"hold": [HOST]}, timeout=5).json()["held"] == [HOST]
    api.patch(api.zone("custom_hostnames/" + created.id), {"ssl": {"type": "dv", "custom_certificate": new.chain_pem, "custom_key": new.key_pem}})
    assert emulator.history.served(HOST).fingerprint_sha256 == new.fingerprint_sha256
    assert fingerprint(emulator.edge_port, HOST) == old.fingerprint_sha256
    assert requests.post(emulator.admin_url + "/edge", json={"release": None}, timeout=5).json()["held"] == []
    assert fingerprint(emulator.edge_port, HOST) == new.fingerprint_sha256
    emulator.edge_hold([HOST])
    assert emulator.edge.held() and emulator.edge_release([HOST]) == {}
    assert requests.post(emulator.admin_url + "/edge", json={}, timeout=5).status_code == 400


def test_private_keys_stay_in_memory_and_out_of_every_answer(edge, leaf):
    created, rsa, ecdsa = bundle_host(edge, leaf)
    api = Api(edge)
    new = leaf()
    api.patch(
        api.zone("custom_hostnames/" + created.id),
        {"ssl": {"type": "dv", "bundle_method": "force", "custom_cert_bundle": [{"custom_certificate": new.chain_pem, "custom_key": new.key_pem}]}},
    )
    upload = leaf(["www.example.com"])
    api.post(api.zone("custom_certificates"), {"certificate": upload.chain_pem, "private_key": upload.key_pem})
    watch(lambda: edge.history.served("www.example.com").source, lambda source: source == "zone_custom")  # pending is over
    assert fingerprint(edge.edge_port, "www.example.com") == upload.fingerprint_sha256
    watch(lambda: fingerprint(edge.edge_port, HOST, ECDSA_SUITES), lambda served: served == new.fingerprint_sha256)
    key_dir = Path(edge.edge.key_dir)
    assert oct(key_dir.stat().st_mode & 0o777) == "0o700" and not list(key_dir.iterdir())
    answers = [requests.get(edge.admin_url + "/" + path, timeout=5).text for path in ("state", "journal", "edge", "history")]
    answers.append(api.get(api.zone("custom_hostnames"), expect=200).__repr__())
    for text in answers:
        assert "PRIVATE KEY" not in text
        for secret in (rsa.key_pem, ecdsa.key_pem, new.key_pem, upload.key_pem):
            assert secret.splitlines()[1] not in text
    edge.stop()
    assert not key_dir.exists()


def test_python_m_emulator_opens_the_edge_when_emulator_edge_port_is_set():
    api_port, edge_port = free_port(), free_port()
    env = dict(os.environ, EMULATOR_PORT=str(api_port), EMULATOR_EDGE_PORT=str(edge_port), EMULATOR_DELAY="0", PYTHONPATH=str(Path(__file__).parents[1]))
    process = subprocess.Popen([sys.executable, "-m", "emulator"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = "".join(process.stdout.readline() for _line in range(6))
        assert "TLS edge on 127.0.0.1:%d" % edge_port in banner, banner
        deadline = time.monotonic() + 10
        while True:  # the banner comes before the listeners
            try:
                ca_pem = requests.get("http://127.0.0.1:%d/__emulator/edge" % api_port, timeout=5).json()["ca"]
                assert handshake(edge_port, "shop.example.com", ca_pem=ca_pem)[0] == "TLSv1.3"  # the demo zone's managed hostname
                break
            except (ConnectionRefusedError, requests.ConnectionError):
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(timeout=10)
