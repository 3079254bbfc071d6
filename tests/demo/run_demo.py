"""`make demo`: the role certops.cloudflare.cert_rotation on the emulator's demo zone, through the playbook certops.cloudflare.rotate.

1. The new material a team would get from its CA, minted into a private temporary directory, and a
   vars file for the role that names it (paths only, no key content).
2. --check --diff: the plan, nothing written.
3. The rotation, waiting for Cloudflare (the emulator) to deploy.
4. Again: nothing left to change (changed=0).
Then the rotation's report, the emulator's count of API calls and its check that no hostname, client
certificate association or zone certificate ever lacked a valid certificate.
The rotation ends with the role's edge stage (cert_rotation_verify_edge) against the emulator's TLS edge: every
rotated custom hostname, per key type, must serve its new certificate in a real handshake.

Environment: EMULATOR_DELAY (seconds per status step, 2), EMULATOR_PORT (0: a free port),
EMULATOR_EDGE_PORT (the TLS edge; 0: a free port), DEMO_REPORT_COPY (where the report is kept, tests/output/demo-report).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml

from emulator import Emulator, testcerts
from emulator.demo import demo_seed

ROOT = Path(__file__).resolve().parents[2]
REPORT_COPY = ROOT / "tests" / "output" / "demo-report"
DUE_DAYS = 30  # the role's default window: the seed's certificates expiring within it are due
NEW_DAYS = 90


class DemoError(Exception):
    pass


def write_pair(directory: Path, name: str, leaf: testcerts.Issued) -> Dict[str, str]:
    """Write a certificate and its key (0600 from the start); return the paths for the role."""
    cert_path, key_path = directory / (name + ".pem"), directory / (name + ".key")
    cert_path.write_text(leaf.cert_pem)
    with os.fdopen(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write(leaf.key_pem)
    return {"certificate_path": str(cert_path), "private_key_path": str(key_path)}


def due(spec: Dict[str, Any]) -> bool:
    return spec["mint"]["days"] <= DUE_DAYS


def mint_material(directory: Path) -> Dict[str, Any]:
    """Mint new certificates for the demo zone into `directory`; return the role's variables."""
    ca = testcerts.make_ca("Demo Issuing CA", org="Certops Demo CA")
    (directory / "demo-ca.pem").write_text(ca.cert_pem)  # what the edge stage validates the new certificates against
    zone = demo_seed()["zones"][0]

    # Every hostname with a custom certificate gets new material; the role rotates only those due.
    hostnames = []
    for host in zone["custom_hostnames"]:
        key_types = [c["mint"].get("key_type", "ecdsa") for c in host.get("certificates", [])]
        certificates = [
            write_pair(directory, "%s.%s" % (host["hostname"], k), testcerts.make_leaf(ca, [host["hostname"]], key_type=k, days=NEW_DAYS)) for k in key_types
        ]
        if certificates:
            hostnames.append({"hostname": host["hostname"], "certificates": certificates})

    client_certs = []
    for cert in filter(due, zone["hostname_client_certs"]):
        leaf = testcerts.make_leaf(ca, cert["mint"]["hosts"], days=NEW_DAYS)
        associated = [a["hostname"] for a in zone["hostname_associations"] if a["cert_id"] == cert["id"]]
        client_certs.append(dict(write_pair(directory, "client-" + cert["id"], leaf), hostnames=associated))

    # Same hosts as the expiring certificate, so the role edits it in place.
    zone_certs = [
        write_pair(directory, "zone-" + "_".join(c["mint"]["hosts"]), testcerts.make_leaf(ca, c["mint"]["hosts"], days=NEW_DAYS))
        for c in filter(due, zone["custom_certificates"])
    ]
    return {
        "cert_rotation_zone": zone["name"],
        "cert_rotation_custom_hostnames": hostnames,
        "cert_rotation_client_certs": client_certs,
        "cert_rotation_zone_certs": zone_certs,
        "cert_rotation_cert_packs": [p["hosts"] for p in zone["cert_packs"] if p.get("status") == "validation_timed_out"],
        "cert_rotation_report_dir": str(directory / "report"),
        "cert_rotation_wait_timeout": 60,
        "cert_rotation_poll_interval": 1,
        "cert_rotation_ca_path": str(directory / "demo-ca.pem"),
    }


def edge_vars(emulator: Emulator) -> Dict[str, Any]:
    """The role's edge stage, pointed at the emulator's TLS edge."""
    return {"cert_rotation_verify_edge": True, "cert_rotation_edge_address": "127.0.0.1", "cert_rotation_edge_port": emulator.edge_port}


def show_edge(report_dir: Path, emulator: Emulator) -> None:
    """How many rotated hostnames the role saw serving their new certificate at the edge."""
    rows = yaml.safe_load((report_dir / "latest" / "rotation-report.json").read_text(encoding="utf-8"))["rows"]
    verified = [r["name"] for r in rows if r.get("edge") == "verified"]
    if not verified:
        raise DemoError("the role verified no hostname at the edge")
    print("At the TLS edge (127.0.0.1:%d) %d rotated hostnames served their new certificates, per key type." % (emulator.edge_port, len(verified)))


