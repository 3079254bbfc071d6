"""The role's edge stage (cert_rotation_verify_edge) against the emulator's TLS edge, through ansible-playbook.

After the verify stage the role probes every switched custom hostname per key type of its new certificates and
waits until each serves one of them. An edge told to keep serving the old certificate (emulator.edge_hold) must
make the role fail naming that hostname, with the report's edge column saying what is served instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict

import pytest

from emulator.testcerts import make_ca, make_leaf, write_files

HOSTS = ["a.customer.example", "b.customer.example", "pair.customer.example"]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Edge Role CA")
    hosts = ["*.customer.example"]
    leaves = dict(
        due=make_leaf(ca, hosts, days=10, not_before_days=-80),
        due_rsa=make_leaf(ca, hosts, key_type="rsa", days=10, not_before_days=-80),
        new=make_leaf(ca, hosts, days=90),
        new_rsa=make_leaf(ca, hosts, key_type="rsa", days=90),
    )
    root = tmp_path_factory.mktemp("edge-role-pki")
    (root / "ca.pem").write_text(ca.cert_pem)
    return SimpleNamespace(files=write_files(root, leaves), ca_path=str(root / "ca.pem"), **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> None:
    for host in HOSTS:
        leaves = [pki.due_rsa, pki.due] if host.startswith("pair") else [pki.due]
        certificates = [{"certificate": leaf.chain_pem, "private_key": leaf.key_pem} for leaf in leaves]  # the edge signs with the keys
        emulator.state.add_custom_hostname(emulator.zone_id, host, ssl={"method": "txt", "type": "dv"}, certificates=certificates)
    emulator.start_edge()


def role_vars(emulator: Any, pki: SimpleNamespace, report_dir: Path, **extra: Any) -> Dict[str, Any]:
    items = [{"hostname": h, "certificates": [pki.files["new_rsa"], pki.files["new"]] if h.startswith("pair") else [pki.files["new"]]} for h in HOSTS]
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=items,
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        cert_rotation_verify_edge=True,
        cert_rotation_edge_address="127.0.0.1",
        cert_rotation_edge_port=emulator.edge_port,
        cert_rotation_edge_ca_path=pki.ca_path,
        **extra,
    )


def report_rows(report: Path) -> Dict[str, Dict[str, Any]]:
    return {r["name"]: r for r in json.loads((report / "rotation-report.json").read_text())["rows"]}


def edge_probes(run: Any) -> list:
    return [r for r in run.results if r["task"].endswith("Verify | wait until the edge serves the new certificates")]


def test_the_role_verifies_every_switched_hostname_and_key_type_at_the_edge(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    report = tmp_path / "report"
    run = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, report))
    assert run.rc == 0, run.output[-3000:]
    (probe,) = edge_probes(run)
    entries = {(e["hostname"], e["requested_key_type"]): e for e in probe["result"]["edge_certs"]}
    assert entries[("pair.customer.example", "rsa")]["fingerprint_sha256"] == pki.new_rsa.fingerprint_sha256
    assert entries[("pair.customer.example", "ecdsa")]["fingerprint_sha256"] == pki.new.fingerprint_sha256
    assert all(e["validates"] for k, e in entries.items() if k[1] == "ecdsa" or k[0].startswith("pair"))
    rows = report_rows(report)
    assert {h: rows[h]["edge"] for h in HOSTS} == dict.fromkeys(HOSTS, "verified")
    assert "| edge |" in (report / "rotation-report.md").read_text()
    assert "PRIVATE KEY" not in run.output

    rerun = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, report))  # nothing switched: nothing to probe
    assert rerun.rc == 0 and "skip_reason" in edge_probes(rerun)[0]["result"], rerun.output[-3000:]


def test_an_edge_that_keeps_serving_the_old_certificate_fails_the_role_naming_the_hostname(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    emulator.edge_hold(["b.customer.example"])  # this edge never picks up the rotation of b
    report = tmp_path / "report"
    run = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, report, cert_rotation_edge_wait_timeout=2))
    assert run.rc != 0
    assert "did not complete" in run.output
    expected = "b.customer.example (ecdsa): served %s, expected %s" % (pki.due.fingerprint_sha256, pki.new.fingerprint_sha256)
    assert expected in run.output, run.output[-3000:]
    assert "a.customer.example (ecdsa)" not in run.output
    assert len(edge_probes(run)) == 1 and edge_probes(run)[0]["result"]["attempts"] == 2  # bounded: 2 s, one probe a second
    rows = report_rows(report)
    assert rows["b.customer.example"]["outcome"] == "rotated"  # the API switched it; the edge did not
    assert rows["b.customer.example"]["edge"].startswith("not verified (ecdsa: serves %s" % pki.due.fingerprint_sha256[:16])
    assert rows["a.customer.example"]["edge"] == "verified" and rows["pair.customer.example"]["edge"] == "verified"
    assert emulator.history.served("b.customer.example", "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
