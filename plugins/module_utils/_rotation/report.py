# -*- coding: utf-8 -*-
# Copyright: (c) 2026, certops.cloudflare contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rotation report in JSON, Markdown and HTML (with an inline SVG expiry timeline), as pure functions.

This is a private file: it may change in any release without notice.

`build_report()` makes the one dict every format renders; the `render_*` functions return text. Every text
from a row is escaped for its format, and any value that looks like a private key is replaced (defence in
depth: rows never should hold one). The HTML page is self-contained: no script, no link, no URL.
"""

from __future__ import annotations

import datetime
import functools
import heapq
import html
import json
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import EXPIRY_BUCKETS, expiry_bucket, isoformat, parse_time, serial_hex

OUTCOMES = (
    "rotated",
    "uploaded",
    "up_to_date",
    "skipped",
    "failed",
    "not_attempted",
    "unknown",
    "pending",
    "restarted",
    "revalidated",
    "missing",
    "planned",
    "deploying",
    "retired",
    "kept",
    "due",
)
# Objects shown first on a capped timeline: something was (or would be) done to them, it failed, or it is due and no
# new material was given (so that it stands out).
CHANGED_OR_FAILED = frozenset(("rotated", "uploaded", "failed", "unknown", "pending", "deploying", "restarted", "revalidated", "planned", "retired", "due"))
# The summary table's and the expiry table's rows, in this order; a kind not listed here follows, by name.
KINDS = ("custom_hostname", "client_cert", "zone_cert", "origin_pull_cert", "cert_pack", "managed_hostname", "certificate")
# The expiry buckets (the planner's keys) and their column heads; the histogram adds objects without a known expiry.
BUCKETS = tuple((key, label) for key, _bound, label in EXPIRY_BUCKETS)
HISTOGRAM_KEYS = tuple(key for key, _label in BUCKETS) + ("unknown",)
AUDIT_LIST_CAP = 100
PREVIEW_BANNER = "Preview: nothing was written"
FILE_NAMES = {"json": "rotation-report.json", "markdown": "rotation-report.md", "html": "rotation-report.html"}
TIMELINE_CAP = 200
# Listed in the Markdown and HTML tables row by row: everything that failed, changed, would change, is due, or is not in
# the zone. The rest (nothing to do) is counted per kind and outcome; the JSON keeps every row.
COUNTED_ONLY = frozenset(("up_to_date", "skipped", "kept"))
# Outcomes whose new certificate is in service after the run (or would be, in a preview): the only rows that show one.
NEW_IN_SERVICE = frozenset(("rotated", "uploaded", "planned", "pending", "deploying", "up_to_date"))
# The timeline draws first what failed, then what changed (or would), then what is due, then the soonest to expire.
FAILED_LIKE = frozenset(("failed", "unknown", "not_attempted", "missing"))
FOCUS_CAP = 10  # failed and due objects named in the summary; the objects' table lists them all
SOON_DAYS = 30
REMOVED = "[removed]"
COLUMNS = ("kind", "name", "action", "outcome", "old serial", "old expiry", "new serial", "new expiry", "reason/detail")
EDGE_COLUMN = "edge"  # what the TLS edge serves (cert_rotation_verify_edge): shown only when some row was probed


def with_edge(rows: Sequence[Dict[str, Any]]) -> bool:
    return any(row.get("edge") is not None for row in rows)


def columns(rows: Sequence[Dict[str, Any]]) -> Tuple[str, ...]:
    """The table's columns; the edge column, before the last, only when the edge was probed."""
    return edge_columns(with_edge(rows))


def edge_columns(edge: bool) -> Tuple[str, ...]:
    return COLUMNS[:-1] + (EDGE_COLUMN,) + COLUMNS[-1:] if edge else COLUMNS


def without_key_strings(value: Any) -> Any:
    """`value` with every string that holds a private key marker replaced, nested values included."""
    if isinstance(value, str):
        return REMOVED if "PRIVATE KEY" in value else value
    if isinstance(value, dict):
        return {k: without_key_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_key_strings(v) for v in value]
    return value


def summarize(rows: Sequence[Dict[str, Any]]) -> Dict[str, int]:
    """Objects per outcome (every known outcome, zero included, so the shape never changes) plus `total`."""
    return Totals.of(rows).summary()


