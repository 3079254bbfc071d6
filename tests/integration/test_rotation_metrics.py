"""The zone's Prometheus metrics: rotation_metrics, and the role writing them (cert_rotation_metrics_dir).

Through ansible-playbook against the emulator seeded with the demo zone and the demo's new material:
- the role rotates with two list reads answered HTTP 429: the file's expiry samples are the report's expiries for every
  object of the zone (the new certificate once in service, else the old one), the API requests and 429 answers are the
  emulator journal's, success is 1 and the last success is the run's end;
- a preview (--check) leaves the file as it was;
- a run that fails before its plan (a token Cloudflare refuses) says success 0 and keeps the last success and the
  expiries of the file before;
- the module alone: the change, the unchanged re-run, check mode and the diff, bad input refused before any file;
- no certificate, key or token in any metrics file.

`make metrics` runs this file again with promtool (CERTOPS_PROMTOOL), which then checks every file written here.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest
from prometheus_client.parser import text_string_to_metric_families

TESTS = Path(__file__).resolve().parents[1]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
ZONE = "example.com"
FILE = "certops_cloudflare_example.com.prom"
EXPIRY = "certops_cloudflare_certificate_expiry_timestamp_seconds"
LAST_SUCCESS = "certops_cloudflare_rotation_last_success_timestamp_seconds"
# The outcomes after which an object serves its new certificate (the report's own list, written out here on purpose).
NEW_SERVED = {"rotated", "uploaded", "up_to_date", "pending", "deploying"}


def load_run_demo() -> Any:
    spec = importlib.util.spec_from_file_location("run_demo_for_metrics", TESTS / "demo" / "run_demo.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def parse(text: str) -> List[Any]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def values(text: str) -> Dict[str, float]:
    """The run's single-sample metrics by name."""
    return {s.name: s.value for s in parse(text) if s.name != EXPIRY and s.name != "certops_cloudflare_rotation_objects"}


def expiries(text: str) -> Dict[tuple, float]:
    return {(s.labels["kind"], s.labels["name"], s.labels["id"]): s.value for s in parse(text) if s.name == EXPIRY}


def iso_to_unix(value: str) -> float:
    import datetime  # pylint: disable=import-outside-toplevel

    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def report_expiries(report: Dict[str, Any]) -> Dict[tuple, float]:
    """Each row's expiry as the report shows it: its new certificate's once that is served, else its old one's."""
    out = {}
    for row in report["rows"]:
        side = row.get("new") if row["outcome"] in NEW_SERVED and (row.get("new") or {}).get("expires_on") else row.get("old")
        if (side or {}).get("expires_on"):
            out[(row["kind"], row["name"], str(row.get("id") or ""))] = iso_to_unix(side["expires_on"])
    return out


