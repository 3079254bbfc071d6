"""rotation_report through ansible-playbook: the three files land and parse, the result stays small, check mode writes
nothing but a check run's preview, each run gets its own folder with the latest and latest-rotate pointers, a plan's
audit reaches the report and the result, and the module makes no API call (the emulator's journal stays empty)."""

from __future__ import annotations

import datetime
import json
import os
import re
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
        name = HOSTILE if i == 3 else "h%04d.customer.example" % i  # a rotated row: listed in every format
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
        {"rows": rows(600), "zone": "example.com", "report_dir": str(report_dir), "failure": FAILURE, "history": False},
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
    """One run of rotation_report without history: 600 rows, one failed and one with a hostile name, with a zone and a failure."""

    def test_it_succeeds(self, report):
        assert not report.run.failed, report.run.msg

    def test_it_changes_nothing(self, report):
        assert report.result["changed"] is False

    def test_the_summary_counts_the_rows(self, report):
        assert {k: report.result["summary"][k] for k in ("total", "failed", "rotated")} == {"total": 600, "failed": 1, "rotated": 200}

    def test_the_result_holds_the_files_the_summary_and_the_unverified_only(self, report):
        known = {"files", "folder", "latest", "summary", "table", "unverified", "replaced", "due_without_material", "due_without_material_count"}
        assert set(report.result) <= known | {"changed", "invocation", "_ansible_no_log"}, sorted(report.result)

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
        assert report.data["rows"][3]["name"] == HOSTILE

    def test_the_json_holds_the_key_types(self, report):
        assert report.data["rows"][0]["key_types"] == ["ecdsa"]

    def test_the_markdown_lists_the_rotated_and_failed_rows_and_counts_the_rest(self, report):
        objects = report.markdown[report.markdown.index("| kind | name |") :]
        assert objects.count("\n| ") == 1 + 201  # the separator, then the 200 rotated rows and the failed one
        assert "201 objects are listed below" in report.markdown and "the other 399, with nothing to do, are counted here" in report.markdown

    def test_the_markdown_escapes_the_hostile_name(self, report):
        assert "&lt;script&gt;" in report.markdown
        assert "<script" not in report.markdown

    def test_the_html_parses_with_one_chart_and_a_table_row_per_listed_row_and_the_header(self, report):
        objects = report.page[report.page.index('<table class="objects">') :]
        assert (report.tags.count("svg"), objects.count("<tr")) == (1, 1 + 201)

    def test_the_html_has_no_script(self, report):
        assert "<script" not in report.page.lower()

    def test_the_html_links_nothing(self, report):
        assert "http" not in report.page

    def test_the_html_shows_the_failure(self, report):
        assert FAILURE in report.page

    def test_without_history_the_folder_is_the_report_dir(self, report):
        assert report.result["folder"] == str(report.report_dir)

    def test_the_result_holds_the_summary_table(self, report):
        assert report.result["table"][1] == "custom_hostname       200      399       1    600"

    def test_the_markdown_shows_times_in_utc(self, report):
        assert " UTC. 600 objects" in report.markdown

    def test_no_api_call_is_made(self, report):
        assert report.journal == []


def test_check_mode_writes_nothing_and_says_what_it_would_write(ansible, emulator, tmp_path):
    report_dir = tmp_path / "reports"
    run = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(3), "report_dir": str(report_dir), "history": False}, check=True)
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
    first = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(3), "report_dir": str(report_dir), "history": False})
    second = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(1), "report_dir": str(report_dir), "history": False})
    written = SimpleNamespace(
        rows=len(json.loads((report_dir / "rotation-report.json").read_text())["rows"]),
        html_mode=stat.S_IMODE((report_dir / "rotation-report.html").stat().st_mode),
    )
    bad = ansible.run_module("certops.cloudflare.rotation_report", {"rows": [], "zone": "bad zone!", "report_dir": str(other)})
    return SimpleNamespace(first=first, second=second, written=written, bad=bad, other_exists=other.exists(), journal=emulator.journal())


class TestARewriteReplacesTheFilesAndABadZoneIsRefused:
    """Without history: a report of three rows, then one of one row in the same directory; then a report for a bad zone
    in another."""

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


# -- history: a folder per run, the pointers ---------------------------------------------------------------------------


def run_folders(report_dir: Path) -> List[str]:
    return sorted(p.name for p in report_dir.iterdir() if not p.name.startswith("latest")) if report_dir.exists() else []


