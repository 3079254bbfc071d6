"""The rotation's stages piece by piece (issue 26): the report written row by row, the plan's long lists spooled, the
outcomes judged one object at a time. Each must give exactly what the whole-list form gives."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._edge import blank_entry
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import JsonSpool, compact_hostname, write_json_file, write_json_spooled
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import EdgeOutcomes, Outcomes, edge_outcomes, outcomes
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import first, plan_rotation
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import (
    OUTCOMES,
    TIMELINE_CAP,
    Totals,
    build_report,
    render_all,
    render_streams,
    summarize,
    summary_table,
    timeline_rows,
    without_key_strings,
)

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.timezone.utc)
KEY = "-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n"


def at(days: float) -> str:
    return isoformat(NOW + datetime.timedelta(days=days))


def rows(count: int, edge: bool = False):
    out = []
    for i in range(count):
        row = {
            "kind": ("custom_hostname", "client_cert", "zone_cert", "odd kind", None)[i % 5],
            "name": "h%05d.example|<b>\n" % i if i % 7 == 0 else "h%05d.example" % i,
            "action": "rotate",
            "outcome": (list(OUTCOMES) + ["unheard_of", None])[i % (len(OUTCOMES) + 2)],
            "reason": "due" if i % 3 else KEY,
            "detail": None if i % 2 else "why",
            "old": {"serial_number": str(i), "expires_on": at(i % 40 - 5)} if i % 6 else None,
            "new": {"serial_number": str(i + 1), "expires_on": at(90)} if i % 4 else {},
            "key_types": ["rsa"],
            "extra": {"b": [1, {"c": None}], "a": 1.5},
        }
        if edge:
            row["edge"] = "verified" if i % 9 == 0 else None
        out.append(row)
    return out


@pytest.mark.parametrize(
    "count, edge, mode, audit",
    [
        (0, False, None, None),
        (1, False, "check", {"buckets": {"zone_cert": {"later": 1}}, "not_active": []}),
        (60, True, "rotate", None),
        (1300, False, "audit", None),
    ],
)
def test_the_report_written_row_by_row_is_the_report_written_whole(count, edge, mode, audit):
    given = rows(count, edge)
    kwargs = dict(zone="example.com", failure="apply" if edge else None, now=NOW, replaced=[{"kind": "zone_cert", "id": "z"}], audit=audit, mode=mode)
    whole = build_report(given, **kwargs)
    totals = Totals(NOW)  # the histogram counts from the report's time
    cleaned = []
    for row in given:
        clean = without_key_strings(row)
        totals.add(clean)
        cleaned.append(json.loads(json.dumps(clean)))  # as the module's spool gives them back
    head = build_report((), **kwargs)
    del head["rows"]
    head["summary"] = totals.summary()
    assert head["summary"] == summarize(whole["rows"]) == whole["summary"]
    streams = render_streams(head, totals, lambda: iter(cleaned))
    assert {fmt: "".join(chunks) for fmt, chunks in streams.items()} == render_all(whole)
    assert summary_table((), totals.counts) == summary_table(whole["rows"])


def test_the_totals_keep_only_the_rows_the_timeline_draws():
    given = [dict(row, outcome="up_to_date" if i % 2 else "rotated") for i, row in enumerate(rows(3 * TIMELINE_CAP))]
    totals = Totals.of(given)
    assert len(totals.drawn) == TIMELINE_CAP and len(totals.failed) == len(totals.due) == 0
    assert totals.timeline() == timeline_rows(given)
    drawn, note = totals.timeline()
    assert {row["outcome"] for row in drawn} == {"rotated"}
    dated = sum(1 for row in given if row["old"] or row["outcome"] == "rotated" and row["new"])
    assert note.startswith("The timeline draws %d of the %d objects with an expiry" % (TIMELINE_CAP, dated))
    assert note.endswith(
        "Not drawn: %d rotated, %d up to date."
        % (
            dated - TIMELINE_CAP - sum(1 for r in given if r["old"] and r["outcome"] == "up_to_date"),
            sum(1 for r in given if r["old"] and r["outcome"] == "up_to_date"),
        )
    )


def test_a_spooled_plan_is_the_plan_with_whole_lists(tmp_path):
    hosts = [
        {"hostname": "h%d.example.com" % i, "id": str(i), "ssl": {"status": "active" if i % 3 else "pending", "certificates": [{"expires_on": at(i % 20)}]}}
        for i in range(150)
    ]
    params = {"discovered": {"custom_hostnames": hosts, "hostname_client_certs": [], "custom_certs": []}, "revalidate": True}
    whole = plan_rotation(params, now=NOW)
    spools = []

    def spool(_key):
        spools.append(JsonSpool(str(tmp_path / "plan.json"), "dest", keep=100))
        return spools[-1]

    spooled = plan_rotation(params, now=NOW, lists=spool)
    write_json_spooled(str(tmp_path / "plan.json"), spooled, "dest")
    for each in spools:
        each.close()
    write_json_file(str(tmp_path / "whole.json"), whole, "dest")
    assert (tmp_path / "plan.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert whole["plan"]["counts"]["due_without_material"] == 150  # every one is due: a list as long as the zone
    for key in ("objects", "changes", "hostname_certificates", "due_without_material"):
        assert first(spooled["plan"][key], 100) == whole["plan"][key][:100]
    assert spooled["warnings"] == whole["warnings"] and spooled["summary"] == whole["summary"]


def test_the_plan_of_compact_views_is_the_plan_of_whole_views():
    views = [
        {
            "hostname": "h%d.example.com" % i,
            "id": str(i),
            "status": "active",
            "custom_metadata": {"m": i},
            "ssl": {
                "status": "validation_timed_out" if i == 3 else "active",
                "bundle_method": "ubiquitous",
                "settings": {},
                "certificates": [{"id": "c", "key_type": "rsa", "serial_number": "9", "expires_on": at(i), "hosts": ["x"], "days_remaining": i}],
            },
        }
        for i in range(40)
    ]
    whole = plan_rotation({"discovered": {"custom_hostnames": views}}, now=NOW)
    compact = plan_rotation({"discovered": {"custom_hostnames": [compact_hostname(v) for v in views]}}, now=NOW)
    assert compact == whole


FP_NEW = "bb" * 32


def test_outcomes_object_by_object_are_the_outcomes_of_the_list():
    plan = {
        "objects": [
            {"kind": "custom_hostname", "name": "a.example.com", "action": "rotate", "new_fingerprints": [FP_NEW], "key_types": ["ecdsa"]},
            {"kind": "custom_hostname", "name": "b.example.com", "action": "rotate", "new_fingerprints": [FP_NEW], "key_types": ["ecdsa"]},
            {"kind": "managed_hostname", "name": "b.example.com", "action": "revalidate"},
            {"kind": "custom_hostname", "name": "c.example.com", "action": "up_to_date"},
        ]
    }
    served = {"status": "active", "ssl": {"status": "active", "certificates": [{"key_type": "ecdsa", "fingerprint_sha256": FP_NEW, "id": "x", "hosts": []}]}}
    after = {"custom_hostnames": [dict(served, hostname="a.example.com"), {"hostname": "b.example.com", "status": "active", "ssl": {"status": "pending"}}]}
    judged = outcomes(plan, after, failure="apply")
    compact = Outcomes({"custom_hostnames": [compact_hostname(h) for h in after["custom_hostnames"]]}, failure="apply")
    assert [compact.row(obj) for obj in plan["objects"]] == judged
    probe = blank_entry({"hostname": "a.example.com", "address": "127.0.0.1", "port": 8443}, "ecdsa")
    probe.update(fingerprint_sha256=FP_NEW, key_type="ecdsa")
    edge = EdgeOutcomes([probe], compact=True)
    assert [edge.row(row) for row in judged] == edge_outcomes(judged, [probe])
    assert judged[0]["outcome"] == "rotated" and edge.row(judged[0])["edge"] == "verified"


def test_the_planner_keeps_the_facts_of_the_pairs_used_last_only(monkeypatch):
    from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import plan as planning

    monkeypatch.setattr(planning, "CHECKED_KEPT", 2)
    planner = planning.Planner(now=NOW, roots=[])
    checked = []

    def check(item, client):
        checked.append(item["certificate_path"])
        return {"sans": ["*.example.com"], "path": item["certificate_path"]}

    monkeypatch.setattr(planner, "_check", check)
    pair = {"certificate_path": "/w.pem", "private_key_path": "/w.key"}
    for index in range(5):  # a wildcard shared by every entry, between pairs of their own
        assert planner.material(pair, "x", ["h.example.com"])["path"] == "/w.pem"
        own = {"certificate_path": "/%d.pem" % index, "private_key_path": "/%d.key" % index}
        assert planner.material(own, "x", ["h.example.com"])["path"] == "/%d.pem" % index
    assert checked == ["/w.pem", "/0.pem", "/1.pem", "/2.pem", "/3.pem", "/4.pem"]  # the wildcard once
    assert len(planner._checked) == 2  # pylint: disable=protected-access
    assert planner.material({"certificate_path": "/0.pem", "private_key_path": "/0.key"}, "x")["path"] == "/0.pem"  # checked again, the same
    assert checked[-1] == "/0.pem" and len(checked) == 7
