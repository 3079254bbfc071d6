"""From an ACME order to the edge with a real ACME server: the playbook certops.cloudflare.issue_and_rotate against
Pebble (Debian's `pebble`, Let's Encrypt's test server) and the emulator, through community.crypto from the `ansible`
package. A CI leg, `make e2e`, which installs Pebble when missing and runs this with the `ansible` package's venv
(.venv-ansible); `make integration` leaves it out.

Pebble listens on 127.0.0.1 with a TLS certificate this test mints (the package ships none), issues certificates of
300 s, and validates every challenge (PEBBLE_VA_ALWAYS_VALID: nothing here can answer one). Its root changes on every
start: it is read from Pebble's management interface and given to the emulator as a trusted root, to the role as the
CA that new chains and the edge must verify against. The zone has 20 custom hostnames and one zone certificate near
expiry, from a CA the test made. The role's window is 50 % of a certificate's lifetime, so a certificate Pebble issued
is due again 150 s later.

The first test has a challenge hook that refuses one hostname: check mode orders nothing; the run orders and rotates
the others, and the report and the play's failure name it. The second: the run orders, rotates and verifies all 21;
the re-run orders and writes nothing; the run after the renewal point of Pebble's certificates renews every one.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from emulator.testcerts import make_ca, make_leaf
from real_parts import binary, free_port

pytestmark = pytest.mark.e2e

PLAYBOOK = "certops.cloudflare.issue_and_rotate"
HOSTNAMES = ["shop%02d.customer.example" % i for i in range(20)]
FAILING = HOSTNAMES[13]
ZONE_HOSTS = ["example.com", "www.example.com"]
# The challenge hook of the test: it shows what community.crypto hands it (the DNS-01 records a real zone would
# publish; the test reads them from the results) and fails for FAILING while the file `refuse` exists, as a DNS
# provider refusing a record would. Controller-side tasks only, so the hook costs the run next to nothing.
HOOK = """
- name: Record the challenge
  ansible.builtin.debug:
    msg: "{{ {'name': issue_and_rotate_order.name, 'state': issue_and_rotate_challenge_state, 'dns': issue_and_rotate_challenge_data_dns} }}"
- name: Refuse one hostname while told to
  ansible.builtin.fail:
    msg: the DNS provider refused the record for {{ issue_and_rotate_order.name }}
  when: issue_and_rotate_challenge_state == 'present' and issue_and_rotate_order.name == refused and (hook_dir ~ '/refuse') is file