class Totals:
    """What the report says of its rows as a whole, gathered row by row, so that the rows of a large zone can be
    written as they come: the count per outcome and per kind and outcome, whether the edge was probed, the expiry
    histogram (the certificate each object serves after the run, at `now`), the first failed and due rows, and the
    rows the timeline draws (at most TIMELINE_CAP, by timeline_key)."""

    def __init__(self, now: Optional[datetime.datetime] = None) -> None:
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        self.total = 0
        self.outcomes: Dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self.counts: Dict[str, Dict[str, int]] = {}  # kind -> outcome -> count
        self.edge = False
        self.expiry: Dict[str, int] = dict.fromkeys(HISTOGRAM_KEYS, 0)
        self.failed: List[Dict[str, Any]] = []  # the first FOCUS_CAP rows that failed (FAILED_LIKE)
        self.due: List[Dict[str, Any]] = []  # the first FOCUS_CAP rows due without new material
        self.dated: Dict[str, int] = {}  # outcome -> rows with an expiry to draw
        self.drawn: List[Tuple[Tuple[float, ...], Dict[str, Any]]] = []  # heap of the rows to draw, by negated key

    @classmethod
    def of(cls, rows: Iterable[Dict[str, Any]], now: Optional[datetime.datetime] = None) -> "Totals":
        totals = cls(now)
        for row in rows:
            totals.add(row)
        return totals

    def add(self, row: Dict[str, Any]) -> None:
        self.total += 1
        outcome = str(row.get("outcome") or "unknown")
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        per_kind = self.counts.setdefault(_text(row.get("kind")) or "unknown", {})
        per_kind[outcome] = per_kind.get(outcome, 0) + 1
        self.edge = self.edge or row.get("edge") is not None
        old, new, serving = expiry_times(row)
        self.expiry[expiry_bucket(serving, self.now) if serving else "unknown"] += 1
        if outcome in FAILED_LIKE and len(self.failed) < FOCUS_CAP:
            self.failed.append(row)
        if outcome == "due" and len(self.due) < FOCUS_CAP:
            self.due.append(row)
        if old or new:
            self.dated[outcome] = self.dated.get(outcome, 0) + 1
            key = timeline_key(outcome, min(d for d in (old, new) if d), self.total)
            entry = (tuple(-k for k in key), row)
            if len(self.drawn) < TIMELINE_CAP:
                heapq.heappush(self.drawn, entry)
            elif entry[0] > self.drawn[0][0]:  # earlier in the timeline's order than the last of those kept
                heapq.heapreplace(self.drawn, entry)

    def summary(self) -> Dict[str, int]:
        return dict(self.outcomes, total=self.total)

    def listed(self) -> int:
        """How many rows the Markdown and HTML tables list (the rest are counted per kind and outcome)."""
        return sum(count for outcome, count in self.outcomes.items() if outcome not in COUNTED_ONLY)

    def counted_only(self) -> Dict[str, Dict[str, int]]:
        """The count per kind and outcome of the rows not listed; kinds without any left out."""
        rest = {kind: {o: n for o, n in per_kind.items() if o in COUNTED_ONLY and n} for kind, per_kind in self.counts.items()}
        return {kind: per_kind for kind, per_kind in rest.items() if per_kind}

    def timeline(self) -> Tuple[List[Dict[str, Any]], Optional[str]]:
        """The rows the timeline draws, in its order, and, when some are left out, the note that says what."""
        drawn = [row for _key, row in sorted(self.drawn, reverse=True)]
        left = dict(self.dated)
        for row in drawn:
            left[str(row.get("outcome") or "unknown")] -= 1
        rest = sum(left.values())
        if not rest:
            return drawn, None
        note = (
            "The timeline draws %d of the %d objects with an expiry: first those that failed, changed or are due, then the soonest to expire. Not drawn: %s."
            % (
                len(drawn),
                len(drawn) + rest,
                ", ".join("%d %s" % (left[o], o.replace("_", " ")) for o in outcome_order(left) if left[o]),
            )
        )
        return drawn, note


def timeline_key(outcome: str, soonest: datetime.datetime, seq: int) -> Tuple[float, float, float]:
    """The timeline's order: failed first, then changed (or planned), then due, then the rest; each by its soonest
    expiry, then as the rows came."""
    rank = 0 if outcome in FAILED_LIKE else 1 if outcome in CHANGED_OR_FAILED and outcome != "due" else 2 if outcome == "due" else 3
    return (rank, soonest.timestamp(), seq)


def outcome_order(seen: Iterable[str]) -> List[str]:
    """Outcomes in OUTCOMES' order, unknown ones after by name."""
    seen = set(seen)
    return [o for o in OUTCOMES if o in seen] + sorted(seen - set(OUTCOMES))


def shown_new(row: Dict[str, Any]) -> Dict[str, Any]:
    """The facts of the row's new certificate when it is in service after the run (or would be, in a preview); empty
    otherwise: a skipped or failed row's material was never deployed, so no report shows it as the new certificate."""
    return _side_facts(row, "new") if row.get("outcome") in NEW_IN_SERVICE else {}


