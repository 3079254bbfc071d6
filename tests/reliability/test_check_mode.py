"""Suite 5, check mode (issue 14): `--check` predicts exactly what the real run then does, and writes nothing.

The role runs in `--check --diff` against a fresh demo zone (the emulator's seed `demo`, new material minted as
`make demo` mints it, tests/demo/run_demo.py). The journal must hold no write. The plan task's objects with a
writing action (rotate, upload, restart, revalidate, retire) are the prediction. The real run that follows must
report exactly those objects as done or pending (rotated, uploaded, restarted, revalidated, retired, pending),
and what the emulator serves (its state history) must have changed for exactly the predicted rotations and uploads:
the fingerprints served to each custom hostname (RSA and ECDSA), the client certificate presented for each
associated hostname, and the certificates served to the zone certificates' hosts. Then check mode, once more,
predicts nothing and the real run after it writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import pytest
from cryptography import x509

from demo.run_demo import mint_material

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CHANGES = ("rotate", "upload", "restart", "revalidate", "retire")
# What the real run's report says for each predicted action; restart and revalidate may still be validating.
OUTCOMES = {"rotate": {"rotated"}, "upload": {"uploaded"}, "restart": {"restarted", "pending"}, "revalidate": {"revalidated", "pending"}, "retire": {"retired"}}
DONE = {"rotated", "uploaded", "restarted", "revalidated", "retired", "pending"}
PLAN_TASK = "Plan | check the new material against the zone and decide per object"

Key = Tuple[str, str]


def writes(emulator: Any) -> List[Tuple[str, str]]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def predicted(run: Any) -> Dict[Key, str]:
    (entry,) = [r for r in run.results if r["task"].endswith(PLAN_TASK)]
    return {(o["kind"], o["name"]): o["action"] for o in entry["result"]["plan"]["objects"] if o["action"] in CHANGES}


def served(emulator: Any) -> Dict[Tuple[str, str, Optional[str]], Optional[str]]:
    """What the emulator serves now: custom hostnames per key type, client certificates per association, zone certificates' hosts."""
    zone = emulator.dump_state()["zones"][0]
    now: Dict[Tuple[str, str, Optional[str]], Optional[str]] = {}
    for host in zone["custom_hostnames"]:
        for key_type in ("rsa", "ecdsa"):
            now[("custom_hostname", host["hostname"], key_type)] = emulator.history.served(host["hostname"], key_type).fingerprint_sha256
    for association in zone["hostname_associations"]:
        now[("client", association["hostname"], None)] = emulator.history.served_client_cert(association["hostname"]).fingerprint_sha256
    for cert in zone["custom_certificates"]:
        for host in hosts_of(cert["certificate"]):
            for key_type in ("rsa", "ecdsa"):
                now[("zone", host, key_type)] = emulator.history.served(host, key_type).fingerprint_sha256
    return now


def hosts_of(pem: str) -> List[str]:
    leaf = x509.load_pem_x509_certificate(pem.encode())
    return leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)


def changed_objects(before: Dict[Any, Any], after: Dict[Any, Any], objects: Dict[Key, Dict[str, Any]]) -> Set[Key]:
    """The plan objects whose served certificate changed, from the served fingerprints before and after."""
    found: Set[Key] = set()
    for key, fingerprint in after.items():
        if before.get(key, fingerprint) == fingerprint:
            continue
        kind, host, _key_type = key
        if kind == "custom_hostname":
            found.add(("custom_hostname", host))
        else:
            wanted = "client_cert" if kind == "client" else "zone_cert"
            owners = [k for k, o in objects.items() if k[0] == wanted and host in (o.get("hostnames") or k[1].split(", "))]
            found.update(owners or [("unexpected " + kind, host)])
    return found


@pytest.mark.emulator(seed="demo", delay=0.02)
def test_check_mode_predicts_the_real_run_of_the_demo_zone(ansible, emulator, tmp_path, record_cases):
    material = tmp_path / "material"
    material.mkdir(mode=0o700)
    role_vars = mint_material(material)
    report = Path(role_vars["cert_rotation_report_dir"])
    before = served(emulator)
    record_cases(2)

    # 1. --check --diff: the prediction, not one write, a preview report only.
    check = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=role_vars)
    assert check.rc == 0, check.output[-3000:]
    assert writes(emulator) == [] and json.loads((report / "latest" / "rotation-report.json").read_text())["preview"] is True
    prediction = predicted(check)
    (plan_entry,) = [r for r in check.results if r["task"].endswith(PLAN_TASK)]
    objects = {(o["kind"], o["name"]): o for o in plan_entry["result"]["plan"]["objects"]}
    # The demo zone has something of each kind to do (docs of tests/emulator/demo.py).
    assert {kind for kind, _name in prediction} == {"custom_hostname", "client_cert", "zone_cert", "cert_pack", "managed_hostname"}, prediction
    assert served(emulator) == before

    # 2. The real run does what was predicted, no more, no less.
    run = ansible.run_tasks(ROLE, diff=True, play_vars=role_vars)
    assert run.rc == 0, run.output[-3000:]
    assert predicted(run) == prediction  # the same plan, from the same state
    rows = {(r["kind"], r["name"]): r for r in json.loads((report / "latest-rotate" / "rotation-report.json").read_text())["rows"]}
    done = {key: row["outcome"] for key, row in rows.items() if row["outcome"] in DONE}
    assert set(done) == set(prediction), (done, prediction)
    for key, action in prediction.items():
        assert done[key] in OUTCOMES[action], (key, action, done[key])
    rotated = {key for key, action in prediction.items() if action in ("rotate", "upload")}
    assert changed_objects(before, served(emulator), objects) == rotated
    for key in rotated:  # and each serves the material minted for it
        assert rows[key]["outcome"] in ("rotated", "uploaded")
    assert emulator.history.violations() == []

    # 3. Nothing left: check mode predicts no change, and the real run after it writes nothing.
    count = len(writes(emulator))
    again = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=dict(role_vars, cert_rotation_report_dir=str(tmp_path / "report-again")))
    assert again.rc == 0, again.output[-3000:]
    assert predicted(again) == {} and len(writes(emulator)) == count
    last = ansible.run_tasks(ROLE, play_vars=dict(role_vars, cert_rotation_report_dir=str(tmp_path / "report-last")))
    assert last.rc == 0, last.output[-3000:]
    assert predicted(last) == {} and len(writes(emulator)) == count
    assert [r["task"] for r in last.results if r["result"].get("changed")] == []
    assert emulator.history.violations() == []
