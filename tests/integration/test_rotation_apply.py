"""The role's apply stage against a zone that changes under it, and where its report goes by default.

- Fresh settings: a tenant changes a custom hostname's SSL settings (min_tls_version) from a second client while the
  role waits for a new client certificate, after discovery read the zone. The apply stage reads the hostnames again page
  by page and sends the settings as just read, so the change survives the rotation.
- The default report folder is under the current directory of ansible-playbook, not under $PWD.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
import requests

from emulator.testcerts import make_ca, make_leaf, write_files

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
