"""The notification examples of extras/notify through ansible-playbook against the emulator, with a real SMTP server
(aiosmtpd) and a real HTTP server receiving what they send.

rotate_and_notify.yml: a run that leaves a hostname due without new material mails once, naming it; a run whose write
fails mails the failure and still fails; a run that fails before its plan mails its failure, not the report of the run
before; a clean run mails nothing. notify_from_stats.yml: given the stat cert_rotation that the role set in a real run,
mails each zone that needs it, and posts the same to a webhook. No mail, output or report holds a key or the token.

Needs the `ansible` package's community.general and aiosmtpd (.venv-ansible, `make awx`): skipped without them, except
under CI=true, where their absence fails.
"""

from __future__ import annotations

import email
import email.policy
import http.server
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from emulator.testcerts import make_ca, make_leaf, trusted_cas, write_files

ROOT = Path(__file__).resolve().parents[2]
NOTIFY = ROOT / "extras" / "notify"
COLLECTIONS = ROOT / ".build" / "collections"  # linked by tests/conftest.py
ZONE = "example.com"
DUE, NO_MATERIAL = "due.customer.example", "forgotten.customer.example"
SSL = {"method": "txt", "type": "dv"}


def _require(module: str, why: str) -> None:
    try:
        __import__(module)
    except ImportError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(
            "%s is not importable (%s): run `make awx`, which installs the ansible package and aiosmtpd in .venv-ansible" % (module, why),
            allow_module_level=True,
        )


_require("ansible_collections.community.general", "the examples mail with community.general.mail")
_require("aiosmtpd.controller", "the local SMTP server the mails go to")

