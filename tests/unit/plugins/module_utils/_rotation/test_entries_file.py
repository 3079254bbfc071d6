"""A file of {hostname, certificates} entries (files.read_entries_file): the quick path for entries that need no
conversion must give what Ansible's ArgumentSpecValidator gives, and leave everything else to it."""

from __future__ import annotations

import json
import os

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.certops.cloudflare.plugins.module_utils._base import MATERIAL_RULES, InputError, material_argument_spec
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import KEY_TYPES
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.files import path_entry_spec, plain_entries, read_entries_file

DROP = dict(drop_key_types=dict(type="list", elements="str", choices=list(KEY_TYPES), default=[]))
DEFAULT_SPEC = dict(path_entry_spec(), **DROP)
# rotation_plan's custom_hostnames: paths or content.
PLAN_SPEC = dict(
    hostname=dict(type="str", required=True),
    certificates=dict(type="list", elements="dict", required=True, options=material_argument_spec(), **MATERIAL_RULES),
    **DROP,
)
PATHS = {"certificate_path": "/etc/ssl/a.pem", "private_key_path": "/etc/ssl/a.key"}
KEY = "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n"


def validator(entries, spec):
    entries = json.loads(json.dumps(entries))  # as read from a file: it fills the dicts it is given in place
    checked = ArgumentSpecValidator({"e": dict(type="list", elements="dict", options=spec)}).validate({"e": entries})
    return checked.validated_parameters["e"], checked.error_messages


def written(tmp_path, entries):
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(entries))
    return str(path)


PLAIN = [
    [{"hostname": "a.customer.example", "certificates": [PATHS]}],
    [{"hostname": "a.customer.example", "certificates": [PATHS, PATHS], "drop_key_types": ["rsa"]}],
    [{"hostname": "a.customer.example", "certificates": []}],
    [],
]


@pytest.mark.parametrize("spec", [DEFAULT_SPEC, PLAN_SPEC], ids=["paths", "plan"])
@pytest.mark.parametrize("entries", PLAIN)
def test_plain_entries_are_what_the_validator_returns(tmp_path, entries, spec):
    expected, errors = validator(entries, spec)
    assert not errors
    assert plain_entries(entries, spec) == expected  # the quick path taken
    assert read_entries_file(written(tmp_path, entries), spec) == expected


NOT_PLAIN = [
    [{"hostname": "a.customer.example", "certificates": [{"certificate_path": "~/a.pem", "private_key_path": "$HOME/a.key"}]}],  # expanded
    [{"hostname": 12, "certificates": [PATHS]}],  # converted to text
    [{"hostname": "a.customer.example", "certificates": [PATHS], "drop_key_types": "rsa"}],  # a string made a list
    [PLAIN[0][0], {"hostname": "b.customer.example", "certificates": [dict(PATHS, extra=1)]}],  # unknown key: an error
    [{"hostname": "a.customer.example", "certificates": [PATHS], "drop_key_types": ["dsa"]}],  # not a choice
    [{"certificates": [PATHS]}],  # required
    [{"hostname": "a.customer.example", "certificates": [dict(PATHS, certificate="PEM")]}],  # mutually exclusive (plan)
    [{"hostname": "a.customer.example", "certificates": [{"certificate_path": "/a.pem"}]}],  # no key (plan)
    [{"hostname": "a.customer.example", "certificates": [{"certificate": "PEM", "private_key": KEY}]}],  # a key: masked
]


@pytest.mark.parametrize("entries", NOT_PLAIN)
def test_entries_needing_the_validator_go_to_it(tmp_path, entries, monkeypatch):
    monkeypatch.setenv("HOME", "/home/ops")
    assert plain_entries(entries, PLAN_SPEC) is None
    expected, errors = validator(entries, PLAN_SPEC)
    path = written(tmp_path, entries)
    no_log = set()
    if errors:
        with pytest.raises(InputError, match="custom_hostnames_file %s: " % path):
            read_entries_file(path, PLAN_SPEC, no_log)
    else:
        assert read_entries_file(path, PLAN_SPEC, no_log) == expected


def test_paths_are_expanded_and_keys_masked_as_the_validator_does(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/ops")
    got = read_entries_file(written(tmp_path, NOT_PLAIN[0]), PLAN_SPEC)
    assert got[0]["certificates"][0]["certificate_path"] == os.path.expanduser("~/a.pem") == "/home/ops/a.pem"
    assert got[0]["certificates"][0]["private_key_path"] == "/home/ops/a.key"
    no_log = set()
    read_entries_file(written(tmp_path, NOT_PLAIN[-1]), PLAN_SPEC, no_log)
    assert KEY in no_log