"""


def mint_tls(root: Path) -> Path:
    """Pebble's own TLS certificate for 127.0.0.1, from a CA of this test; returns that CA's file."""
    ca = make_ca("Pebble TLS Test CA", trusted=False)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca.key, hashes.SHA256())
    )
    (root / "tls.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (root / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (root / "tls-ca.pem").write_text(ca.cert_pem)
    return root / "tls-ca.pem"


@pytest.fixture
def pebble(tmp_path: Path) -> Iterator[SimpleNamespace]:
    command = binary("pebble", "make e2e installs it as root: apt-get install pebble")
    root = tmp_path / "pebble"
    root.mkdir()
    tls_ca = mint_tls(root)
    port, management = free_port(), free_port()
    config = {
        "pebble": {
            "listenAddress": "127.0.0.1:%d" % port,
            "managementListenAddress": "127.0.0.1:%d" % management,
            "certificate": str(root / "tls.pem"),
            "privateKey": str(root / "tls.key"),
            "httpPort": free_port(),
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
            "certificateValidityPeriod": 300,
        }
    }
    (root / "config.json").write_text(json.dumps(config))
    env = dict(os.environ, PEBBLE_VA_ALWAYS_VALID="1", PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="100")
    log = (root / "pebble.log").open("w")
    proc = subprocess.Popen([command, "-config", str(root / "config.json")], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=str(root))
    directory = "https://127.0.0.1:%d/dir" % port
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(directory, verify=str(tls_ca), timeout=2).raise_for_status()
                break
            except requests.RequestException:
                assert proc.poll() is None and time.monotonic() < deadline, (root / "pebble.log").read_text()
                time.sleep(0.2)
        answer = requests.get("https://127.0.0.1:%d/roots/0" % management, verify=str(tls_ca), timeout=5)
        answer.raise_for_status()
        (root / "pebble-root.pem").write_text(answer.text)
        yield SimpleNamespace(directory=directory, tls_ca=tls_ca, root_pem=answer.text, root_path=root / "pebble-root.pem")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


# The certificates the zone serves first: a day's lifetime, 4 minutes left. The role renews only with a certificate that
# outlives the one it replaces, and Pebble's live 300 s from their order, which comes later.
OLD_DAYS, OLD_LEFT_DAYS = 1.0, 4 / 1440


def make_zone(emulator: Any, pebble: SimpleNamespace, tmp_path: Path, hostnames: List[str], refuse: bool = False) -> SimpleNamespace:
    """`hostnames` and one zone certificate near expiry (OLD_LEFT_DAYS left), served at the emulator's edge; the vars
    file of the play, with the test's challenge hook (refusing FAILING when `refuse`)."""
    ca = make_ca("Certops Old Issuer CA")
    for name in hostnames:
        leaf = make_leaf(ca, [name], days=OLD_LEFT_DAYS, not_before_days=OLD_LEFT_DAYS - OLD_DAYS)
        certificates = [{"certificate": leaf.chain_pem, "private_key": leaf.key_pem}]  # the edge signs with the key
        emulator.state.add_custom_hostname(emulator.zone_id, name, ssl={"method": "txt", "type": "dv"}, certificates=certificates)
    leaf = make_leaf(ca, ZONE_HOSTS, days=OLD_LEFT_DAYS, not_before_days=OLD_LEFT_DAYS - OLD_DAYS)
    uploaded = time.time() - (OLD_DAYS - OLD_LEFT_DAYS) * 86400  # when it was issued: the zone's API gives no notBefore
    emulator.state.add_custom_certificate(emulator.zone_id, certificate=leaf.chain_pem, private_key=leaf.key_pem, type="sni_custom", uploaded_on=uploaded)
    emulator.add_trusted_roots([pebble.root_pem])  # a root the zone's edge trusts, as it would a public CA's
    emulator.start_edge()
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "challenge.yml").write_text(HOOK)
    if refuse:
        (hooks / "refuse").write_text("")
    variables = {
        "cert_rotation_zone": "example.com",
        "cert_rotation_report_dir": "reports",
        "cert_rotation_renew_before_percentage": 50,
        "cert_rotation_wait_timeout": 60,
        "cert_rotation_poll_interval": 1,
        "cert_rotation_edge_address": "127.0.0.1",
        "cert_rotation_edge_port": emulator.edge_port,
        "issue_and_rotate_acme_directory": pebble.directory,
        "issue_and_rotate_acme_ca_path": str(pebble.tls_ca),
        "issue_and_rotate_root_path": str(pebble.root_path),
        "issue_and_rotate_terms_agreed": True,
        "issue_and_rotate_account_email": "certops@example.com",
        "issue_and_rotate_dir": "acme",
        "issue_and_rotate_challenge": "dns-01",
        "issue_and_rotate_challenge_tasks": str(hooks / "challenge.yml"),
        "hook_dir": str(hooks),
        "refused": FAILING,
    }
    (tmp_path / "acme.yml").write_text(yaml.safe_dump(variables))
    return SimpleNamespace(root=tmp_path, hooks=hooks, vars_file=tmp_path / "acme.yml", old_issuer=ca.cert.subject)


@pytest.fixture
def zone(emulator: Any, pebble: SimpleNamespace, tmp_path: Path) -> SimpleNamespace:
    return make_zone(emulator, pebble, tmp_path, HOSTNAMES)


def run_playbook(ansible: Any, zone: SimpleNamespace, *extra: str) -> SimpleNamespace:
    results = zone.root / ("results-%d.jsonl" % time.monotonic_ns())
    env = dict(ansible.base_env(), ANSIBLE_STDOUT_CALLBACK="default", RESULTS_JSON_PATH=str(results))
    command = [str(Path(sys.executable).parent / "ansible-playbook"), PLAYBOOK, "-v", "-i", "localhost,", "-e", "@" + str(zone.vars_file)] + list(extra)
    proc = subprocess.run(command, env=env, cwd=str(zone.root), capture_output=True, text=True, timeout=900, check=False)
    (results.parent / (results.stem + ".log")).write_text(proc.stdout + proc.stderr)  # the whole output, for a failure's reader
    return SimpleNamespace(rc=proc.returncode, output=proc.stdout + proc.stderr, results=results.read_text() if results.exists() else "")


