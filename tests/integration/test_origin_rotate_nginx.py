"""The playbook certops.cloudflare.origin_rotate with real origin servers: Debian's nginx, two private instances on
127.0.0.1 (one per origin host, `ansible_connection: local`, each with its own folder, port and `nginx -c`
configuration). A CI leg: `make origins` installs nginx when missing and runs these; `make integration` skips them.

The origins start with an Origin CA certificate of 7 days from the emulator, due in the 30-day window. The rotation
issues one new certificate for both, deploys it, validates with `nginx -t`, reloads through the role's handler,
checks by handshake that each serves it and that it chains to the emulator's Origin CA root, and then revokes the old
one; a re-run has nothing to do. When one host's validation fails, nothing is revoked and the report names the host.
"""

from __future__ import annotations

import getpass
import grp
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_csr
from real_parts import binary, free_port

pytestmark = pytest.mark.nginx

HOSTS = ["example.com", "*.example.com"]
ORIGINS = ("origin-a", "origin-b")
PLAYBOOK = "certops.cloudflare.origin_rotate"
CONF = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name example.com *.example.com;
        ssl_certificate {root}/ssl/origin.pem;
        ssl_certificate_key {root}/ssl/origin.key;
        # authenticated origin pulls, as the guide shows: the role's handshake sends no client certificate
        ssl_client_certificate {client_ca};
        ssl_verify_client on;
        return 200 "{name}\\n";
    }}
}}
"""


class Origin:
    """One private nginx: its folder, port and the commands the role runs on it."""

    def __init__(self, nginx: str, root: Path, name: str, client_ca: Path) -> None:
        self.nginx, self.root, self.name, self.port = nginx, root, name, free_port()
        for folder in ("ssl", "tmp"):
            (root / folder).mkdir(parents=True, exist_ok=True)
        self.conf = root / "nginx.conf"
        self.conf.write_text(CONF.format(root=root, port=self.port, name=name, client_ca=client_ca))
        self.cert, self.key = root / "ssl" / "origin.pem", root / "ssl" / "origin.key"

    def command(self, *extra: str) -> str:
        return " ".join([self.nginx, "-c", str(self.conf), "-e", str(self.root / "error.log")] + list(extra))

    def start(self) -> None:
        subprocess.run(self.command().split(), check=True, capture_output=True, timeout=30)

    def stop(self) -> None:
        pid_file = self.root / "nginx.pid"
        if pid_file.exists():
            try:
                os.kill(int(pid_file.read_text().strip()), signal.SIGQUIT)
            except (OSError, ValueError):
                pass

    def served(self) -> x509.Certificate:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock, context.wrap_socket(sock, server_hostname="example.com") as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def issue(emulator: Any, validity: int) -> SimpleNamespace:
    """An Origin CA certificate from the emulator, as a user's earlier run left it."""
    csr, key = make_csr(HOSTS)
    body = {"hostnames": HOSTS, "request_type": "origin-ecc", "requested_validity": validity, "csr": csr}
    answer = requests.post(emulator.url + "/certificates", json=body, headers={"Authorization": "Bearer " + emulator.token}, timeout=10)
    assert answer.status_code == 200, answer.text
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return SimpleNamespace(id=answer.json()["result"]["id"], pem=answer.json()["result"]["certificate"], key_pem=key_pem)


@pytest.fixture
def origins(emulator: Any, tmp_path: Path) -> Iterator[SimpleNamespace]:
    nginx = binary("nginx", "make origins installs it as root: apt-get install nginx", sbin=True)
    old = issue(emulator, 7)
    roots = tmp_path / "origin-ca-roots.pem"
    roots.write_text("".join(emulator.origin_ca_roots().values()))
    servers = {name: Origin(nginx, tmp_path / name, name, client_ca=roots) for name in ORIGINS}
    for server in servers.values():
        server.cert.write_text(old.pem)
        server.key.write_text(old.key_pem)
        server.key.chmod(0o600)
        server.start()
    try:
        yield SimpleNamespace(servers=servers, old=old, roots=roots, root=tmp_path)
    finally:
        for server in servers.values():
            server.stop()


def inventory(origins: SimpleNamespace, emulator: Any, failing: str = "") -> Path:
    hosts = {}
    for name, server in origins.servers.items():
        hosts[name] = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "origin_cert_rotation_address": "127.0.0.1",
            "origin_cert_rotation_port": server.port,
            "origin_cert_rotation_certificate_path": str(server.cert),
            "origin_cert_rotation_private_key_path": str(server.key),
            # a host whose configuration check fails: a file nginx cannot read in place of its configuration
            "origin_cert_rotation_validate_command": (
                server.command("-t") if name != failing else server.command("-t").replace(str(server.conf), str(server.root / "missing.conf"))
            ),
            "origin_cert_rotation_reload_command": server.command("-s", "reload"),
        }
    group_vars = {
        "origin_cert_rotation_zone": "example.com",
        "origin_cert_rotation_hostnames": HOSTS,
        "origin_cert_rotation_request_type": "origin-ecc",
        "origin_cert_rotation_requested_validity": 90,
        "origin_cert_rotation_owner": getpass.getuser(),
        "origin_cert_rotation_group": grp.getgrgid(os.getgid()).gr_name,
        "origin_cert_rotation_ca_path": str(origins.roots),
        "origin_cert_rotation_staging_dir": str(origins.root / "staging"),
        "origin_cert_rotation_report_dir": "reports",
    }
    path = origins.root / "origins.json"
    path.write_text(json.dumps({"all": {"children": {"cloudflare_origins": {"hosts": hosts, "vars": group_vars}}}}))
    return path


