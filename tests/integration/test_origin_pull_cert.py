"""origin_pull_cert and origin_pull_cert_info against the emulator (issue 34): zone-level authenticated origin pulls.

Each scenario asserts on the module result, the emulator's state read back, its request journal, and its history of
what the edge presented to the origin (never the setting on without an active certificate of the zone's own).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

from cryptography.x509.oid import ExtendedKeyUsageOID

from emulator.testcerts import make_ca, make_leaf

MOD = "certops.cloudflare.origin_pull_cert"
INFO = "certops.cloudflare.origin_pull_cert_info"
NAME = "origin-pull.example.com"


def writes(emulator: Any) -> List[Tuple[str, str]]:
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, "")) for e in emulator.journal() if e["method"] != "GET"]


def files(tmp_path: Path, leaf: Any, name: str) -> Dict[str, str]:
    cert, key = tmp_path / (name + ".pem"), tmp_path / (name + ".key")
    cert.write_text(leaf.cert_pem)
    key.write_text(leaf.key_pem)
    return {"certificate_path": str(cert), "private_key_path": str(key)}


def zone_certs(emulator: Any) -> Dict[str, Any]:
    zone = emulator.state.zones[emulator.zone_id]
    return dict(zone.zone_client_certs)


def test_upload_rerun_check_mode_diff_and_replacement_new_before_old(ansible, emulator, tmp_path):
    ca = make_ca("Origin Pull CA")
    first, second = make_leaf(ca, [NAME], usages=[ExtendedKeyUsageOID.CLIENT_AUTH]), make_leaf(ca, [NAME], days=200)
    args = dict(zone="example.com", **files(tmp_path, first, "first"))
    run = ansible.run_module(MOD, args, check=True, diff=True)
    assert run.changed and not run.failed, run.output
    assert run.result["diff"]["after"]["enabled"] is True and run.result["diff"]["before"]["enabled"] is False
    assert writes(emulator) == []

    run = ansible.run_module(MOD, args, diff=True)
    assert run.changed and not run.failed, run.output
    view = run.result["origin_pull_cert"]
    assert view["status"] == "active" and view["enabled"] is True and view["fingerprint_sha256"] == first.fingerprint_sha256
    assert writes(emulator) == [("POST", "origin_tls_client_auth"), ("PUT", "origin_tls_client_auth/settings")]
    upload = [e for e in emulator.journal() if e["method"] == "POST"][0]
    assert "PRIVATE KEY" not in json.dumps(upload)  # the journal never keeps the key

    emulator.reset_journal()
    for check in (False, True):
        again = ansible.run_module(MOD, args, check=check, diff=True)
        assert not again.changed and not again.failed, again.output
    assert writes(emulator) == []

    # Replacement: upload, wait active, then delete the old one; the setting never on without an active certificate.
    run = ansible.run_module(MOD, dict(zone="example.com", **files(tmp_path, second, "second")), diff=True)
    assert run.changed, run.output
    assert run.result["origin_pull_cert"]["replaced"] == [view["id"]]
    assert [m for m, _p in writes(emulator)] == ["POST", "DELETE"]
    assert zone_certs(emulator)[view["id"]].deleted_at is not None
    assert emulator.history.violations() == []
    assert [s["cert_id"] for s in emulator.history.segments(kind="zone_client")][-1] == run.result["origin_pull_cert"]["id"]
    assert emulator.history.served_client_cert("app.example.com").fingerprint_sha256 == second.fingerprint_sha256

    info = ansible.run_module(INFO, {"zone": "example.com"})
    assert info.result["enabled"] is True and [c["id"] for c in info.result["origin_pull_certs"]] == [run.result["origin_pull_cert"]["id"]]
    info = ansible.run_module(INFO, {"zone": "example.com", "expiring_within_days": 100})
    assert info.result["origin_pull_certs"] == []  # the one left ends in 200 days


def test_absent_refuses_to_leave_the_setting_on_without_a_certificate(ansible, emulator, tmp_path):
    leaf = make_leaf(make_ca("Origin Pull CA"), [NAME])
    paths = files(tmp_path, leaf, "only")
    assert ansible.run_module(MOD, dict(zone="example.com", **paths)).changed
    emulator.reset_journal()
    run = ansible.run_module(MOD, dict(zone="example.com", state="absent", certificate_path=paths["certificate_path"]))
    assert run.failed and "enabled=false" in run.msg and writes(emulator) == [], run.output
    run = ansible.run_module(MOD, dict(zone="example.com", state="absent", enabled=False, certificate_path=paths["certificate_path"]))
    assert run.changed, run.output
    assert [m for m, _p in writes(emulator)] == ["PUT", "DELETE"]
    assert emulator.history.violations() == []


def test_bad_inputs_fail_before_any_write(ansible, emulator, tmp_path):
    ca = make_ca("Origin Pull CA")
    server_only = make_leaf(ca, [NAME], usages=[ExtendedKeyUsageOID.SERVER_AUTH])
    good, other = make_leaf(ca, [NAME]), make_leaf(ca, [NAME])
    cases = [
        ({"certificate": server_only.cert_pem, "private_key": server_only.key_pem}, "does not allow client authentication"),
        ({"certificate": ca.cert_pem, "private_key": ca.key_pem}, "it is a CA certificate"),
        ({"certificate": good.cert_pem, "private_key": other.key_pem}, "the private key does not belong to this certificate"),
    ]
    tasks = [{"name": "bad %d" % i, MOD: dict(zone="example.com", **args), "register": "r", "ignore_errors": True} for i, (args, _m) in enumerate(cases)]
    play = ansible.run_tasks(tasks)
    for (_args, message), result in zip(cases, play.results):
        assert result["result"].get("failed") and message in result["result"]["msg"], result["result"].get("msg")
    assert writes(emulator) == []
    for leaf in (server_only, good, other):
        assert "".join(leaf.key_pem.splitlines()[1:2]) not in play.output