def build_report(
    rows: Sequence[Dict[str, Any]],
    zone: Optional[str] = None,
    failure: Optional[str] = None,
    now: Optional[datetime.datetime] = None,
    replaced: Sequence[Dict[str, Any]] = (),
    audit: Optional[Dict[str, Any]] = None,
    mode: Optional[str] = None,
) -> Dict[str, Any]:
    """`replaced`: the certificates the role replaced and the zone still holds, the proof a later run deletes them by.

    `audit`: the planner's plan["audit"] (expiry buckets per kind, objects not active, objects due without material),
    kept whole under `audit`; absent when None. `mode`: the kind of run (check, rotate or audit), kept with `preview`
    (true for check); both absent when None, as before modes existed."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    clean = without_key_strings(list(rows))
    zone, failure = without_key_strings(zone), without_key_strings(failure)
    report = {"zone": zone, "generated_at": isoformat(now), "failure": failure, "summary": summarize(clean), "rows": clean}
    report["replaced"] = without_key_strings(list(replaced))
    if mode is not None:
        report.update(mode=mode, preview=mode == "check")
    if audit is not None:
        report["audit"] = without_key_strings(audit)
    return report


def utc_text(value: Any) -> str:
    """A time as the Markdown and HTML show it, 2026-12-06 06:15:00 UTC; text that is no ISO 8601 time stays as it is."""
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if not isinstance(value, str) or not value.strip():
        return _text(value)
    return _utc_text_of(value)


@functools.lru_cache(maxsize=1024)
def _utc_text_of(value: str) -> str:
    # Cached: a zone's certificates share few expiry times, and every row shows two.
    try:
        return utc_text(parse_time(value))
    except ValueError:
        return value


def _kind_order(kinds: Sequence[str]) -> List[str]:
    present = set(kinds)
    return [k for k in KINDS if k in present] + sorted(present - set(KINDS))


def summary_counts(rows: Sequence[Dict[str, Any]]) -> Tuple[List[str], List[str], Dict[str, Dict[str, int]]]:
    """The summary table's kinds (rows), outcomes with a non-zero count (columns, OUTCOMES' order, unknown ones after)
    and the count per kind and outcome."""
    return ordered_counts(Totals.of(rows).counts)


def ordered_counts(counts: Dict[str, Dict[str, int]]) -> Tuple[List[str], List[str], Dict[str, Dict[str, int]]]:
    """summary_counts from the count per kind and outcome (Totals.counts)."""
    outcomes = outcome_order(outcome for per_kind in counts.values() for outcome in per_kind)
    return _kind_order(list(counts)), outcomes, counts


def summary_cells(rows: Sequence[Dict[str, Any]], counts: Optional[Dict[str, Dict[str, int]]] = None) -> Tuple[List[str], List[List[str]]]:
    """The summary table's head (kind, each outcome that occurs, total) and one row of cells per kind present; from
    `counts` (Totals.counts) instead of the rows when given."""
    kinds, outcomes, counts = ordered_counts(counts) if counts is not None else summary_counts(rows)
    cells_ = [[kind] + [str(counts[kind].get(o, 0)) for o in outcomes] + [str(sum(counts[kind].values()))] for kind in kinds]
    return ["kind"] + outcomes + ["total"], cells_


def summary_table(rows: Sequence[Dict[str, Any]], counts: Optional[Dict[str, Dict[str, int]]] = None) -> List[str]:
    """The summary as fixed-width text lines: the header, then one line per kind present, with a column per outcome
    that occurs and the total. The kind column fits every known kind, so the header does not move between runs."""
    heads, body = summary_cells(rows, counts)
    width = max([len(k) for k in KINDS] + [len(line[0]) for line in body])
    widths = [width] + [len(head) for head in heads[1:]]
    lines = ["  ".join([heads[0].ljust(width)] + heads[1:])]
    lines += ["  ".join([line[0].ljust(width)] + [v.rjust(w) for v, w in zip(line[1:], widths[1:])]) for line in body]
    return lines


def _count(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else _text(value)


def audit_parts(report: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What the Markdown and HTML show of the audit, shape-checked (it comes from a file): the expiry table's head and
    rows, the first AUDIT_LIST_CAP objects not active as text, and how many more there are. None without audit data."""
    audit = report.get("audit")
    if not isinstance(audit, dict):
        return None
    buckets = audit.get("buckets") if isinstance(audit.get("buckets"), dict) else {}
    keys = [key for key, _label in BUCKETS]
    expiry = [[kind] + [_count(buckets[kind].get(key, 0)) for key in keys] for kind in _kind_order(list(buckets)) if isinstance(buckets[kind], dict)]
    listed = [entry for entry in audit["not_active"] if isinstance(entry, dict)] if isinstance(audit.get("not_active"), list) else []
    items = []
    for entry in listed[:AUDIT_LIST_CAP]:
        ident = " (%s)" % _text(entry.get("id")) if entry.get("id") not in (None, "") else ""
        items.append("%s %s%s: %s" % (_text(entry.get("kind")), _text(entry.get("name")), ident, _text(entry.get("status")) or "unknown status"))
    return {"head": ["kind"] + [label for _key, label in BUCKETS], "expiry": expiry, "not_active": items, "more": max(len(listed) - AUDIT_LIST_CAP, 0)}


