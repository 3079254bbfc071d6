"""The role's apply stage against a zone that changes under it, and where its report goes by default.

- Fresh settings: a tenant changes a custom hostname's SSL settings (min_tls_version) from a second client while the
  role waits for a new client certificate, after discovery read the zone. The apply stage reads the hostnames again page
  by page and sends the settings as just read, so the change survives the rotation.
- The default report folder is under the current directory of ansible-playbook, not under $PWD.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
import requests
import yaml
from cryptography.hazmat.primitives import serialization

from emulator.testcerts import make_ca, make_leaf, write_files

COLLECTION = Path(__file__).resolve().parents[2]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
TENANT = "tenant.customer.example"
CLIENT_HOST = "app.example.com"
SSL = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous", "settings": {"min_tls_version": "1.2"}}
CA = make_ca("Certops Apply CA")  # made before any run: the trusted bundle is written from the registry


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    leaves = dict(
        due=make_leaf(CA, [TENANT], days=10, not_before_days=-80),
        new=make_leaf(CA, [TENANT], days=90),
        client_old=make_leaf(CA, ["origin-client.example.com"], days=10, not_before_days=-80),
        client_new=make_leaf(CA, ["origin-client.example.com"], days=365),
    )
    files = write_files(tmp_path_factory.mktemp("apply-pki"), leaves)
    return SimpleNamespace(files=files, **leaves)


def hostname_of(emulator: Any, name: str) -> Dict[str, Any]:
    answer = requests.get(
        "%s/zones/%s/custom_hostnames" % (emulator.url, emulator.zone_id),
        params={"hostname": name},
        headers={"Authorization": "Bearer " + emulator.token},
        timeout=10,
    )
    answer.raise_for_status()
    (found,) = answer.json()["result"]
    return found


def client_uploads(emulator: Any) -> List[Dict[str, Any]]:
    return [e for e in emulator.journal() if e["method"] == "POST" and e["path"].endswith("origin_tls_client_auth/hostnames/certificates")]


@pytest.fixture(scope="module")
def changed_mid_run(scenario_emulator: Any, pki: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    # Status steps of 3 s: the new client certificate is pending that long, and the role waits for it.
    emulator, ansible = scenario_emulator(delay=3)
    zone = emulator.zone_id
    hostname_id = emulator.state.add_custom_hostname(zone, TENANT, ssl=SSL, certificates=[{"certificate": pki.due.chain_pem}]).id
    client = emulator.state.add_client_cert(zone, certificate=pki.client_old.chain_pem, status="active").id
    emulator.state.add_association(zone, CLIENT_HOST, client)
    role_vars = dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=[{"hostname": TENANT, "certificates": [pki.files["new"]]}],
        cert_rotation_client_certs=[dict(pki.files["client_new"], hostnames=[CLIENT_HOST])],
        cert_rotation_report_dir=str(tmp_path_factory.mktemp("apply-report")),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
    )
    outcome: Dict[str, Any] = {}
    runner = threading.Thread(target=lambda: outcome.update(run=ansible.run_tasks(ROLE, play_vars=role_vars)))
    runner.start()
    deadline = time.monotonic() + 120
    while not client_uploads(emulator) and runner.is_alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    uploaded = bool(client_uploads(emulator))
    # The tenant, from a second client, while the role waits for the client certificate (discovery is over).
    tenant = requests.patch(
        "%s/zones/%s/custom_hostnames/%s" % (emulator.url, zone, hostname_id),
        json={"ssl": {"type": "dv", "bundle_method": "ubiquitous", "settings": {"min_tls_version": "1.3"}}},
        headers={"Authorization": "Bearer " + emulator.token},
        timeout=10,
    )
    runner.join(timeout=600)
    return SimpleNamespace(emulator=emulator, run=outcome.get("run"), uploaded=uploaded, tenant=tenant, after=hostname_of(emulator, TENANT))


class TestASettingChangedWhileTheRoleWaitsSurvivesTheRotation:
    def test_the_change_came_while_the_role_waited_for_the_client_certificate(self, changed_mid_run):
        assert changed_mid_run.uploaded and changed_mid_run.tenant.status_code == 200, changed_mid_run.tenant.text

    def test_the_rotation_succeeds(self, changed_mid_run):
        assert changed_mid_run.run is not None and changed_mid_run.run.rc == 0, changed_mid_run.run.output[-4000:]

    def test_the_setting_changed_mid_run_is_kept(self, changed_mid_run):
        assert changed_mid_run.after["ssl"]["settings"]["min_tls_version"] == "1.3"

    def test_the_hostname_serves_the_new_certificate(self, changed_mid_run, pki):
        served = changed_mid_run.emulator.history.served(TENANT, "ecdsa")
        assert served.fingerprint_sha256 == pki.new.fingerprint_sha256

    def test_no_hostname_or_association_was_ever_without_a_valid_certificate(self, changed_mid_run):
        assert changed_mid_run.emulator.history.violations() == []


def test_the_default_report_folder_is_under_the_current_directory_not_pwd(ansible: Any, emulator: Any, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"  # what a stale $PWD names: a wrapper changed directory without exporting it
    elsewhere.mkdir()
    run = ansible.run_tasks(ROLE, play_vars={"cert_rotation_zone": "example.com"}, env={"PWD": str(elsewhere)})
    assert run.rc == 0, run.output[-4000:]
    # ansible-playbook runs in ansible.tmp_path: an audit (no material) writes its report there.
    assert (ansible.tmp_path / "rotation-report" / "localhost" / "latest" / "rotation-report.json").is_file()
    assert list(elsewhere.iterdir()) == []


def test_the_playbook_of_the_collection_writes_relative_report_and_metrics_folders_under_the_current_directory(ansible: Any, tmp_path: Path) -> None:
    """Not in the playbook's folder: a module on a local connection runs there, inside the installed collection."""
    work = tmp_path / "work"
    (work / "metrics").mkdir(parents=True)
    extra = {"cert_rotation_zone": "example.com", "cert_rotation_report_dir": "reports/example.com", "cert_rotation_metrics_dir": "metrics"}
    command = ["ansible-playbook", "certops.cloudflare.rotate", "-i", "localhost,", "-e", json.dumps(extra)]
    proc = subprocess.run(command, env=ansible.base_env(), cwd=str(work), capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert (work / "reports" / "example.com" / "latest" / "rotation-report.json").is_file()
    assert (work / "metrics" / "certops_cloudflare_example.com.prom").is_file()
    playbooks = COLLECTION / "playbooks"
    assert not (playbooks / "reports").exists() and not (playbooks / "metrics").exists()


# -- the shipped example vars: the preview lists exactly what the rotation then changes ---------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "playbooks" / "vars" / "rotate.example.yml"
PASSPHRASE = "example passphrase"
EXAMPLE_ZONE_HOSTS = ["example.com", "www.example.com"]
STATIC_OLD_HOSTS = ["static.example.com", "cdn.example.com"]
STATIC_NEW_HOSTS = ["static.example.com", "cdn.example.com", "assets.example.com"]
CHANGES = ("rotate", "upload", "restart", "retire")  # the plan actions that write


@pytest.fixture(scope="module")
def example_pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A leaf for each file the example names (under /secure/new/), and what the zone serves before."""
    due = dict(days=10, not_before_days=-80)
    new = {
        "shop.customer-a.com": make_leaf(CA, ["shop.customer-a.com"]),
        "app.customer-b.com-rsa": make_leaf(CA, ["app.customer-b.com"], key_type="rsa"),
        "app.customer-b.com-ecdsa": make_leaf(CA, ["app.customer-b.com"]),
        "api.customer-c.com-ecdsa": make_leaf(CA, ["api.customer-c.com"]),
        "origin-pull": make_leaf(CA, ["origin-pull.example.com"], days=365),
        "example.com": make_leaf(CA, EXAMPLE_ZONE_HOSTS, key_type="rsa"),
        "static.example.com": make_leaf(CA, STATIC_NEW_HOSTS, key_type="rsa"),
    }
    old = {
        "shop.customer-a.com": [make_leaf(CA, ["shop.customer-a.com"], **due)],
        "app.customer-b.com": [make_leaf(CA, ["app.customer-b.com"], key_type="rsa", **due), make_leaf(CA, ["app.customer-b.com"], **due)],
        "api.customer-c.com": [make_leaf(CA, ["api.customer-c.com"], key_type="rsa", **due), make_leaf(CA, ["api.customer-c.com"], **due)],
        "origin-pull": make_leaf(CA, ["origin-pull.example.com"], **due),
        "example.com": make_leaf(CA, EXAMPLE_ZONE_HOSTS, key_type="rsa", **due),
        "static.example.com": make_leaf(CA, STATIC_OLD_HOSTS, key_type="rsa", **due),
    }
    root = tmp_path_factory.mktemp("example-pki")
    files = write_files(root, new)
    # The example's encrypted key, opened with the passphrase beside it.
    encrypted = serialization.load_pem_private_key(new["api.customer-c.com-ecdsa"].key_pem.encode(), None).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(PASSPHRASE.encode())
    )
    Path(files["api.customer-c.com-ecdsa"]["private_key_path"]).write_bytes(encrypted)
    return SimpleNamespace(root=root, new=new, old=old)


def example_vars(pki: SimpleNamespace, report_dir: Path) -> Dict[str, Any]:
    """The shipped example, its /secure/new/ files where this test wrote them and its report folder here."""
    text = EXAMPLE.read_text().replace("/secure/new/", str(pki.root) + "/")
    loaded = yaml.safe_load(text)
    return dict(
        loaded,
        cert_rotation_report_dir=str(report_dir),
        vault_api_customer_c_key_passphrase=PASSPHRASE,
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
    )


def example_state(emulator: Any) -> Dict[Any, Any]:
    """What the zone serves per object of the example, and the packs' statuses: the changes a run made, from the state."""
    now: Dict[Any, Any] = {}
    for host in ("shop.customer-a.com", "app.customer-b.com", "api.customer-c.com"):
        for key_type in ("rsa", "ecdsa"):
            now[("custom_hostname", host, key_type)] = emulator.history.served(host, key_type).fingerprint_sha256
    now[("client_cert", "api.example.com")] = emulator.history.served_client_cert("api.example.com").fingerprint_sha256
    for host in EXAMPLE_ZONE_HOSTS + STATIC_NEW_HOSTS:
        now[("zone_cert", host)] = emulator.history.served(host, "rsa").fingerprint_sha256
    packs = requests.get(
        "%s/zones/%s/ssl/certificate_packs" % (emulator.url, emulator.zone_id),
        params={"status": "all"},
        headers={"Authorization": "Bearer " + emulator.token},
        timeout=10,
    ).json()["result"]
    for pack in packs:
        now[("cert_pack", ", ".join(sorted(pack["hosts"])))] = pack["status"]
    return now


@pytest.fixture(scope="module")
def example_runs(scenario_emulator: Any, example_pki: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    emulator, ansible = scenario_emulator()
    zone = emulator.zone_id
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    for host in ("shop.customer-a.com", "app.customer-b.com", "api.customer-c.com"):
        emulator.state.add_custom_hostname(zone, host, ssl=ssl, certificates=[{"certificate": leaf.chain_pem} for leaf in example_pki.old[host]])
    client = emulator.state.add_client_cert(zone, certificate=example_pki.old["origin-pull"].chain_pem, status="active").id
    emulator.state.add_association(zone, "api.example.com", client)
    emulator.state.add_custom_certificate(zone, certificate=example_pki.old["example.com"].chain_pem, type="legacy_custom", priority=1)
    emulator.state.add_custom_certificate(zone, certificate=example_pki.old["static.example.com"].chain_pem, type="sni_custom", priority=2)
    emulator.state.add_cert_pack(zone, ["example.com", "api.example.com"], status="validation_timed_out")
    report = tmp_path_factory.mktemp("example-report")
    play_vars = example_vars(example_pki, report)
    before = example_state(emulator)
    emulator.reset_journal()
    preview = ansible.run_tasks(ROLE, check=True, diff=True, play_vars=play_vars)
    preview_writes = [e for e in emulator.journal() if e["method"] in ("POST", "PUT", "PATCH", "DELETE")]
    (plan,) = [r["result"] for r in preview.results if r["task"].endswith("Plan | check the new material against the zone and decide per object")]
    rotation = ansible.run_tasks(ROLE, play_vars=play_vars)
    after = example_state(emulator)
    return SimpleNamespace(emulator=emulator, preview=preview, preview_writes=preview_writes, plan=plan["plan"], rotation=rotation, before=before, after=after)


class TestTheShippedExampleVarsPreviewExactlyWhatTheRotationDoes:
    def test_the_preview_with_check_and_diff_succeeds(self, example_runs):
        assert example_runs.preview.rc == 0, example_runs.preview.output[-4000:]

    def test_the_preview_writes_nothing(self, example_runs):
        assert example_runs.preview_writes == []

    def test_the_rotation_succeeds(self, example_runs):
        assert example_runs.rotation.rc == 0, example_runs.rotation.output[-4000:]

    def test_the_objects_the_preview_changes_are_those_the_rotation_changed(self, example_runs):
        planned = {o["kind"] for o in example_runs.plan["objects"] if o["action"] in CHANGES}
        planned_hostnames = {o["name"] for o in example_runs.plan["objects"] if o["action"] in CHANGES and o["kind"] == "custom_hostname"}
        changed = {key for key, value in example_runs.after.items() if example_runs.before.get(key) != value}
        assert planned_hostnames == {key[1] for key in changed if key[0] == "custom_hostname"}
        assert planned == {key[0] for key in changed}

    def test_the_replaced_zone_certificate_was_prioritised_away_and_retired(self, example_runs, example_pki):
        for host in STATIC_NEW_HOSTS:
            assert example_runs.after[("zone_cert", host)] == example_pki.new["static.example.com"].fingerprint_sha256
        assert len(example_runs.plan["retire_zone_certs"]) == 1, example_runs.plan
        held = requests.get(
            "%s/zones/%s/custom_certificates" % (example_runs.emulator.url, example_runs.emulator.zone_id),
            headers={"Authorization": "Bearer " + example_runs.emulator.token},
            timeout=10,
        ).json()["result"]
        assert sorted(sorted(c["hosts"]) for c in held) == sorted([sorted(EXAMPLE_ZONE_HOSTS), sorted(STATIC_NEW_HOSTS)])

    def test_the_dropped_key_type_is_gone_and_the_other_is_new(self, example_runs, example_pki):
        assert example_runs.after[("custom_hostname", "api.customer-c.com", "ecdsa")] == example_pki.new["api.customer-c.com-ecdsa"].fingerprint_sha256
        assert example_runs.after[("custom_hostname", "api.customer-c.com", "rsa")] == example_pki.new["api.customer-c.com-ecdsa"].fingerprint_sha256

    def test_nothing_was_ever_without_a_valid_certificate(self, example_runs):
        assert example_runs.emulator.history.violations() == []