def writes(emulator: Any) -> List[tuple]:
    return [(e["method"], e["path"].split("/client/v4/")[-1]) for e in emulator.journal() if e["method"] != "GET"]


def served(emulator: Any, pebble: SimpleNamespace, host: str) -> x509.Certificate:
    """What the edge serves `host`, verified against Pebble's root for that name (raises when it does not verify)."""
    context = ssl.create_default_context(cafile=str(pebble.root_path))
    with socket.create_connection(("127.0.0.1", emulator.edge_port), timeout=5) as sock, context.wrap_socket(sock, server_hostname=host) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def orders(zone: SimpleNamespace) -> Dict[str, Any]:
    return json.loads((zone.root / "reports" / "latest" / "acme-orders.json").read_text())


def report_rows(zone: SimpleNamespace) -> Dict[str, Dict[str, Any]]:
    return {r["name"]: r for r in json.loads((zone.root / "reports" / "latest" / "rotation-report.json").read_text())["rows"]}


def secrets(zone: SimpleNamespace) -> List[str]:
    """A line from the middle of every private key on disk: the account key and each order's key."""
    keys = list((zone.root / "acme").glob("*.key")) + list((zone.root / "acme").glob("*-key.pem"))
    assert len(keys) > 1, "the account key and the orders' keys are where the play keeps them"
    return [p.read_text().splitlines()[2] for p in keys]


def assert_no_secret(zone: SimpleNamespace, emulator: Any, *texts: str) -> None:
    journal = json.dumps(emulator.journal())
    reports = "".join(p.read_text() for p in (zone.root / "reports").rglob("*") if p.is_file())
    for line in secrets(zone):
        for where, text in [("output", "".join(texts)), ("journal", journal), ("reports", reports)]:
            assert line not in text, "a private key line in the " + where


def test_a_refused_challenge_fails_its_order_only_and_check_mode_orders_nothing(ansible, emulator, pebble, tmp_path):
    names = HOSTNAMES[12:15]  # FAILING among them
    zone = make_zone(emulator, pebble, tmp_path, names, refuse=True)

    # Check mode: the audit's preview names what is due; nothing is ordered, no key made, nothing written to the zone.
    emulator.reset_journal()
    check = run_playbook(ansible, zone, "--check")
    assert check.rc == 0, check.output[-6000:]
    assert "4 to order: " in check.output and FAILING in check.output
    assert writes(emulator) == [] and not (zone.root / "acme").exists()

    # The refused challenge fails that order; the others are ordered, rotated and verified; the play fails naming it.
    run = run_playbook(ansible, zone)
    assert run.rc != 0 and "1 of 4 ACME orders failed: custom_hostname %s: " % FAILING in run.output, run.output[-6000:]
    placed = orders(zone)
    assert sorted(o["name"] for o in placed["ordered"]) == sorted(set(names) - {FAILING} | {", ".join(ZONE_HOSTS)})
    assert [(o["name"], o["reason"].split(": ", 1)[1]) for o in placed["failed"]] == [(FAILING, "the DNS provider refused the record for " + FAILING)]
    rows = report_rows(zone)
    assert rows[FAILING]["outcome"] == "due"
    assert all(rows[name]["outcome"] == "rotated" for name in names if name != FAILING)
    for name in [n for n in names if n != FAILING] + ZONE_HOSTS:
        assert "Pebble Intermediate CA" in served(emulator, pebble, name).issuer.rfc4514_string(), name
    assert served_unverified_issuer(emulator, FAILING) == zone.old_issuer
    # The hook got the DNS-01 record a real zone would publish, and was called to remove it after, the refused one too.
    hook = [e["result"]["msg"] for e in map(json.loads, run.results.splitlines()) if e["task"] == "Record the challenge"]
    assert [call["dns"] for call in hook if call["name"] == names[0]][0].keys() == {"_acme-challenge." + names[0]}
    assert {call["name"] for call in hook if call["state"] == "absent"} == set(names) | {", ".join(ZONE_HOSTS)}
    assert emulator.history.violations() == []
    assert_no_secret(zone, emulator, check.output, run.output, run.results)


