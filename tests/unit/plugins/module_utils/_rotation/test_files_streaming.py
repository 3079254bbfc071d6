"""The files of 100,000 hostnames, read and written as they go (_rotation/files.py, issue 26).

Each reader must give what its whole-file counterpart gives, with the same messages, and each writer must write what
write_json_file writes of the same data, byte for byte, with a file that appears whole or not at all.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, List

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation import files
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import (
    JsonReader,
    JsonSpool,
    SortedJsonListWriter,
    compact_hostname,
    iter_hostnames,
    read_compact_zone_state,
    read_hostnames,
    read_plan,
    read_replaced,
    read_zone_state,
    scan_plan,
    scan_replaced,
    write_chunks_atomically,
    write_json_file,
    write_json_spooled,
)

HOSTS = [{"hostname": "a.customer.example", "id": "1"}, {"hostname": "b.customer.example", "id": "2"}]


@pytest.fixture(params=[7, 1 << 16], ids=["tiny-chunks", "default-chunks"])
def chunk(request, monkeypatch):
    """Every reader test runs with chunks of 7 characters too, so values and numbers span chunk boundaries."""
    monkeypatch.setattr(JsonReader, "CHUNK", request.param)
    return request.param


def files_in(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir())


def write(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data))
    return str(path)


# -- JsonReader ----------------------------------------------------------------------------------------------------


def test_the_reader_walks_members_and_items_and_skips_what_is_left(tmp_path, chunk):
    data = {"a": 12345678901234567890, "skip": [{"x": [1, 2, {"y": "z"}]}, 3.25, None], "list": [1, "two", {"three": [3]}], "o": {"k": [1]}, "end": True}
    path = write(tmp_path / "f.json", data)
    seen = {}
    with JsonReader(path, "opt") as reader:
        for key in reader.members():
            if key == "list":
                seen[key] = list(reader.items())
            elif key == "o":
                seen[key] = {inner: reader.value() for inner in reader.members()}
            elif key != "skip":
                seen[key] = reader.value()
        reader.end()
    assert seen == {"a": 12345678901234567890, "list": [1, "two", {"three": [3]}], "o": {"k": [1]}, "end": True}


def test_the_reader_takes_white_space_and_empty_containers(tmp_path, chunk):
    path = tmp_path / "f.json"
    path.write_text(' \n{ "a" : [ ] , "b" : { } ,\n"c":[ 1 ,2 ] }\n ')
    with JsonReader(str(path), "opt") as reader:
        got = {key: (list(reader.items()) if reader.kind() == "[" else reader.value()) for key in reader.members()}
        reader.end()
    assert got == {"a": [], "b": {}, "c": [1, 2]}


@pytest.mark.parametrize("text", ['{"a": [1, 2}', '{"a" 1}', '{"a": 1} x', '{"a": [1 2]}', "", '{"a": tru}'])
def test_the_reader_says_a_file_is_no_json(tmp_path, chunk, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=r"^opt: .*bad\.json does not hold JSON"):
        with JsonReader(str(path), "opt") as reader:
            reader.skip()
            reader.end()


def test_the_reader_names_a_file_it_cannot_read(tmp_path):
    with pytest.raises(InputError, match=r"^opt: cannot read .*missing\.json: No such file"):
        with JsonReader(str(tmp_path / "missing.json"), "opt"):
            pass


# -- iter_hostnames: read_hostnames as it goes ----------------------------------------------------------------------


def test_iter_hostnames_takes_both_file_shapes_and_skips_the_other_lists(tmp_path, chunk):
    written = write(tmp_path / "found.json", {"zone_id": "z", "custom_hostnames": HOSTS})
    assert list(iter_hostnames(written, "opt")) == read_hostnames(written, "opt") == HOSTS
    bare = write(tmp_path / "bare.json", HOSTS)
    assert list(iter_hostnames(bare, "opt")) == HOSTS
    # What the apply stage writes: the hostnames between other lists of the same length.
    applied = write(tmp_path / "applied.json", {"zone_id": "z", "results": [{"r": 1}] * 3, "custom_hostnames": HOSTS, "switched": [{"s": [1]}] * 3})
    assert list(iter_hostnames(applied, "opt")) == HOSTS


def test_iter_hostnames_takes_the_list_and_its_text_as_read_hostnames_does():
    assert list(iter_hostnames(HOSTS, "opt")) == HOSTS
    assert list(iter_hostnames("  " + json.dumps({"custom_hostnames": HOSTS}), "opt")) == HOSTS


@pytest.mark.parametrize(
    "content",
    [
        None,
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"",
        b"42",
        json.dumps({"zone_id": "z", "hostnames": HOSTS}).encode(),
        json.dumps({"custom_hostnames": None}).encode(),
        json.dumps(["a.customer.example", "b.customer.example"]).encode(),
        json.dumps({"custom_hostnames": HOSTS})[:-3].encode(),
    ],
    ids=["missing", "not-json", "not-utf8", "empty", "a-number", "object-without-list", "null-list", "list-of-names", "cut-short"],
)
def test_iter_hostnames_fails_with_read_hostnames_message(tmp_path, chunk, content):
    path = tmp_path / "found.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as whole:
        read_hostnames(str(path), "state.custom_hostnames")
    with pytest.raises(InputError) as streamed:
        list(iter_hostnames(str(path), "state.custom_hostnames"))
    assert str(streamed.value) == str(whole.value)


# -- the compact view ----------------------------------------------------------------------------------------------


VIEW = {
    "id": "0d89",
    "hostname": "app.customer.example",
    "status": "active",
    "verification_errors": [],
    "ownership_verification": {"type": "txt", "name": "_cf", "value": "5cc0"},
    "custom_metadata": {"customer": "acme"},
    "ssl": {
        "id": "7b16",
        "status": "active",
        "bundle_method": "force",
        "settings": {"http2": "on"},
        "validation_records": [{"txt_name": "x"}],
        "certificates": [
            {
                "id": "5a78",
                "key_type": "rsa",
                "serial_number": "12",
                "fingerprint_sha256": "3f1c",
                "issuer": "Example CA",
                "expires_on": "2027-03-01T10:00:00Z",
                "days_remaining": 29,
                "not_before": "2026-12-01T10:00:00Z",
                "uploaded_on": "2026-12-01T10:05:00Z",
                "hosts": ["app.customer.example"],
            }
        ],
    },
}


def test_the_compact_view_keeps_what_the_planner_and_the_report_read():
    small = compact_hostname(VIEW)
    assert small == {
        "id": "0d89",
        "hostname": "app.customer.example",
        "status": "active",
        "ssl": {
            "status": "active",
            "bundle_method": "force",
            "certificates": [
                {
                    "key_type": "rsa",
                    "serial_number": "12",
                    "fingerprint_sha256": "3f1c",
                    "issuer": "Example CA",
                    "expires_on": "2027-03-01T10:00:00Z",
                    "not_before": "2026-12-01T10:00:00Z",
                    "uploaded_on": "2026-12-01T10:05:00Z",
                }
            ],
        },
    }


def test_the_compact_view_leaves_absent_keys_absent():
    assert compact_hostname({"hostname": "a.example"}) == {"hostname": "a.example"}
    assert compact_hostname({"hostname": "a.example", "ssl": None}) == {"hostname": "a.example", "ssl": None}
    assert compact_hostname({"ssl": {"certificates": None}}) == {"ssl": {"certificates": None}}


def test_the_compact_zone_state_is_read_zone_state_made_compact(tmp_path, chunk):
    path = write(tmp_path / "found.json", {"zone_id": "z", "custom_hostnames": [VIEW, HOSTS[0]]})
    state = {"custom_hostnames": path, "custom_certs": [{"id": "c"}]}
    assert read_compact_zone_state(state, "state") == dict(read_zone_state(state, "state"), custom_hostnames=[compact_hostname(VIEW), HOSTS[0]])
    with pytest.raises(InputError, match="^state.custom_certs must be the list"):
        read_compact_zone_state({"custom_certs": "x"}, "state")


# -- SortedJsonListWriter ------------------------------------------------------------------------------------------


def test_the_sorted_writer_writes_what_write_json_file_writes_of_the_sorted_list(tmp_path):
    items = [{"hostname": name, "n": i, "text": "\u00e9\u2019"} for i, name in enumerate(["c.example", "a.example", "b.example", "a.example"])]
    write_json_file(str(tmp_path / "whole.json"), {"zone_id": "z", "custom_hostnames": sorted(items, key=lambda v: v["hostname"])}, "dest")
    with SortedJsonListWriter(str(tmp_path / "sorted.json"), "dest", {"zone_id": "z"}, "custom_hostnames") as out:
        for item in items:
            out.add(item["hostname"], item)
    assert out.count == 4
    assert (tmp_path / "sorted.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert [v["n"] for v in json.loads((tmp_path / "sorted.json").read_text())["custom_hostnames"]] == [1, 3, 2, 0]  # stable
    assert stat.S_IMODE(os.stat(tmp_path / "sorted.json").st_mode) == 0o600


def test_the_sorted_writer_writes_an_empty_list(tmp_path):
    with SortedJsonListWriter(str(tmp_path / "empty.json"), "dest", {"zone_id": "z"}, "custom_hostnames"):
        pass
    assert json.loads((tmp_path / "empty.json").read_text()) == {"zone_id": "z", "custom_hostnames": []}


def test_the_sorted_writer_leaves_the_old_file_and_nothing_else_on_an_error(tmp_path):
    (tmp_path / "found.json").write_text("old")
    with pytest.raises(RuntimeError):
        with SortedJsonListWriter(str(tmp_path / "found.json"), "dest", {}, "custom_hostnames") as out:
            out.add("a", {"hostname": "a"})
            raise RuntimeError("a page failed")
    assert files_in(tmp_path) == ["found.json"] and (tmp_path / "found.json").read_text() == "old"


def test_the_sorted_writer_names_dest_when_its_directory_is_missing(tmp_path):
    target = tmp_path / "missing-dir" / "found.json"
    with pytest.raises(InputError, match="^dest: cannot write %s: " % target):
        with SortedJsonListWriter(str(target), "dest", {}, "custom_hostnames"):
            pass


# -- JsonSpool and write_json_spooled ------------------------------------------------------------------------------


def test_spooled_lists_make_the_file_write_json_file_makes(tmp_path):
    objects = [{"name": "h%d" % i, "v": [i, None, 'x"y']} for i in range(250)]
    lines = ["line %d" % i for i in range(7)]
    with JsonSpool(str(tmp_path / "plan.json"), "dest", keep=100) as spooled, JsonSpool(str(tmp_path / "plan.json"), "dest", keep=100) as changes:
        for obj in objects:
            spooled.append(obj)
        for line in lines:
            changes.append(line)
        empty = JsonSpool(str(tmp_path / "plan.json"), "dest")
        assert (len(spooled), spooled.head) == (250, objects[:100])
        data = {"plan": {"objects": spooled, "counts": {"objects": 250}, "changes": changes, "none": empty}, "problems": ["p"]}
        write_json_spooled(str(tmp_path / "plan.json"), data, "dest")
        empty.close()
    whole = {"plan": {"objects": objects, "counts": {"objects": 250}, "changes": lines, "none": []}, "problems": ["p"]}
    write_json_file(str(tmp_path / "whole.json"), whole, "dest")
    assert (tmp_path / "plan.json").read_bytes() == (tmp_path / "whole.json").read_bytes()
    assert stat.S_IMODE(os.stat(tmp_path / "plan.json").st_mode) == 0o600
    assert files_in(tmp_path) == ["plan.json", "whole.json"]  # the spools are unnamed files, gone once closed


def test_a_spool_names_dest_when_its_directory_is_missing(tmp_path):
    target = tmp_path / "missing-dir" / "plan.json"
    with pytest.raises(InputError, match="^dest: cannot write %s: " % target):
        JsonSpool(str(target), "dest")


def test_write_json_spooled_refuses_what_json_cannot_write(tmp_path):
    with pytest.raises(TypeError):
        write_json_spooled(str(tmp_path / "x.json"), {"a": object()}, "dest")
    assert files_in(tmp_path) == []


def test_write_chunks_atomically_writes_the_pieces_with_the_mode_asked(tmp_path):
    write_chunks_atomically(str(tmp_path / "r.md"), iter(["a", "\u00e9", "", "b\n"]), 0o644)
    assert (tmp_path / "r.md").read_text(encoding="utf-8") == "a\u00e9b\n"
    assert stat.S_IMODE(os.stat(tmp_path / "r.md").st_mode) == 0o644

    def broken():
        yield "half"
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_chunks_atomically(str(tmp_path / "r.md"), broken(), 0o644)
    assert files_in(tmp_path) == ["r.md"] and (tmp_path / "r.md").read_text() == "a\u00e9b\n"


# -- scan_replaced and scan_plan -----------------------------------------------------------------------------------


REPLACED = [{"kind": "client_cert", "id": "c1"}, {"kind": "zone_cert", "id": "z1"}, {"kind": "other", "id": "x"}, {"kind": "zone_cert"}]


@pytest.mark.parametrize(
    "content",
    [
        None,
        json.dumps({"rows": [{"name": "h%d" % i} for i in range(50)], "replaced": REPLACED, "summary": {}}),
        json.dumps({"rows": []}),
        json.dumps([1, 2]),
        '{"replaced": [',
        "",
    ],
    ids=["missing", "report", "older-report", "not-an-object", "cut-short", "empty"],
)
def test_scan_replaced_is_read_replaced(tmp_path, chunk, content):
    path = tmp_path / "rotation-report.json"
    if content is not None:
        path.write_text(content)
    assert scan_replaced(str(path)) == read_replaced(str(path))


PLAN = {
    "plan": {
        "hostname_certificates": [{"hostname": "h%d" % i} for i in range(30)],
        "replaced": [{"kind": "zone_cert", "id": "z"}],
        "audit": {"buckets": {}, "not_active": []},
        "due_without_material": [{"name": "d"}],
        "objects": [{"kind": "custom_hostname", "name": "h%d" % i, "action": "rotate"} for i in range(30)],
        "changes": ["x"] * 30,
    },
    "problems": [],
}


def test_scan_plan_hands_over_each_object_and_keeps_the_members_asked(tmp_path, chunk):
    path = write(tmp_path / "plan.json", PLAN)
    seen: List[Any] = []
    plan = scan_plan(path, seen.append)
    assert seen == PLAN["plan"]["objects"] == read_plan(path)["objects"]
    assert plan == {"replaced": PLAN["plan"]["replaced"], "audit": PLAN["plan"]["audit"], "due_without_material": [{"name": "d"}], "objects": 30}


@pytest.mark.parametrize(
    "data",
    [{"zone_id": "z", "custom_hostnames": []}, {"plan": []}, {"plan": {"objects": None}}, {"plan": {"objects": [1]}}, {"plan": {}}, [1]],
    ids=["hostnames-file", "plan-not-a-dict", "objects-null", "objects-not-dicts", "no-objects", "a-list"],
)
def test_scan_plan_refuses_what_read_plan_refuses_with_its_message(tmp_path, chunk, data):
    path = write(tmp_path / "x.json", data)
    with pytest.raises(InputError) as whole:
        read_plan(path)
    with pytest.raises(InputError) as streamed:
        scan_plan(path, lambda obj: None)
    assert str(streamed.value) == str(whole.value)


def test_scan_plan_names_a_file_that_is_not_there_or_no_json(tmp_path):
    with pytest.raises(InputError, match="^plan: cannot read "):
        scan_plan(str(tmp_path / "nowhere.json"), lambda obj: None)
    (tmp_path / "half.json").write_text('{"plan": {"objects": [')
    with pytest.raises(InputError, match=r"^plan: .*half\.json does not hold JSON"):
        scan_plan(str(tmp_path / "half.json"), lambda obj: None)


def test_the_module_utils_keep_their_whole_file_readers():
    """The lead's apply stage and older callers use these; the streaming ones are additions."""
    for name in ("plan_entries", "write_material", "read_hostnames", "JsonListWriter", "write_json_file", "read_plan", "read_replaced"):
        assert callable(getattr(files, name))
