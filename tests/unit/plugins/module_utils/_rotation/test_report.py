"""The rotation report's formats: counts, escaping of hostile text, a self-contained HTML page, the timeline cap."""

from __future__ import annotations

import datetime
import json
from html.parser import HTMLParser

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import (
    CHANGED_OR_FAILED,
    CSS,
    OUTCOMES,
    TIMELINE_CAP,
    build_report,
    due_without_material,
    render_html,
    render_json,
    render_markdown,
    summarize,
    summary_table,
)

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
HOSTILE = '<script>alert("x")</script> & a|b\nc.example'
KEY = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n"


def at(days: float) -> str:
    return isoformat(NOW + datetime.timedelta(days=days))


def row(name: str = "app.customer.example", outcome: str = "rotated", old_days: float = 10, new_days: float = 90, **extra) -> dict:
    return dict(
        {
            "kind": "custom_hostname",
            "name": name,
            "action": "rotate",
            "reason": "due: expires in 10 days, window 30 days",
            "outcome": outcome,
            "detail": None,
            "old": {"serial_number": "12", "fingerprint_sha256": "3f1c", "expires_on": at(old_days)},
            "new": {"serial_number": "13", "fingerprint_sha256": "9a2b", "expires_on": at(new_days)},
        },
        **extra,
    )


def report(rows, **kwargs) -> dict:
    return build_report(rows, zone=kwargs.pop("zone", "example.com"), now=NOW, **kwargs)


class Elements(HTMLParser):
    """Counts start tags; fails on nothing (HTMLParser is lenient) but lets a test see the structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict = {}
        self.text: list = []

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_data(self, data):
        self.text.append(data)


def objects_md(text: str) -> str:
    """The Markdown's table of the rows, without the summary table and the audit above it."""
    return text[text.index("## Objects") :]


def objects_html(page: str) -> str:
    return page[page.index('<table class="objects">') :]


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def test_summary_counts_each_outcome_and_the_total():
    rows = [row(outcome="rotated"), row(outcome="rotated"), row(outcome="failed"), row(outcome="up_to_date"), row(outcome="odd")]
    summary = summarize(rows)
    assert summary["total"] == 5 and summary["rotated"] == 2 and summary["failed"] == 1 and summary["up_to_date"] == 1
    assert summary["skipped"] == 0 and summary["pending"] == 0  # every known outcome is present
    assert summary["odd"] == 1  # an unknown outcome is still counted, not lost
    assert summarize([]) == dict(summarize([]), total=0) and summarize([])["failed"] == 0


def test_json_round_trips_with_extra_keys_and_sorted_keys():
    rows = [row(key_types=["rsa", "ecdsa"], id="0123abcd"), row(name="b.example", outcome="skipped")]
    rows[1]["new"] = None
    data = report(rows, failure="stage apply failed")
    text = render_json(data)
    loaded = json.loads(text)
    assert loaded == data
    assert list(loaded) == ["failure", "generated_at", "replaced", "rows", "summary", "zone"]
    assert loaded["rows"][0]["key_types"] == ["rsa", "ecdsa"] and loaded["rows"][0]["id"] == "0123abcd"
    assert loaded["generated_at"] == "2026-12-01T12:00:00Z" and loaded["summary"]["total"] == 2
    assert text.startswith('{\n  "failure"')
    lines = text.splitlines()
    at = lines.index('  "rows": [')
    assert [json.loads(line.strip().rstrip(",")) for line in lines[at + 1 : at + 3]] == rows  # one line per row
    assert lines[at + 3] == "  ],"


def test_markdown_escapes_pipes_newlines_and_html_in_cells():
    text = render_markdown(report([row(name=HOSTILE, detail="line one\nline two | more")], failure="upload <b>failed</b>\nnext"))
    table = [line for line in objects_md(text).splitlines() if line.startswith("|")]
    assert len(table) == 3  # header, separator, one row: the newlines did not break the row
    assert table[0].count(" | ") == 8
    body = table[2]
    assert "a\\|b" in body and "<br>c.example" in body and "line one<br>line two \\| more" in body
    assert "<script>" not in text and "&lt;script&gt;" in text and "&amp;" in text
    assert "upload &lt;b&gt;failed&lt;/b&gt;<br>next" in text
    # Unescaped pipes (cell borders) per row stay at ten.
    assert body.replace("\\|", "").count("|") == 10
    assert text.startswith("# Certificate rotation report: example.com\n")


