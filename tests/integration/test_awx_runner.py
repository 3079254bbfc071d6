"""The AWX / Automation Platform contract, proven with ansible-runner (the engine AWX runs jobs with).

What docs/awx.md tells a user to set up is what runs here: the collection tarball installed into the project's
`collections/`, the project playbook `extras/awx/project/rotate.yml` (which imports `certops.cloudflare.rotate`),
an inventory with the group `cloudflare_zones`, one host per zone, and the job templates that
`extras/awx/configure_awx.yml` creates, read from that playbook as Ansible templates it (their playbook, extra vars,
survey answers, job type, diff mode, slices): the preview (check) and the rotation (run), then the workflow's check
node with the rotation's artifacts as its extra vars, as AWX hands them to the next node. The
credentials reach the job only as the environment the credential type's injectors produce: the injector
templates of `extras/awx/credential_type_injectors.yml` are rendered as AWX renders them (a sandboxed Jinja
environment holding only the fields the credential has), and nothing else names a credential. The summary is
read from the runner's artifacts: `set_stats` data lands in the `playbook_on_stats` event as `artifact_data`,
which AWX saves as the job's artifacts and hands to the next workflow node.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import threading
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional

import ansible_runner
import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible_collections.certops.cloudflare.plugins.module_utils._base import auth_argument_spec
from awx.awx_configuration import job_templates, play_vars
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
PLAY_VARS = play_vars()


def load(name: str) -> Any:
    return yaml.safe_load((AWX / name).read_text())


def injected_env(credential: Dict[str, str]) -> Dict[str, str]:
    """The environment AWX gives a job for this credential: every env injector rendered with only the fields set."""
    sandbox = ImmutableSandboxedEnvironment()
    return {name: sandbox.from_string(template).render(**credential) for name, template in load("credential_type_injectors.yml")["env"].items()}


@pytest.fixture(scope="module")
def templates() -> Dict[str, Dict[str, Any]]:
    """The job templates of extras/awx/configure_awx.yml by role: preview, rotate, check."""
    by_name = job_templates()
    return {role: by_name[PLAY_VARS["certops_awx_%s_template" % role]] for role in ("preview", "rotate", "check")}


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
    return {q["variable"]: q["default"] for q in (template.get("survey_spec") or {}).get("spec", [])}


def launch(
    private: Path,
    pki: SimpleNamespace,
    credential: Dict[str, str],
    template: Dict[str, Any],
    limit: str = "",
    extravars: Optional[Dict[str, Any]] = None,
    env: Optional[Dict[str, str]] = None,
) -> Any:
    """One job of the template, as AWX hands it to ansible-runner: extra vars, survey answers, job type, diff, limit, env.
    The project is the repository: the template's playbook path is relative to its root, here to the project's copy of
    extras/awx/project/."""
    cmdline = (["--check"] if template["job_type"] == "check" else []) + (["--diff"] if template.get("diff_mode") else [])
    # Collections come from the project only; the job's environment holds no other Cloudflare setting.
    env = dict(injected_env(credential), ANSIBLE_COLLECTIONS_PATH=str(private / "no-other-collections"), ANSIBLE_LOCAL_TEMP=str(private / "tmp"), **(env or {}))
    env["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")  # the EE's ansible-playbook, here the venv's
    return ansible_runner.run(
        private_data_dir=str(private),
        playbook=str(Path(template["playbook"]).relative_to(PLAY_VARS["certops_awx_playbook_dir"])),
        inventory=inventory(pki, private / "reports"),
        extravars=dict(template.get("extra_vars") or {}, **survey_defaults(template), **(extravars or {})),
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


class ControllerStandIn:
    """A stand-in for the controller's API, not AWX: it answers, to a basic-auth login, the reads the project playbooks
    make with the fields AWX documents for them, and notes each request: GET /api/v2/jobs/{id}/ (id, job_slice_number,
    job_slice_count, artifacts) and GET /api/v2/workflow_jobs/{id}/workflow_nodes/ (results: identifier,
    summary_fields.job.id and .type), from `jobs` and `workflow_nodes`."""

    def __init__(self, slice_count: int, username: str, password: str) -> None:
        self.slice_count, self.requests = slice_count, []
        self.jobs: Dict[int, Dict[str, Any]] = {}  # job id -> fields beside the slice count (artifacts)
        self.workflow_nodes: Dict[int, List[Dict[str, Any]]] = {}  # workflow job id -> its nodes
        expected = "Basic " + base64.b64encode(("%s:%s" % (username, password)).encode()).decode()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802  (http.server's name)
                stand_in.requests.append(self.path)
                path, query = (self.path.split("?", 1) + [""])[:2]
                parts = path.strip("/").split("/")
                status, body = 404, {"detail": "Not found."}
                if self.headers.get("Authorization") != expected:
                    status, body = 401, {"detail": "Authentication credentials were not provided."}
                elif parts[:3] == ["api", "v2", "jobs"] and len(parts) == 4 and parts[3].isdigit():
                    job = int(parts[3])
                    status = 200
                    body = dict({"id": job, "type": "job", "job_slice_number": 1, "job_slice_count": stand_in.slice_count}, **stand_in.jobs.get(job, {}))
                elif parts[:3] == ["api", "v2", "workflow_jobs"] and parts[4:] == ["workflow_nodes"] and int(parts[3]) in stand_in.workflow_nodes:
                    nodes = stand_in.workflow_nodes[int(parts[3])]
                    wanted = [f.split("=", 1)[1] for f in query.split("&") if f.startswith("identifier=")]
                    results = [n for n in nodes if not wanted or n.get("identifier") == wanted[0]]
                    status, body = 200, {"count": len(results), "next": None, "results": results}
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(body).encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def controller() -> Iterator[ControllerStandIn]:
    stand_in = ControllerStandIn(slice_count=2, username="awx-reader", password="awx-reader-password")
    yield stand_in
    stand_in.server.shutdown()


def controller_env(controller: ControllerStandIn, password: str = "awx-reader-password") -> Dict[str, str]:
    """What AWX's credential type "Red Hat Ansible Automation Platform" injects."""
    return dict(CONTROLLER_HOST=controller.url, CONTROLLER_USERNAME="awx-reader", CONTROLLER_PASSWORD=password, CONTROLLER_VERIFY_SSL="False")