from aiosmtpd.controller import Controller  # noqa: E402  pylint: disable=wrong-import-position


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps every message it is given, parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: List[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802  aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        # community.general.mail sends multipart/mixed, its text part base64-encoded: every part decoded, to search.
        decoded = "\n".join(part.get_content() for part in message.walk() if not part.is_multipart())
        body = message.get_body(preferencelist=("plain",)).get_content()
        text = "%s\n%s\n%s" % (envelope.content.decode("utf-8", "replace"), message["Subject"], decoded)
        self.messages.append(SimpleNamespace(rcpt=list(envelope.rcpt_tos), subject=str(message["Subject"]), body=body, text=text))
        return "250 OK"


@pytest.fixture
def inbox() -> Any:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    handler.port = controller.port
    yield handler
    controller.stop()


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802  http.server's hook name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append(SimpleNamespace(path=self.path, headers=dict(self.headers), body=json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Any:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    ca = make_ca("Certops Notify CA")
    hosts = ["*.customer.example"]
    leaves = dict(due=make_leaf(ca, hosts, days=10, not_before_days=-80), new=make_leaf(ca, hosts, days=90))
    root = tmp_path_factory.mktemp("notify-pki")
    return SimpleNamespace(files=write_files(root, leaves), leaves=leaves, root=root)


def seed(emulator: Any, pki: SimpleNamespace, *names: str) -> None:
    for name in names:
        emulator.state.add_custom_hostname(emulator.zone_id, name, ssl=SSL, certificates=[{"certificate": pki.leaves["due"].chain_pem}])


class Runner:
    """ansible-playbook of this venv with the collection from the working tree, against one emulator."""

    def __init__(self, tmp_path: Path, emulator: Any, inbox: Inbox) -> None:
        self.tmp_path, self.emulator, self.inbox, self.count = tmp_path, emulator, inbox, 0
        self.report_dir = tmp_path / "reports"
        # The example as a user copies it into a project: playbooks and roles/ together (and nothing written in extras/).
        self.notify = tmp_path / "notify"
        shutil.copytree(NOTIFY, self.notify, ignore=shutil.ignore_patterns("rotation-report"))
        roots = tmp_path / "trusted-roots.pem"
        roots.write_text("".join(ca.cert_pem for ca in trusted_cas() if ca.is_root))
        (tmp_path / "tmp").mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "ROTATION_NOTIFY_"))}
        self.env.update(
            ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),  # community.general: from this venv's site-packages
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_RETRY_FILES_ENABLED="0",
            ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
            CLOUDFLARE_API_TOKEN=emulator.token,
            CLOUDFLARE_BASE_URL=emulator.url,
            CLOUDFLARE_API_RATE_LIMIT="0",
            REQUESTS_CA_BUNDLE=str(roots),
            TMPDIR=str(tmp_path / "tmp"),  # the zone locks and the pacer's window: this test's own
        )
        self.outputs: List[str] = []

    @property
    def default_report_dir(self) -> Path:
        """The role's default, rotation-report/<host>: relative, so under the directory ansible-playbook runs in (not
        the playbook's folder, where Ansible runs a local connection's modules)."""
        return self.tmp_path / "rotation-report" / "localhost"

    def notify_vars(self, **extra: Any) -> Dict[str, Any]:
        return dict(
            rotation_notify_mail_host="127.0.0.1",
            rotation_notify_mail_port=self.inbox.port,
            rotation_notify_mail_secure="never",
            rotation_notify_mail_sender="rotation@example.net",
            rotation_notify_mail_to=["ops@example.net", "pki@example.net"],
            **extra,
        )

    def rotation_vars(self, material: List[str]) -> Dict[str, Any]:
        given = dict(
            cert_rotation_zone=ZONE,
            cert_rotation_custom_hostnames=[{"hostname": name, "certificates": [self.pkifiles["new"]]} for name in material],
            cert_rotation_wait_timeout=30,
        )
        if self.report_dir != self.default_report_dir:
            given["cert_rotation_report_dir"] = str(self.report_dir)
        return given

    def run(self, playbook: str, extra_vars: Dict[str, Any], env: Optional[Dict[str, str]] = None, check: bool = False) -> SimpleNamespace:
        self.count += 1
        vars_file = self.tmp_path / ("vars%d.json" % self.count)
        vars_file.write_text(json.dumps(extra_vars))
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", playbook, "-e", "@%s" % vars_file] + (["--check"] if check else [])
        run_env = dict(self.env, **(env or {}))
        proc = subprocess.run(cmd, env=run_env, cwd=str(self.tmp_path), capture_output=True, text=True, timeout=600, check=False)
        self.outputs.append(proc.stdout + proc.stderr)
        return SimpleNamespace(rc=proc.returncode, output=proc.stdout + proc.stderr, stdout=proc.stdout)

    def rotate_and_notify(self, material: List[str], env: Optional[Dict[str, str]] = None) -> SimpleNamespace:
        return self.run(str(self.notify / "rotate_and_notify.yml"), dict(self.rotation_vars(material), **self.notify_vars()), env)

    def report_texts(self) -> List[str]:
        return [p.read_text() for p in self.report_dir.rglob("rotation-report.*") if p.is_file()] if self.report_dir.exists() else []


@pytest.fixture
def runner(tmp_path: Path, emulator: Any, inbox: Inbox, pki: SimpleNamespace) -> Runner:
    made = Runner(tmp_path, emulator, inbox)
    made.pkifiles = pki.files
    return made


def assert_no_secret(runner: Runner, pki: SimpleNamespace, *texts: str) -> None:
    """No private key (its header, or a slice of its body) nor the API token in any mail, output or report."""
    slices = [leaf.key_pem.splitlines()[2][:40] for leaf in pki.leaves.values()]
    everything = [m.text for m in runner.inbox.messages] + runner.outputs + runner.report_texts() + list(texts)
    assert everything
    for text in everything:
        assert "PRIVATE KEY" not in text
        assert runner.emulator.token not in text
        for piece in slices:
            assert piece not in text


