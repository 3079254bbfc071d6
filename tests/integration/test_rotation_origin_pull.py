"""The role cert_rotation with the zone's origin pull certificate (zone-level authenticated origin pulls, issue 34):
audited on every run, planned when given, applied new before old, reported, and a re-run changes nothing. The
emulator's history proves the zone never had the setting on without an active certificate of its own. A scenario of four
playbook runs (the scenarios leg), like the role's other multi-run cases."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import requests

from emulator.testcerts import make_ca, make_leaf, write_files

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
NAME = "origin-pull.example.com"

pytestmark = pytest.mark.scenario


def writes(emulator: Any) -> List[Tuple[str, str]]:
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, "")) for e in emulator.journal() if e["method"] != "GET"]


def api(emulator: Any, method: str, path: str, body: Any = None) -> Dict[str, Any]:
    answer = requests.request(
        method, "%s/zones/%s/%s" % (emulator.url, emulator.zone_id, path), json=body, headers={"Authorization": "Bearer " + emulator.token}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["result"]


def wait_active(emulator: Any, cert_id: str) -> None:
    deadline = time.monotonic() + 10
    while api(emulator, "GET", "origin_tls_client_auth/" + cert_id)["status"] != "active":
        assert time.monotonic() < deadline, "the seeded certificate never became active"
        time.sleep(0.05)


def rows(report: Path) -> Dict[Tuple[str, str], Dict[str, Any]]:
    data = json.loads((report / "latest" / "rotation-report.json").read_text())
    return {(r["kind"], r["name"]): r for r in data["rows"]}


def test_audit_then_rotation_new_before_old_then_nothing(ansible, emulator, tmp_path):
    ca = make_ca("Origin Pull Role CA")
    leaves = {"old": make_leaf(ca, [NAME], days=10, not_before_days=-80), "new": make_leaf(ca, [NAME], days=365)}
    (tmp_path / "pki").mkdir()
    files = write_files(tmp_path / "pki", leaves)
    old_id = api(emulator, "POST", "origin_tls_client_auth", {"certificate": leaves["old"].cert_pem, "private_key": leaves["old"].key_pem})["id"]
    wait_active(emulator, old_id)
    api(emulator, "PUT", "origin_tls_client_auth/settings", {"enabled": True})
    report = tmp_path / "report"
    base = {"cert_rotation_zone": "example.com", "cert_rotation_report_dir": str(report)}

    # An audit (no material): the due origin pull certificate is listed, nothing is written.
    emulator.reset_journal()
    audit = ansible.run_tasks(ROLE, play_vars=base)
    assert audit.rc == 0, audit.output[-3000:]
    assert writes(emulator) == []
    row = rows(report)[("origin_pull_cert", "zone-level origin pull")]
    assert row["outcome"] == "due" and row["id"] == old_id

    material = dict(
        base, cert_rotation_origin_pull_cert={"certificate_path": files["new"]["certificate_path"], "private_key_path": files["new"]["private_key_path"]}
    )

    # Check mode: the replacement is planned in a preview report, nothing is written.
    emulator.reset_journal()
    check = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=material)
    assert check.rc == 0, check.output[-3000:]
    assert writes(emulator) == []
    preview = json.loads((report / "latest" / "rotation-report.json").read_text())
    assert (preview["mode"], preview["preview"]) == ("check", True)
    assert rows(report)[("origin_pull_cert", "zone-level origin pull")]["outcome"] == "planned"
    assert [c["id"] for c in api(emulator, "GET", "origin_tls_client_auth")] == [old_id]

    # The rotation: upload, wait active, then delete the old one (the setting is on already).
    run = ansible.run_tasks(ROLE, play_vars=material, verbosity=2)
    assert run.rc == 0, run.output[-3000:]
    assert [m for m, _p in writes(emulator)] == ["POST", "DELETE"]
    row = rows(report)[("origin_pull_cert", "zone-level origin pull")]
    assert row["outcome"] == "rotated" and row["replaces"] == [old_id], row
    assert emulator.history.violations() == []
    assert emulator.history.served_client_cert("app.example.com").fingerprint_sha256 == leaves["new"].fingerprint_sha256
    for leaf in leaves.values():
        assert leaf.key_pem.splitlines()[2][:40] not in run.output

    # The re-run: up to date, no write.
    emulator.reset_journal()
    again = ansible.run_tasks(ROLE, play_vars=material)
    assert again.rc == 0, again.output[-3000:]
    assert writes(emulator) == []
    assert rows(report)[("origin_pull_cert", "zone-level origin pull")]["outcome"] == "up_to_date"