def test_html_is_self_contained_escaped_and_holds_one_svg():
    rows = [row(name=HOSTILE), row(name="b.example", outcome="up_to_date", old_days=-2), row(name="c.example", outcome="failed", detail='refused "x" & <y>')]
    page = render_html(report(rows, failure="<script>stage</script>"))
    lowered = page.lower()
    assert "<script" not in lowered and "javascript" not in lowered and "http" not in lowered
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; a|b" in page
    assert page.count("<svg") == 1 and page.count("</svg>") == 1
    assert "<title>now: 2026-12-01 12:00:00 UTC</title>" in page
    assert "refused &quot;x&quot; &amp; &lt;y&gt;" in page
    parsed = parse(page)
    # The header and the two rows listed: b.example is up to date, counted per kind and outcome, not listed.
    assert parse(objects_html(page)).tags["tr"] == 3 and parsed.tags["svg"] == 1
    assert "b.example" not in objects_html(page)
    assert any("<script>stage</script>" in t for t in parsed.text)  # shown as text, not run
    assert "#d32f2f" in page  # b.example's old certificate expired: a red bar


def test_html_never_holds_a_url_from_row_text():
    page = render_html(report([row(detail="see https://evil.example/x and http://other.example")]))
    assert "://" not in page
    assert "https&#58;//evil.example/x" in page  # still readable as text


def test_timeline_is_capped_with_a_note_and_the_table_lists_the_changed_rows():
    rows = [row(name="h%05d.example" % i, outcome="rotated" if i % 2 else "skipped") for i in range(1200)]
    page = render_html(report(rows))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('<text x="%d"' % 260) == TIMELINE_CAP  # one label per object drawn
    assert "h00001.example" in svg and "h00000.example" not in svg  # changed ones only
    assert "The timeline draws 200 of the 1200 objects with an expiry" in page and "Not drawn: 400 rotated, 600 skipped." in page
    assert objects_html(page).count("<tr>") == 601  # the header and every rotated row; the skipped ones are counted
    assert "600 objects are listed below" in page and "the other 600, with nothing to do, are counted here" in page


def test_small_report_draws_every_dated_object_without_a_note():
    rows = [row(name="a.example", outcome="skipped"), row(name="b.example", outcome="missing")]
    rows[1]["old"] = rows[1]["new"] = None
    page = render_html(report(rows))
    assert "a.example" in page[page.index("<svg") : page.index("</svg>")]
    assert "b.example" not in page[page.index("<svg") : page.index("</svg>")]  # nothing to draw for it
    assert 'class="note"' not in page


def test_short_span_still_labels_the_axis():
    page = render_html(report([row(old_days=1, new_days=3)]))
    assert "2026-12-01</text>" in page and "2026-12-04</text>" in page


def test_private_key_values_are_removed_everywhere():
    rows = [row(detail="upload failed: " + KEY, name=KEY, key_material={"nested": [KEY]})]
    data = report(rows, failure="bad input " + KEY)
    for text in (render_json(data), render_markdown(data), render_html(data)):
        assert "PRIVATE KEY" not in text and "MIGHAgEA" not in text
        assert "[removed]" in text
    assert data["rows"][0]["detail"] == "[removed]" and data["rows"][0]["key_material"] == {"nested": ["[removed]"]}
    assert data["failure"] == "[removed]"
    assert rows[0]["detail"].startswith("upload failed")  # the caller's rows are not modified


# -- the summary table -------------------------------------------------------------------------------------------------


def kinds_and_outcomes():
    """Three kinds, listed out of the table's order; outcomes rotated, up_to_date and skipped only."""
    return [
        row(kind="zone_cert", outcome="up_to_date"),
        row(outcome="rotated"),
        row(outcome="rotated"),
        row(outcome="up_to_date"),
        row(outcome="skipped"),
        row(kind="client_cert", outcome="rotated"),
    ]


def test_summary_table_header_names_the_outcomes_that_occur_and_the_total():
    assert summary_table(kinds_and_outcomes())[0] == "kind              rotated  up_to_date  skipped  total"


def test_summary_table_lists_the_kinds_in_the_fixed_order():
    assert [line.split()[0] for line in summary_table(kinds_and_outcomes())[1:]] == ["custom_hostname", "client_cert", "zone_cert"]


def test_summary_table_aligns_each_count_under_its_header():
    assert summary_table(kinds_and_outcomes())[1] == "custom_hostname         2           1        1      4"


def test_summary_table_lines_are_of_one_width():
    assert len({len(line) for line in summary_table(kinds_and_outcomes())}) == 1


