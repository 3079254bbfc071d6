"""The role's edge stage (cert_rotation_verify_edge) against the emulator's TLS edge, through ansible-playbook.

After the apply stage the role probes every switched custom hostname per key type of its new certificates and
waits until each serves one of them. The hostnames reach the probe as the apply task's file (targets_file) and its
entries reach the report as the probe's file (dest): the task results hold counts, not lists. An edge told to keep
serving the old certificate (emulator.edge_hold) must make the role fail naming that hostname, with the report's
edge column saying what is served instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

from emulator.testcerts import make_ca, make_leaf, write_files

# Role runs of many playbooks each: a CI leg of their own (`make scenarios`), so that `make test` stays a fast gate.
pytestmark = pytest.mark.scenario

HOSTS = ["a.customer.example", "b.customer.example", "pair.customer.example"]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Edge Role CA")
    hosts = ["*.customer.example"]
    leaves = dict(
        due=make_leaf(ca, hosts, days=10, not_before_days=-80),
        due_rsa=make_leaf(ca, hosts, key_type="rsa", days=10, not_before_days=-80),
        new=make_leaf(ca, hosts, days=90),
        new_rsa=make_leaf(ca, hosts, key_type="rsa", days=90),
    )
    root = tmp_path_factory.mktemp("edge-role-pki")
    (root / "ca.pem").write_text(ca.cert_pem)
    return SimpleNamespace(files=write_files(root, leaves), ca_path=str(root / "ca.pem"), **leaves)


def seed(emulator: Any, pki: SimpleNamespace) -> None:
    for host in HOSTS:
        leaves = [pki.due_rsa, pki.due] if host.startswith("pair") else [pki.due]
        certificates = [{"certificate": leaf.chain_pem, "private_key": leaf.key_pem} for leaf in leaves]  # the edge signs with the keys
        emulator.state.add_custom_hostname(emulator.zone_id, host, ssl={"method": "txt", "type": "dv"}, certificates=certificates)
    emulator.start_edge()


def role_vars(emulator: Any, pki: SimpleNamespace, report_dir: Path, **extra: Any) -> Dict[str, Any]:
    items = [{"hostname": h, "certificates": [pki.files["new_rsa"], pki.files["new"]] if h.startswith("pair") else [pki.files["new"]]} for h in HOSTS]
    return dict(
        cert_rotation_zone="example.com",
        cert_rotation_custom_hostnames=items,
        cert_rotation_report_dir=str(report_dir),
        cert_rotation_wait_timeout=60,
        cert_rotation_poll_interval=1,
        cert_rotation_verify_edge=True,
        cert_rotation_edge_address="127.0.0.1",
        cert_rotation_edge_port=emulator.edge_port,
        cert_rotation_edge_ca_path=pki.ca_path,
        **extra,
    )


def report_rows(report: Path) -> Dict[str, Dict[str, Any]]:
    return {r["name"]: r for r in json.loads((report / "latest" / "rotation-report.json").read_text())["rows"]}


APPLY_TASK = "Apply | replace the certificates of the custom hostnames due, and wait until they are live"


def edge_probes(run: Any) -> list:
    return [r for r in run.results if r["task"].endswith("Verify | wait until the edge serves the new certificates")]


@pytest.fixture(scope="module")
def verified(scenario_emulator, pki, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    seed(emulator, pki)
    report = tmp_path_factory.mktemp("edge-verified") / "report"
    run = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, report))
    # The rerun writes the report again: what the rotation wrote is read now.
    rows = report_rows(report) if (report / "latest" / "rotation-report.json").exists() else {}
    markdown = (report / "latest" / "rotation-report.md").read_text() if (report / "latest" / "rotation-report.md").exists() else ""
    served_pair_rsa = emulator.history.served("pair.customer.example", "rsa").fingerprint_sha256
    rerun = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, report))  # nothing switched: nothing to probe
    return SimpleNamespace(run=run, probes=edge_probes(run), rows=rows, markdown=markdown, served_pair_rsa=served_pair_rsa, rerun=rerun)


class TestTheRoleVerifiesEverySwitchedHostnameAndKeyTypeAtTheEdge:
    """Three due hostnames, one an RSA and ECDSA pair, on an edge that follows the rotation; the rotation, then a rerun."""

    def test_the_rotation_succeeds(self, verified):
        assert verified.run.rc == 0, verified.run.output[-3000:]

    def test_the_edge_is_probed_once(self, verified):
        assert len(verified.probes) == 1

    def test_one_handshake_per_hostname_and_key_type_of_its_new_certificates_and_each_matches(self, verified):
        (probe,) = verified.probes
        # a and b ECDSA, the pair both.
        assert probe["result"]["summary"] == {"total": 4, "matched": 4, "mismatched": 0, "errors": 0}

    def test_the_probe_result_lists_no_certificate_and_no_mismatch(self, verified):
        (probe,) = verified.probes
        assert (probe["result"]["edge_certs"], probe["result"]["mismatches"]) == ([], [])

    def test_the_report_shows_every_hostname_verified_at_the_edge(self, verified):
        assert {h: verified.rows[h]["edge"] for h in HOSTS} == dict.fromkeys(HOSTS, "verified")  # each key type serves its own new certificate

    def test_the_markdown_report_has_an_edge_column(self, verified):
        assert "| edge |" in verified.markdown

    def test_the_pair_serves_its_new_rsa_certificate(self, verified, pki):
        assert verified.served_pair_rsa == pki.new_rsa.fingerprint_sha256

    def test_no_key_is_shown(self, verified):
        assert "PRIVATE KEY" not in verified.run.output

    def test_the_rerun_succeeds(self, verified):
        assert verified.rerun.rc == 0, verified.rerun.output[-3000:]

    def test_the_rerun_switches_nothing_so_probes_nothing(self, verified):
        assert "skip_reason" in edge_probes(verified.rerun)[0]["result"], verified.rerun.output[-3000:]


def test_the_probe_takes_the_hostnames_from_the_apply_tasks_file_not_from_its_arguments(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    run = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, tmp_path / "report"))
    assert run.rc == 0, run.output[-3000:]
    (probe,) = edge_probes(run)
    args = probe["result"]["invocation"]["module_args"]
    assert args["targets_file"].endswith("/applied-hostnames.json")
    assert args["dest"].endswith("/edge-certs.json")
    assert (args["hostnames"], args["expect"]) == (None, None)
    (applied,) = [r for r in run.results if r["task"].endswith(APPLY_TASK)]
    assert applied["result"]["switched_count"] == len(HOSTS)


def test_an_edge_that_keeps_serving_the_old_certificate_fails_the_role_naming_the_hostname(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    emulator.edge_hold(["b.customer.example"])  # this edge never picks up the rotation of b
    report = tmp_path / "report"
    run = ansible.run_tasks(ROLE, play_vars=role_vars(emulator, pki, report, cert_rotation_edge_wait_timeout=2))
    assert run.rc != 0
    assert "did not complete" in run.output
    expected = "b.customer.example (ecdsa): served %s, expected %s" % (pki.due.fingerprint_sha256, pki.new.fingerprint_sha256)
    assert expected in run.output, run.output[-3000:]
    assert "a.customer.example (ecdsa)" not in run.output
    assert len(edge_probes(run)) == 1
    assert edge_probes(run)[0]["result"]["attempts"] == 2  # bounded: 2 s, one probe a second
    rows = report_rows(report)
    assert rows["b.customer.example"]["outcome"] == "rotated"  # the API switched it; the edge did not
    assert rows["b.customer.example"]["edge"].startswith("not verified (ecdsa: serves %s" % pki.due.fingerprint_sha256[:16])
    assert (rows["a.customer.example"]["edge"], rows["pair.customer.example"]["edge"]) == ("verified", "verified")
    assert emulator.history.served("b.customer.example", "ecdsa").fingerprint_sha256 == pki.new.fingerprint_sha256


# -- the same files in a playbook of one's own: the probe's dest is what rotation_report reads --------------------


def by_hand(emulator: Any, pki: SimpleNamespace, work: Path) -> List[Dict[str, Any]]:
    """The role's custom hostname stages as plain tasks, the lists handed on as files: discover, plan, apply, probe."""
    items = [{"hostname": h, "certificates": [pki.files["new_rsa"], pki.files["new"]] if h.startswith("pair") else [pki.files["new"]]} for h in HOSTS]
    files = {name: str(work / (name + ".json")) for name in ("found", "plan", "applied", "edge")}
    return [
        {"name": "discover", "certops.cloudflare.custom_hostname_cert_info": {"zone": "example.com", "dest": files["found"]}, "register": "found"},
        {
            "name": "plan",
            "certops.cloudflare.rotation_plan": {"custom_hostnames": items, "discovered": {"custom_hostnames": files["found"]}, "dest": files["plan"]},
        },
        {
            "name": "apply",
            "certops.cloudflare.custom_hostname_cert": {
                "zone_id": "{{ found.zone_id }}",
                "plan": files["plan"],
                "discovered_hostnames": files["found"],
                "dest": files["applied"],
                "wait": True,
                "wait_timeout": 60,
            },
        },
        {
            "name": "probe",
            "certops.cloudflare.edge_cert_info": {
                "targets_file": files["applied"],
                "dest": files["edge"],
                "address": "127.0.0.1",
                "port": emulator.edge_port,
                "ca_path": pki.ca_path,
            },
            "register": "edge",
            "until": "edge is not failed",
            "retries": 30,
            "delay": 1,
        },
    ]


