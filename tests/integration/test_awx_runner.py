"""The AWX / Automation Platform contract, proven with ansible-runner (the engine AWX runs jobs with).

What docs/awx.md tells a user to set up is what runs here: the collection tarball installed into the project's
`collections/`, the project playbook `extras/awx/project/rotate.yml` (which imports `certops.cloudflare.rotate`),
an inventory with the group `cloudflare_zones`, one host per zone, and the job template of
`extras/awx/job_template_rotate.yml` (its extra vars, survey answers, job type, diff mode, slices). The
credentials reach the job only as the environment the credential type's injectors produce: the injector
templates of `extras/awx/credential_type_injectors.yml` are rendered as AWX renders them (a sandboxed Jinja
environment holding only the fields the credential has), and nothing else names a credential. The summary is
read from the runner's artifacts: `set_stats` data lands in the `playbook_on_stats` event as `artifact_data`,
which AWX saves as the job's artifacts and hands to the next workflow node.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.certops.cloudflare.plugins.module_utils._base import auth_argument_spec
from emulator.testcerts import make_ca, make_leaf, write_files

# Role runs through ansible-runner: the CI leg `make awx`, with the rest of the AWX configuration's tests.
pytestmark = pytest.mark.awx

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "extras" / "awx"
BIN = Path(sys.executable).parent
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Zone name -> the custom hostnames seeded in it, all serving a certificate that is due.
ZONES = {"example.com": ["shop.customer-a.example", "app.customer-b.example"], "example.org": ["www.customer-c.example"]}
CONTROLLER_BUDGET = 3.8  # requests per second, the pacing default for one controller (docs/rotation.md)


def load(name: str) -> Any:
    return yaml.safe_load((AWX / name).read_text())


def injected_env(credential: Dict[str, str]) -> Dict[str, str]:
    """The environment AWX gives a job for this credential: every env injector rendered with only the fields set."""
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(template).render(**credential) for name, template in load("credential_type_injectors.yml")["env"].items()}


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops AWX CA")
    hosts = [h for names in ZONES.values() for h in names]
    leaves = dict(due=make_leaf(ca, hosts, days=10, not_before_days=-80), new=make_leaf(ca, hosts, days=90))
    root = tmp_path_factory.mktemp("awx-pki")
    (root / "ca.pem").write_text(ca.cert_pem)  # a private CA, as the inventory names it (cert_rotation_ca_path)
    return SimpleNamespace(files=write_files(root, leaves), ca_path=str(root / "ca.pem"), **leaves)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collection tarball, built from the working tree as a release is."""
    out = tmp_path_factory.mktemp("awx-dist")
    subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(out)], check=True, capture_output=True)
    (built,) = out.glob("certops-cloudflare-*.tar.gz")
    return built


@pytest.fixture
def project(tmp_path: Path, tarball: Path) -> Path:
    """The AWX project of the guide's step 1: the project playbook, and the tarball installed into its collections/."""
    path = tmp_path / "private" / "project"
    shutil.copytree(AWX / "project", path)
    install = [str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(path / "collections")]
    subprocess.run(install, check=True, capture_output=True, env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "none")))
    return path


def seed(emulator: Any, pki: SimpleNamespace) -> None:
    ssl = {"method": "txt", "type": "dv", "bundle_method": "ubiquitous"}
    zone_ids = {"example.com": emulator.zone_id, "example.org": emulator.state.add_zone("example.org").id}
    for zone, hostnames in ZONES.items():
        for hostname in hostnames:
            emulator.state.add_custom_hostname(zone_ids[zone], hostname, ssl=ssl, certificates=[{"certificate": pki.due.chain_pem}])


def inventory(pki: SimpleNamespace, report_root: Path) -> Dict[str, Any]:
    """The guide's inventory (step 4): the group cloudflare_zones, one host per zone, each naming its zone and material."""
    hosts = {}
    for zone, hostnames in ZONES.items():
        hosts[zone] = dict(
            cert_rotation_zone=zone,
            cert_rotation_custom_hostnames=[{"hostname": h, "certificates": [pki.files["new"]]} for h in hostnames],
            cert_rotation_report_dir=str(report_root / zone),
        )
    interpreter = "{{ ansible_playbook_python }}"  # the EE's Python, as the guide sets it
    group_vars = dict(
        ansible_connection="local",
        ansible_python_interpreter=interpreter,
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        cert_rotation_ca_path=pki.ca_path,
    )
    return {"cloudflare_zones": {"vars": group_vars, "hosts": hosts}}


def survey_defaults(template: Dict[str, Any]) -> Dict[str, Any]:
    return {q["variable"]: q["default"] for q in template["survey_spec"]["spec"]}


