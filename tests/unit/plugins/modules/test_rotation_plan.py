"""rotation_plan's handling of material given as content (write_material)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.certops.cloudflare.plugins.modules import rotation_plan


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