def check_node(private: Path, pki: SimpleNamespace, template: Dict[str, Any], artifacts: Dict[str, Any], **kwargs: Any) -> Any:
    """The workflow's check node: its template's playbook, with the artifacts of the nodes before it as extra vars."""
    return launch(private, pki, {}, template, extravars=dict(artifacts, **kwargs.pop("extravars", {})), **kwargs)


def test_the_job_templates_run_the_project_playbook_with_its_slice_count() -> None:
    templates = job_templates()
    preview, rotate = (templates[PLAY_VARS["certops_awx_%s_template" % r]] for r in ("preview", "rotate"))
    assert (preview["job_type"], rotate["job_type"]) == ("check", "run") and preview["playbook"] == rotate["playbook"]
    for template in (preview, rotate):
        assert template["extra_vars"]["certops_job_slice_count"] == template["job_slice_count"] > 1
        assert template["extra_vars"]["certops_api_rate_total"] == CONTROLLER_BUDGET
        assert template["ask_limit_on_launch"] and template["ask_job_slice_count_on_launch"]


def test_a_job_rotates_every_zone_with_the_token_from_the_credential_and_reports_in_the_artifacts(emulator, pki, project, templates):
    """The rotate template's job, then the check node with its artifacts: nothing due without material, it passes.
    No controller credential is attached, so each slice's rate comes from the template's certops_job_slice_count."""
    seed(emulator, pki)
    credential = {"api_token": emulator.token, "api_base_url": emulator.url}
    runner = launch(project.parent, pki, credential, templates["rotate"])
    output = runner.stdout.read()
    assert runner.status == "successful", output[-3000:]
    rate = round(CONTROLLER_BUDGET / templates["rotate"]["job_slice_count"], 3)
    assert "at %g requests per second." % rate in output  # the role's own estimate, at the pace it received

    stats = artifact_stats(runner)["cert_rotation"]
    assert set(stats) == set(ZONES)
    for zone, hostnames in ZONES.items():
        assert stats[zone]["rotated"] == stats[zone]["total"] == len(hostnames) and stats[zone]["failure"] is None
        for hostname in hostnames:
            assert emulator.history.served(hostname, "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256
        assert (project.parent / "reports" / zone / "latest" / "rotation-report.json").exists()
    assert emulator.history.violations() == []
    assert_secrets_only_in_job_env(runner, credential)

    check = check_node(project.parent, pki, templates["check"], artifact_stats(runner))
    assert check.status == "successful", check.stdout.read()[-3000:]


def test_the_check_node_fails_naming_the_zone_with_objects_due_without_material(emulator, pki, project, templates):
    """A hostname of example.org is due but the inventory gives it no new material: the rotation succeeds, the check
    node given its artifacts fails, naming the zone and the count; given no artifacts at all it fails too."""
    seed(emulator, pki)
    org = [z for z in emulator.state.zones.values() if z.name == "example.org"][0]
    emulator.state.add_custom_hostname(
        org.id, "forgotten.customer-d.example", ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.due.chain_pem}]
    )
    credential = {"api_token": emulator.token, "api_base_url": emulator.url}
    runner = launch(project.parent, pki, credential, templates["rotate"])
    assert runner.status == "successful", runner.stdout.read()[-3000:]
    artifacts = artifact_stats(runner)
    assert artifacts["cert_rotation"]["example.org"]["due_without_material_count"] == 1

    check = check_node(project.parent, pki, templates["check"], artifacts)
    output = check.stdout.read()
    assert check.status == "failed"
    assert "example.org: 1 due without new material" in output and "forgotten.customer-d.example" in output and "example.com:" not in output

    nothing = check_node(project.parent, pki, templates["check"], {})
    assert nothing.status == "failed" and "No cert_rotation summary reached this job" in nothing.stdout.read()