def report_task(name: str, work: Path, edge_certs: Any) -> Dict[str, Any]:
    args = {"plan": str(work / "plan.json"), "state": {"custom_hostnames": str(work / "applied.json")}, "edge_certs": edge_certs}
    return {"name": name, "certops.cloudflare.rotation_report": dict(args, report_dir=str(work / name)), "register": name.replace(" ", "_")}


def test_rotation_report_takes_the_probes_dest_file_as_edge_certs(ansible, emulator, pki, tmp_path):
    seed(emulator, pki)
    as_list = "{{ (lookup('ansible.builtin.file', '%s') | from_json).edge_certs }}" % (tmp_path / "edge.json")
    tasks = by_hand(emulator, pki, tmp_path) + [report_task("from path", tmp_path, str(tmp_path / "edge.json")), report_task("from list", tmp_path, as_list)]
    run = ansible.run_tasks(tasks)
    assert run.rc == 0, run.output[-3000:]
    assert report_rows(tmp_path / "from path") == report_rows(tmp_path / "from list")
    assert {h: report_rows(tmp_path / "from path")[h]["edge"] for h in HOSTS} == dict.fromkeys(HOSTS, "verified")


@pytest.mark.parametrize(
    "content, message",
    [(None, "edge_certs: cannot read"), ('{"zone_id": "x"}', "holds no edge_certs list; give the path edge_cert_info's dest option wrote")],
    ids=["missing", "not a probe's file"],
)
def test_rotation_report_names_edge_certs_when_its_file_is_not_a_probes(ansible, emulator, tmp_path, content, message):
    edge_file = tmp_path / "edge.json"
    if content is not None:
        edge_file.write_text(content)
    (tmp_path / "applied.json").write_text(json.dumps({"zone_id": "x", "custom_hostnames": []}))  # an empty zone
    run = ansible.run_tasks(
        [
            {"name": "plan", "certops.cloudflare.rotation_plan": {"dest": str(tmp_path / "plan.json")}},
            dict(report_task("report", tmp_path, str(edge_file)), ignore_errors=True),
        ]
    )
    result = run.result()
    assert result["failed"], result.get("msg")
    assert message in result["msg"]
    assert not (tmp_path / "report").exists()