def promtool(path: Path) -> None:
    tool = os.environ.get("CERTOPS_PROMTOOL")
    if tool:
        proc = subprocess.run([tool, "check", "metrics"], input=path.read_text(), capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def zone(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator(seed="demo")
    material = tmp_path_factory.mktemp("metrics-material")
    metrics_dir = tmp_path_factory.mktemp("metrics")
    role_vars = dict(
        load_run_demo().mint_material(material),
        cert_rotation_report_dir=str(tmp_path_factory.mktemp("metrics-reports")),
        cert_rotation_metrics_dir=str(metrics_dir),
    )
    # Two list reads answered 429 (Retry-After 1 s): the client waits them out, the metrics count them.
    emulator.add_fault("429", method="GET", path="custom_hostnames$", count=2, retry_after=1)
    rotation = ansible.run_tasks(ROLE, play_vars=role_vars)
    journal = emulator.journal()
    assert (metrics_dir / FILE).exists(), rotation.output[-4000:]
    text = (metrics_dir / FILE).read_text()
    report = json.loads((Path(role_vars["cert_rotation_report_dir"]) / "latest" / "rotation-report.json").read_text())
    preview = ansible.run_tasks(ROLE, play_vars=role_vars, check=True)
    after_preview = (metrics_dir / FILE).read_text()
    ansible.env["CLOUDFLARE_API_TOKEN"] = "0" * 40  # refused: the run fails taking the lock, before any discovery
    failed = ansible.run_tasks(ROLE, play_vars=role_vars)
    after_failure = (metrics_dir / FILE).read_text()
    del ansible.env["CLOUDFLARE_API_TOKEN"]
    return SimpleNamespace(
        rotation=rotation,
        journal=journal,
        text=text,
        report=report,
        preview=preview,
        after_preview=after_preview,
        failed=failed,
        after_failure=after_failure,
        material=material,
        metrics_dir=metrics_dir,
        token=emulator.token,
    )


class TestTheRoleWritesTheZonesMetrics:
    def test_the_rotation_succeeds(self, zone):
        assert zone.rotation.rc == 0, zone.rotation.output[-3000:]
        promtool(zone.metrics_dir / FILE)

    def test_every_object_of_the_report_has_its_expiry(self, zone):
        expected = report_expiries(zone.report)
        assert len(expected) >= 20 and expiries(zone.text) == expected
        rotated = [r for r in zone.report["rows"] if r["outcome"] == "rotated"]
        assert rotated and all(expiries(zone.text)[(r["kind"], r["name"], str(r.get("id") or ""))] == iso_to_unix(r["new"]["expires_on"]) for r in rotated)

    def test_the_outcome_counts_are_the_reports(self, zone):
        counts = {s.labels["outcome"]: s.value for s in parse(zone.text) if s.name == "certops_cloudflare_rotation_objects"}
        summary = zone.report["summary"]
        assert {k: v for k, v in counts.items() if v} == {k: v for k, v in summary.items() if k != "total" and v}

    def test_the_api_requests_and_429_answers_are_the_journals(self, zone):
        run = values(zone.text)
        limited = [e for e in zone.journal if e["status"] == 429]
        assert len(limited) == 2 and run["certops_cloudflare_rotation_api_rate_limited"] == 2
        # Every request but the lock's zone lookup, made before the run's private directory (and its usage file) exists.
        assert run["certops_cloudflare_rotation_api_requests"] == len(zone.journal) - 1

    def test_success_and_the_last_success_are_the_runs_end(self, zone):
        run = values(zone.text)
        assert run["certops_cloudflare_rotation_success"] == 1
        assert run[LAST_SUCCESS] == run["certops_cloudflare_rotation_end_timestamp_seconds"] > 0
        assert run["certops_cloudflare_rotation_due_without_material"] == zone.report["summary"]["due"]

    def test_a_preview_writes_no_metrics(self, zone):
        assert zone.preview.rc == 0, zone.preview.output[-3000:]
        assert zone.after_preview == zone.text

    def test_a_failed_run_keeps_the_last_success_and_the_expiries(self, zone):
        assert zone.failed.rc != 0
        before, after = values(zone.text), values(zone.after_failure)
        assert after["certops_cloudflare_rotation_success"] == 0
        assert after[LAST_SUCCESS] == before[LAST_SUCCESS] < after["certops_cloudflare_rotation_end_timestamp_seconds"]
        assert expiries(zone.after_failure) == expiries(zone.text)
        promtool(zone.metrics_dir / FILE)

    def test_no_certificate_key_or_token_in_the_metrics(self, zone):
        for text in (zone.text, zone.after_failure):
            assert "BEGIN" not in text and "PRIVATE" not in text and zone.token not in text
            for key in zone.material.glob("*.key"):
                body = "".join(key.read_text().splitlines()[1:-1])
                assert body[:40] not in text.replace("\n", "")


# -- the module alone --------------------------------------------------------------------------------------------------

MOD = "certops.cloudflare.rotation_metrics"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("metrics-report") / "rotation-report.json"
    rows = [
        {
            "kind": "custom_hostname",
            "name": "a.customer.example",
            "key_types": ["ecdsa"],
            "outcome": "rotated",
            "old": None,
            "new": {"expires_on": "2027-03-01T00:00:00Z"},
        },
        {"kind": "zone_cert", "name": "example.com", "id": "0123abcd", "outcome": "due", "old": {"expires_on": "2026-12-20T00:00:00Z"}, "new": None},
    ]
    path.write_text(json.dumps({"rows": rows, "zone": ZONE}))
    return str(path)


def test_the_module_writes_then_changes_nothing_with_the_same_inputs(ansible, report_file, tmp_path):
    dest = tmp_path / "textfile"
    dest.mkdir()
    args = {"zone": ZONE, "success": True, "report": report_file, "dest": str(dest), "end_time": 1_800_000_000}
    preview = ansible.run_module(MOD, args, check=True, diff=True)
    assert preview.changed and not (dest / FILE).exists() and preview.result["file"] == str(dest / FILE)
    assert preview.result["diff"] == {"before": {"expiry_samples": 0, "last_success": None}, "after": {"expiry_samples": 2, "last_success": 1_800_000_000}}
    first = ansible.run_module(MOD, args, diff=True)
    assert first.changed and first.result["expiry_samples"] == 2 and first.result["outcomes"] == {"rotated": 1, "due": 1}
    text = (dest / FILE).read_text()
    assert values(text)["certops_cloudflare_rotation_due_without_material"] == 1
    promtool(dest / FILE)
    again = ansible.run_module(MOD, args, diff=True)
    assert not again.changed and (dest / FILE).read_text() == text
    assert again.result["diff"]["before"] == again.result["diff"]["after"]


@pytest.mark.parametrize(
    "change, message",
    [
        ({"dest": "/nonexistent/folder"}, "dest: /nonexistent/folder is not a folder; create it"),
        ({"report": "/nonexistent/rotation-report.json"}, "report: /nonexistent/rotation-report.json is not a file"),
        ({"pushgateway_url": "pushgateway.example:9091"}, "pushgateway_url must start with http:// or https://"),
        ({"dest": None}, "one of the following is required: dest, pushgateway_url"),
        (
            {"pushgateway_url": "http://127.0.0.1:9", "pushgateway_username": "ops"},
            "parameters are required together: pushgateway_username, pushgateway_password",
        ),
    ],
)
def test_bad_input_fails_before_any_file_is_written(ansible, report_file, tmp_path, change, message):
    args = dict({"zone": ZONE, "success": True, "report": report_file, "dest": str(tmp_path)}, **change)
    run = ansible.run_module(MOD, {k: v for k, v in args.items() if v is not None})
    assert run.failed and message in run.msg, run.result
    assert not (tmp_path / FILE).exists()


def test_a_pushgateway_that_does_not_answer_fails_after_the_file_is_written(ansible, report_file, tmp_path):
    run = ansible.run_module(
        MOD, {"zone": ZONE, "success": True, "report": report_file, "dest": str(tmp_path), "pushgateway_url": "http://127.0.0.1:9", "pushgateway_timeout": 5}
    )
    assert run.failed and "Failed to push the metrics to the Pushgateway http://127.0.0.1:9" in run.msg, run.result
    assert (tmp_path / FILE).exists() and run.result["pushed"] is False


def test_without_prometheus_client_the_module_says_what_to_install(ansible, report_file, tmp_path):
    hidden = tmp_path / "hide" / "prometheus_client"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("No module named prometheus_client (hidden by the test)")\n')
    run = ansible.run_module(MOD, {"zone": ZONE, "success": True, "report": report_file, "dest": str(tmp_path)}, env={"PYTHONPATH": str(hidden.parent)})
    assert run.failed and "Failed to import the required Python library (prometheus_client)" in run.msg, run.result
    assert not (tmp_path / FILE).exists()
