"""The Prometheus metrics of a rotation (_rotation/metrics.py): the expiry each report row serves after the run, the
run's facts, and what a failed run keeps from the zone's previous file."""

from __future__ import annotations

import json

from prometheus_client.parser import text_string_to_metric_families

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import parse_time
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import metrics

ZONE = "example.com"
OLD = {"serial_number": "12", "fingerprint_sha256": "aa", "expires_on": "2026-12-20T00:00:00Z"}
NEW = {"serial_number": "13", "fingerprint_sha256": "bb", "expires_on": "2027-03-01T00:00:00Z"}
ROWS = [
    {"kind": "custom_hostname", "name": "a.customer.example", "key_types": ["rsa", "ecdsa"], "outcome": "rotated", "old": OLD, "new": NEW},
    {"kind": "custom_hostname", "name": "b.customer.example", "key_types": ["ecdsa"], "outcome": "failed", "old": OLD, "new": NEW},
    {"kind": "zone_cert", "name": "*.example.com", "id": "0123abcd", "outcome": "due", "old": OLD, "new": None},
    {"kind": "cert_pack", "name": "example.com", "id": "77", "outcome": "up_to_date", "old": None, "new": None},
]


def report(tmp_path, rows=None):
    rows = ROWS if rows is None else rows
    path = tmp_path / "rotation-report.json"
    path.write_text(json.dumps({"audit": {}, "failure": None, "rows": rows, "zone": ZONE}, indent=2))
    return str(path)


def samples(text):
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def made(tmp_path, success=True, report_path=None, end=1_800_000_000.0, usage=(0, 0), mode="rotate"):
    run = metrics.Run(ZONE, mode, success, end, usage)
    registry, facts = metrics.registry_for(run, report_path, metrics.previous(str(tmp_path / metrics.file_name(ZONE))))
    metrics.write(registry, str(tmp_path), ZONE)
    return (tmp_path / metrics.file_name(ZONE)).read_text(), facts


def test_each_row_gives_the_expiry_it_serves_after_the_run_with_names_and_ids_as_labels(tmp_path):
    text, facts = made(tmp_path, report_path=report(tmp_path))
    expiries = {s.labels["name"]: (s.labels, s.value) for s in samples(text) if s.name == metrics.EXPIRY}
    # rotated: the new certificate; failed: the old one still served; due: the old one; none known: no sample
    assert expiries["a.customer.example"] == (
        {"zone": ZONE, "kind": "custom_hostname", "name": "a.customer.example", "key_type": "rsa,ecdsa", "id": ""},
        parse_time(NEW["expires_on"]).timestamp(),
    )
    assert expiries["b.customer.example"][1] == parse_time(OLD["expires_on"]).timestamp()
    assert expiries["*.example.com"][0]["id"] == "0123abcd" and expiries["*.example.com"][1] == parse_time(OLD["expires_on"]).timestamp()
    assert "example.com" not in expiries and facts["expiry_samples"] == 3
    counts = {s.labels["outcome"]: s.value for s in samples(text) if s.name == "certops_cloudflare_rotation_objects"}
    assert counts["rotated"] == counts["failed"] == counts["due"] == counts["up_to_date"] == 1 and counts["pending"] == 0
    due = [s.value for s in samples(text) if s.name == "certops_cloudflare_rotation_due_without_material"]
    assert due == [1]


def test_the_last_success_survives_a_failed_run_and_moves_with_a_completed_one(tmp_path):
    made(tmp_path, success=True, report_path=report(tmp_path), end=1_800_000_000.0)
    text, facts = made(tmp_path, success=False, report_path=report(tmp_path), end=1_800_086_400.0)
    values = {s.name: s.value for s in samples(text) if s.name.startswith("certops_cloudflare_rotation_") and s.name != "certops_cloudflare_rotation_objects"}
    assert values[metrics.LAST_SUCCESS] == 1_800_000_000.0 == facts["last_success"]
    assert values["certops_cloudflare_rotation_success"] == 0 and values["certops_cloudflare_rotation_end_timestamp_seconds"] == 1_800_086_400.0
    text, _facts = made(tmp_path, success=True, report_path=report(tmp_path), end=1_800_172_800.0)
    assert [s.value for s in samples(text) if s.name == metrics.LAST_SUCCESS] == [1_800_172_800.0]