def run_playbook(ansible: Any, inventory_path: Path, *extra: str) -> subprocess.CompletedProcess:
    """The collection's playbook at -v; the registered results (the results_json callback) are in `.results`."""
    results = inventory_path.parent / ("results-%d.jsonl" % time.monotonic_ns())
    env = dict(ansible.base_env(), ANSIBLE_STDOUT_CALLBACK="default", RESULTS_JSON_PATH=str(results))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), PLAYBOOK, "-v", "-i", str(inventory_path)] + list(extra)
    proc = subprocess.run(command, env=env, cwd=str(inventory_path.parent), capture_output=True, text=True, timeout=600, check=False)
    proc.results = results.read_text() if results.exists() else ""
    return proc


def writes(emulator: Any) -> List[tuple]:
    return [(e["method"], e["path"].split("/client/v4/")[-1]) for e in emulator.journal() if e["method"] != "GET"]


def latest_report(root: Path) -> Dict[str, Any]:
    return json.loads((root / "reports" / "latest" / "rotation-report.json").read_text())


def test_rotation_deploys_reloads_verifies_then_revokes_and_a_rerun_does_nothing(ansible, emulator, origins):
    inv = inventory(origins, emulator)
    emulator.reset_journal()
    # Check mode: the plan, nothing issued, nothing written on the origins or in a report.
    preview = run_playbook(ansible, inv, "--check")
    assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]
    assert "origin-a: new certificate for example.com, *.example.com: expires in" in preview.stdout
    assert writes(emulator) == [] and not (origins.root / "reports").exists() and not (origins.root / "staging").exists()
    assert all(server.served().serial_number == x509.load_pem_x509_certificate(origins.old.pem.encode()).serial_number for server in origins.servers.values())

    run = run_playbook(ansible, inv)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    certs = emulator.state.origin_ca_certs
    new_ids = [cid for cid in certs if cid != origins.old.id]
    assert len(new_ids) == 1, "one certificate for the hostname set, issued once for both hosts"
    new = x509.load_pem_x509_certificate(certs[new_ids[0]].certificate.encode())
    assert writes(emulator) == [("POST", "certificates"), ("DELETE", "certificates/%s" % origins.old.id)]
    assert certs[origins.old.id].revoked_at is not None and certs[new_ids[0]].revoked_at is None
    for server in origins.servers.values():
        assert server.served().serial_number == new.serial_number, server.name  # reloaded by the handler
        assert oct(server.key.stat().st_mode & 0o777) == "0o600"
        assert list((server.root / "ssl").iterdir()) == [server.cert, server.key] or sorted(p.name for p in (server.root / "ssl").iterdir()) == [
            "origin.key",
            "origin.pem",
        ]
    report = latest_report(origins.root)
    rows = {row["name"]: row for row in report["rows"]}
    assert {rows[name]["outcome"] for name in ORIGINS} == {"rotated"}
    assert rows[origins.old.id]["outcome"] == "retired"
    assert rows["origin-a"]["new"]["serial_number"] == str(new.serial_number)
    assert not (origins.root / "staging").exists() or list((origins.root / "staging").iterdir()) == []
    key_text = "".join(origins.servers["origin-a"].key.read_text().splitlines()[1:-1])
    assert run.results.count('"task"') > 20  # the registered results were captured
    for text in (output, run.results, json.dumps(emulator.journal()), json.dumps(report)):
        assert key_text[:48] not in text and "PRIVATE KEY-----" not in text

    # The re-run: every origin up to date (checked by handshake), nothing issued, written or revoked.
    emulator.reset_journal()
    again = run_playbook(ansible, inv)
    assert again.returncode == 0, again.stdout[-4000:]
    assert writes(emulator) == []
    assert {row["outcome"] for row in latest_report(origins.root)["rows"]} == {"up_to_date"}
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1]


def test_a_failed_validation_revokes_nothing_and_the_report_names_the_host(ansible, emulator, origins):
    inv = inventory(origins, emulator, failing="origin-b")
    emulator.reset_journal()
    run = run_playbook(ansible, inv)
    output = run.stdout + run.stderr
    assert run.returncode != 0, output[-4000:]
    assert "origin-b failed" in output and "nothing was revoked" in output
    assert [m for m, _path in writes(emulator)] == ["POST"]  # issued, never revoked
    old_serial = x509.load_pem_x509_certificate(origins.old.pem.encode()).serial_number
    assert emulator.state.origin_ca_certs[origins.old.id].revoked_at is None
    # origin-a (the first batch) serves the new certificate; origin-b got its previous files back and serves the old one.
    assert origins.servers["origin-a"].served().serial_number != old_serial
    assert origins.servers["origin-b"].served().serial_number == old_serial
    assert origins.servers["origin-b"].cert.read_text() == origins.old.pem
    rows = {row["name"]: row for row in latest_report(origins.root)["rows"]}
    assert rows["origin-a"]["outcome"] == "rotated" and rows["origin-b"]["outcome"] == "failed"
    assert "missing.conf" in rows["origin-b"]["detail"]
    # The staged certificate is kept, so a re-run after the fix deploys it rather than issue another.
    fixed = inventory(origins, emulator)
    emulator.reset_journal()
    rerun = run_playbook(ansible, fixed)
    assert rerun.returncode == 0, rerun.stdout[-4000:]
    assert writes(emulator) == [("DELETE", "certificates/%s" % origins.old.id)]
    assert origins.servers["origin-b"].served().serial_number == origins.servers["origin-a"].served().serial_number
