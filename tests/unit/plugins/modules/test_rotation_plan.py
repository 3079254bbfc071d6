"""rotation_plan's handling of material given as content (write_material)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import Planner
from ansible_collections.certops.cloudflare.plugins.modules import rotation_plan
from emulator.testcerts import make_ca, make_leaf


def params(directory=None):
    return {
        "material_dir": directory,
        "client_certs": [{"certificate_path": "/c.pem", "private_key_path": "/c.key", "hostnames": ["a.example.com"]}],
        "zone_certs": [],
        "custom_hostnames": [
            {"hostname": "a.example.com", "certificates": [{"certificate_path": "/a.pem", "private_key_path": "/a.key"}]},
            {
                "hostname": "b.example.com",
                "certificates": [{"certificate_path": "/b.pem", "private_key_path": "/b.key"}, {"certificate": "PEM", "private_key": "KEY"}],
            },
        ],
    }


def test_content_without_material_dir_names_the_option_as_the_user_wrote_it():
    with pytest.raises(rotation_plan.InputError) as caught:
        rotation_plan.write_material(params())
    assert str(caught.value) == "custom_hostnames[1].certificates[1].certificate is given as content: set material_dir to a private directory to write it to"


def test_content_is_written_to_private_files_named_after_the_entry(tmp_path):
    given = params(str(tmp_path))
    rotation_plan.write_material(given)
    item = given["custom_hostnames"][1]["certificates"][1]
    assert item == {
        "certificate_path": str(tmp_path / "custom_hostnames-1-certificates-1.pem"),
        "private_key_path": str(tmp_path / "custom_hostnames-1-certificates-1.key"),
    }
    assert (tmp_path / "custom_hostnames-1-certificates-1.key").read_text() == "KEY"
    assert os.stat(tmp_path / "custom_hostnames-1-certificates-1.key").st_mode & 0o777 == 0o600


SEAL_CA = make_ca("Certops Seal CA")  # made before the test starts, so its root is in the trusted bundle


def test_with_a_passphrase_keys_are_written_sealed_and_the_plan_opens_them(tmp_path):
    leaf = make_leaf(SEAL_CA, ["b.example.com"])
    given = params(str(tmp_path))
    given["custom_hostnames"][1]["certificates"][1] = {"certificate": leaf.chain_pem, "private_key": leaf.key_pem}
    given["material_passphrase"] = "run passphrase"
    rotation_plan.write_material(given)
    item = given["custom_hostnames"][1]["certificates"][1]
    written = Path(item["private_key_path"]).read_text()
    assert written.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----") and item["material_sealed"] is True
    body = "".join(leaf.key_pem.strip().splitlines()[1:-1])
    assert body[40:80] not in written.replace("\n", "")
    planner = Planner(None, None, False, True, passphrase="run passphrase")
    assert planner.material(item, "custom hostname b.example.com", ["b.example.com"])["fingerprint_sha256"] == leaf.fingerprint_sha256
    assert planner.problems == []


def test_a_key_that_does_not_load_is_written_as_given_for_the_plan_to_refuse(tmp_path):
    given = params(str(tmp_path))
    given["material_passphrase"] = "run passphrase"
    rotation_plan.write_material(given)
    item = given["custom_hostnames"][1]["certificates"][1]
    assert Path(item["private_key_path"]).read_text() == "KEY" and item["material_sealed"] is False


def test_the_same_content_given_to_many_hostnames_is_one_file_sealed_once(tmp_path):
    leaf = make_leaf(SEAL_CA, ["*.example.com"])
    given = params(str(tmp_path))
    given["custom_hostnames"] = [
        {"hostname": "h%d.example.com" % i, "certificates": [{"certificate": leaf.chain_pem, "private_key": leaf.key_pem}]} for i in range(3)
    ]
    given["material_passphrase"] = "run passphrase"
    rotation_plan.write_material(given)
    items = [host["certificates"][0] for host in given["custom_hostnames"]]
    assert {item["certificate_path"] for item in items} == {str(tmp_path / "custom_hostnames-0-certificates-0.pem")}
    assert {item["private_key_path"] for item in items} == {str(tmp_path / "custom_hostnames-0-certificates-0.key")}
    assert all(item["material_sealed"] is True for item in items)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["custom_hostnames-0-certificates-0.key", "custom_hostnames-0-certificates-0.pem"]