def test_summary_table_leaves_out_outcomes_that_do_not_occur():
    assert "failed" not in summary_table(kinds_and_outcomes())[0]


def test_summary_table_without_rows_is_the_header_alone():
    assert summary_table([]) == ["kind              total"]


def test_summary_table_puts_an_unknown_kind_after_the_known_ones():
    lines = summary_table([row(kind="zz_new_kind"), row(kind="certificate")])
    assert [line.split()[0] for line in lines[1:]] == ["certificate", "zz_new_kind"]


def test_markdown_shows_the_summary_table_under_the_summary_line():
    text = render_markdown(report(kinds_and_outcomes()))
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Generated "))
    assert lines[start + 2 : start + 5] == [
        "| kind | rotated | up_to_date | skipped | total |",
        "| --- | --- | --- | --- | --- |",
        "| custom_hostname | 2 | 1 | 1 | 4 |",
    ]


def test_html_shows_the_summary_table_before_the_timeline():
    page = render_html(report(kinds_and_outcomes()))
    summary = page[page.index('<table class="summary">') : page.index("<h2>Expiry timeline (UTC)</h2>")]
    assert '<tr><td>zone_cert</td><td class="num">0</td><td class="num">1</td><td class="num">0</td><td class="num">1</td></tr>' in summary


# -- due ---------------------------------------------------------------------------------------------------------------


def test_due_is_a_known_outcome():
    assert summarize([row(outcome="due")])["due"] == 1 and "due" in OUTCOMES


def test_kept_is_still_a_known_outcome():
    assert "kept" in OUTCOMES


def test_due_objects_come_first_on_a_capped_timeline():
    rows = [row(name="h%05d.example" % i, outcome="due" if i == TIMELINE_CAP + 10 else "up_to_date") for i in range(TIMELINE_CAP + 20)]
    page = render_html(report(rows))
    assert "h%05d.example" % (TIMELINE_CAP + 10) in page[page.index("<svg") : page.index("</svg>")]


def test_due_is_among_the_rows_shown_first():
    assert "due" in CHANGED_OR_FAILED


def test_a_due_row_is_styled_as_pending_is():
    assert ".o-pending, .o-deploying, .o-not_attempted, .o-unknown, .o-due { color: #a05a00; }" in CSS


def test_a_due_row_carries_its_style_class():
    assert '<td class="o-due">due</td>' in render_html(report([row(outcome="due")]))


# -- mode and preview --------------------------------------------------------------------------------------------------


def test_a_check_report_is_a_preview_in_the_json():
    assert json.loads(render_json(report([row()], mode="check")))["preview"] is True


def test_a_rotate_report_is_no_preview_in_the_json():
    assert json.loads(render_json(report([row()], mode="rotate")))["preview"] is False


def test_the_json_names_the_mode():
    assert json.loads(render_json(report([row()], mode="audit")))["mode"] == "audit"


def test_without_a_mode_the_json_keeps_its_former_keys():
    assert "mode" not in report([row()]) and "preview" not in report([row()])


def test_a_preview_markdown_starts_with_the_banner():
    assert render_markdown(report([row()], mode="check")).startswith("> **Preview: nothing was written.** ")


def test_a_preview_page_shows_the_banner_before_the_title():
    page = render_html(report([row()], mode="check"))
    assert page.index('<p class="preview"><strong>Preview: nothing was written.</strong>') < page.index("<h1>")


def test_a_rotate_markdown_has_no_banner():
    assert "Preview" not in render_markdown(report([row()], mode="rotate"))


def test_a_rotate_page_has_no_banner():
    assert 'class="preview"' not in render_html(report([row()], mode="rotate"))


def test_the_banner_escapes_the_zone():
    assert "a&lt;b&gt;" in render_html(report([row()], mode="check", zone="a<b>"))


# -- times in UTC ------------------------------------------------------------------------------------------------------


def test_markdown_says_when_in_utc():
    assert "Generated 2026-12-01 12:00:00 UTC. " in render_markdown(report([row()]))


def test_html_says_when_in_utc():
    assert "<p>Generated 2026-12-01 12:00:00 UTC. " in render_html(report([row()]))


def test_markdown_shows_expiries_in_utc():
    assert "| 2026-12-11 12:00:00 UTC | 0D | 2027-03-01 12:00:00 UTC |" in render_markdown(report([row()]))


def test_an_expiry_with_an_offset_is_shown_in_utc():
    rows = [row()]
    rows[0]["old"]["expires_on"] = "2026-12-11T14:30:00.250+02:00"
    assert "| 2026-12-11 12:30:00 UTC |" in render_markdown(report(rows))


