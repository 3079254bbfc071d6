"""rotation_report through ansible-playbook: the three files land and parse, the result stays small, check mode writes
nothing, and the module makes no API call (the emulator's journal stays empty)."""

from __future__ import annotations

import datetime
import json
import stat
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List

import pytest

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


FAILURE = "apply: 1 custom hostname failed"


@pytest.fixture(scope="module")
def report(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    report_dir = tmp_path_factory.mktemp("report") / "reports" / "example.com"
    run = ansible.run_module(
        "certops.cloudflare.rotation_report",
        {"rows": rows(600), "zone": "example.com", "report_dir": str(report_dir), "failure": FAILURE},
    )
    files = {fmt: Path(path) for fmt, path in run.result.get("files", {}).items()}
    page = files["html"].read_text() if "html" in files else ""
    parser = Tags()
    parser.feed(page)
    parser.close()
    return SimpleNamespace(
        run=run,
        result=run.result,
        report_dir=report_dir,
        files=files,
        dir_mode=stat.S_IMODE(report_dir.stat().st_mode) if report_dir.exists() else None,
        listing=sorted(p.name for p in report_dir.iterdir()) if report_dir.exists() else [],
        data=json.loads(files["json"].read_text()) if "json" in files else {},
        markdown=files["markdown"].read_text() if "markdown" in files else "",
        page=page,
        tags=parser.tags,
        journal=emulator.journal(),
    )


class TestReportFilesAreWrittenParseAndTheResultIsSmall:
    """One run of rotation_report: 600 rows, one failed and one with a hostile name, with a zone and a failure."""

    def test_it_succeeds(self, report):
        assert not report.run.failed, report.run.msg

    def test_it_changes_nothing(self, report):
        assert report.result["changed"] is False

    def test_the_summary_counts_the_rows(self, report):
        assert {k: report.result["summary"][k] for k in ("total", "failed", "rotated")} == {"total": 600, "failed": 1, "rotated": 200}

    def test_the_result_holds_the_files_the_summary_and_the_unverified_only(self, report):
        assert set(report.result) <= {"changed", "files", "summary", "unverified", "replaced", "invocation", "_ansible_no_log"}, sorted(report.result)

    def test_not_even_ansible_s_echo_of_the_arguments_repeats_the_rows(self, report):
        assert report.result["invocation"]["module_args"]["rows"] == "600 rows, not repeated here"

    def test_the_result_is_small(self, report):
        assert len(json.dumps(report.result)) < 2000

    def test_the_result_names_the_three_files(self, report):
        assert report.files == {
            "json": report.report_dir / "rotation-report.json",
            "markdown": report.report_dir / "rotation-report.md",
            "html": report.report_dir / "rotation-report.html",
        }

    def test_only_the_owner_can_enter_the_report_directory(self, report):
        assert report.dir_mode == 0o700

    def test_no_temporary_file_is_left(self, report):
        assert report.listing == sorted(p.name for p in report.files.values())

    def test_the_json_holds_the_zone_and_the_failure(self, report):
        assert (report.data["zone"], report.data["failure"]) == ("example.com", FAILURE)

    def test_the_json_holds_every_row(self, report):
        assert len(report.data["rows"]) == 600

    def test_the_json_holds_the_hostile_name_as_given(self, report):
        assert report.data["rows"][2]["name"] == HOSTILE

    def test_the_json_holds_the_key_types(self, report):
        assert report.data["rows"][0]["key_types"] == ["ecdsa"]

    def test_the_markdown_has_a_table_line_per_row_and_the_header(self, report):
        assert report.markdown.count("\n| ") == 602

    def test_the_markdown_escapes_the_hostile_name(self, report):
        assert "&lt;script&gt;" in report.markdown
        assert "<script" not in report.markdown

    def test_the_html_parses_with_one_chart_and_a_table_row_per_row_and_the_header(self, report):
        assert (report.tags.count("svg"), report.tags.count("tr")) == (1, 601)

    def test_the_html_has_no_script(self, report):
        assert "<script" not in report.page.lower()

    def test_the_html_links_nothing(self, report):
        assert "http" not in report.page

    def test_the_html_shows_the_failure(self, report):
        assert FAILURE in report.page

    def test_no_api_call_is_made(self, report):
        assert report.journal == []


def test_check_mode_writes_nothing_and_says_what_it_would_write(ansible, emulator, tmp_path):
    report_dir = tmp_path / "reports"
    run = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(3), "report_dir": str(report_dir)}, check=True)
    assert not run.failed, run.msg
    assert run.result["changed"] is False
    assert run.result["files"]["html"] == str(report_dir / "rotation-report.html")
    assert run.result["summary"]["total"] == 3
    assert not report_dir.exists()
    assert emulator.journal() == []


@pytest.fixture(scope="module")
def rewrite(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    root = tmp_path_factory.mktemp("rewrite")
    report_dir, other = root / "reports", root / "other"
    first = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(3), "report_dir": str(report_dir)})
    second = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(1), "report_dir": str(report_dir)})
    written = SimpleNamespace(
        rows=len(json.loads((report_dir / "rotation-report.json").read_text())["rows"]),
        html_mode=stat.S_IMODE((report_dir / "rotation-report.html").stat().st_mode),
    )
    bad = ansible.run_module("certops.cloudflare.rotation_report", {"rows": [], "zone": "bad zone!", "report_dir": str(other)})
    return SimpleNamespace(first=first, second=second, written=written, bad=bad, other_exists=other.exists(), journal=emulator.journal())


class TestARewriteReplacesTheFilesAndABadZoneIsRefused:
    """A report of three rows, then one of one row in the same directory; then a report for a bad zone in another."""

    @pytest.mark.parametrize("phase", ["first", "second"])
    def test_each_report_succeeds(self, rewrite, phase):
        assert not getattr(rewrite, phase).failed, getattr(rewrite, phase).msg

    def test_the_rewrite_changes_nothing(self, rewrite):
        assert not rewrite.second.changed

    def test_the_rewrite_replaces_the_rows(self, rewrite):
        assert rewrite.written.rows == 1

    def test_the_rewritten_page_is_readable_by_all(self, rewrite):
        assert rewrite.written.html_mode == 0o644

    def test_a_bad_zone_is_refused_naming_the_option(self, rewrite):
        assert rewrite.bad.failed
        assert "zone" in rewrite.bad.msg

    def test_a_bad_zone_writes_no_directory(self, rewrite):
        assert not rewrite.other_exists

    def test_no_api_call_is_made(self, rewrite):
        assert rewrite.journal == []
