"""The role's metrics pushed to a real Pushgateway (Debian's prometheus-pushgateway) on 127.0.0.1 and read back through
its API, and promtool (Debian's prometheus) on the files and on the alert rules in docs/. A CI leg: `make metrics`
installs both when missing and runs this file with the metrics tests of test_rotation_metrics.py.

Outside that leg (`make test`) these tests are skipped, saying why; under CI=true a missing binary fails them.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from real_parts import binary, free_port

pytestmark = pytest.mark.metrics

ROOT = Path(__file__).resolve().parents[2]
ROLE = [{"name": "rotate", "ansible.builtin.include_role": {"name": "certops.cloudflare.cert_rotation"}}]
ZONE = "example.com"
JOB = "certops_test_rotation"
INSTALL = "make metrics installs it as root: apt-get install prometheus-pushgateway prometheus"


@pytest.fixture(scope="module")
def pushgateway(tmp_path_factory) -> Iterator[str]:
    """A private Pushgateway on 127.0.0.1, without persistence."""
    command = binary("prometheus-pushgateway", INSTALL, env="CERTOPS_PUSHGATEWAY")
    port = free_port()
    log = tmp_path_factory.mktemp("pushgateway") / "pushgateway.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([command, "--web.listen-address=127.0.0.1:%d" % port], stdout=out, stderr=subprocess.STDOUT)
    url = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Pushgateway did not start:\n" + log.read_text())
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def groups(url: str) -> Dict[tuple, Dict[str, Any]]:
    """The Pushgateway's groups by (job, zone), from its API."""
    with urllib.request.urlopen(url + "/api/v1/metrics", timeout=5) as answer:
        data = json.load(answer)["data"]
    return {(g["labels"].get("job"), g["labels"].get("zone")): g for g in data}


def pushed_values(group: Dict[str, Any], name: str) -> Dict[tuple, float]:
    """A metric of a group: its samples by their labels (less the group's job, zone and instance)."""
    out = {}
    for sample in group[name]["metrics"]:
        labels = tuple(sorted((k, v) for k, v in sample["labels"].items() if k not in ("job", "instance")))
        out[labels] = float(sample["value"])
    return out


def file_values(text: str, name: str) -> Dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == name}


def promtool(*args: str, text: str = None) -> None:
    proc = subprocess.run([binary("promtool", INSTALL, env="CERTOPS_PROMTOOL"), *args], input=text, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def pushed(scenario_emulator, pki, pushgateway, tmp_path_factory):
    from integration.conftest import seed_due_hostnames  # pylint: disable=import-outside-toplevel

    emulator, ansible = scenario_emulator()
    names = seed_due_hostnames(emulator, pki, "m%02d.customer.example", 12)
    metrics_dir = tmp_path_factory.mktemp("pushed-metrics")
    role_vars = dict(
        cert_rotation_zone=ZONE,
        cert_rotation_custom_hostnames=[{"hostname": n, "certificates": [pki.files["new"]]} for n in names[:8]],  # 4 left due
        cert_rotation_revalidate=False,
        cert_rotation_report_dir=str(tmp_path_factory.mktemp("pushed-reports")),
        cert_rotation_metrics_dir=str(metrics_dir),
        cert_rotation_pushgateway_url=pushgateway,
        cert_rotation_pushgateway_job=JOB,
    )
    run = ansible.run_tasks(ROLE, play_vars=role_vars)
    text = (metrics_dir / ("certops_cloudflare_%s.prom" % ZONE)).read_text()
    first = groups(pushgateway)
    # A failed run (a token Cloudflare refuses) pushing only: the group keeps its last success and expiries.
    ansible.env["CLOUDFLARE_API_TOKEN"] = "0" * 40
    failed = ansible.run_tasks(ROLE, play_vars={k: v for k, v in role_vars.items() if k != "cert_rotation_metrics_dir"})
    del ansible.env["CLOUDFLARE_API_TOKEN"]
    after_failure = groups(pushgateway)
    down = ansible.run_tasks(ROLE, play_vars=dict(role_vars, cert_rotation_pushgateway_url="http://127.0.0.1:%d" % (free_port())))
    return SimpleNamespace(run=run, text=text, groups=first, failed=failed, after_failure=after_failure, down=down, metrics_dir=metrics_dir)


class TestTheRolePushesToAPushgateway:
    def test_the_run_succeeds(self, pushed):
        assert pushed.run.rc == 0, pushed.run.output[-3000:]

    def test_the_group_of_job_and_zone_holds_what_the_file_holds(self, pushed):
        group = pushed.groups[(JOB, ZONE)]
        for name in (
            "certops_cloudflare_certificate_expiry_timestamp_seconds",
            "certops_cloudflare_rotation_objects",
            "certops_cloudflare_rotation_success",
            "certops_cloudflare_rotation_api_requests",
            "certops_cloudflare_rotation_last_success_timestamp_seconds",
        ):
            assert pushed_values(group, name) == file_values(pushed.text, name), name
        expiry = pushed_values(group, "certops_cloudflare_certificate_expiry_timestamp_seconds")
        assert len(expiry) == 12
        objects = {dict(k)["outcome"]: v for k, v in pushed_values(group, "certops_cloudflare_rotation_objects").items()}
        assert objects["rotated"] == 8 and objects["due"] == 4

    def test_a_failed_run_leaves_the_last_success_and_the_expiries_on_the_gateway(self, pushed):
        assert pushed.failed.rc != 0
        before, after = pushed.groups[(JOB, ZONE)], pushed.after_failure[(JOB, ZONE)]
        assert list(pushed_values(after, "certops_cloudflare_rotation_success").values()) == [0.0]
        for name in ("certops_cloudflare_rotation_last_success_timestamp_seconds", "certops_cloudflare_certificate_expiry_timestamp_seconds"):
            assert pushed_values(after, name) == pushed_values(before, name), name

    def test_a_pushgateway_that_does_not_answer_fails_the_run_after_the_report(self, pushed):
        assert pushed.down.rc != 0
        assert "Failed to push the metrics to the Pushgateway" in pushed.down.output, pushed.down.output[-3000:]
        assert "See " in pushed.down.output and "rotation-report.md" in pushed.down.output

    def test_promtool_accepts_every_metrics_file(self, pushed):
        files = sorted(pushed.metrics_dir.glob("*.prom"))
        assert files
        for path in files:
            promtool("check", "metrics", text=path.read_text())


def test_promtool_accepts_the_alert_rules():
    promtool("check", "rules", str(ROOT / "docs" / "metrics-alerts.yml"))