def launch(private: Path, pki: SimpleNamespace, credential: Dict[str, str], job_type: str = "run", limit: str = "") -> Any:
    """One job of the template, as AWX hands it to ansible-runner: extra vars, survey answers, job type, diff, limit, env."""
    template = load("job_template_rotate.yml")
    cmdline = (["--check"] if job_type == "check" else []) + (["--diff"] if template["diff_mode"] else [])
    # Collections come from the project only; the job's environment holds no other Cloudflare setting.
    env = dict(injected_env(credential), ANSIBLE_COLLECTIONS_PATH=str(private / "no-other-collections"), ANSIBLE_LOCAL_TEMP=str(private / "tmp"))
    env["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")  # the EE's ansible-playbook, here the venv's
    return ansible_runner.run(
        private_data_dir=str(private),
        playbook=template["playbook"],
        inventory=inventory(pki, private / "reports"),
        extravars=dict(template.get("extra_vars") or {}, **survey_defaults(template)),
        envvars=env,
        cmdline=" ".join(cmdline),
        limit=limit or None,
        quiet=True,
    )


def artifact_stats(runner: Any) -> Dict[str, Any]:
    """The set_stats data as ansible-runner stores it on disk: the playbook_on_stats event of the job's events."""
    events = [json.loads(p.read_text()) for p in (Path(runner.config.artifact_dir) / "job_events").glob("*.json")]
    (stats,) = [e for e in events if e.get("event") == "playbook_on_stats"]
    return stats["event_data"]["artifact_data"]


def writes(emulator: Any) -> List[Any]:
    return [(e["method"], e["path"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def assert_secrets_only_in_job_env(runner: Any, credential: Dict[str, str]) -> None:
    """The job's environment holds the credential (the contract); no event, output or report shows it."""
    artifacts = Path(runner.config.artifact_dir)
    command_env = json.loads((artifacts / "command").read_text())["env"]
    for name, value in injected_env(credential).items():
        assert command_env[name] == value
    secrets = [credential[k] for k in ("api_token", "api_key") if k in credential]
    shown = [p for p in artifacts.rglob("*") if p.is_file() and p.name != "command"]
    shown += [p for p in (Path(runner.config.private_data_dir) / "reports").rglob("*") if p.is_file()]
    for path in shown:
        text = path.read_text(errors="replace")
        assert not [s for s in secrets if s in text], path
        assert "PRIVATE KEY" not in text, path


@pytest.fixture(autouse=True)
def no_cloudflare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """ansible-runner passes its own environment on to the job: keep credentials out of it."""
    for name in [n for n in os.environ if n.startswith("CLOUDFLARE_")]:
        monkeypatch.delenv(name)


def test_the_injectors_set_the_variables_the_modules_read() -> None:
    fields = {f["id"] for f in load("credential_type_inputs.yml")["fields"]}
    secret = {f["id"] for f in load("credential_type_inputs.yml")["fields"] if f.get("secret")}
    assert fields == {"api_token", "api_email", "api_key", "api_base_url"} and secret == {"api_token", "api_key"}
    spec = auth_argument_spec()
    read = {spec[option]["fallback"][1][0]: option for option in fields}
    env = injected_env({f: "<%s>" % f for f in fields})
    assert {name: value.strip("<>") for name, value in env.items()} == read
    assert injected_env({"api_token": "t"}) == {"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_EMAIL": "", "CLOUDFLARE_API_KEY": "", "CLOUDFLARE_BASE_URL": ""}


def test_the_job_template_divides_the_rate_by_its_slices() -> None:
    template = load("job_template_rotate.yml")
    assert survey_defaults(template)["cert_rotation_api_rate_limit"] * template["job_slice_count"] <= CONTROLLER_BUDGET
    assert template["ask_job_type_on_launch"] and template["ask_limit_on_launch"] and template["ask_job_slice_count_on_launch"]


def test_a_job_rotates_every_zone_with_the_token_from_the_credential_and_reports_in_the_artifacts(emulator, pki, project):
    seed(emulator, pki)
    credential = {"api_token": emulator.token, "api_base_url": emulator.url}
    runner = launch(project.parent, pki, credential)
    assert runner.status == "successful", runner.stdout.read()[-3000:]

    stats = artifact_stats(runner)["cert_rotation"]
    assert set(stats) == set(ZONES)
    for zone, hostnames in ZONES.items():
        assert stats[zone]["rotated"] == stats[zone]["total"] == len(hostnames) and stats[zone]["failure"] is None
        for hostname in hostnames:
            assert emulator.history.served(hostname, "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
        assert (project.parent / "reports" / zone / "latest" / "rotation-report.json").exists()
    assert emulator.history.violations() == []
    assert_secrets_only_in_job_env(runner, credential)


def test_check_jobs_sliced_per_zone_with_the_global_key_write_nothing_and_report_their_zone(emulator, pki, project, tmp_path):
    """Job type Check, two slices (AWX gives each slice its share of the inventory; here one zone each)."""
    seed(emulator, pki)
    credential = {"api_email": emulator.api_email, "api_key": emulator.api_key, "api_base_url": emulator.url}
    for zone, hostnames in ZONES.items():
        private = tmp_path / ("slice-" + zone)
        shutil.copytree(project, private / "project", symlinks=True)
        runner = launch(private, pki, credential, job_type="check", limit=zone)
        assert runner.status == "successful", runner.stdout.read()[-3000:]
        stats = artifact_stats(runner)["cert_rotation"]
        assert list(stats) == [zone] and stats[zone]["planned"] == len(hostnames) and stats[zone]["failure"] is None
        assert_secrets_only_in_job_env(runner, credential)
    assert writes(emulator) == []
