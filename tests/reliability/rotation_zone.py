"""A seeded rotation zone for the fault and crash suites, its new material, and the convergence checks.

The zone: custom hostnames (some with an RSA+ECDSA pair), hostname client certificates with associations and
zone custom certificates (some edited in place, some replaced by a certificate for more hosts), everything due.
`converged()` checks the guarantees of issue 14 after the last run: every object serves its new certificate, no
duplicate upload, no orphan beyond what the report names, and no moment without a valid certificate.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional

from emulator.certs import parse_certificate
from emulator.testcerts import make_ca, make_leaf
from integration.conftest import Ansible

ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
GONE = {"pending_deletion", "deleted"}


def hostname(i: int) -> str:
    return "h%03d.customer.example" % i


def client_hosts(i: int) -> List[str]:
    return ["app%d.example.com" % i, "api%d.example.com" % i]


def zone_hosts(i: int, new: bool = False) -> List[str]:
    """Zone certificates with an odd index are replaced by one for one host more (upload, prioritise, retire)."""
    hosts = ["z%d.example.com" % i]
    return hosts + ["z%db.example.com" % i] if new and i % 2 else hosts


@dataclass
class Sizes:
    hostnames: int
    pairs: int
    clients: int
    zone_certs: int
    inline: int = 0  # custom hostnames whose new material is given as content, not paths

    @property
    def objects(self) -> int:
        return self.hostnames + self.clients + self.zone_certs


def mint(root: Path, sizes: Sizes) -> SimpleNamespace:
    """The old (due) and new certificates of a zone of `sizes`, the new ones as files under `root`."""
    ca = make_ca("Certops Reliability CA")
    wildcard = ["*.customer.example"]
    rsa_key = make_leaf(ca, wildcard, key_type="rsa").key  # one slow RSA key for every RSA leaf
    leaves = dict(
        old=make_leaf(ca, wildcard, days=10, not_before_days=-80),
        old_rsa=make_leaf(ca, wildcard, key_type="rsa", key=rsa_key, days=10, not_before_days=-80),
        new=make_leaf(ca, wildcard, days=90),
        new_rsa=make_leaf(ca, wildcard, key_type="rsa", key=rsa_key, days=90),
    )
    for i in range(sizes.clients):
        leaves["client_old%d" % i] = make_leaf(ca, ["origin%d.example.com" % i], days=10, not_before_days=-80)
        leaves["client_new%d" % i] = make_leaf(ca, ["origin%d.example.com" % i], days=365)
    for i in range(sizes.zone_certs):
        leaves["zone_old%d" % i] = make_leaf(ca, zone_hosts(i), days=10, not_before_days=-80)
        leaves["zone_new%d" % i] = make_leaf(ca, zone_hosts(i, new=True), days=90)
    root.mkdir(parents=True, exist_ok=True)
    files = {}
    for label, leaf in leaves.items():
        (root / (label + ".pem")).write_text(leaf.chain_pem)
        (root / (label + ".key")).write_text(leaf.key_pem)
        files[label] = {"certificate_path": str(root / (label + ".pem")), "private_key_path": str(root / (label + ".key"))}
    return SimpleNamespace(sizes=sizes, leaves=leaves, files=files)


def seed(emulator: Any, pki: SimpleNamespace) -> Dict[str, Any]:
    """The zone as it is before the rotation; returns the ids of the seeded objects."""
    zone, sizes, leaves = emulator.zone_id, pki.sizes, pki.leaves
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    ids: Dict[str, Any] = {"hostnames": {}, "clients": [], "zone_certs": []}
    for i in range(sizes.hostnames):
        old = [leaves["old_rsa"], leaves["old"]] if i < sizes.pairs else [leaves["old"]]
        ids["hostnames"][hostname(i)] = emulator.state.add_custom_hostname(
            zone, hostname(i), ssl=ssl, certificates=[{"certificate": leaf.chain_pem} for leaf in old]
        ).id
    for i in range(sizes.clients):
        cert_id = emulator.state.add_client_cert(zone, certificate=leaves["client_old%d" % i].chain_pem, status="active").id
        for host in client_hosts(i):
            emulator.state.add_association(zone, host, cert_id)
        ids["clients"].append(cert_id)
    for i in range(sizes.zone_certs):
        kind = "legacy_custom" if i == 0 else "sni_custom"
        pem = leaves["zone_old%d" % i].chain_pem
        ids["zone_certs"].append(emulator.state.add_custom_certificate(zone, certificate=pem, type=kind, priority=10 + i).id)
    return ids


def role_vars(pki: SimpleNamespace, report_dir: Path, **extra: Any) -> Dict[str, Any]:
    sizes, files, leaves = pki.sizes, pki.files, pki.leaves
    items = []
    for i in range(sizes.hostnames):
        certs = [files["new_rsa"], files["new"]] if i < sizes.pairs else [files["new"]]
        if i >= sizes.hostnames - sizes.inline:
            certs = [{"certificate": leaves["new"].chain_pem, "private_key": leaves["new"].key_pem}]
        items.append({"hostname": hostname(i), "certificates": certs})
    zone_certs = []
    for i in range(sizes.zone_certs):
        item = dict(files["zone_new%d" % i])
        if i % 2:
            item["replaces"] = zone_hosts(i)
        zone_certs.append(item)
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=items,
        cert_rotation_client_certs=[dict(files["client_new%d" % i], hostnames=client_hosts(i)) for i in range(sizes.clients)],
        cert_rotation_zone_certs=zone_certs,
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=120,
        cert_rotation_poll_interval=1,
        **extra,
    )


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITES]


def fingerprint(pem: str) -> str:
    return parse_certificate(pem).fingerprint_sha256


def report_names(report_dir: Path) -> str:
    """The report's rows as text, to find an object it names."""
    path = report_dir / "latest" / "rotation-report.json"
    return json.dumps(json.loads(path.read_text())["rows"]) if path.exists() else ""