def test_a_run_without_a_report_keeps_the_previous_expiries(tmp_path):
    made(tmp_path, report_path=report(tmp_path))
    text, facts = made(tmp_path, success=False, report_path=None)
    assert facts["kept_expiries"] is True and facts["expiry_samples"] == 3
    assert sorted(s.labels["name"] for s in samples(text) if s.name == metrics.EXPIRY) == ["*.example.com", "a.customer.example", "b.customer.example"]


def test_a_first_run_that_fails_has_no_last_success(tmp_path):
    text, facts = made(tmp_path, success=False, report_path=report(tmp_path))
    assert facts["last_success"] is None and metrics.LAST_SUCCESS not in text


def test_the_usage_lines_add_up_and_a_cut_line_is_skipped(tmp_path):
    usage = tmp_path / "usage.jsonl"
    usage.write_text('{"requests": 200, "rate_limited": 1}\n{"requests": 12, "rate_limited": 0}\n{"requests": 5, "rate_l')
    assert metrics.read_usage(str(usage)) == (212, 1)
    assert metrics.read_usage(str(tmp_path / "none.jsonl")) == (0, 0) and metrics.read_usage(None) == (0, 0)
    text, _facts = made(tmp_path, usage=metrics.read_usage(str(usage)))
    values = {s.name: s.value for s in samples(text)}
    assert values["certops_cloudflare_rotation_api_requests"] == 212 and values["certops_cloudflare_rotation_api_rate_limited"] == 1


def test_a_previous_file_that_is_not_metrics_is_ignored(tmp_path):
    (tmp_path / metrics.file_name(ZONE)).write_text("not { the text format\n")
    assert metrics.previous(str(tmp_path / metrics.file_name(ZONE))) == ("not { the text format\n", None, [])
    assert metrics.previous(str(tmp_path / "missing.prom")) == (None, None, [])


def test_no_key_or_certificate_text_reaches_the_metrics(tmp_path):
    leaky = dict(ROWS[0], reason="-----BEGIN PRIVATE KEY-----", new_certificates=[{"pem": "-----BEGIN CERTIFICATE-----"}], detail="x")
    text, _facts = made(tmp_path, report_path=report(tmp_path, [leaky]))
    assert "BEGIN" not in text and "PRIVATE" not in text


def test_without_a_report_or_a_previous_file_the_expiry_metric_is_left_out(tmp_path):
    # Pushed with POST, a metric left out keeps what the Pushgateway holds.
    text, facts = made(tmp_path, success=False, report_path=None)
    assert metrics.EXPIRY not in text and facts["expiry_samples"] == 0 and not facts["kept_expiries"]


def test_a_zone_of_10000_hostnames_stays_one_file(tmp_path):
    rows = [dict(ROWS[0], name="h%05d.customer.example" % i) for i in range(10000)]
    text, facts = made(tmp_path, report_path=report(tmp_path, rows))
    assert facts["expiry_samples"] == 10000 and sorted(p.name for p in tmp_path.glob("*.prom")) == [metrics.file_name(ZONE)]
    assert len(text.encode()) < 2_000_000
    assert sum(1 for s in samples(text) if s.name == metrics.EXPIRY) == 10000


def test_an_audit_that_completes_leaves_the_last_success_of_the_last_rotation(tmp_path):
    made(tmp_path, report_path=report(tmp_path), end=1_800_000_000.0)
    text, facts = made(tmp_path, report_path=report(tmp_path), end=1_800_086_400.0, mode="audit")
    assert facts["last_success"] == 1_800_000_000.0 and [s.value for s in samples(text) if s.name == metrics.LAST_SUCCESS] == [1_800_000_000.0]
