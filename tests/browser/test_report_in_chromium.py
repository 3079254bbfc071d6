"""The HTML rotation report as people see it: headless Chromium (Debian's chromium and chromedriver, driven by
Selenium offline) opens the demo's report and a 10,000-object report at 1,400 x 900 and checks what a reader needs:
no horizontal scroll, the summary and the start of the timeline in the first screen, every failed and due row in the
objects' table, and no request leaving the page. Screenshots land in tests/output/browser/ for review.

`make browser` (a CI leg) installs the browser and its driver when missing; elsewhere the test skips, saying why,
except under CI (CI=true), where a missing part fails it.
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import build_report, render_html
from chromium import WIDTH, HEIGHT, headless_chromium, requests_made

TESTS = Path(__file__).resolve().parents[1]
SHOTS = TESTS / "output" / "browser"
NOW = datetime.datetime(2026, 12, 6, 6, 15, tzinfo=datetime.timezone.utc)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from headless_chromium("browser")


def look_at(driver: Any, path: Path, shot: str) -> Dict[str, Any]:
    """Open the report, save a screenshot of the first screen, and measure what the assertions need."""
    driver.get_log("performance")  # drop what came before
    url = path.resolve().as_uri()
    driver.get(url)
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / shot))
    facts = driver.execute_script("""
        const rect = (selector) => { const e = document.querySelector(selector); return e ? e.getBoundingClientRect().toJSON() : null; };
        const outcomes = Array.from(document.querySelectorAll('table.objects tbody tr td:nth-child(4)')).map((td) => td.textContent);
        return {
            scrollWidth: document.documentElement.scrollWidth,
            summary: rect('table.summary'), histogram: rect('table.histogram'), timeline: rect('svg'),
            focus: Array.from(document.querySelectorAll('p.focus')).map((p) => p.getBoundingClientRect().toJSON()),
            outcomes: outcomes, scripts: document.scripts.length,
        };
        """)
    facts["requests"] = [u for u in requests_made(driver) if u != url]
    return facts


def assert_readable(facts: Dict[str, Any], text: str) -> None:
    assert facts["scrollWidth"] <= WIDTH, "the page is %d px wide: it scrolls sideways at %d px" % (facts["scrollWidth"], WIDTH)
    for part in ("summary", "histogram"):
        assert facts[part] is not None and facts[part]["bottom"] <= HEIGHT, "the %s is not in the first screen: %s" % (part, facts[part])
    assert all(box["bottom"] <= HEIGHT for box in facts["focus"]), "the failed and due objects are not in the first screen"
    assert facts["timeline"] is not None and facts["timeline"]["top"] < HEIGHT - 40, "the timeline starts below the first screen"
    assert facts["requests"] == [] and facts["scripts"] == 0
    assert "<script" not in text.lower() and not re.search(r"https?:", text, re.IGNORECASE)


def test_the_demo_report_reads_in_a_browser(browser, tmp_path):
    spec = importlib.util.spec_from_file_location("run_demo", TESTS / "demo" / "run_demo.py")
    run_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_demo)
    demo_dir, copy = tmp_path / "demo", tmp_path / "demo-report"
    demo_dir.mkdir(mode=0o700)
    assert run_demo.run(demo_dir, delay=0.2, report_copy=copy) == 0
    page = copy / "rotation-report.html"
    rows = json.loads((copy / "rotation-report.json").read_text())["rows"]
    facts = look_at(browser, page, "demo-report.png")
    assert_readable(facts, page.read_text())
    must = [row["outcome"] for row in rows if row["outcome"] in ("failed", "due", "rotated", "uploaded")]
    assert must and sorted(o for o in facts["outcomes"] if o in must) == sorted(must)


def big_zone_rows(count: int = 10000) -> List[Dict[str, Any]]:
    """A zone of `count` custom hostnames and a few certificates of the other kinds: 1,000 rows to list in full (failed,
    due, rotated), the rest up to date; long names, API-style decimal serials and long reasons, as real zones have."""
    rows = []
    for i in range(count):
        outcome = "failed" if i % 100 == 1 else "due" if i % 100 == 2 else "rotated" if i % 100 in range(0, 80, 10) else "up_to_date"
        kind = ("client_cert", "zone_cert")[i % 2] if i % 1000 == 999 else "custom_hostname"
        old_days, new_days = (i % 60) - 5, 90 + i % 7
        rows.append(
            {
                "kind": kind,
                "name": "shop-%05d.tenant-with-a-rather-long-name.customers.saas-platform.example" % i,
                "action": "rotate" if outcome != "up_to_date" else "up_to_date",
                "outcome": outcome,
                "reason": "due: expires in %d days, window 30 days" % old_days,
                "detail": (
                    "its write failed: 1414: the certificate's chain does not lead to a trusted root; the old one is still served"
                    if outcome == "failed"
                    else None
                ),
                "old": {"serial_number": str(10**47 + i * 7919), "expires_on": isoformat(NOW + datetime.timedelta(days=old_days))},
                "new": {"serial_number": str(10**47 + i * 7919 + 1), "expires_on": isoformat(NOW + datetime.timedelta(days=new_days))},
            }
        )
    return rows


def test_a_ten_thousand_object_report_reads_in_a_browser(browser, tmp_path):
    rows = big_zone_rows()
    page = tmp_path / "rotation-report.html"
    page.write_text(render_html(build_report(rows, zone="saas-platform.example", now=NOW, mode="rotate")))
    assert page.stat().st_size < 2_000_000
    facts = look_at(browser, page, "ten-thousand-report.png")
    assert_readable(facts, page.read_text())
    must = sorted(row["outcome"] for row in rows if row["outcome"] in ("failed", "due", "rotated"))
    assert len(must) == 1000 and sorted(facts["outcomes"]) == must