def test_an_expiry_that_is_no_time_is_shown_as_given():
    rows = [row()]
    rows[0]["old"]["expires_on"] = "soon"
    assert "| 0C | soon |" in render_markdown(report(rows))


def test_the_timeline_tips_say_utc():
    assert "old certificate expires 2026-12-11 12:00:00 UTC (serial 0C)" in render_html(report([row()]))


def test_the_json_keeps_iso_times():
    assert json.loads(render_json(report([row()])))["generated_at"] == "2026-12-01T12:00:00Z"


# -- the audit ---------------------------------------------------------------------------------------------------------


def audit(not_active: int = 2, due: int = 1) -> dict:
    return {
        "buckets": {
            "zone_cert": {"expired": 1, "under_7": 0, "under_30": 2, "under_90": 0, "later": 3},
            "custom_hostname": {"expired": 0, "under_7": 4, "under_30": 5, "under_90": 6, "later": 70},
        },
        "not_active": [{"kind": "custom_hostname", "name": "n%03d.example" % i, "id": "id%d" % i, "status": "pending_validation"} for i in range(not_active)],
        "due_without_material": [{"kind": "zone_cert", "name": "z%03d.example" % i, "id": "z%d" % i, "expires_on": at(5)} for i in range(due)],
    }


def test_markdown_shows_the_expiry_table_per_kind_and_bucket():
    text = render_markdown(report([row()], audit=audit()))
    assert (
        "## Expiry at discovery\n\n| kind | expired | under 7 days | under 30 days | under 90 days | later |\n| --- | --- | --- | --- | --- | --- |\n" in text
    )


def test_markdown_lists_the_expiry_kinds_in_the_fixed_order():
    text = render_markdown(report([row()], audit=audit()))
    assert text.index("| custom_hostname | 0 | 4 | 5 | 6 | 70 |") < text.index("| zone_cert | 1 | 0 | 2 | 0 | 3 |")


def test_html_shows_the_expiry_table():
    page = render_html(report([row()], audit=audit()))
    assert '<tr><td>zone_cert</td><td class="num">1</td><td class="num">0</td><td class="num">2</td><td class="num">0</td><td class="num">3</td></tr>' in page


def test_markdown_lists_the_objects_not_active():
    assert "## Not active\n\n- custom_hostname n000.example (id0): pending_validation\n" in render_markdown(report([row()], audit=audit()))


def test_markdown_lists_the_first_hundred_objects_not_active():
    assert render_markdown(report([row()], audit=audit(not_active=105))).count("- custom_hostname n") == 100


def test_markdown_says_how_many_more_are_not_active():
    assert "\nand 5 more.\n" in render_markdown(report([row()], audit=audit(not_active=105)))


def test_html_lists_the_first_hundred_objects_not_active():
    assert render_html(report([row()], audit=audit(not_active=105))).count("<li>custom_hostname n") == 100


def test_html_says_how_many_more_are_not_active():
    assert "<p>and 5 more.</p>" in render_html(report([row()], audit=audit(not_active=105)))


def test_an_empty_not_active_list_says_none():
    assert "## Not active\n\nNone.\n" in render_markdown(report([row()], audit=audit(not_active=0)))


def test_the_json_holds_the_whole_audit():
    given = audit(not_active=105, due=120)
    assert json.loads(render_json(report([row()], audit=given)))["audit"] == given


def test_without_an_audit_the_markdown_has_no_audit_section():
    text = render_markdown(report([row()]))
    assert "## Expiry" not in text and "## Not active" not in text


def test_without_an_audit_the_page_has_no_audit_section():
    page = render_html(report([row()]))
    assert "<h2>Expiry</h2>" not in page and "<h2>Not active</h2>" not in page


def test_without_an_audit_the_json_has_none():
    assert "audit" not in report([row()])


def test_audit_text_is_escaped():
    hostile = audit()
    hostile["not_active"][0]["name"] = HOSTILE
    page = render_html(report([row()], audit=hostile))
    assert "<script>" not in page and "&lt;script&gt;alert" in page


def test_an_audit_of_an_odd_shape_renders_without_failing():
    odd = {"buckets": {"zone_cert": "many", "client_cert": {"later": 2}}, "not_active": "none", "due_without_material": {"x": 1}}
    assert "| client_cert | 0 | 0 | 0 | 0 | 2 |" in render_markdown(report([row()], audit=odd))


def test_a_key_in_the_audit_is_removed():
    leaking = audit()
    leaking["not_active"][0]["status"] = KEY
    assert "PRIVATE KEY" not in render_json(report([row()], audit=leaking))