def converged(emulator: Any, pki: SimpleNamespace, report_dir: Path) -> None:
    """The guarantees after the last run: desired state, no duplicates, no orphans beyond the report, never invalid."""
    sizes, leaves = pki.sizes, pki.leaves
    problems: List[str] = []
    # 1. Every object serves its new certificate.
    for i in range(sizes.hostnames):
        want = {"ecdsa": leaves["new"].fingerprint_sha256}
        if i < sizes.pairs:
            want["rsa"] = leaves["new_rsa"].fingerprint_sha256
        for key_type, fp in want.items():
            got = emulator.history.served(hostname(i), key_type)
            if got.fingerprint_sha256 != fp:
                problems.append("%s %s serves %s %s" % (hostname(i), key_type, got.source, got.fingerprint_sha256))
    for i in range(sizes.clients):
        for host in client_hosts(i):
            got = emulator.history.served_client_cert(host)
            if got.fingerprint_sha256 != leaves["client_new%d" % i].fingerprint_sha256:
                problems.append("client certificate of %s: %s %s" % (host, got.source, got.fingerprint_sha256))
    for i in range(sizes.zone_certs):
        for host in zone_hosts(i, new=True):
            got = emulator.history.served(host)
            if got.fingerprint_sha256 != leaves["zone_new%d" % i].fingerprint_sha256:
                problems.append("zone certificate of %s: %s %s" % (host, got.source, got.fingerprint_sha256))
    # 2. No duplicate uploads and no orphans: the state holds exactly the new certificates (a leftover only if the report names it).
    zone = emulator.dump_state()["zones"][0]
    named = report_names(report_dir)
    for host in zone["custom_hostnames"]:
        held = sorted(fingerprint(c["certificate"]) for c in host.get("certificates") or [])
        index = int(host["hostname"][1:4])
        want = sorted([leaves["new"].fingerprint_sha256] + ([leaves["new_rsa"].fingerprint_sha256] if index < sizes.pairs else []))
        if held != want:
            problems.append("%s holds %d certificates, not exactly its new ones" % (host["hostname"], len(held)))
    for kind, label in (("hostname_client_certs", "client_new"), ("custom_certificates", "zone_new")):
        live = [c for c in zone.get(kind) or [] if c.get("status") not in GONE]
        fps = [fingerprint(c["certificate"]) for c in live]
        wants = {leaves["%s%d" % (label, i)].fingerprint_sha256 for i in range(sizes.clients if label == "client_new" else sizes.zone_certs)}
        for fp in set(fps):
            if fps.count(fp) > 1:
                problems.append("%s: %d uploads of one certificate" % (kind, fps.count(fp)))
        for cert, fp in zip(live, fps):
            if fp not in wants and cert["id"] not in named:
                problems.append("%s: orphan %s (status %s) that the report does not name" % (kind, cert["id"], cert.get("status")))
        if set(fps) & wants != wants:
            problems.append("%s: new certificates missing" % kind)
    # 3. No moment without a valid certificate.
    problems.extend(emulator.history.violations())
    assert problems == [], "\n".join(problems[:40])


