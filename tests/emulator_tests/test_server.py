"""Routing, envelope, ids, keep-alive, journal, counts, admin API, seeding and the command line."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from emulator import Emulator

from .conftest import Api, codes

TESTS = Path(__file__).resolve().parents[1]


def test_envelope_and_result_info_on_lists(api):
    body = api.get("zones")
    assert body["success"] is True and body["errors"] == [] and body["messages"] == []
    assert body["result_info"] == {"page": 1, "per_page": 20, "count": 1, "total_count": 1, "total_pages": 1}
    single = api.get(api.zone())
    assert "result_info" not in single and single["result"]["name"] == "example.com"


def test_api_lives_under_client_v4_only(emulator):
    response = requests.get("http://127.0.0.1:%d/zones" % emulator.port, headers={"Authorization": "Bearer " + emulator.token}, timeout=5)
    assert response.status_code == 404 and codes(response.json()) == [7000]


def test_unknown_route_wrong_method_and_overlong_id(api):
    assert codes(api.get(api.zone("nothing_here"), expect=400)) == [7000]
    assert codes(api.call("POST", api.zone("ssl/certificate_packs/quota"), expect=405, json={}))[0] == 7001
    assert codes(api.get(api.zone("custom_hostnames/" + "a" * 33), expect=400)) == [7003, 7000]


def test_unknown_zone_and_object_are_404(api):
    assert codes(api.get("zones/" + "0" * 32, expect=404)) == [1001]
    assert api.get(api.zone("custom_hostnames/" + "0" * 32), expect=404)["success"] is False


def test_malformed_json_is_refused(api):
    body = api.call("POST", api.zone("custom_hostnames"), expect=400, data="{nope", headers={"Content-Type": "application/json"})
    assert codes(body) == [6007]


def test_ids_are_32_lowercase_hex(api, leaf):
    cert = leaf(["app.example.com"])
    created = api.post(api.zone("custom_hostnames"), {"hostname": "app.example.com", "ssl": {"custom_certificate": cert.cert_pem, "custom_key": cert.key_pem}})
    result = created["result"]
    ids = [result["id"], result["ssl"]["id"], result["ssl"]["certificates"][0]["id"]]
    ids.append(api.post(api.zone("origin_tls_client_auth/hostnames/certificates"), {"certificate": cert.cert_pem, "private_key": cert.key_pem})["result"]["id"])
    ids.append(api.post(api.zone("custom_certificates"), {"certificate": cert.cert_pem, "private_key": cert.key_pem})["result"]["id"])
    order = {"type": "advanced", "hosts": ["example.com"], "validation_method": "txt", "validity_days": 90, "certificate_authority": "google"}
    ids.append(api.post(api.zone("ssl/certificate_packs/order"), order)["result"]["id"])
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids


def test_keep_alive_answers_several_requests_on_one_connection(emulator):
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    for method in ("GET", "POST", "GET"):
        body = json.dumps({"hostname": "a.example.com"}) if method == "POST" else None
        connection.request(method, "/client/v4/zones/%s/custom_hostnames" % emulator.zone_id, body=body, headers={"Authorization": "Bearer " + emulator.token})
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["success"] is True
        assert response.getheader("Connection") != "close"
    connection.close()


def test_journal_records_each_request_without_secrets(emulator, api, leaf):
    cert = leaf(["app.example.com"])
    api.post(api.zone("custom_hostnames"), {"hostname": "app.example.com", "ssl": {"custom_certificate": cert.cert_pem, "custom_key": cert.key_pem}})
    api.post(api.zone("custom_certificates"), {"certificate": cert.cert_pem, "private_key": cert.key_pem})
    api.get(api.zone("custom_hostnames"), hostname="app.example.com")
    bad = Api(emulator, {"Authorization": "Bearer wrong-secret-token"})
    bad.get("zones", expect=403)
    entries = emulator.journal()
    assert [e["method"] for e in entries] == ["POST", "POST", "GET", "GET"]
    first, listing = entries[0], entries[2]
    assert first["path"] == "/client/v4/%s" % api.zone("custom_hostnames") and first["status"] == 200
    assert first["credential"] == "token" and first["auth_scheme"] == "token" and first["user_agent"] == "emulator-tests"
    assert first["request_body"]["ssl"]["custom_key"] == "<redacted>" and first["request_body"]["hostname"] == "app.example.com"
    assert first["response_body"]["result"]["hostname"] == "app.example.com" and first["time"].endswith("Z")
    assert entries[1]["request_body"]["private_key"] == "<redacted>"
    assert listing["query"] == {"hostname": "app.example.com"} and listing["query_string"] == "hostname=app.example.com"
    assert entries[3]["status"] == 403 and entries[3]["credential"] is None
    dumped = json.dumps(entries)
    assert "PRIVATE KEY" not in dumped and cert.key_pem.splitlines()[1] not in dumped
    for secret in (emulator.token, "wrong-secret-token", emulator.api_key):
        assert secret not in dumped


def test_journal_redacts_keys_in_bodies_that_are_not_json(emulator, api, leaf):
    cert = leaf()
    api.call("POST", api.zone("custom_certificates"), expect=400, data="certificate=x&private_key=" + cert.key_pem)
    assert "PRIVATE KEY" not in json.dumps(emulator.journal())


def test_journal_without_bodies(emulator_factory):
    emu = emulator_factory(journal_bodies=False)
    Api(emu).get("zones")
    assert "response_body" not in emu.journal()[0]


def test_counts_and_reset(emulator, api):
    api.get("zones")
    api.post(api.zone("custom_hostnames"), {"hostname": "a.example.com"})
    api.delete(api.zone("custom_hostnames/" + "0" * 32), expect=404)
    assert emulator.counts() == {"reads": 1, "writes": 2}
    emulator.reset_journal()
    assert emulator.counts() == {"reads": 0, "writes": 0} and emulator.journal() == []


def test_admin_api(emulator, api):
    admin = emulator.admin_url
    api.get("zones")
    assert requests.get(admin + "/counts", timeout=5).json() == {"reads": 1, "writes": 0}
    assert [e["method"] for e in requests.get(admin + "/journal", timeout=5).json()] == ["GET"]
    assert requests.delete(admin + "/journal", timeout=5).json() == {"reset": True}
    assert emulator.journal() == []
    seed = {"zones": [{"name": "other.test", "id": "1" * 32, "custom_hostnames": [{"hostname": "x.other.test"}]}]}
    assert requests.put(admin + "/state", json=seed, timeout=5).status_code == 200
    dumped = requests.get(admin + "/state", timeout=5).json()
    assert dumped["zones"][0]["custom_hostnames"][0]["hostname"] == "x.other.test"
    rule = requests.post(admin + "/faults", json={"kind": "503", "path": "zones$"}, timeout=5).json()
    assert rule["kind"] == "503" and rule["count"] == 1
    assert api.get("zones", expect=503)
    assert requests.delete(admin + "/faults", timeout=5).json() == {"cleared": True}
    assert requests.post(admin + "/rate-limit", json={"limit": 5, "window": 2}, timeout=5).json() == {"limit": 5, "window": 2.0}
    assert requests.post(admin + "/credentials", json={"token": "added-token", "read_only": True}, timeout=5).json()["id"]
    Api(emulator, {"Authorization": "Bearer added-token"}).get("zones")
    assert requests.post(admin + "/delay", json={"delay": 0.5}, timeout=5).json() == {"delay": 0.5}
    assert set(requests.get(admin + "/history", timeout=5).json()) == {"segments", "violations"}
    assert requests.get(admin + "/nothing", timeout=5).status_code == 404
    assert requests.post(admin + "/faults", json={"kind": "418"}, timeout=5).status_code == 400
    assert emulator.counts()["reads"] == 2  # admin calls are not journaled


def test_seed_from_yaml_and_json_files_and_dump_round_trip(tmp_path, leaf):
    cert = leaf(["shop.example.net"])
    seed = {
        "zones": [
            {
                "name": "example.net",
                "id": "2" * 32,
                "custom_hostnames": [{"hostname": "shop.example.net", "certificates": [{"certificate": cert.chain_pem, "private_key": cert.key_pem}]}],
                "hostname_client_certs": [{"id": "3" * 32, "certificate": cert.cert_pem}],
                "hostname_associations": [{"hostname": "shop.example.net", "cert_id": "3" * 32}],
                "cert_packs": [{"hosts": ["example.net"], "status": "validation_timed_out"}],
                "custom_certificates": [{"certificate": cert.cert_pem, "type": "sni_custom", "priority": 3}],
            }
        ]
    }
    yaml_path = tmp_path / "seed.yml"
    yaml_path.write_text(__import__("yaml").safe_dump(seed))
    json_path = tmp_path / "seed.json"
    json_path.write_text(json.dumps(seed))
    for path in (yaml_path, str(json_path)):
        emu = Emulator(seed=path)
        dumped = emu.dump_state()
        zone = dumped["zones"][0]
        assert zone["id"] == "2" * 32 and zone["custom_hostnames"][0]["ssl"]["status"] == "active"
        assert zone["cert_packs"][0]["status"] == "validation_timed_out"
        assert zone["hostname_associations"][0]["cert_id"] == "3" * 32
        assert zone["custom_certificates"][0]["priority"] == 3
        again = Emulator(seed=dumped)
        assert again.dump_state()["zones"] == dumped["zones"]


def test_minted_seed_certificates_and_demo(emulator_factory):
    emu = emulator_factory(seed="demo", delay=0)
    api = Api(emu)
    hostnames = api.get(api.zone("custom_hostnames"), per_page=50)["result"]
    names = {h["hostname"] for h in hostnames}
    assert {"app.example.com", "shop.example.com", "legacy.example.com", "shop01.tenant.test", "shop21.tenant.test"} <= names and len(names) == 24
    app = next(h for h in hostnames if h["hostname"] == "app.example.com")
    assert app["ssl"]["issuer"] == "Certops Emulator" and app["ssl"]["hosts"] == ["app.example.com"]
    pair = next(h for h in hostnames if h["hostname"] == "shop19.tenant.test")
    kinds = {c.id: c.info.key_type for h in emu.state.zones[emu.zone_id].custom_hostnames.values() for c in h.certs}  # answers carry none
    assert sorted(kinds[c["id"]] for c in pair["ssl"]["certificates"]) == ["ecdsa", "rsa"]
    assert api.get(api.zone("ssl/certificate_packs"), status="all")["result_info"]["total_count"] == 3
    assert len(api.get(api.zone("origin_tls_client_auth/hostnames/certificates"))["result"]) == 3
    assert [c["priority"] for c in api.get(api.zone("custom_certificates"))["result"]] == [1, 2]
    assert emu.history.violations() == []


def run_command_line(extra_env, admin_path=None):
    """Start `python -m emulator` on a free port; return (banner, GET /zones answer, or then GET /__emulator/<admin_path>'s)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(TESTS), EMULATOR_PORT=str(port), **extra_env)
    proc = subprocess.Popen([sys.executable, "-m", "emulator"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = "".join(proc.stdout.readline() for _line in range(6))
        deadline = time.time() + 10
        while True:
            try:
                response = requests.get(
                    "http://127.0.0.1:%d/client/v4/zones" % port,
                    headers={"Authorization": "Bearer " + extra_env.get("EMULATOR_TOKEN", "certops-emulator-token")},
                    timeout=2,
                )
                if admin_path:
                    response = requests.get("http://127.0.0.1:%d/__emulator/%s" % (port, admin_path), timeout=2)
                return banner, response
            except requests.ConnectionError:
                assert time.time() < deadline, banner
                time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_command_line_serves_the_demo_zone_by_default():
    banner, response = run_command_line({})
    assert "/client/v4" in banner and "certops-emulator-token" in banner and "status steps last 3.0 s" in banner
    assert "X-Auth-User-Service-Key v1.0-certops-emulator-origin-ca-key" in banner
    assert response.json()["result"][0]["id"] == "023e105f4ecef8ad9ca31a8372d0c353"


def test_command_line_honours_token_state_and_delay(tmp_path):
    seed = tmp_path / "seed.yml"
    seed.write_text("zones:\n  - name: cli.test\n    id: " + "c" * 32 + "\n")
    banner, response = run_command_line({"EMULATOR_TOKEN": "cli-token", "EMULATOR_STATE": str(seed), "EMULATOR_DELAY": "0.5"})
    assert "cli-token" in banner and "status steps last 0.5 s" in banner
    assert [z["name"] for z in response.json()["result"]] == ["cli.test"]


def test_command_line_journal_without_bodies():
    _banner, journal = run_command_line({"EMULATOR_JOURNAL_BODIES": "0"}, "journal")
    assert [e["path"] for e in journal.json()] == ["/client/v4/zones"] and "response_body" not in journal.json()[0]
    _banner, journal = run_command_line({}, "journal")
    assert journal.json()[0]["response_body"]["success"] is True


def test_admin_adds_many_custom_hostnames_serving_one_certificate(emulator, api, leaf):
    cert = leaf(["*.bulk.test"], days=10)
    body = {"hostname": "h%03d.bulk.test", "count": 120, "start": 5, "certificate": cert.chain_pem, "ssl": {"method": "txt"}}
    added = requests.post(emulator.admin_url + "/custom-hostnames", json=body, timeout=10).json()
    assert added == {"zone_id": emulator.zone_id, "added": 120}
    listed = api.get(api.zone("custom_hostnames"), per_page=50, page=3)
    assert listed["result_info"]["total_count"] == 120
    assert {h["hostname"] for h in listed["result"]} <= {"h%03d.bulk.test" % i for i in range(5, 125)}
    first = listed["result"][0]["ssl"]
    assert first["status"] == "active" and first["method"] == "txt" and first["certificates"][0]["fingerprint_sha256"] == cert.fingerprint_sha256
    assert emulator.history.served("h124.bulk.test").fingerprint_sha256 == cert.fingerprint_sha256
    for bad in ({"hostname": "h.bulk.test", "count": 1, "certificate": cert.chain_pem}, dict(body, certificate="not a PEM"), {"count": 1}):
        assert requests.post(emulator.admin_url + "/custom-hostnames", json=bad, timeout=10).status_code == 400


def test_admin_journal_brief(emulator, api):
    api.get("zones")
    api.get("zones/" + "0" * 32, expect=404)
    brief = requests.get(emulator.admin_url + "/journal/brief", timeout=5).json()
    assert [(e["seq"], e["method"], e["path"], e["status"], e["fault"]) for e in brief] == [
        (1, "GET", "/client/v4/zones", 200, None),
        (2, "GET", "/client/v4/zones/" + "0" * 32, 404, None),
    ]
    assert set(brief[0]) == {"seq", "time", "method", "path", "status", "fault", "duration_ms"}


def test_concurrent_requests_are_safe(emulator):
    def create(index):
        return Api(emulator).post(Api(emulator).zone("custom_hostnames"), {"hostname": "h%d.example.com" % index})["result"]["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create, range(40)))
    assert len(set(ids)) == 40 and emulator.counts()["writes"] == 40
    assert Api(emulator).get(Api(emulator).zone("custom_hostnames"), per_page=50)["result_info"]["total_count"] == 40


@pytest.mark.emulator(delay=0)
def test_marker_passes_arguments_to_the_fixture(emulator):
    assert emulator.delay == 0
