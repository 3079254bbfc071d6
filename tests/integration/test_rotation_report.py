"""rotation_report through ansible-playbook: the three files land and parse, the result stays small, check mode writes
nothing, and the module makes no API call (the emulator's journal stays empty)."""

from __future__ import annotations

import datetime
import json
import stat
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Dict, List

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat

NOW = datetime.datetime.now(datetime.timezone.utc)
HOSTILE = '<script>alert("x")</script> & a|b\nc.example'


def at(days: int) -> str:
    return isoformat(NOW + datetime.timedelta(days=days))


def rows(count: int) -> List[Dict[str, Any]]:
    out = []
    for i in range(count):
        old = {"serial_number": "%x" % (1000 + i), "fingerprint_sha256": "aa%02x" % (i % 256), "expires_on": at(5 + i % 40)}
        new = {"serial_number": "%x" % (5000 + i), "fingerprint_sha256": "bb%02x" % (i % 256), "expires_on": at(90)}
        outcome = "failed" if i == 1 else "rotated" if i % 3 == 0 else "skipped"
        detail = "upload refused (code 1406)" if outcome == "failed" else None
        name = HOSTILE if i == 2 else "h%04d.customer.example" % i
        out.append(
            dict(kind="custom_hostname", name=name, action="rotate", reason="due", outcome=outcome, detail=detail, old=old, new=new, key_types=["ecdsa"])
        )
    return out


class Tags(HTMLParser):
    """Records the tags; a page that is not HTML at all would leave it empty."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: List[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)


def test_report_files_are_written_parse_and_the_result_is_small(ansible, emulator, tmp_path):
    report_dir = tmp_path / "reports" / "example.com"
    run = ansible.run_module(
        "certops.cloudflare.rotation_report",
        {"rows": rows(600), "zone": "example.com", "report_dir": str(report_dir), "failure": "apply: 1 custom hostname failed"},
    )
    result = run.result
    assert not run.failed, run.msg
    assert result["changed"] is False
    assert result["summary"]["total"] == 600 and result["summary"]["failed"] == 1 and result["summary"]["rotated"] == 200
    assert set(result) <= {"changed", "files", "summary", "unverified", "invocation", "_ansible_no_log"}, sorted(result)
    # Not even Ansible's echo of the arguments repeats the rows.
    assert result["invocation"]["module_args"]["rows"] == "600 rows, not repeated here" and len(json.dumps(result)) < 2000

    files = {fmt: Path(path) for fmt, path in result["files"].items()}
    assert files == {
        "json": report_dir / "rotation-report.json",
        "markdown": report_dir / "rotation-report.md",
        "html": report_dir / "rotation-report.html",
    }
    assert stat.S_IMODE(report_dir.stat().st_mode) == 0o700
    assert sorted(p.name for p in report_dir.iterdir()) == sorted(p.name for p in files.values())  # no temporary file left

    data = json.loads(files["json"].read_text())
    assert data["zone"] == "example.com" and data["failure"] == "apply: 1 custom hostname failed" and len(data["rows"]) == 600
    assert data["rows"][2]["name"] == HOSTILE and data["rows"][0]["key_types"] == ["ecdsa"]

    markdown = files["markdown"].read_text()
    assert markdown.count("\n| ") == 602 and "&lt;script&gt;" in markdown and "<script" not in markdown

    page = files["html"].read_text()
    parser = Tags()
    parser.feed(page)
    parser.close()
    assert parser.tags.count("svg") == 1 and parser.tags.count("tr") == 601
    assert "<script" not in page.lower() and "http" not in page
    assert "apply: 1 custom hostname failed" in page

    assert emulator.journal() == []  # no API call at all


def test_check_mode_writes_nothing_and_says_what_it_would_write(ansible, emulator, tmp_path):
    report_dir = tmp_path / "reports"
    run = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(3), "report_dir": str(report_dir)}, check=True)
    assert not run.failed, run.msg
    assert run.result["changed"] is False
    assert run.result["files"]["html"] == str(report_dir / "rotation-report.html")
    assert run.result["summary"]["total"] == 3
    assert not report_dir.exists()
    assert emulator.journal() == []


def test_rewrite_replaces_the_files_and_a_bad_zone_is_refused(ansible, emulator, tmp_path):
    report_dir = tmp_path / "reports"
    first = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(3), "report_dir": str(report_dir)})
    second = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(1), "report_dir": str(report_dir)})
    assert not first.failed and not second.failed and not second.changed
    assert len(json.loads((report_dir / "rotation-report.json").read_text())["rows"]) == 1
    assert stat.S_IMODE((report_dir / "rotation-report.html").stat().st_mode) == 0o644

    bad = ansible.run_module("certops.cloudflare.rotation_report", {"rows": [], "zone": "bad zone!", "report_dir": str(tmp_path / "other")})
    assert bad.failed and "zone" in bad.msg and not (tmp_path / "other").exists()
    assert emulator.journal() == []