def test_check_jobs_sliced_per_zone_with_the_global_key_write_nothing_and_read_their_slice_count(emulator, pki, project, tmp_path, templates, controller):
    """The preview template (job type Check) in two slices, one zone each, as AWX slices the inventory. A controller
    credential is attached: each slice reads its job's slice count (2) from the controller's job API, here a stand-in,
    and paces at 3.8 / 2, whatever the template's certops_job_slice_count says."""
    seed(emulator, pki)
    credential = {"api_email": emulator.api_email, "api_key": emulator.api_key, "api_base_url": emulator.url}
    for number, (zone, hostnames) in enumerate(ZONES.items(), start=1):
        private = tmp_path / ("slice-" + zone)
        shutil.copytree(project, private / "project", symlinks=True)
        job = {"awx_job_id": 100 + number, "awx_job_template_name": templates["preview"]["name"]}
        runner = launch(private, pki, credential, templates["preview"], limit=zone, extravars=job, env=controller_env(controller))
        output = runner.stdout.read()
        assert runner.status == "successful", output[-3000:]
        assert "at 1.9 requests per second." in output and "3.8 / 2 slices, the count read from the controller" in output
        stats = artifact_stats(runner)["cert_rotation"]
        assert list(stats) == [zone] and stats[zone]["planned"] == len(hostnames) and stats[zone]["failure"] is None
        assert_secrets_only_in_job_env(runner, credential)
        assert "awx-reader-password" not in "".join(
            p.read_text(errors="replace") for p in Path(runner.config.artifact_dir).rglob("*") if p.is_file() and p.name != "command"
        )
    assert controller.requests == ["/api/v2/jobs/101/", "/api/v2/jobs/102/"]
    assert writes(emulator) == []


def test_a_job_stops_before_any_request_when_the_controller_refuses_its_slice_count(emulator, pki, project, templates, controller):
    seed(emulator, pki)
    credential = {"api_token": emulator.token, "api_base_url": emulator.url}
    runner = launch(project.parent, pki, credential, templates["rotate"], extravars={"awx_job_id": 7}, env=controller_env(controller, password="wrong"))
    output = runner.stdout.read()
    assert runner.status == "failed" and "/api/v2/jobs/7/" in output and "answered 401" in output and "wrong" not in output
    assert emulator.journal() == []


def test_the_check_node_reads_every_slice_from_the_controller_where_the_handed_artifacts_hold_the_last_slice_only(
    emulator, pki, project, tmp_path, templates, controller
):
    """The rotation in two slices, example.org (with an object due without material) first, example.com last. AWX
    merges the slices' artifacts key by key, so the cert_rotation the check node is handed holds example.com alone,
    and the check passes on it. With a controller credential the check node reads the rotation node's slice jobs and
    their artifacts from the controller (the stand-in, holding the two jobs' real artifacts) and fails naming example.org."""
    seed(emulator, pki)
    org = [z for z in emulator.state.zones.values() if z.name == "example.org"][0]
    emulator.state.add_custom_hostname(
        org.id, "forgotten.customer-d.example", ssl={"method": "txt", "type": "dv"}, certificates=[{"certificate": pki.due.chain_pem}]
    )
    credential = {"api_token": emulator.token, "api_base_url": emulator.url}
    slices = {}
    for job, zone in ((501, "example.org"), (502, "example.com")):
        private = tmp_path / ("slice-" + zone)
        shutil.copytree(project, private / "project", symlinks=True)
        runner = launch(private, pki, credential, templates["rotate"], limit=zone)
        assert runner.status == "successful", runner.stdout.read()[-3000:]
        slices[job] = artifact_stats(runner)
    handed: Dict[str, Any] = {}
    for artifacts in slices.values():  # as AWX's WorkflowJob combines its nodes' artifacts: dict.update, in node order
        handed.update(artifacts)
    assert list(handed["cert_rotation"]) == ["example.com"]
    assert check_node(project.parent, pki, templates["check"], handed).status == "successful"  # what a check without the controller sees

    node = templates["check"]["extra_vars"]["certops_rotate_node"]
    controller.workflow_nodes[900] = [{"identifier": "preview", "summary_fields": {"job": {"id": 400, "type": "workflow_job"}}}]
    controller.workflow_nodes[900].append({"identifier": node, "summary_fields": {"job": {"id": 500, "type": "workflow_job"}}})
    controller.workflow_nodes[500] = [{"identifier": str(job), "summary_fields": {"job": {"id": job, "type": "job"}}} for job in slices]
    controller.jobs.update({job: {"artifacts": artifacts} for job, artifacts in slices.items()})
    check = check_node(project.parent, pki, templates["check"], handed, extravars={"awx_workflow_job_id": 900}, env=controller_env(controller))
    output = check.stdout.read()
    assert check.status == "failed" and "example.org: 1 due without new material" in output, output[-3000:]
    assert controller.requests == [
        "/api/v2/workflow_jobs/900/workflow_nodes/?identifier=%s" % node,
        "/api/v2/workflow_jobs/500/workflow_nodes/?page_size=200",
    ] + ["/api/v2/jobs/%d/" % job for job in slices]
