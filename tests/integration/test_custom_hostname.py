"""custom_hostname against the emulator: create, SSL settings, validation, origin fields, delete, bad input.

Every scenario asserts on the module result and on the emulator: its state read back, and the request
journal (the exact writes sent; check mode and re-runs send none).
"""

from __future__ import annotations

import json
import time
from typing import Any, Dict, List, Optional, Tuple

import pytest

from emulator.testcerts import make_ca, make_leaf

MOD = "certops.cloudflare.custom_hostname"
HOST = "app.customer.com"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# A non-default SSL configuration: every PATCH must send it back whole (a PATCH replaces the stored SSL configuration).
SSL_CONFIG = {
    "method": "http",
    "type": "dv",
    "bundle_method": "force",
    "wildcard": False,
    "certificate_authority": "google",
    "settings": {"min_tls_version": "1.0", "http2": "on", "tls_1_3": "off", "early_hints": "on", "ciphers": ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"]},
}
VIEW_KEYS = {
    "id",
    "hostname",
    "status",
    "verification_errors",
    "ownership_verification",
    "ownership_verification_http",
    "custom_metadata",
    "custom_origin_server",
    "custom_origin_sni",
    "ssl",
}
SSL_VIEW_KEYS = {
    "id",
    "status",
    "method",
    "type",
    "certificate_authority",
    "bundle_method",
    "wildcard",
    "settings",
    "validation_records",
    "validation_errors",
    "dcv_delegation_records",
}


def task(args: Dict[str, Any], **keywords: Any) -> Dict[str, Any]:
    return dict({"name": "%s %s" % (MOD, sorted(args)), MOD: args, "register": "result", "ignore_errors": True}, **keywords)


def run_play(ansible: Any, tasks: List[Dict[str, Any]], **kwargs: Any) -> List[Dict[str, Any]]:
    play = ansible.run_tasks(tasks, **kwargs)
    assert len(play.results) == len(tasks), play.output
    return [r["result"] for r in play.results]


def four_runs(ansible: Any, args: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Check mode, the change, the re-run, the re-run in check mode: all with --diff."""
    return run_play(ansible, [task(args, check_mode=True), task(args), task(args), task(args, check_mode=True)], diff=True)


def writes(emulator: Any) -> List[Tuple[str, str, Any]]:
    """(method, path below the zone, request body) of every write in the journal."""
    prefix = "/client/v4/zones/%s/" % emulator.zone_id
    return [(e["method"], e["path"].replace(prefix, ""), e["request_body"]) for e in emulator.journal() if e["method"] in WRITE_METHODS]


def stored(emulator: Any, hostname: str = HOST) -> Optional[Dict[str, Any]]:
    found = [h for h in emulator.dump_state()["zones"][0].get("custom_hostnames", []) if h["hostname"] == hostname]
    return found[0] if found else None


def seed(emulator: Any, ssl: Optional[Dict[str, Any]] = None, **spec: Any) -> Any:
    created = emulator.state.add_custom_hostname(emulator.zone_id, HOST, ssl=dict(ssl or SSL_CONFIG), **spec)
    emulator.reset_journal()
    return created


def assert_unchanged_reruns(again: Dict[str, Any], again_check: Dict[str, Any]) -> None:
    for result in (again, again_check):
        assert not result["changed"] and not result.get("failed"), result
        assert result["diff"]["before"] == result["diff"]["after"]


def test_create_check_mode_rerun_and_wait_until_live(ansible, emulator):
    args = {
        "zone_id": emulator.zone_id,
        "hostname": "App.Customer.com.",
        "ssl": {"method": "txt", "settings": {"min_tls_version": "1.2"}},
        "custom_metadata": {"customer": "acme"},
    }
    check, real, again, again_check = four_runs(ansible, args)

    assert check["changed"] and not check.get("failed"), check
    predicted = check["custom_hostname"]
    assert predicted["id"] is None and predicted["hostname"] == HOST and predicted["status"] == "pending"
    assert predicted["ssl"]["method"] == "txt" and predicted["ssl"]["settings"] == {"min_tls_version": "1.2"}
    assert check["diff"]["before"] == {} and check["diff"]["after"] == predicted

    assert real["changed"] and not real.get("failed"), real
    view = real["custom_hostname"]
    assert set(view) == VIEW_KEYS and set(view["ssl"]) == SSL_VIEW_KEYS
    assert view["hostname"] == HOST and view["status"] == "pending" and view["verification_errors"]
    assert view["custom_metadata"] == {"customer": "acme"} and view["ssl"]["type"] == "dv"
    # What the customer publishes is in the result: the ownership TXT record and the DCV delegation CNAME.
    assert view["ownership_verification"]["name"] == "_cf-custom-hostname." + HOST and view["ownership_verification"]["value"]
    assert view["ssl"]["dcv_delegation_records"][0]["cname"] == "_acme-challenge." + HOST
    assert_unchanged_reruns(again, again_check)

    # One POST with what was given, and nothing else: check mode and the re-runs wrote nothing.
    assert writes(emulator) == [
        (
            "POST",
            "custom_hostnames",
            {"hostname": HOST, "ssl": {"method": "txt", "settings": {"min_tls_version": "1.2"}}, "custom_metadata": {"customer": "acme"}},
        )
    ]
    state = stored(emulator)
    assert state["id"] == view["id"] and state["ssl"]["method"] == "txt" and state["custom_metadata"] == {"customer": "acme"}

    # wait returns once both the hostname and its SSL are active; an unchanged run writes nothing.
    emulator.reset_journal()
    (live,) = run_play(ansible, [task({"zone_id": emulator.zone_id, "hostname": HOST, "wait": True, "wait_timeout": 60})])
    assert not live["changed"] and not live.get("failed"), live
    assert live["custom_hostname"]["status"] == "active" and live["custom_hostname"]["ssl"]["status"] == "active"
    assert writes(emulator) == []


def test_pending_validation_records_are_returned_for_publishing(ansible, emulator):
    emulator.delay = 3600  # statuses stand still: the hostname stays pending_validation
    emulator.state.add_custom_hostname(emulator.zone_id, HOST, status="pending", ssl={"method": "txt", "type": "dv", "status": "pending_validation"})
    result = ansible.run_module(MOD, {"zone": "example.com", "hostname": HOST}).result
    assert not result["changed"] and not result.get("failed"), result
    (record,) = result["custom_hostname"]["ssl"]["validation_records"]
    assert record["txt_name"] == "_acme-challenge." + HOST and record["txt_value"]


def test_min_tls_version_only_sends_the_rest_back_unchanged(ansible, emulator):
    created = seed(emulator)
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"settings": {"min_tls_version": 1.2}}}  # YAML would read 1.2 as a number
    check, real, again, again_check = four_runs(ansible, args)

    assert check["changed"] and real["changed"] and not real.get("failed"), (check, real)
    assert check["custom_hostname"]["ssl"]["settings"]["min_tls_version"] == "1.2"
    assert real["custom_hostname"]["ssl"]["settings"] == dict(SSL_CONFIG["settings"], min_tls_version="1.2")
    assert real["diff"]["before"]["ssl"]["settings"]["min_tls_version"] == "1.0" and real["diff"]["after"]["ssl"]["settings"]["min_tls_version"] == "1.2"
    # The result and a warning say that the PATCH restarted validation of the managed certificate.
    assert real["custom_hostname"]["ssl"]["status"] == "pending_validation"
    assert any("restarts the validation" in w for w in real.get("warnings", [])), real
    assert_unchanged_reruns(again, again_check)

    want = json.loads(json.dumps(SSL_CONFIG))
    want["settings"]["min_tls_version"] = "1.2"
    assert writes(emulator) == [("PATCH", "custom_hostnames/" + created.id, {"ssl": want})]
    state = stored(emulator)
    assert {k: state["ssl"][k] for k in want} == want


def test_method_http_to_txt(ansible, emulator):
    created = seed(emulator, ssl={"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}})  # no certificate_authority reported
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"method": "txt"}}
    check, real, again, again_check = four_runs(ansible, args)
    assert check["changed"] and real["changed"], (check, real)
    assert check["custom_hostname"]["ssl"]["method"] == real["custom_hostname"]["ssl"]["method"] == "txt"
    assert real["custom_hostname"]["ssl"]["validation_records"][0]["txt_name"] == "_acme-challenge." + HOST
    assert_unchanged_reruns(again, again_check)
    # certificate_authority is not added when Cloudflare reports none.
    body = {"ssl": {"method": "txt", "type": "dv", "settings": {"min_tls_version": "1.2"}, "bundle_method": "ubiquitous", "wildcard": False}}
    assert writes(emulator) == [("PATCH", "custom_hostnames/" + created.id, body)]
    assert stored(emulator)["ssl"]["method"] == "txt"


def test_timed_out_validation_is_retriggered_waited_for_and_left_alone_after(ansible, emulator):
    created = seed(emulator, ssl=dict(SSL_CONFIG, status="validation_timed_out"))
    base = {"zone_id": emulator.zone_id, "hostname": HOST, "wait": True, "wait_timeout": 60}

    # Waiting alone fails at once: the status will not change by waiting. Nothing is written.
    (stuck,) = run_play(ansible, [task(base)])
    assert stuck["failed"] and not stuck["changed"] and "validation_timed_out" in stuck["msg"], stuck
    assert "validation record was not found" in stuck["msg"]  # the validation errors are named

    args = dict(base, refresh_validation=True)
    check, real, again, again_check = four_runs(ansible, args)
    assert check["changed"] and check["custom_hostname"]["ssl"]["status"] == "pending_validation", check
    assert real["changed"] and not real.get("failed"), real
    assert real["custom_hostname"]["status"] == "active" and real["custom_hostname"]["ssl"]["status"] == "active"
    assert real["custom_hostname"]["ssl"]["validation_errors"] == []
    assert_unchanged_reruns(again, again_check)
    # One PATCH with the SSL configuration exactly as stored: that is the re-trigger.
    assert writes(emulator) == [("PATCH", "custom_hostnames/" + created.id, {"ssl": SSL_CONFIG})]
    assert stored(emulator)["ssl"]["status"] == "active"


def test_custom_metadata_and_origin_fields(ansible, emulator):
    created = seed(emulator, custom_metadata={"customer": "acme"})
    args = {
        "zone_id": emulator.zone_id,
        "hostname": HOST,
        "custom_metadata": {"customer": "acme", "tier": "gold"},
        "custom_origin_server": "Origin-Acme.example.com",
        "custom_origin_sni": ":request_host_header:",
    }
    check, real, again, again_check = four_runs(ansible, args)
    assert check["changed"] and real["changed"] and not real.get("failed"), (check, real)
    view = real["custom_hostname"]
    assert view["custom_metadata"] == {"customer": "acme", "tier": "gold"} and check["custom_hostname"]["custom_metadata"] == view["custom_metadata"]
    assert view["custom_origin_server"] == "origin-acme.example.com" and view["custom_origin_sni"] == ":request_host_header:"
    assert real["diff"]["before"]["custom_origin_server"] is None and real["diff"]["after"]["custom_origin_server"] == "origin-acme.example.com"
    assert not real.get("warnings")  # no SSL change, so validation was not restarted
    assert_unchanged_reruns(again, again_check)

    # Then only the SNI changes: only it is sent.
    (sni,) = run_play(ansible, [task(dict(args, custom_origin_sni="sni.example.com"))])
    assert sni["changed"] and sni["custom_hostname"]["custom_origin_sni"] == "sni.example.com", sni
    path = "custom_hostnames/" + created.id
    assert writes(emulator) == [
        (
            "PATCH",
            path,
            {
                "custom_metadata": {"customer": "acme", "tier": "gold"},
                "custom_origin_server": "origin-acme.example.com",
                "custom_origin_sni": ":request_host_header:",
            },
        ),
        ("PATCH", path, {"custom_origin_sni": "sni.example.com"}),
    ]
    state = stored(emulator)
    assert state["custom_metadata"] == {"customer": "acme", "tier": "gold"} and state["custom_origin_sni"] == "sni.example.com"


def test_custom_certificate_is_kept_through_a_settings_change(ansible, emulator):
    leaf = make_leaf(make_ca("Custom Hostname CA"), [HOST])
    created = seed(emulator, ssl={"method": "http", "type": "dv"}, certificates=[{"certificate": leaf.chain_pem}])
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"bundle_method": "optimal", "settings": {"http2": True, "tls_1_3": False}}}
    check, real, again, again_check = four_runs(ansible, args)
    assert check["changed"] and real["changed"] and not real.get("failed"), (check, real)
    assert real["custom_hostname"]["ssl"]["settings"] == {"http2": "on", "tls_1_3": "off"}  # YAML booleans mapped back to on/off
    assert real["custom_hostname"]["ssl"]["status"] == "active" and check["custom_hostname"]["ssl"]["status"] == "active"
    assert not real.get("warnings")  # a custom certificate is not revalidated
    assert_unchanged_reruns(again, again_check)
    ((method, path, body),) = writes(emulator)
    assert method == "PATCH" and path == "custom_hostnames/" + created.id
    assert body == {"ssl": {"method": "http", "type": "dv", "settings": {"http2": "on", "tls_1_3": "off"}, "bundle_method": "optimal", "wildcard": False}}
    state = stored(emulator)
    assert [c["id"] for c in state["certificates"]] == [c.id for c in created.certs] and leaf.cert_pem.strip() in state["certificates"][0]["certificate"]
    assert state["ssl"]["bundle_method"] == "optimal"


def test_delete(ansible, emulator):
    created = seed(emulator)
    args = {"zone": "example.com", "hostname": HOST, "state": "absent"}
    check, real, again, again_check = four_runs(ansible, args)
    assert check["changed"] and check["custom_hostname"] is None and check["diff"]["before"]["id"] == created.id, check
    assert real["changed"] and real["custom_hostname"] is None and not real.get("failed"), real
    assert real["diff"] == {"before": check["diff"]["before"], "after": {}}
    assert not again["changed"] and not again_check["changed"], (again, again_check)
    assert writes(emulator) == [("DELETE", "custom_hostnames/" + created.id, None)]
    assert stored(emulator) is None


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"ssl": {"settings": {"min_tls_version": "1.5"}}}, ["min_tls_version", "1.5"]),
        ({"ssl": {"settings": {"ciphers": ["AES128-SHA", ""]}}}, ["ciphers", "empty"]),
        ({"ssl": {"settings": {"ciphers": ["AES128-SHA", "AES128-SHA"]}}}, ["ciphers", "AES128-SHA", "once"]),
        ({"hostname": "bad_host!.customer.com"}, ["hostname", "not a valid hostname"]),
        ({"hostname": "*.customer.com"}, ["hostname", "wildcard"]),
        ({"custom_origin_server": "not a hostname"}, ["custom_origin_server", "not a valid hostname"]),
        ({"custom_origin_sni": "bad_sni!"}, ["custom_origin_sni", "request_host_header"]),
        ({"ssl": {"method": "dns"}}, ["method", "dns"]),
        ({"ssl": {"settings": {"http2": "maybe"}}}, ["http2", "maybe"]),
    ],
)
def test_bad_inputs_fail_before_any_write(ansible, emulator, bad, words):
    seed(emulator)
    run = ansible.run_module(MOD, dict({"zone_id": emulator.zone_id, "hostname": HOST}, **bad))
    assert run.failed and not run.changed, run.result
    assert all(word in run.msg for word in words), run.msg
    assert not run.msg.startswith("Unexpected error"), run.msg
    assert writes(emulator) == []


def test_internationalized_hostname_is_created_as_a_labels_and_found_again(ansible, emulator):
    args = {"zone_id": emulator.zone_id, "hostname": "Bücher.customer.com"}
    created, again = run_play(ansible, [task(args), task(args)])
    assert created["changed"] and created["custom_hostname"]["hostname"] == "xn--bcher-kva.customer.com", created
    assert not again["changed"], again
    assert writes(emulator) == [("POST", "custom_hostnames", {"hostname": "xn--bcher-kva.customer.com"})]


def test_create_whose_answer_is_lost_is_not_sent_again(ansible, emulator):
    # The POST is processed but the connection drops: the module reads again, finds the hostname and carries on.
    emulator.add_fault("reset_after", method="POST", path="custom_hostnames$")
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname": HOST, "custom_metadata": {"customer": "acme"}}).result
    assert result["changed"] and not result.get("failed"), result
    assert result["custom_hostname"]["id"] == stored(emulator)["id"] and result["custom_hostname"]["custom_metadata"] == {"customer": "acme"}
    assert [w[0] for w in writes(emulator)] == ["POST"]


def hold_status(emulator, hostname: str, status: Any) -> None:
    """Keep a custom hostname's SSL status at `status` (None: let it go on from pending_validation), so no step depends on timing."""
    with emulator.state.lock:
        host = next(h for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values() if h.hostname == hostname)
        host.frozen_status = status
        if status is None:
            host.restart_validation(time.time())


def test_onboarding_as_in_the_examples(ansible, emulator):
    """The EXAMPLES' onboarding play, with debug standing in for the DNS module: create, read until the
    records are listed, publish them with a loop; then, once validation goes on, wait until live."""
    defaults = {"module_defaults": {"group/certops.cloudflare.all": {"zone_id": emulator.zone_id}}}
    create = {"name": "create", MOD: {"hostname": HOST, "ssl": {"method": "txt"}, "custom_metadata": {"customer": "acme"}}}
    created = ansible.run_tasks([create], play_extra=defaults)
    assert created.rc == 0 and created.result()["changed"], created.output
    hold_status(emulator, HOST, "pending_validation")  # as long as the records are not published
    tasks = [
        {
            "name": "read until the validation records are listed",
            MOD: {"hostname": HOST},
            "register": "onboarding",
            "until": "onboarding.custom_hostname.ssl.validation_records | length > 0 or onboarding.custom_hostname.ssl.status == 'active'",
            "retries": 20,
            "delay": 1,
        },
        {
            "name": "publish the ownership record",
            "ansible.builtin.debug": {
                "msg": "TXT {{ onboarding.custom_hostname.ownership_verification.name }} {{ onboarding.custom_hostname.ownership_verification.value }}"
            },
        },
        {
            "name": "publish the validation records",
            "ansible.builtin.debug": {"msg": "TXT {{ item.txt_name }} {{ item.txt_value }}"},
            "loop": "{{ onboarding.custom_hostname.ssl.validation_records | selectattr('txt_name', 'defined') }}",
        },
    ]
    play = ansible.run_tasks(tasks, play_extra=defaults)
    assert play.rc == 0, play.output
    results = [r["result"] for r in play.results]
    assert not results[0]["changed"]
    assert results[1]["msg"].startswith("TXT _cf-custom-hostname." + HOST)
    assert [m["msg"].split()[1] for m in results[2]["results"]] == ["_acme-challenge." + HOST]

    hold_status(emulator, HOST, None)  # the records are published: validation goes on
    live = ansible.run_tasks([{"name": "wait until live", MOD: {"hostname": HOST, "wait": True, "wait_timeout": 60}}], play_extra=defaults)
    assert live.rc == 0, live.output
    assert not live.result()["changed"]
    assert live.result()["custom_hostname"]["status"] == live.result()["custom_hostname"]["ssl"]["status"] == "active"
    assert [w[0] for w in writes(emulator)] == ["POST"]