@pytest.fixture(scope="module")
def runs(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    report_dir = tmp_path_factory.mktemp("history") / "reports"
    module = "certops.cloudflare.rotation_report"
    args = {"rows": rows(3), "zone": "example.com", "report_dir": str(report_dir)}
    preview = ansible.run_module(module, dict(args, mode="check"), check=True)
    rotate = ansible.run_module(module, dict(args, mode="rotate"))
    after_rotate = run_folders(report_dir)
    audit = ansible.run_module(module, dict(args, mode="audit"), check=True)  # check mode, not a check run: writes nothing

    def read(run: Any, fmt: str) -> str:
        path = Path(run.result.get("files", {}).get(fmt, "/nonexistent"))
        return path.read_text() if path.is_file() else ""

    return SimpleNamespace(
        report_dir=report_dir,
        preview=preview,
        rotate=rotate,
        audit=audit,
        after_rotate=after_rotate,
        after_audit=run_folders(report_dir),
        latest=os.readlink(report_dir / "latest") if os.path.islink(report_dir / "latest") else None,
        latest_rotate=os.readlink(report_dir / "latest-rotate") if os.path.islink(report_dir / "latest-rotate") else None,
        folder_mode=stat.S_IMODE(Path(rotate.result["folder"]).stat().st_mode) if Path(rotate.result.get("folder", "/nonexistent")).is_dir() else None,
        preview_markdown=read(preview, "markdown"),
        preview_page=read(preview, "html"),
        preview_data=json.loads(read(preview, "json") or "{}"),
        rotate_markdown=read(rotate, "markdown"),
        rotate_data=json.loads(read(rotate, "json") or "{}"),
        journal=emulator.journal(),
    )


class TestEachRunWritesItsOwnFolderAndThePointersFollow:
    """A check run in check mode (a preview), then a rotate run, then an audit run in check mode, in one report_dir."""

    @pytest.mark.parametrize("phase", ["preview", "rotate", "audit"])
    def test_each_run_succeeds(self, runs, phase):
        assert not getattr(runs, phase).failed, getattr(runs, phase).msg

    def test_two_runs_make_two_folders_named_by_time_and_mode(self, runs):
        assert [name.split("-", 1)[1] for name in runs.after_rotate] == ["check", "rotate"]

    def test_the_folder_name_starts_with_the_utc_time(self, runs):
        assert re.match(r"^\d{8}T\d{6}Z-check$", runs.after_rotate[0])

    def test_the_result_names_the_run_folder(self, runs):
        assert runs.rotate.result["folder"] == str(runs.report_dir / runs.after_rotate[1])

    def test_the_files_are_in_the_run_folder(self, runs):
        assert runs.rotate.result["files"]["json"] == str(runs.report_dir / runs.after_rotate[1] / "rotation-report.json")

    def test_latest_points_to_the_second_run(self, runs):
        assert runs.latest == runs.after_rotate[1]

    def test_latest_rotate_points_to_the_rotate_run(self, runs):
        assert runs.latest_rotate == Path(runs.rotate.result["folder"]).name

    def test_the_result_names_the_latest_pointer(self, runs):
        assert runs.rotate.result["latest"] == str(runs.report_dir / "latest")

    def test_a_run_folder_is_readable_by_all(self, runs):
        assert runs.folder_mode == 0o755

    def test_a_preview_in_check_mode_is_written(self, runs):
        assert runs.preview_data.get("mode") == "check"

    def test_the_preview_says_so_in_the_json(self, runs):
        assert runs.preview_data.get("preview") is True

    def test_the_preview_markdown_starts_with_the_banner(self, runs):
        assert runs.preview_markdown.startswith("> **Preview: nothing was written.**")

    def test_the_preview_page_shows_the_banner(self, runs):
        assert "<strong>Preview: nothing was written.</strong>" in runs.preview_page

    def test_the_rotate_report_has_no_banner(self, runs):
        assert "Preview" not in runs.rotate_markdown

    def test_the_rotate_report_is_no_preview(self, runs):
        assert runs.rotate_data.get("preview") is False

    def test_the_result_holds_the_summary_table(self, runs):
        assert runs.rotate.result["table"] == [
            "kind              rotated  skipped  failed  total",
            "custom_hostname         1        1       1      3",
        ]

    def test_the_markdown_shows_the_summary_table(self, runs):
        assert "| kind | rotated | skipped | failed | total |" in runs.rotate_markdown

    def test_an_audit_in_check_mode_writes_nothing(self, runs):
        assert runs.after_audit == runs.after_rotate

    def test_an_audit_in_check_mode_names_the_folder_it_would_write(self, runs):
        assert Path(runs.audit.result["folder"]).name.endswith("-audit")

    def test_an_audit_in_check_mode_still_returns_the_table(self, runs):
        assert runs.audit.result["table"][0] == "kind              rotated  skipped  failed  total"

    def test_rows_bring_no_due_list(self, runs):
        assert (runs.rotate.result["due_without_material"], runs.rotate.result["due_without_material_count"]) == ([], 0)

    def test_no_api_call_is_made(self, runs):
        assert runs.journal == []


def test_keep_below_one_is_refused(ansible, tmp_path):
    run = ansible.run_module("certops.cloudflare.rotation_report", {"rows": rows(1), "report_dir": str(tmp_path / "reports"), "keep": 0})
    assert run.failed and "keep" in run.msg


def test_runs_past_keep_are_pruned(ansible, tmp_path):
    report_dir = tmp_path / "reports"
    tasks = [{"certops.cloudflare.rotation_report": {"rows": rows(1), "report_dir": str(report_dir), "mode": "audit", "keep": 2}} for _run in range(4)]
    ansible.run_tasks(tasks)
    assert len(run_folders(report_dir)) == 2


# -- a plan with an audit ----------------------------------------------------------------------------------------------

DUE = [{"kind": "zone_cert", "name": "example.com", "id": "7e0b2c", "expires_on": at(10)}]
AUDIT = {
    "buckets": {"zone_cert": {"expired": 0, "under_7": 0, "under_30": 1, "under_90": 0, "later": 0}},
    "not_active": [{"kind": "cert_pack", "name": "example.com", "id": "p1", "status": "pending_validation"}],
    "due_without_material_count": 1,
}


@pytest.fixture(scope="module")
def audited(scenario_emulator, tmp_path_factory):
    emulator, ansible = scenario_emulator()
    root = tmp_path_factory.mktemp("audited")
    objects = [
        {"kind": "zone_cert", "name": "example.com", "id": "7e0b2c", "action": "due", "reason": "due, no new material", "old": None, "new": None},
        {"kind": "custom_hostname", "name": "app.customer.example", "action": "rotate", "reason": "due", "old": None, "new": None},
    ]
    plan = root / "plan.json"
    # As the planner writes it: the list of objects due without material beside the audit, which counts them.
    plan.write_text(json.dumps({"plan": {"objects": objects, "replaced": [], "audit": AUDIT, "due_without_material": DUE}}))
    run = ansible.run_module("certops.cloudflare.rotation_report", {"plan": str(plan), "report_dir": str(root / "reports"), "mode": "check"}, check=True)
    files = run.result.get("files", {})
    return SimpleNamespace(
        run=run,
        data=json.loads(Path(files["json"]).read_text()) if "json" in files else {},
        markdown=Path(files["markdown"]).read_text() if "markdown" in files else "",
        journal=emulator.journal(),
    )


class TestAPlanAuditReachesTheReportAndTheResult:
    """A check run in check mode on a plan file with an audit: a zone certificate due without material, a rotation."""

    def test_it_succeeds(self, audited):
        assert not audited.run.failed, audited.run.msg

    def test_the_result_lists_what_is_due_without_material(self, audited):
        assert audited.run.result["due_without_material"] == DUE

    def test_the_result_counts_what_is_due_without_material(self, audited):
        assert audited.run.result["due_without_material_count"] == 1

    def test_the_json_holds_the_audit_s_buckets(self, audited):
        assert audited.data.get("audit", {}).get("buckets") == AUDIT["buckets"]

    def test_the_markdown_shows_the_expiry_table(self, audited):
        assert "| zone_cert | 0 | 0 | 1 | 0 | 0 |" in audited.markdown

    def test_the_markdown_lists_what_is_not_active(self, audited):
        assert "- cert_pack example.com (p1): pending_validation" in audited.markdown

    def test_a_due_object_has_the_outcome_due(self, audited):
        assert [r["outcome"] for r in audited.data.get("rows", []) if r["kind"] == "zone_cert"] == ["due"]

    def test_a_check_run_plans_the_rotation(self, audited):
        assert [r["outcome"] for r in audited.data.get("rows", []) if r["kind"] == "custom_hostname"] == ["planned"]

    def test_the_table_has_a_due_column(self, audited):
        assert audited.run.result["table"][0] == "kind              planned  due  total"

    def test_no_api_call_is_made(self, audited):
        assert audited.journal == []