def test_due_without_material_mails_once_naming_it_then_a_failure_before_the_plan_mails_only_its_failure(runner, inbox, pki, emulator):
    seed(emulator, pki, DUE, NO_MATERIAL)
    run = runner.rotate_and_notify([DUE])
    assert run.rc == 0, run.output[-3000:]
    (mail,) = inbox.messages
    assert mail.subject == "Certificate rotation example.com: 1 due without new material"
    assert sorted(mail.rcpt) == ["ops@example.net", "pki@example.net"]
    assert "Due within the renewal window without new material (1):\n  custom_hostname %s, expires " % NO_MATERIAL in mail.body
    assert "\n  rotated             1\n" in mail.body and "\n  total               2\n" in mail.body
    (folder,) = [p for p in runner.report_dir.iterdir() if p.name[0].isdigit()]
    assert "Report: %s\n" % folder in mail.body
    assert "Failure" not in mail.body
    assert DUE not in mail.body  # rotated: nothing to say about it

    # A token the API refuses: discovery fails, no report is written, and `latest` still names the run above.
    refused = "refused-token-0123456789abcdef"
    again = runner.rotate_and_notify([DUE], env={"CLOUDFLARE_API_TOKEN": refused})
    assert again.rc != 0
    assert len(inbox.messages) == 2, again.output[-3000:]
    failed = inbox.messages[1]
    assert failed.subject == "Certificate rotation example.com: rotation failed"
    assert "Report: none written (the run failed before its plan)" in failed.body
    assert "The rotation of zone example.com did not complete" in failed.body
    assert NO_MATERIAL not in failed.body  # the report of the run before is not this run's
    assert "Fail the zone whose rotation failed" in again.output
    assert_no_secret(runner, pki)
    assert all(refused not in text for text in [m.body for m in inbox.messages] + runner.outputs)


def test_a_failed_write_mails_the_failure_without_the_key_the_api_echoed_and_fails(runner, inbox, pki, emulator):
    seed(emulator, pki, DUE)
    runner.report_dir = runner.default_report_dir  # the role's default, a relative folder
    # A 400 that echoes the request, and with it the new private key.
    emulator.add_fault("echo", method="PATCH", count=None)
    run = runner.rotate_and_notify([DUE])
    assert run.rc != 0
    assert [(e["method"], e["status"]) for e in emulator.journal() if e.get("fault") == "echo"][:1] == [("PATCH", 400)]
    (mail,) = inbox.messages
    assert mail.subject == "Certificate rotation example.com: rotation failed", run.output[-3000:]
    failure = mail.body[mail.body.index("Failure:") : mail.body.index("Objects per outcome:")]
    assert "Apply | " in failure and DUE in failure
    (folder,) = [p for p in runner.report_dir.iterdir() if p.name[0].isdigit()]
    assert "Report: %s\n" % folder in mail.body
    assert "\n  failed              1\n" in mail.body
    assert "Fail the zone whose rotation failed" in run.output
    assert_no_secret(runner, pki)


def test_a_clean_rotation_mails_nothing(runner, inbox, pki, emulator):
    seed(emulator, pki, DUE)
    run = runner.rotate_and_notify([DUE])
    assert run.rc == 0, run.output[-3000:]
    assert "Mail the summary" in run.output  # the task was there, and skipped
    assert inbox.messages == []
    assert json.loads((runner.report_dir / "latest" / "rotation-report.json").read_text())["summary"]["rotated"] == 1


@pytest.fixture
def stats(runner, pki, emulator):
    """The stat cert_rotation as the role sets it in a real run (due-without-material), read from the JSON callback."""
    seed(emulator, pki, DUE, NO_MATERIAL)
    # As docs/notifications.md reads it: the JSON callback, no progress lines before its document.
    run = runner.run(
        "certops.cloudflare.rotate",
        dict(runner.rotation_vars([DUE]), cert_rotation_progress_interval=0),
        env={"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_SHOW_CUSTOM_STATS": "1"},
    )
    assert run.rc == 0, run.output[-3000:]
    return json.loads(run.stdout)["global_custom_stats"]["cert_rotation"]


