"""The rotation report's formats: counts, escaping of hostile text, a self-contained HTML page, the timeline cap."""

from __future__ import annotations

import datetime
import json
from html.parser import HTMLParser

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import (
    TIMELINE_CAP,
    build_report,
    render_html,
    render_json,
    render_markdown,
    summarize,
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


def test_markdown_escapes_pipes_newlines_and_html_in_cells():
    text = render_markdown(report([row(name=HOSTILE, detail="line one\nline two | more")], failure="upload <b>failed</b>\nnext"))
    table = [line for line in text.splitlines() if line.startswith("|")]
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
    assert "<title>now: 2026-12-01T12:00:00Z</title>" in page
    assert "refused &quot;x&quot; &amp; &lt;y&gt;" in page
    parsed = parse(page)
    assert parsed.tags["tr"] == 4 and parsed.tags["svg"] == 1  # header and three rows
    assert any("<script>stage</script>" in t for t in parsed.text)  # shown as text, not run
    assert "#d32f2f" in page  # b.example's old certificate expired: a red bar


def test_html_never_holds_a_url_from_row_text():
    page = render_html(report([row(detail="see https://evil.example/x and http://other.example")]))
    assert "://" not in page
    assert "https&#58;//evil.example/x" in page  # still readable as text


def test_timeline_is_capped_with_a_note_and_the_table_keeps_every_row():
    rows = [row(name="h%05d.example" % i, outcome="rotated" if i % 2 else "skipped") for i in range(1200)]
    page = render_html(report(rows))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('<text x="%d"' % 260) == TIMELINE_CAP  # one label per object drawn
    assert "h00001.example" in svg and "h00000.example" not in svg  # changed ones only
    assert "the first 500 of the 600 objects that changed or failed (1200 objects in all)" in page
    assert page.count("<tr>") == 1201


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
