"""At 10,000 custom hostnames with the edge verified, every result the role registers stays under 200 KB as JSON.

Ansible copies, checks and templates every result it registers, on the controller, and again wherever a later task
uses it, so a list that grows with the zone must travel as a file (docs/rotation.md, "Lists of 10,000 travel as
files"). One run of the playbook certops.cloudflare.rotate over a zone of 10,000 due custom hostnames, the list of
new certificates given as a file (cert_rotation_custom_hostnames_file) and cert_rotation_verify_edge on against the
emulator's TLS edge; the test-only callback result_sizes records the size of every task result, loop items and
retries included. Then edge_cert_info alone over the same 10,000 hostnames, expecting a certificate none of them
serves: its result must stay as small when every hostname fails. The tests read those two runs.

A CI leg after `make test` (`make registered-results`); `make test` skips it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from emulator.testcerts import make_ca, make_leaf, write_files

pytestmark = pytest.mark.skipif(
    os.environ.get("CERTOPS_REGISTERED_RESULTS") != "1", reason="10,000 hostnames: run by `make registered-results`, a CI leg after `make test`"
)

N = 10000
LIMIT = 200 * 1024  # bytes of JSON
DOMAIN = "scale.example"
PROBE_TASK = "Verify | wait until the edge serves the new certificates"
SAMPLE = (0, 1, N // 2, N - 1)


def hostname(i: int) -> str:
    return "h%05d.%s" % (i, DOMAIN)


@pytest.fixture(scope="module")
def rotation(scenario_emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The zone seeded, the playbook run once; what the tests read: its return code, output, result sizes and report."""
    work = tmp_path_factory.mktemp("registered-results")
    ca = make_ca("Certops Registered Results CA")
    leaves = {"due": make_leaf(ca, ["*." + DOMAIN], days=10, not_before_days=-80), "new": make_leaf(ca, ["*." + DOMAIN], days=90)}
    files = write_files(work, leaves)
    (work / "ca.pem").write_text(ca.cert_pem)

    emulator, ansible = scenario_emulator(journal_bodies=False)  # request bodies kept, answers not: less memory
    due = [{"certificate": leaves["due"].chain_pem, "private_key": leaves["due"].key_pem}]  # the edge signs with the key
    for i in range(N):
        emulator.state.add_custom_hostname(emulator.zone_id, hostname(i), ssl={"method": "txt", "type": "dv"}, certificates=due)
    emulator.start_edge()

    hostnames_file = work / "hostnames.json"
    hostnames_file.write_text(json.dumps([{"hostname": hostname(i), "certificates": [files["new"]]} for i in range(N)]))
    role_vars = {
        "cert_rotation_zone": "example.com",
        "cert_rotation_custom_hostnames_file": str(hostnames_file),
        "cert_rotation_report_dir": str(work / "report"),
        "cert_rotation_wait_timeout": 600,
        "cert_rotation_poll_interval": 5,
        "cert_rotation_verify_edge": True,
        "cert_rotation_edge_address": "127.0.0.1",
        "cert_rotation_edge_port": emulator.edge_port,
        "cert_rotation_edge_ca_path": str(work / "ca.pem"),
        "cert_rotation_edge_wait_timeout": 300,
    }
    vars_file = work / "vars.json"
    vars_file.write_text(json.dumps(role_vars))  # JSON is YAML

    sizes_path, results_path = work / "sizes.jsonl", work / "results.jsonl"
    env = dict(
        ansible.base_env(),
        ANSIBLE_CALLBACKS_ENABLED="results_json,result_sizes",
        RESULT_SIZES_PATH=str(sizes_path),
        RESULTS_JSON_PATH=str(results_path),
    )
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "certops.cloudflare.rotate", "-i", "localhost,", "-e", "@%s" % vars_file]
    started = time.monotonic()
    proc = subprocess.run(command, env=env, cwd=str(work), capture_output=True, text=True, timeout=1800, check=False)
    print("\nthe playbook over %d hostnames with the edge verified: %.0f s" % (N, time.monotonic() - started))
    sizes = [json.loads(line) for line in sizes_path.read_text().splitlines()] if sizes_path.exists() else []
    results = [json.loads(line) for line in results_path.read_text().splitlines()] if results_path.exists() else []
    report = work / "report" / "latest" / "rotation-report.json"
    rows = {r["name"]: r for r in json.loads(report.read_text())["rows"]} if report.exists() else {}
    return SimpleNamespace(
        rc=proc.returncode, output=proc.stdout + proc.stderr, sizes=sizes, results=results, rows=rows, emulator=emulator, ansible=ansible, ca=ca, work=work
    )