def with_other_zones(stats: Dict[str, Any]) -> Dict[str, Any]:
    """The real stat, plus a zone whose run failed and a clean one, as the stat of a run over three zones holds them."""
    clean = dict(stats[ZONE], due=0, total=1, table=[], due_without_material=[], due_without_material_count=0, report="/reports/example.org/x")
    failed = dict(clean, failure="Apply | write the custom hostnames: 1 of 1 custom hostnames failed", rotated=0, failed=1, report="/reports/example.net/x")
    return {ZONE: stats[ZONE], "example.net": failed, "example.org": clean}


def test_the_stat_mails_each_zone_that_needs_it(runner, inbox, pki, stats):
    assert set(stats) == {ZONE} and stats[ZONE]["due_without_material_count"] == 1
    run = runner.run(str(runner.notify / "notify_from_stats.yml"), dict(runner.notify_vars(), cert_rotation=with_other_zones(stats)))
    assert run.rc == 0, run.output[-3000:]
    by_subject = {m.subject: m for m in inbox.messages}
    assert sorted(by_subject) == [
        "Certificate rotation example.com: 1 due without new material",
        "Certificate rotation example.net: rotation failed",
    ]
    due = by_subject["Certificate rotation example.com: 1 due without new material"].body
    assert "custom_hostname %s, expires " % NO_MATERIAL in due
    assert "Per kind:\n  kind" in due and "\n  custom_hostname " in due  # the stat's table
    assert "Report: %s\n" % stats[ZONE]["report"] in due
    assert (
        "Failure:\n  Apply | write the custom hostnames: 1 of 1 custom hostnames failed\n"
        in by_subject["Certificate rotation example.net: rotation failed"].body
    )
    assert_no_secret(runner, pki)


def test_without_the_stat_it_fails_saying_so(runner, inbox):
    run = runner.run(str(runner.notify / "notify_from_stats.yml"), runner.notify_vars())
    assert run.rc != 0
    assert "Give the stat cert_rotation as an extra var" in run.output
    assert inbox.messages == []


def test_the_webhook_gets_the_same_summary_as_json_and_the_token_stays_out_of_the_output(runner, inbox, pki, stats, webhook):
    token = "webhook-token-fedcba9876543210"
    extra = runner.notify_vars(
        rotation_notify_via="webhook", rotation_notify_webhook_url="http://127.0.0.1:%d/hooks/certs" % webhook.server_address[1], cert_rotation=stats
    )
    run = runner.run(str(runner.notify / "notify_from_stats.yml"), extra, env={"ROTATION_NOTIFY_WEBHOOK_TOKEN": token})
    assert run.rc == 0, run.output[-3000:]
    assert inbox.messages == []
    (post,) = webhook.received
    assert (post.path, post.headers["Authorization"]) == ("/hooks/certs", "Bearer " + token)
    assert post.body["zone"] == ZONE and post.body["failed"] is False
    assert post.body["subject"] == "Certificate rotation example.com: 1 due without new material"
    assert post.body["summary"]["due_without_material"][0]["name"] == NO_MATERIAL
    assert "custom_hostname %s, expires " % NO_MATERIAL in post.body["text"]
    assert token not in run.output
    assert_no_secret(runner, pki, json.dumps(post.body))


def test_the_slack_task_takes_its_arguments_in_check_mode_and_hides_the_token(runner, inbox, stats):
    """community.general.slack checks its arguments and stops before sending in check mode: Slack itself is not reached."""
    token = "xoxb-0000-slack-token-fedcba"
    extra = runner.notify_vars(rotation_notify_via="slack", cert_rotation=stats)
    run = runner.run(str(runner.notify / "notify_from_stats.yml"), extra, env={"ROTATION_NOTIFY_SLACK_TOKEN": token}, check=True)
    assert run.rc == 0, run.output[-3000:]
    assert re.search(r"TASK \[rotation_notify : Post to Slack the summary of zone example\.com\] \**\nchanged: \[localhost\]", run.output), run.output
    assert token not in run.output
    assert inbox.messages == []