# -- a playbook run that can be killed ------------------------------------------------------------


@dataclass
class KillableRun:
    rc: Optional[int]
    output: str
    killed: bool
    marker: str
    results: List[Dict[str, Any]] = field(default_factory=list)


def run_killable(
    ansible: Ansible, play_vars: Dict[str, Any], kill_when: Callable[[], bool], tmpdir: Path, poll: float = 0.005, timeout: float = 600
) -> KillableRun:
    """The role in an ansible-playbook started in its own session, SIGKILLed once `kill_when()` holds (polled from the
    test while the playbook runs). The environment is the integration harness's (Ansible.base_env), with TMPDIR
    pointing at `tmpdir` so leftovers can be found.

    The kill takes the whole process group and every process of the run outside it: ansible-core's task workers
    detach into sessions of their own (setsid), so a kill of the group alone would leave a worker, and the module it
    runs, writing on. Every process of the run (found by a marker in its environment) is stopped first, so none can
    fork, then killed."""
    ansible.counter += 1
    playbook = ansible.tmp_path / ("play%d.yml" % ansible.counter)
    results_path = ansible.tmp_path / ("results%d.jsonl" % ansible.counter)
    playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "vars": play_vars, "tasks": ROLE}], indent=1))
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    env = ansible.base_env()
    tmpdir.mkdir(parents=True, exist_ok=True)
    marker = "%s:%d" % (results_path, os.getpid())
    env.update(RESULTS_JSON_PATH=str(results_path), TMPDIR=str(tmpdir), CERTOPS_KILLABLE_RUN=marker)
    log = ansible.tmp_path / ("output%d.txt" % ansible.counter)
    killed = False
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=str(ansible.tmp_path), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        try:
            while proc.poll() is None:
                if kill_when():
                    kill_run(proc.pid, marker)
                    killed = True
                    break
                if time.monotonic() > deadline:
                    raise AssertionError("the playbook did not finish within %ss" % timeout)
                time.sleep(poll)
        finally:
            if proc.poll() is None and not killed:
                kill_run(proc.pid, marker)
            proc.wait()
    results = []
    if results_path.exists():
        results = [json.loads(line) for line in results_path.read_text().splitlines() if line.strip()]
    return KillableRun(proc.returncode, log.read_text(errors="replace"), killed, marker, results)


def run_processes(marker: str) -> List[int]:
    """The live processes (zombies aside) whose environment carries the run's marker."""
    needle = ("CERTOPS_KILLABLE_RUN=%s" % marker).encode()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            found.append(int(proc.name))
    return found


def kill_run(pgid: int, marker: str) -> None:
    """SIGSTOP the group and every process of the run until no new one appears, then SIGKILL them all."""
    stopped: set = set()
    try:
        os.killpg(pgid, signal.SIGSTOP)
    except ProcessLookupError:
        pass
    while True:
        fresh = set(run_processes(marker)) - stopped
        if not fresh:
            break
        for pid in fresh:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= fresh
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