def due_without_material(report: Dict[str, Any]) -> Tuple[List[Dict[str, Any]], int]:
    """The audit's objects due without new material: the first AUDIT_LIST_CAP, and how many in all (the list's length,
    else the audit's due_without_material_count)."""
    audit = report.get("audit") if isinstance(report.get("audit"), dict) else {}
    listed = audit.get("due_without_material")
    if not isinstance(listed, list):
        count = audit.get("due_without_material_count")
        return [], count if isinstance(count, int) and not isinstance(count, bool) and count > 0 else 0
    listed = [entry for entry in listed if isinstance(entry, dict)]
    return listed[:AUDIT_LIST_CAP], len(listed)


def summary_line(summary: Dict[str, int]) -> str:
    parts = ["%d %s" % (count, outcome.replace("_", " ")) for outcome, count in summary.items() if outcome != "total" and count]
    total = summary.get("total", 0)
    return "%d object%s%s" % (total, "" if total == 1 else "s", (": " + ", ".join(parts)) if parts else "")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _side_facts(row: Dict[str, Any], side: str) -> Dict[str, Any]:
    facts = row.get(side)
    return facts if isinstance(facts, dict) else {}


def cells(row: Dict[str, Any], edge: bool = False) -> List[str]:
    """The table's cells of one row, as plain text (each format escapes them); `edge` adds the edge column. Serial
    numbers in uppercase hex, the new certificate only when it is in service (shown_new)."""
    old, new = _side_facts(row, "old"), shown_new(row)
    why = "; ".join(_text(v) for v in (row.get("reason"), row.get("detail")) if v not in (None, ""))
    return (
        [
            _text(row.get("kind")),
            _text(row.get("name")),
            _text(row.get("action")),
            _text(row.get("outcome")),
            serial_hex(old.get("serial_number")),
            utc_text(old.get("expires_on")),
            serial_hex(new.get("serial_number")),
            utc_text(new.get("expires_on")),
        ]
        + ([_text(row.get("edge"))] if edge else [])
        + [why]
    )


def listed(row: Dict[str, Any]) -> bool:
    """Whether the Markdown and HTML tables list the row (the JSON lists every row)."""
    return row.get("outcome") not in COUNTED_ONLY


def focus_lines(totals: Totals) -> List[Tuple[str, int, List[str]]]:
    """The summary's lists: (what, how many, the first FOCUS_CAP names) for the failed objects and those due without
    new material, each only when there are any."""
    failed = sum(n for o, n in totals.outcomes.items() if o in FAILED_LIKE)
    parts = []
    for what, count, rows in (("Failed or not done", failed, totals.failed), ("Due without new material", totals.outcomes.get("due", 0), totals.due)):
        if count:
            parts.append((what, count, ["%s %s" % (_text(r.get("kind")), _text(r.get("name"))) for r in rows]))
    return parts


def focus_text(what: str, count: int, names: List[str]) -> Tuple[str, str]:
    """A summary list as its head and its names: `Failed or not done (12):`, `a, b ... and 2 more, in the table below`."""
    more = count - len(names)
    return "%s (%d):" % (what, count), ", ".join(names) + (" and %d more, in the table below" % more if more > 0 else "")


def histogram_cells(totals: Totals) -> Tuple[List[str], List[str]]:
    """The expiry histogram's heads (the buckets, and `unknown` when some expiry is) and counts."""
    keys = [key for key in HISTOGRAM_KEYS if key != "unknown" or totals.expiry["unknown"]]
    labels = dict(BUCKETS, unknown="unknown")
    return [labels[key] for key in keys], [str(totals.expiry[key]) for key in keys]


def rest_cells(totals: Totals) -> Tuple[List[str], List[List[str]]]:
    """The table of rows counted, not listed: per kind (rows) and outcome (columns)."""
    return summary_cells((), totals.counted_only())


def title(report: Dict[str, Any]) -> str:
    return "Certificate rotation report" + (": %s" % report["zone"] if report.get("zone") else "")


def render_json(report: Dict[str, Any]) -> str:
    """Keys sorted, indented by two, each row on one line (json_chunks writes the same text as it goes)."""
    return "".join(json_chunks(dict(report, rows=[]), report.get("rows") or []))


def _json_text(report: Dict[str, Any]) -> str:
    return json.dumps(report, sort_keys=True, indent=2, default=str) + "\n"


ROWS_KEY = '\n  "rows": []'  # the rows' place in render_json's text of a report without rows (keys sorted, indent 2)


