"""Outcomes at the edge (_rotation/outcomes.py): what to probe after a rotation, the verdicts, the report column."""

from __future__ import annotations

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.outcomes import edge_expectations, edge_outcomes, edge_targets
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.report import build_report, render_html, render_markdown

from ansible_collections.certops.cloudflare.plugins.module_utils._edge import blank_entry

FP_OLD, FP_NEW, FP_RSA = "aa" * 32, "bb" * 32, "cc" * 32
TARGET = {"hostname": "app.example.com", "address": "127.0.0.1", "port": 8443}


def entry(fingerprint, key_type="ecdsa", requested="ecdsa", hostname="app.example.com", error=None):
    found = blank_entry(dict(TARGET, hostname=hostname), requested)
    found.update(fingerprint_sha256=fingerprint, key_type=key_type if fingerprint else None, error=error)
    return found


def rotation_row(name, outcome="rotated", key_types=("ecdsa",), fingerprints=(FP_NEW,), kind="custom_hostname"):
    return {"kind": kind, "name": name, "action": "rotate", "outcome": outcome, "key_types": list(key_types), "new_fingerprints": list(fingerprints)}


def test_edge_expectations_probe_each_hostname_per_key_type_of_its_new_certificates():
    found = edge_expectations([("a.example.com", ["ecdsa"], [FP_NEW]), ("pair.example.com", ["ecdsa", "rsa"], [FP_NEW, FP_RSA])])
    assert found == {
        "hostnames": ["a.example.com", "pair.example.com"],
        "key_types": ["rsa", "ecdsa"],
        "expect": {"a.example.com": {"ecdsa": [FP_NEW]}, "pair.example.com": {"ecdsa": [FP_NEW, FP_RSA], "rsa": [FP_NEW, FP_RSA]}},
    }


def test_edge_expectations_of_nothing_probe_nothing():
    assert edge_expectations([]) == {"hostnames": [], "key_types": [], "expect": {}}


def test_targets_are_the_switched_custom_hostnames_per_key_type_of_their_new_certificates():
    rows = [
        rotation_row("a.example.com"),
        rotation_row("pair.example.com", "uploaded", ("rsa", "ecdsa"), (FP_NEW, FP_RSA)),
        rotation_row("skipped.example.com", "skipped"),
        rotation_row("failed.example.com", "failed"),
        rotation_row("example.com", kind="zone_cert"),
    ]
    assert edge_targets(rows) == {
        "hostnames": ["a.example.com", "pair.example.com"],
        "key_types": ["rsa", "ecdsa"],
        "expect": {"a.example.com": {"ecdsa": [FP_NEW]}, "pair.example.com": {"rsa": [FP_NEW, FP_RSA], "ecdsa": [FP_NEW, FP_RSA]}},
    }
    assert edge_targets([rotation_row("x.example.com", "up_to_date")]) == {"hostnames": [], "key_types": [], "expect": {}}


def test_verdicts_say_what_the_edge_serves_instead():
    rows = [rotation_row("a.example.com"), rotation_row("b.example.com"), rotation_row("c.example.com"), rotation_row("d.example.com", "skipped")]
    probed = [
        entry(FP_NEW, hostname="a.example.com"),
        entry(FP_OLD, hostname="b.example.com"),
        entry(None, hostname="c.example.com", error="timed out"),
        entry(FP_RSA, "rsa", "rsa", hostname="a.example.com"),  # a key type the row did not rotate: not judged
    ]
    verdicts = {r["name"]: r["edge"] for r in edge_outcomes(rows, probed)}
    assert verdicts == {
        "a.example.com": "verified",
        "b.example.com": "not verified (ecdsa: serves %s, not the new certificate)" % FP_OLD[:16],
        "c.example.com": "not verified (ecdsa: timed out)",
        "d.example.com": None,
    }
    assert [r["edge"] for r in edge_outcomes(rows, None)] == [None] * 4  # not probed: no verdict


def test_the_report_shows_the_edge_column_only_when_the_edge_was_probed():
    plain = [dict(rotation_row("a.example.com"), reason="due", detail=None, old=None, new=None)]
    probed = [dict(plain[0], edge="not verified (ecdsa: timed out)")]
    assert "| edge |" not in render_markdown(build_report(plain)) and "<th>edge</th>" not in render_html(build_report(plain))
    markdown = render_markdown(build_report(probed, zone="example.com"))
    assert "| new expiry | edge | reason/detail |" in markdown and "| not verified (ecdsa: timed out) | due |" in markdown
    assert "<th>edge</th><th>reason/detail</th>" in render_html(build_report(probed))


def test_a_new_certificate_served_over_an_untrusted_chain_is_not_verified():
    probed = [dict(entry(FP_NEW, hostname="a.example.com"), validates=False, validation_error="unable to get local issuer certificate")]
    (row,) = edge_outcomes([rotation_row("a.example.com")], probed)
    assert row["edge"] == "not verified (ecdsa: the edge serves an untrusted chain (unable to get local issuer certificate))"