def playbook(emulator: Emulator, vars_file: Path, *options: str) -> str:
    """Run the rotate playbook, echoing its output; return the output. Credentials only in the environment."""
    env = dict(
        os.environ,
        CLOUDFLARE_BASE_URL=emulator.url,
        CLOUDFLARE_API_TOKEN=emulator.token,
        CLOUDFLARE_API_RATE_LIMIT="0",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".build" / "collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
    )
    for name in ("CLOUDFLARE_EMAIL", "CLOUDFLARE_API_KEY"):
        env.pop(name, None)
    if sys.stdout.isatty():
        env["ANSIBLE_FORCE_COLOR"] = "1"  # output goes through a pipe so it can be checked
    command = [str(Path(sys.executable).parent / "ansible-playbook"), "certops.cloudflare.rotate", "-i", "localhost,", "-c", "local", "-e", "@%s" % vars_file]
    proc = subprocess.Popen(command + list(options), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    if proc.wait() != 0:
        raise DemoError("ansible-playbook %s exited with %d" % (" ".join(options), proc.returncode))
    return "".join(lines)


def recap_changed(output: str) -> int:
    """The sum of changed=N over the PLAY RECAP lines."""
    recap = output.rsplit("PLAY RECAP", 1)[-1]
    return sum(int(n) for n in re.findall(r"changed=(\d+)", recap))


def show_report(report_dir: Path, copy_to: Path) -> None:
    """Print the Markdown report of the latest run and keep a copy of it outside the temporary directory."""
    latest = report_dir / "latest"  # each run writes its own folder; `latest` points to the newest
    html, markdown = latest / "rotation-report.html", latest / "rotation-report.md"
    if not (html.is_file() and markdown.is_file()):
        raise DemoError("the role wrote no report in %s" % report_dir)
    print(markdown.read_text(encoding="utf-8"))
    shutil.rmtree(copy_to, ignore_errors=True)
    shutil.copytree(latest, copy_to)
    print("The role wrote %s; the temporary directory goes at the end, so a copy stays:" % html)
    print("HTML report (open it in a browser): %s" % (copy_to / html.name))


def run(demo_dir: Path, delay: float = 2.0, port: int = 0, report_copy: Path = REPORT_COPY, edge_port: int = 0) -> int:
    """The whole tour with the material in `demo_dir` (a private directory the caller removes)."""
    started = time.monotonic()
    emulator = Emulator(seed="demo", delay=delay)
    emulator.start(port=port, edge_port=edge_port)
    print("Cloudflare API emulator with the demo zone example.com on %s (status steps last %.1f s)" % (emulator.url, delay), flush=True)
    print("Its TLS edge, answering each hostname with what the zone serves, on 127.0.0.1:%d" % emulator.edge_port, flush=True)
    try:
        role_vars = dict(mint_material(demo_dir), **edge_vars(emulator))
        vars_file = demo_dir / "rotate-vars.yml"
        vars_file.write_text(yaml.safe_dump(role_vars, sort_keys=False))
        print("New certificates from the demo CA and the role's variables are in %s" % vars_file)
        runs: List[Tuple[str, Tuple[str, ...]]] = [
            ("Preview: --check --diff writes nothing", ("--check", "--diff", "-e", "cert_rotation_report_dir=%s" % (demo_dir / "report-preview"))),
            ("Rotate", ()),
            ("Run again: nothing left to change", ("-e", "cert_rotation_report_dir=%s" % (demo_dir / "report-rerun"))),
        ]
        outputs = []
        for title, options in runs:
            print("\n===== %s =====" % title, flush=True)
            outputs.append(playbook(emulator, vars_file, *options))
        if recap_changed(outputs[-1]) != 0:
            raise DemoError("the second run changed something (see its PLAY RECAP)")
        print("\n===== The rotation's report =====", flush=True)
        show_report(Path(role_vars["cert_rotation_report_dir"]), report_copy)
        show_edge(Path(role_vars["cert_rotation_report_dir"]), emulator)
        counts = emulator.counts()
        print("\nAPI calls: %d reads, %d writes." % (counts["reads"], counts["writes"]))
        emulator.history.assert_valid()
        print("Every hostname, client certificate association and zone custom certificate stayed valid throughout the rotation.")
    except DemoError as exc:
        print("demo failed: %s" % exc, file=sys.stderr)
        return 1
    finally:
        emulator.stop()
    print("The demo took %.0f s." % (time.monotonic() - started))
    return 0


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="certops-demo-") as tmp:  # mode 0700
        return run(
            Path(tmp),
            delay=float(os.environ.get("EMULATOR_DELAY", "2")),
            port=int(os.environ.get("EMULATOR_PORT", "0")),
            edge_port=int(os.environ.get("EMULATOR_EDGE_PORT") or "0"),
            report_copy=Path(os.environ.get("DEMO_REPORT_COPY") or REPORT_COPY),
        )


if __name__ == "__main__":
    sys.exit(main())
