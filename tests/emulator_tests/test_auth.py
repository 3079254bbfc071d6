"""Credentials: Bearer tokens, Global API key pairs, read-only credentials and Cloudflare's error answers."""

from __future__ import annotations

import pytest
import requests

from .conftest import Api, codes


def test_bearer_token_and_global_key_are_accepted(emulator):
    Api(emulator).get("zones")
    Api(emulator, {"X-Auth-Email": emulator.api_email, "X-Auth-Key": emulator.api_key}).get("zones")
    entries = emulator.journal()
    assert [(e["credential"], e["auth_scheme"]) for e in entries] == [("token", "token"), ("global-key", "key")]


def test_missing_credentials(emulator):
    assert codes(Api(emulator, {}).get("zones", expect=400)) == [9106, 9107]
    assert codes(Api(emulator, {"X-Auth-Email": emulator.api_email}).get("zones", expect=400)) == [9107]


def test_wrong_credentials(emulator):
    assert codes(Api(emulator, {"Authorization": "Bearer not-a-token"}).get("zones", expect=403)) == [10000]
    assert codes(Api(emulator, {"X-Auth-Email": emulator.api_email, "X-Auth-Key": "nope"}).get("zones", expect=403)) == [9103]


def test_malformed_authorization_header(emulator):
    body = Api(emulator, {"Authorization": "Token " + emulator.token}).get("zones", expect=400)
    assert codes(body) == [6003] and body["errors"][0]["error_chain"][0]["code"] == 6111


def test_read_only_credential_reads_but_cannot_write(emulator):
    readonly = Api(emulator, {"Authorization": "Bearer " + emulator.readonly_token})
    readonly.get(readonly.zone("custom_hostnames"))
    assert codes(readonly.post(readonly.zone("custom_hostnames"), {"hostname": "a.example.com"}, expect=403)) == [10000]
    assert Api(emulator).get(readonly.zone("custom_hostnames"))["result"] == []


def test_configured_credentials(emulator_factory):
    emu = emulator_factory(token="tok-a", readonly_token="tok-b", api_email="me@example.org", api_key="k1", tokens={"tok-c": True, "tok-d": False})
    assert (emu.token, emu.readonly_token, emu.api_email, emu.api_key) == ("tok-a", "tok-b", "me@example.org", "k1")
    Api(emu, {"X-Auth-Email": "me@example.org", "X-Auth-Key": "k1"}).post(Api(emu).zone("custom_hostnames"), {"hostname": "a.example.com"})
    Api(emu, {"Authorization": "Bearer tok-c"}).post(Api(emu).zone("custom_hostnames"), {"hostname": "b.example.com"}, expect=403)
    Api(emu, {"Authorization": "Bearer tok-d"}).post(Api(emu).zone("custom_hostnames"), {"hostname": "b.example.com"})
    Api(emu, {"Authorization": "Bearer certops-emulator-token"}).get("zones", expect=403)
    added = emu.add_token("later", read_only=False, name="ci")
    Api(emu, {"Authorization": "Bearer later"}).get("zones")
    assert added == "ci" and emu.journal()[-1]["credential"] == "ci"


def test_journal_records_the_scheme_a_refused_request_used(emulator):
    Api(emulator, {"Authorization": "Bearer not-a-token"}).get("zones", expect=403)
    Api(emulator, {"X-Auth-Email": "who@example.com", "X-Auth-Key": "nope"}).get("zones", expect=403)
    emulator.add_fault("reset_before")
    with pytest.raises(requests.ConnectionError):
        Api(emulator).get("zones", expect=None)
    assert [(e["auth_scheme"], e["credential"]) for e in emulator.journal()] == [("token", None), ("key", None), ("token", "token")]