def test_acme_orders_rotated_verified_at_the_edge_then_nothing_then_renewed(ansible, emulator, pebble, zone):
    everything = HOSTNAMES + ZONE_HOSTS

    # 1. Every due object ordered, rotated, and served at the edge with a chain that verifies against Pebble's root.
    emulator.reset_journal()
    first = run_playbook(ansible, zone)
    assert first.rc == 0, first.output[-6000:]
    placed = orders(zone)
    assert sorted(o["name"] for o in placed["ordered"]) == sorted(HOSTNAMES + [", ".join(ZONE_HOSTS)])
    assert placed["failed"] == [] and placed["not_removed"] == []
    assert all(row["outcome"] == "rotated" for name, row in report_rows(zone).items()), report_rows(zone)
    first_serials = {}
    for name in everything:
        cert = served(emulator, pebble, name)
        assert "Pebble Intermediate CA" in cert.issuer.rfc4514_string(), name
        first_serials[name] = cert.serial_number
    assert emulator.history.violations() == []
    assert_no_secret(zone, emulator, first.output, first.results)
    account_key = zone.root / "acme" / "account.key"
    assert oct(account_key.stat().st_mode & 0o777) == "0o600"
    account_line = account_key.read_text().splitlines()[1]
    fullchains = {p: p.stat().st_mtime_ns for p in (zone.root / "acme").glob("*-fullchain.pem")}
    first_due, renewal_point = renewal_points(emulator)

    # 2. Nothing due: nothing ordered, nothing written to the zone, no file touched. Renewal information asked too:
    # Pebble 2.4.0 offers none, so the CA asks for nothing beside the windows.
    emulator.reset_journal()
    again = run_playbook(ansible, zone, "-e", "issue_and_rotate_renewal_info=true")
    assert again.rc == 0, again.output[-6000:]
    assert time.time() < first_due, "the machine was too slow to re-run before the first renewal point"
    assert "Nothing due." in again.output
    asked = [e for e in map(json.loads, again.results.splitlines()) if "ask the CA whether to renew" in e["task"]]
    assert len(asked) == 1 and [r["should_renew"] for r in asked[0]["result"]["results"]] == [False] * 21, asked
    assert writes(emulator) == []
    assert {p: p.stat().st_mtime_ns for p in (zone.root / "acme").glob("*-fullchain.pem")} == fullchains

    # 3. After the renewal point (half of Pebble's 300 s), every certificate is due and renewed, with the same account.
    time.sleep(max(0.0, renewal_point + 5 - time.time()))
    third = run_playbook(ansible, zone)
    assert third.rc == 0, third.output[-6000:]
    assert len(orders(zone)["ordered"]) == 21 and orders(zone)["failed"] == []
    for name in everything:
        assert served(emulator, pebble, name).serial_number != first_serials[name], name
    assert account_key.read_text().splitlines()[1] == account_line
    assert emulator.history.violations() == []
    assert_no_secret(zone, emulator, again.output, third.output, again.results, third.results)


def renewal_points(emulator: Any) -> Tuple[float, float]:
    """When the first and the last of the zone's certificates fall due in the role's 50 % window (Unix time). A custom
    hostname's lifetime starts at its certificate's notBefore; a zone certificate's at its `uploaded_on`, as the
    zone's API gives no notBefore."""
    points = []
    zone = emulator.state.zone(emulator.zone_id)
    for hostname in zone.custom_hostnames.values():
        info = hostname.certs[0].info
        points.append((info.not_before + info.not_after) / 2)
    for cert in zone.custom_certs.values():
        points.append((cert.uploaded_on + cert.info.not_after) / 2)
    return min(points), max(points)


def served_unverified_issuer(emulator: Any, host: str) -> x509.Name:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", emulator.edge_port), timeout=5) as sock, context.wrap_socket(sock, server_hostname=host) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).issuer
