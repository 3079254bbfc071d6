"""The files that carry long lists from one stage of the rotation to the next (_rotation/files.py).

write_atomically must leave either the old file or the whole new one (never half, never a temporary file), and the
readers must take every form the modules document and name the option in every error.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import List

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import read_hostnames, read_json_file, write_atomically, write_json_file

HOSTS = [{"hostname": "a.customer.example", "id": "1"}, {"hostname": "b.customer.example", "id": "2"}]


def files_in(directory: Path) -> List[str]:
    return sorted(p.name for p in directory.iterdir())


# -- write_atomically ----------------------------------------------------------------------------------


def test_write_atomically_replaces_the_whole_file_with_the_mode_asked(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("x" * 1000)  # longer than what replaces it: nothing of it may remain
    os.chmod(target, 0o666)
    write_atomically(str(target), "short", 0o640)
    assert target.read_text() == "short"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert files_in(tmp_path) == ["plan.json"]  # the temporary file was renamed, not copied


def test_write_json_file_writes_compact_json_private_by_default(tmp_path):
    target = tmp_path / "hostnames.json"
    data = {"custom_hostnames": HOSTS}
    write_json_file(str(target), data, "dest")
    assert json.loads(target.read_text()) == data
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # it may hold a zone's whole state
    assert " " not in target.read_text()  # compact: 10,000 hostnames make a large file already


def test_a_failing_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomically(str(target), object(), 0o600)  # type: ignore[arg-type]  # the write itself raises
    assert target.read_text() == "old"
    assert files_in(tmp_path) == ["plan.json"]


def test_a_failing_rename_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_text("kept")  # a non-empty directory: os.replace cannot put a file there
    with pytest.raises(OSError):
        write_atomically(str(target), "text", 0o600)
    assert files_in(tmp_path) == ["taken"] and (target / "inside").read_text() == "kept"


def test_write_json_file_names_the_option_when_it_cannot_write(tmp_path):
    with pytest.raises(InputError) as info:
        write_json_file(str(tmp_path / "missing-dir" / "plan.json"), {}, "dest")
    assert str(info.value).startswith("dest: cannot write %s: " % (tmp_path / "missing-dir" / "plan.json"))
    assert not (tmp_path / "missing-dir").exists()


# -- read_json_file and read_hostnames -----------------------------------------------------------------


def test_read_hostnames_takes_the_list_its_json_text_and_both_file_shapes(tmp_path):
    assert read_hostnames(HOSTS, "opt") is HOSTS
    assert read_hostnames(json.dumps(HOSTS), "opt") == HOSTS
    assert read_hostnames("  \n" + json.dumps(HOSTS), "opt") == HOSTS  # templated text may start with white space
    written = tmp_path / "found.json"
    write_json_file(str(written), {"zone_id": "z", "custom_hostnames": HOSTS}, "dest")  # what custom_hostname_cert_info dest writes
    assert read_hostnames(str(written), "opt") == HOSTS
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(HOSTS))
    assert read_hostnames(str(bare), "opt") == HOSTS
    assert read_json_file(str(written), "opt") == {"zone_id": "z", "custom_hostnames": HOSTS}


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "state.custom_hostnames: cannot read "),
        (b"not json at all", "does not hold JSON"),
        (b"\xff\xfe\x00garbage", "does not hold JSON"),  # not UTF-8 either
        (json.dumps({"zone_id": "z", "hostnames": HOSTS}).encode(), "state.custom_hostnames must be the list custom_hostname_cert_info returns"),
        (json.dumps({"custom_hostnames": None}).encode(), "state.custom_hostnames must be the list"),
        (json.dumps(["a.customer.example", "b.customer.example"]).encode(), "state.custom_hostnames must be the list"),
    ],
    ids=["missing", "not-json", "not-utf8", "object-without-list", "null-list", "list-of-names"],
)
def test_read_hostnames_file_errors_name_the_option(tmp_path, content, message):
    path = tmp_path / "found.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        read_hostnames(str(path), "state.custom_hostnames")
    assert message in str(info.value)
    assert str(info.value).startswith("state.custom_hostnames")


@pytest.mark.parametrize(
    "value, message",
    [
        ("[{]", "discovered.custom_hostnames is text but not JSON"),
        ('["a.customer.example"]', "discovered.custom_hostnames must be the list"),
        (["a.customer.example"], "discovered.custom_hostnames must be the list"),
        ({"hostnames": HOSTS}, "discovered.custom_hostnames must be the list"),  # a dict without the key dest writes
        (42, "discovered.custom_hostnames must be the list"),
    ],
    ids=["bad-json-text", "json-text-of-names", "list-of-names", "dict", "number"],
)
def test_read_hostnames_value_errors_name_the_option(value, message):
    with pytest.raises(InputError) as info:
        read_hostnames(value, "discovered.custom_hostnames")
    assert message in str(info.value)


def test_read_hostnames_unwraps_what_dest_writes_given_as_a_dict_or_its_text():
    assert read_hostnames({"zone_id": "z", "custom_hostnames": HOSTS}, "state.custom_hostnames") == HOSTS
    assert read_hostnames(json.dumps({"zone_id": "z", "custom_hostnames": HOSTS}), "state.custom_hostnames") == HOSTS


def test_read_json_file_errors_name_the_option(tmp_path):
    with pytest.raises(InputError, match=r"^plan: cannot read .*missing\.json: No such file"):
        read_json_file(str(tmp_path / "missing.json"), "plan")
    (tmp_path / "half.json").write_text('{"plan": {"objects": [')  # a file cut short
    with pytest.raises(InputError, match=r"^plan: .*half\.json does not hold JSON"):
        read_json_file(str(tmp_path / "half.json"), "plan")