def test_due_without_material_gives_the_first_hundred():
    assert len(due_without_material(report([row()], audit=audit(due=120)))[0]) == 100


def test_due_without_material_counts_them_all():
    assert due_without_material(report([row()], audit=audit(due=120)))[1] == 120


def test_due_without_material_is_empty_without_an_audit():
    assert due_without_material(report([row()])) == ([], 0)


def test_due_without_material_takes_the_audit_s_count_without_its_list():
    assert due_without_material(report([row()], audit={"buckets": {}, "not_active": [], "due_without_material_count": 7})) == ([], 7)


# -- a report for people: summary first, hex serials, no undeployed material, bounded size -----------------------------


def test_a_skipped_or_failed_row_shows_no_new_certificate():
    rows = [row(name="skip.example", outcome="skipped"), row(name="fail.example", outcome="failed"), row(name="ok.example")]
    page, text = render_html(report(rows)), render_markdown(report(rows))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "skip.example: new certificate" not in svg and "fail.example: new certificate" not in svg
    assert "ok.example: new certificate expires 2027-03-01 12:00:00 UTC (serial 0D)" in svg
    assert "| fail.example | rotate | failed | 0C | 2026-12-11 12:00:00 UTC |  |  |" in text
    assert "skip.example" not in text  # nothing to do: counted, not listed
    assert json.loads(render_json(report(rows)))["rows"][0]["new"]["serial_number"] == "13"  # the JSON keeps the row as it is


def test_the_summary_opens_with_counts_a_histogram_and_the_failed_and_due_objects():
    rows = [row(name="f%d.example" % i, outcome="failed") for i in range(12)]
    rows += [row(name="due.example", outcome="due", old_days=-1), row(name="later.example", outcome="up_to_date", old_days=200)]
    page = render_html(report(rows))
    top = page[: page.index("<h2>Expiry timeline (UTC)</h2>")]
    assert '<table class="summary">' in top and '<table class="histogram">' in top
    assert '<strong class="o-failed">Failed or not done (12):</strong> custom_hostname f0.example, ' in top
    assert "f9.example and 2 more, in the table below" in top
    assert "f10.example" not in top and "Due without new material (1):</strong> custom_hostname due.example</p>" in top
    # The histogram counts what each object serves after the run: the failed keep their old one (10 days left).
    assert '<tr class="b-under_30"><td>under 30 days</td><td class="num">12</td>' in top
    assert '<tr class="b-expired"><td>expired</td><td class="num">1</td>' in top and '<tr class="b-later"><td>later</td><td class="num">1</td>' in top
    text = render_markdown(report(rows))
    assert "| expired | under 7 days | under 30 days | under 90 days | later |\n| --- | --- | --- | --- | --- |\n| 1 | 0 | 12 | 0 | 1 |" in text
    assert text.index("**Failed or not done (12):** custom_hostname f0.example, ") < text.index("## Objects")


def test_the_timeline_draws_failed_then_changed_then_due_then_the_soonest():
    rows = [row(name="quiet%03d.example" % i, outcome="up_to_date", old_days=300 - i, new_days=300 - i) for i in range(TIMELINE_CAP)]
    rows += [row(name="due.example", outcome="due"), row(name="rot.example"), row(name="fail.example", outcome="failed", old_days=50)]
    svg = render_html(report(rows))
    svg = svg[svg.index("<svg") : svg.index("</svg>")]
    order = [name for name in ("fail.example", "rot.example", "due.example", "quiet199.example", "quiet198.example") if name in svg]
    assert order == ["fail.example", "rot.example", "due.example", "quiet199.example", "quiet198.example"]
    assert sorted(order, key=svg.index) == order and "quiet000.example" not in svg  # the latest to expire is left out


def test_a_ten_thousand_object_report_stays_small_and_lists_what_matters():
    rows = [row(name="h%05d.customer.example" % i, outcome="rotated" if i % 10 == 0 else "up_to_date") for i in range(10000)]
    rows[5]["outcome"] = "failed"
    page, text = render_html(report(rows)), render_markdown(report(rows))
    assert len(page.encode()) < 2_000_000 and len(text.encode()) < 500_000
    assert objects_html(page).count("<tr>") == 1 + 1000 + 1 and "h00005.customer.example" in objects_html(page)
    assert "| custom_hostname | 8999 | 8999 |" in text  # the up-to-date rows, counted per kind and outcome
    assert len(json.loads(render_json(report(rows)))["rows"]) == 10000