@pytest.fixture(scope="module")
def mismatching(rotation: SimpleNamespace) -> SimpleNamespace:
    """edge_cert_info over the rotated zone, every hostname expected to serve a certificate it does not serve, with dest."""
    wanted = make_leaf(rotation.ca, ["*." + DOMAIN], days=90)
    targets_file = rotation.work / "mismatching-targets.json"
    switched = [{"hostname": hostname(i), "key_types": ["ecdsa"], "fingerprints": [wanted.fingerprint_sha256]} for i in range(N)]
    targets_file.write_text(json.dumps({"switched": switched}))
    dest = rotation.work / "mismatching-edge.json"
    args = {"targets_file": str(targets_file), "dest": str(dest), "address": "127.0.0.1", "port": rotation.emulator.edge_port}
    sizes_path = rotation.work / "mismatching-sizes.jsonl"
    env = {"ANSIBLE_CALLBACKS_ENABLED": "results_json,result_sizes", "RESULT_SIZES_PATH": str(sizes_path)}
    run = rotation.ansible.run_tasks([{"name": "probe", "certops.cloudflare.edge_cert_info": args, "register": "edge", "ignore_errors": True}], env=env)
    sizes = [json.loads(line) for line in sizes_path.read_text().splitlines()] if sizes_path.exists() else []
    return SimpleNamespace(run=run, sizes=sizes)


def task_results(rotation: SimpleNamespace, task: str) -> List[Dict[str, Any]]:
    return [r["result"] for r in rotation.results if r["task"].endswith(task)]


def test_the_rotation_succeeds(rotation):
    assert rotation.rc == 0, rotation.output[-5000:]


def test_every_registered_result_is_under_200_kb(rotation):
    assert rotation.sizes, "the callback result_sizes recorded nothing:\n" + rotation.output[-3000:]
    largest = sorted(rotation.sizes, key=lambda s: -s["bytes"])
    print("\nlargest results: " + "; ".join("%s (%s): %d bytes" % (s["task"], s["kind"], s["bytes"]) for s in largest[:5]))
    too_large = ["%s (%s): %d bytes" % (s["task"], s["kind"], s["bytes"]) for s in largest if s["bytes"] >= LIMIT]
    assert too_large == [], "results of %d bytes or more: %s" % (LIMIT, "; ".join(too_large))


def test_the_edge_probe_checks_every_switched_hostname(rotation):
    (probe,) = task_results(rotation, PROBE_TASK)
    assert probe["summary"] == {"total": N, "matched": N, "mismatched": 0, "errors": 0}, probe.get("msg", "")[:2000]


def test_the_report_says_the_switched_hostnames_are_verified_at_the_edge(rotation):
    sample = {hostname(i): (rotation.rows.get(hostname(i)) or {}).get("outcome") for i in SAMPLE}
    assert sample == dict.fromkeys(sample, "rotated")
    assert {name: rotation.rows[name]["edge"] for name in sample} == dict.fromkeys(sample, "verified")


def test_the_probe_fails_when_every_hostname_serves_another_certificate(mismatching):
    result = mismatching.run.result()
    assert result["failed"] and result["summary"] == {"total": N, "matched": 0, "mismatched": N, "errors": 0}
    assert result["msg"].endswith("; and %d more (see %s)" % (N - 20, result["dest"])), result["msg"][-500:]


def test_the_probes_result_stays_under_200_kb_when_every_hostname_fails(mismatching):
    (size,) = [s for s in mismatching.sizes if s["task"] == "probe"]
    assert size["bytes"] < LIMIT, "probe (%s): %d bytes" % (size["kind"], size["bytes"])