def json_parts(report: Dict[str, Any]) -> Tuple[str, str]:
    """render_json's text before the rows and after them, for a report that holds none."""
    head, tail = _json_text(dict(report, rows=[])).split(ROWS_KEY, 1)
    return head + ROWS_KEY[:-1], tail


def json_row(row: Dict[str, Any], first: bool) -> str:
    # One line per row: json's C encoder writes it (an indent would take the pure-Python one, a third of the report's
    # time at 10,000 rows), and a line per object is what grep and jq -c users read.
    return ("\n    " if first else ",\n    ") + json.dumps(row, sort_keys=True, default=str)


def json_tail(tail: str, empty: bool) -> str:
    return ("]" if empty else "\n  ]") + tail


def json_chunks(report: Dict[str, Any], rows: Iterable[Dict[str, Any]]) -> Iterator[str]:
    """render_json's text piece by piece, the rows one at a time (`report` holds none): the same text."""
    head, tail = json_parts(report)
    yield head
    empty = True
    for row in rows:
        yield json_row(row, empty)
        empty = False
    yield json_tail(tail, empty)


def md_escape(value: str) -> str:
    """Safe in a Markdown table cell: no HTML, no cell break, no line break."""
    text = html.escape(value, quote=False).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("\r\n", "<br>").replace("\n", "<br>").replace("\r", "<br>")


def md_table(heads: Sequence[str], rows: Sequence[Sequence[str]]) -> List[str]:
    lines = ["| " + " | ".join(md_escape(head) for head in heads) + " |", "|" + " --- |" * len(heads)]
    return lines + ["| " + " | ".join(md_escape(cell) for cell in row) + " |" for row in rows]


def preview_detail(report: Dict[str, Any]) -> str:
    """What follows the preview banner: a check run's report shows what would be done, not what was."""
    return "This report shows what a run would do%s." % (" to %s" % report["zone"] if report.get("zone") else "")


def render_markdown(report: Dict[str, Any]) -> str:
    return "".join(markdown_chunks(report, report_totals(report), report["rows"]))


def markdown_chunks(report: Dict[str, Any], totals: Totals, rows: Iterable[Dict[str, Any]]) -> Iterator[str]:
    """The Markdown piece by piece, the rows one at a time; `totals` are the rows' (the report's own rows are not read)."""
    yield markdown_head(report, totals)
    for row in rows:
        if listed(row):
            yield markdown_row(cells(row, totals.edge))
    yield MARKDOWN_TAIL


MARKDOWN_TAIL = "\n"


def markdown_row(texts: List[str]) -> str:
    return "\n| " + " | ".join(md_escape(cell) for cell in texts) + " |"


def markdown_head(report: Dict[str, Any], totals: Totals) -> str:
    """The Markdown before the rows' lines: the summary (counts, expiry histogram, failed and due objects), the audit,
    and the rows counted rather than listed."""
    lines = ["> **%s.** %s" % (PREVIEW_BANNER, md_escape(preview_detail(report))), ""] if report.get("preview") else []
    lines += ["# " + md_escape(title(report)), "", "Generated %s. %s." % (utc_text(report["generated_at"]), md_escape(summary_line(report["summary"]))), ""]
    heads, body = summary_cells((), totals.counts)
    if body:
        lines += md_table(heads, body) + [""]
        heads, counts = histogram_cells(totals)
        lines += [md_escape(histogram_caption(report)) + ":", ""] + md_table(heads, [counts]) + [""]
    for part in focus_lines(totals):
        head, names = focus_text(*part)
        lines += ["**%s** %s" % (md_escape(head), md_escape(names)), ""]
    if report.get("failure"):
        lines += ["**Failed stage:** " + md_escape(report["failure"]), ""]
    audit = audit_parts(report)
    if audit:
        lines += ["## Expiry at discovery", ""] + (md_table(audit["head"], audit["expiry"]) if audit["expiry"] else ["No object was audited."]) + [""]
        lines += ["## Not active", ""] + (["- " + md_escape(item) for item in audit["not_active"]] or ["None."])
        lines += (["", "and %d more." % audit["more"]] if audit["more"] else []) + [""]
    lines += ["## Objects", "", md_escape(objects_intro(totals)), ""]
    heads, body = rest_cells(totals)
    if body:
        lines += md_table(heads, body) + [""]
    heads = edge_columns(totals.edge)
    lines.append("| " + " | ".join(heads) + " |")
    lines.append("|" + " --- |" * len(heads))
    return "\n".join(lines)


def histogram_caption(report: Dict[str, Any]) -> str:
    return "Expiry of the certificate each object %s after this run, counted from %s" % (
        "would serve" if report.get("preview") else "serves",
        utc_text(report["generated_at"]),
    )


