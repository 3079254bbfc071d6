"""rotation_report's own readers (issue 26): the probe's file entry by entry, the rows spooled and read back."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.modules import rotation_report

ENTRIES = [{"hostname": "a.example.com", "requested_key_type": "ecdsa", "fingerprint_sha256": "bb"}, {"hostname": "b.example.com"}]


def test_edge_certs_are_read_from_the_probes_file_or_taken_as_a_list(tmp_path):
    path = tmp_path / "edge.json"
    path.write_text(json.dumps({"zone_id": "z", "summary": {"n": [1, 2]}, "edge_certs": ENTRIES, "after": [{"x": 1}]}))
    assert list(rotation_report.scan_edge_certs(str(path))) == ENTRIES
    assert list(rotation_report.scan_edge_certs(ENTRIES)) == ENTRIES


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "^edge_certs: cannot read "),
        ('{"zone_id": "x"}', "holds no edge_certs list; give the path edge_cert_info's dest option wrote$"),
        ('{"edge_certs": null}', "holds no edge_certs list"),
        ("[1, 2]", "holds no edge_certs list"),
        ('{"edge_certs": [1]}', "^edge_certs must be the edge_certs list of certops.cloudflare.edge_cert_info"),
        ('{"edge_certs": [', "does not hold JSON"),
        ("", "does not hold JSON"),
    ],
    ids=["missing", "not-a-probes-file", "null", "a-list", "not-dicts", "cut-short", "empty"],
)
def test_edge_certs_files_that_are_not_a_probes_are_named(tmp_path, content, message):
    path = tmp_path / "edge.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message):
        list(rotation_report.scan_edge_certs(str(path)))


def test_edge_certs_given_as_something_else_are_refused():
    with pytest.raises(InputError, match="^edge_certs must be the edge_certs list"):
        list(rotation_report.scan_edge_certs([1]))


def test_the_rows_come_back_from_their_spool_as_often_as_asked():
    spool = rotation_report.SpooledRows()
    try:
        made = rotation_report.Rows(spool, datetime.datetime.now(datetime.timezone.utc))
        nested = {"name": "c", "outcome": "rotated", "old": {"hosts": ["c", "x-----BEGIN EC PRIVATE KEY-----"]}}
        rows = [
            {"kind": "custom_hostname", "name": "a", "outcome": "failed", "reason": "-----BEGIN PRIVATE KEY-----"},
            {"name": "b", "outcome": "rotated"},
            nested,
        ]
        for row in rows:
            made.add(row)
        cleaned = [dict(rows[0], reason="[removed]"), rows[1], dict(nested, old={"hosts": ["c", "[removed]"]})]
        assert list(spool()) == cleaned and list(spool()) == cleaned
        assert made.unverified == ["a"] and made.totals.total == 3
    finally:
        spool.close()
