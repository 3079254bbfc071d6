"""The integration harness's first scenario: real ansible-playbook runs against the emulator, asserted on the
module result and on the emulator's journal. Zone resolution by name, an auth failure, a 429 that is retried."""

from __future__ import annotations

MOD = "certops.cloudflare.custom_hostname_cert_info"
HOST = "app.customer.com"


def api_calls(emulator):
    """(method, path below /client/v4, query, status, fault) of each journaled request."""
    return [(e["method"], e["path"].split("/client/v4/", 1)[1], e["query"], e["status"], e["fault"]) for e in emulator.journal()]


def test_zone_is_resolved_by_name(ansible, emulator):
    emulator.state.add_custom_hostname(emulator.zone_id, HOST)
    result = ansible.run_module(MOD, {"zone": "example.com", "hostname": HOST})
    assert not result.failed and not result.changed, result.msg
    assert [h["hostname"] for h in result.result["custom_hostnames"]] == [HOST]
    calls = api_calls(emulator)
    assert calls == [
        ("GET", "zones", {"name": "example.com", "page": "1", "per_page": "50"}, 200, None),
        ("GET", "zones/%s/custom_hostnames" % emulator.zone_id, {"hostname": HOST, "page": "1", "per_page": "50"}, 200, None),
    ]
    assert all(e["user_agent"].startswith("certops.cloudflare/") and e["credential"] == "token" for e in emulator.journal())


def test_wrong_token_fails_with_a_clear_message(ansible, emulator):
    token = "not-the-right-token-0123456789"
    result = ansible.run_module(MOD, {"zone": "example.com"}, env={"CLOUDFLARE_API_TOKEN": token})
    assert result.failed
    assert result.msg == "Failed to list the custom hostnames of zone example.com: Authentication error (code 10000) [HTTP 403 on GET zones]"
    assert result.result["cloudflare_errors"] == [{"code": 10000, "message": "Authentication error"}]
    assert "Traceback" not in result.output and result.result.get("exception") in (None, "(traceback unavailable)")
    assert token not in result.output and token not in str(result.result)
    assert [(m, p, s) for m, p, _q, s, _f in api_calls(emulator)] == [("GET", "zones", 403)]


def test_rate_limited_request_is_retried(ansible, emulator):
    emulator.state.add_custom_hostname(emulator.zone_id, HOST)
    emulator.add_fault("429", count=1, retry_after=1)
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname": HOST})
    assert not result.failed, result.msg
    assert [h["hostname"] for h in result.result["custom_hostnames"]] == [HOST]
    path = "zones/%s/custom_hostnames" % emulator.zone_id
    assert [(m, p, s, f) for m, p, _q, s, f in api_calls(emulator)] == [("GET", path, 429, "429"), ("GET", path, 200, None)]
    first, retry = emulator.journal()
    assert first["query"] == retry["query"] == {"hostname": HOST, "page": "1", "per_page": "50"}


def test_credentials_given_as_options_never_reach_the_output(ansible, emulator):
    """At -vvvv Ansible prints module arguments; the token and the Global API key must be masked."""
    emulator.state.add_custom_hostname(emulator.zone_id, HOST)
    token_run = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "api_token": emulator.token}, verbosity=4, env={"CLOUDFLARE_API_TOKEN": None})
    key_args = {"zone_id": emulator.zone_id, "api_email": emulator.api_email, "api_key": emulator.api_key}
    key_run = ansible.run_module(MOD, key_args, verbosity=4, env={"CLOUDFLARE_API_TOKEN": None})
    for run in (token_run, key_run):
        assert not run.failed, run.msg
        assert [h["hostname"] for h in run.result["custom_hostnames"]] == [HOST]
        assert emulator.token not in run.output and emulator.api_key not in run.output
        assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output  # the arguments were printed, masked
    assert [e["auth_scheme"] for e in emulator.journal()] == ["token", "key"]
    journal_text = str(emulator.journal())
    assert emulator.token not in journal_text and emulator.api_key not in journal_text