def objects_intro(totals: Totals) -> str:
    """What the objects' table holds: the rows listed and, when some are only counted, where they are."""
    listed_, rest = totals.listed(), totals.total - totals.listed()
    text = "%d object%s listed below (failed, changed or to change, due, missing)" % (listed_, " is" if listed_ == 1 else "s are")
    return text + ("; the other %d, with nothing to do, are counted here." % rest if rest else ".")


def h(value: Any) -> str:
    """HTML-escaped text; a URL in it stays readable but is no URL in the page's source."""
    return html.escape(_text(value)).replace("://", "&#58;//")


# The page fits 1,400 px: long names, serials and reasons wrap anywhere rather than widen their table.
CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; max-width: 1360px; }
h1 { margin: 0 0 0.3em; font-size: 1.6em; } h2 { margin: 1em 0 0.4em; font-size: 1.25em; } p { margin: 0.4em 0; }
table { border-collapse: collapse; font-size: 0.85em; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
.top { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; }
.histogram td.bar { width: 220px; } .histogram span { display: inline-block; height: 0.8em; background: #9e9e9e; }
.histogram .b-expired span, .histogram .b-under_7 span { background: #d32f2f; } .histogram .b-under_30 span { background: #e0a000; }
.focus { margin: 0.3em 0; font-size: 0.9em; }
th { background: #f0f0f0; }
.failure { background: #fde2e2; border: 1px solid #c62828; padding: 0.5em 1em; }
.preview { background: #fff3cd; border: 1px solid #a05a00; padding: 0.5em 1em; }
td.num, th.num { text-align: right; }
.o-failed { color: #c62828; font-weight: bold; }
.o-pending, .o-deploying, .o-not_attempted, .o-unknown, .o-due { color: #a05a00; }
.o-rotated, .o-uploaded, .o-restarted, .o-revalidated { color: #1b7a2e; }
.legend span { display: inline-block; width: 1.5em; height: 0.7em; margin: 0 0.3em 0 1em; }
svg text { font-size: 11px; font-family: system-ui, sans-serif; }
.note { font-size: 0.85em; color: #555; }
"""
OLD, OLD_DUE, NEW, GRID, NOW_LINE = "#9e9e9e", "#d32f2f", "#2e7d32", "#e0e0e0", "#1565c0"
WIDTH, LABEL_WIDTH, TOP, ROW_HEIGHT, BAR_HEIGHT = 960, 260, 34, 18, 6


def expiry_times(row: Dict[str, Any]) -> Tuple[Optional[datetime.datetime], Optional[datetime.datetime], Optional[datetime.datetime]]:
    """A row's old expiry, its new one when in service (shown_new), and the expiry of the certificate the object serves
    after the run: the new one, else the old one. The expiry histogram counts that last one; the metrics give it."""
    old, new = _when(_side_facts(row, "old")), _when(shown_new(row))
    return old, new, new or old


def serving_expiry(row: Dict[str, Any]) -> Optional[float]:
    """expiry_times' serving expiry as Unix time."""
    serving = expiry_times(row)[2]
    return serving.timestamp() if serving else None


def _when(facts: Dict[str, Any]) -> Optional[datetime.datetime]:
    try:
        return parse_time(facts["expires_on"]) if isinstance(facts.get("expires_on"), str) else None
    except ValueError:
        return None


def timeline_rows(rows: Sequence[Dict[str, Any]]) -> Tuple[List[Dict[str, Any]], Optional[str]]:
    """The rows the timeline draws and, when capped, the note that says so."""
    return Totals.of(rows).timeline()


def _ticks(start: datetime.datetime, end: datetime.datetime) -> List[datetime.datetime]:
    """First days of months between start and end, every 1, 3, 6 or 12 months so that about 24 fit."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next((s for s in (1, 3, 6, 12) if months / s <= 24), 12 * (months // 288 + 1))
    index = start.year * 12 + start.month  # the month after start's: its first day is inside the range
    index += (-index) % step  # align to January for steps that divide a year
    ticks = []
    while True:
        tick = datetime.datetime(index // 12, index % 12 + 1, 1, tzinfo=datetime.timezone.utc)
        if tick > end:
            return ticks
        ticks.append(tick)
        index += step


def render_svg(rows: Sequence[Dict[str, Any]], now: datetime.datetime) -> str:
    """Per object a grey bar from now to the old expiry (red when past or within SOON_DAYS) and a green one to the new."""
    dates = [now] + [d for row in rows for d in (_when(_side_facts(row, "old")), _when(shown_new(row))) if d]
    start, end = min(dates), max(dates)
    if end - start < datetime.timedelta(days=1):
        end = start + datetime.timedelta(days=1)
    left, right = LABEL_WIDTH + 10, WIDTH - 20
    span = (end - start).total_seconds()

    def x(moment: datetime.datetime) -> float:
        return round(left + (moment - start).total_seconds() / span * (right - left), 1)

    height = TOP + ROW_HEIGHT * max(len(rows), 1) + 10
    out = ['<svg width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="Expiry timeline">' % (WIDTH, height, WIDTH, height)]
    out.append("<title>Expiry timeline: old and new certificate per object</title>")
    ticks, fmt = _ticks(start, end), "%Y-%m"
    if not ticks:  # less than a month in view (short-lived certificates): label both ends by day
        ticks, fmt = [start, end], "%Y-%m-%d"
    for tick in ticks:
        out.append('<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s"/>' % (x(tick), TOP - 6, x(tick), height - 10, GRID))
        out.append('<text x="%s" y="%d" text-anchor="middle">%s</text>' % (x(tick), TOP - 10, tick.strftime(fmt)))
    soon = now + datetime.timedelta(days=SOON_DAYS)
    for index, row in enumerate(rows):
        y = TOP + index * ROW_HEIGHT
        name = _text(row.get("name"))
        label = name if len(name) <= 40 else name[:39] + "\u2026"
        out.append("<g><title>%s %s: %s</title>" % (h(row.get("kind")), h(name), h(row.get("outcome"))))
        out.append('<text x="%d" y="%d" text-anchor="end">%s</text></g>' % (LABEL_WIDTH, y + 11, h(label)))
        for side, offset in (("old", 1), ("new", 1 + BAR_HEIGHT + 2)):
            facts = _side_facts(row, side) if side == "old" else shown_new(row)
            when = _when(facts)
            if not when:
                continue
            color = (OLD_DUE if when <= soon else OLD) if side == "old" else (NEW if when > now else OLD_DUE)
            x1, x2 = sorted((x(now), x(when)))
            tip = "%s: %s certificate expires %s (serial %s)" % (name, side, utc_text(when), serial_hex(facts.get("serial_number")) or "unknown")
            out.append(
                '<rect x="%s" y="%d" width="%s" height="%d" fill="%s"><title>%s</title></rect>'
                % (x1, y + offset, round(max(x2 - x1, 1), 1), BAR_HEIGHT, color, h(tip))
            )
    out.append(
        '<line x1="%s" y1="%d" x2="%s" y2="%d" stroke="%s" stroke-width="2"><title>now: %s</title></line>'
        % (x(now), TOP - 6, x(now), height - 10, NOW_LINE, h(utc_text(now)))
    )
    out.append('<text x="%s" y="%d" fill="%s">now</text>' % (x(now) + 3, height - 1, NOW_LINE))
    out.append("</svg>")
    return "\n".join(out)


def html_table(heads: Sequence[str], rows: Sequence[Sequence[str]], numeric_from: int, css: str) -> str:
    """A table whose columns from `numeric_from` on hold numbers (aligned right)."""

    def attr(index: int) -> str:
        return ' class="num"' if index >= numeric_from else ""

    out = ['<table class="%s"><thead><tr>%s</tr></thead><tbody>' % (css, "".join("<th%s>%s</th>" % (attr(i), h(v)) for i, v in enumerate(heads)))]
    out += ["<tr>%s</tr>" % "".join("<td%s>%s</td>" % (attr(i), h(v)) for i, v in enumerate(row)) for row in rows]
    return "\n".join(out + ["</tbody></table>"])


def render_html(report: Dict[str, Any]) -> str:
    return "".join(html_chunks(report, report_totals(report), report["rows"]))


def report_totals(report: Dict[str, Any]) -> Totals:
    """The totals of a report that holds its rows, at the time it was made."""
    return Totals.of(report["rows"], parse_time(report["generated_at"]))


def html_chunks(report: Dict[str, Any], totals: Totals, rows: Iterable[Dict[str, Any]]) -> Iterator[str]:
    """The page piece by piece, the rows one at a time; `totals` are the rows' (the report's own rows are not read)."""
    yield html_head(report, totals)
    for row in rows:
        if listed(row):
            yield html_row(row, cells(row, totals.edge))
    yield HTML_TAIL


HTML_TAIL = "\n</tbody></table></body></html>\n"


def html_row(row: Dict[str, Any], texts: List[str]) -> str:
    outcome = row.get("outcome")
    css = ' class="o-%s"' % outcome if outcome in OUTCOMES else ""  # only known words reach an attribute
    return "\n<tr>%s</tr>" % "".join("<td%s>%s</td>" % (css if i == 3 else "", h(v)) for i, v in enumerate(texts))


def html_head(report: Dict[str, Any], totals: Totals) -> str:
    """The page before the rows of its objects' table: the summary (counts, expiry histogram, failed and due objects),
    the timeline, the audit, and the rows counted rather than listed."""
    now = parse_time(report["generated_at"])
    drawn, note = totals.timeline()
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>%s</title>" % h(title(report)),
        "<style>%s</style></head><body>" % CSS,
    ]
    if report.get("preview"):
        out.append('<p class="preview"><strong>%s.</strong> %s</p>' % (h(PREVIEW_BANNER), h(preview_detail(report))))
    out += [
        "<h1>%s</h1>" % h(title(report)),
        "<p>Generated %s. %s.</p>" % (h(utc_text(report["generated_at"])), h(summary_line(report["summary"]))),
    ]
    heads, body = summary_cells((), totals.counts)
    if body:
        out.append('<div class="top">%s\n%s</div>' % (html_table(heads, body, numeric_from=1, css="summary"), html_histogram(report, totals)))
    for part in focus_lines(totals):
        head, names = focus_text(*part)
        out.append('<p class="focus"><strong class="o-failed">%s</strong> %s</p>' % (h(head), h(names)))
    if report.get("failure"):
        out.append('<p class="failure"><strong>Failed stage:</strong> %s</p>' % h(report["failure"]))
    out.append("<h2>Expiry timeline (UTC)</h2>")
    out.append(
        '<p class="legend"><span style="background:%s"></span>old certificate<span style="background:%s"></span>old, expired or expiring within %d days'
        '<span style="background:%s"></span>new certificate<span style="background:%s"></span>now</p>' % (OLD, OLD_DUE, SOON_DAYS, NEW, NOW_LINE)
    )
    out.append(render_svg(drawn, now))
    if note:
        out.append('<p class="note">%s</p>' % h(note))
    audit = audit_parts(report)
    if audit:
        out.append("<h2>Expiry at discovery</h2>")
        out.append(html_table(audit["head"], audit["expiry"], numeric_from=1, css="expiry") if audit["expiry"] else "<p>No object was audited.</p>")
        out.append("<h2>Not active</h2>")
        items = "".join("<li>%s</li>" % h(item) for item in audit["not_active"])
        out.append("<ul>%s</ul>" % items if items else "<p>None.</p>")
        if audit["more"]:
            out.append("<p>and %d more.</p>" % audit["more"])
    out.append("<h2>Objects</h2>")
    out.append("<p>%s</p>" % h(objects_intro(totals)))
    heads, body = rest_cells(totals)
    if body:
        out.append(html_table(heads, body, numeric_from=1, css="rest"))
    edge = totals.edge
    out.append('<table class="objects"><thead><tr>%s</tr></thead><tbody>' % "".join("<th>%s</th>" % h(c) for c in edge_columns(edge)))
    return "\n".join(out)


def html_histogram(report: Dict[str, Any], totals: Totals) -> str:
    """The expiry histogram as a table with a bar per bucket (plain HTML and CSS)."""
    heads, counts = histogram_cells(totals)
    top = max([int(c) for c in counts] + [1])
    keys = [key for key in HISTOGRAM_KEYS if key != "unknown" or totals.expiry["unknown"]]
    rows = [
        '<tr class="b-%s"><td>%s</td><td class="num">%s</td><td class="bar"><span style="width:%dpx"></span></td></tr>'
        % (key, h(head), count, round(200 * int(count) / top))
        for key, head, count in zip(keys, heads, counts)
    ]
    return '<table class="histogram"><caption>%s</caption>\n%s</table>' % (h(histogram_caption(report)), "\n".join(rows))


def render_all(report: Dict[str, Any]) -> Dict[str, str]:
    """Each format's text, by the keys of FILE_NAMES."""
    return {"json": render_json(report), "markdown": render_markdown(report), "html": render_html(report)}


def render_streams(report: Dict[str, Any], totals: Totals, rows: Callable[[], Iterable[Dict[str, Any]]]) -> Dict[str, Iterator[str]]:
    """render_all piece by piece, for a report whose rows are not in it: `rows()` gives them (again for each format),
    `totals` is what they add up to, and report["summary"] is totals.summary(). The same texts, never whole in memory."""
    return {"json": json_chunks(report, rows()), "markdown": markdown_chunks(report, totals, rows()), "html": html_chunks(report, totals, rows())}


def write_streams(out: Dict[str, Any], report: Dict[str, Any], totals: Totals, rows: Iterable[Dict[str, Any]]) -> None:
    """render_streams' texts written to `out` (a writable per key of FILE_NAMES) in one pass over the rows."""
    json_head, json_end = json_parts(report)
    out["json"].write(json_head)
    out["markdown"].write(markdown_head(report, totals))
    out["html"].write(html_head(report, totals))
    empty = True
    for row in rows:
        out["json"].write(json_row(row, empty))
        if listed(row):
            texts = cells(row, totals.edge)  # once for both tables
            out["markdown"].write(markdown_row(texts))
            out["html"].write(html_row(row, texts))
        empty = False
    out["json"].write(json_tail(json_end, empty))
    out["markdown"].write(MARKDOWN_TAIL)
    out["html"].write(HTML_TAIL)
