"""custom_hostname against the emulator: create, SSL settings, validation, origin fields, delete, bad input.

Every scenario asserts on the module result and on the emulator: its state read back, and the request
journal (the exact writes sent; check mode and re-runs send none).
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
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


def parts(result: Dict[str, Any], *keys: str) -> Dict[str, Any]:
    """Some fields of a result or view, to compare with the expected ones in one assert."""
    return {k: result.get(k) for k in keys}


def four_runs_of(scenario_emulator: Any, args: Any, **seed_spec: Any) -> SimpleNamespace:
    """A scenario on a fresh emulator: a hostname seeded (seed(**seed_spec)), then four_runs of args(emulator)."""
    emulator, ansible = scenario_emulator()
    created = seed(emulator, **seed_spec)
    check, real, again, again_check = four_runs(ansible, args(emulator))
    return SimpleNamespace(emulator=emulator, ansible=ansible, created=created, check=check, real=real, again=again, again_check=again_check)


class UnchangedReRuns:
    """The re-run and the re-run in check mode of a four_runs scenario change nothing; a class's `runs` fixture gives the scenario."""

    @pytest.mark.parametrize("phase", ["again", "again_check"], ids=["re_run", "re_run_in_check_mode"])
    def test_a_re_run_changes_nothing(self, runs, phase):
        result = getattr(runs, phase)
        assert not result["changed"], result
        assert not result.get("failed"), result

    @pytest.mark.parametrize("phase", ["again", "again_check"], ids=["re_run", "re_run_in_check_mode"])
    def test_a_re_run_diff_shows_no_difference(self, runs, phase):
        result = getattr(runs, phase)
        assert result["diff"]["before"] == result["diff"]["after"]


@pytest.fixture(scope="module")
def creation(scenario_emulator):
    emulator, ansible = scenario_emulator()
    args = {
        "zone_id": emulator.zone_id,
        "hostname": "App.Customer.com.",
        "ssl": {"method": "txt", "settings": {"min_tls_version": "1.2"}},
        "custom_metadata": {"customer": "acme"},
    }
    check, real, again, again_check = four_runs(ansible, args)
    created_writes, state = writes(emulator), stored(emulator)
    emulator.reset_journal()
    (live,) = run_play(ansible, [task({"zone_id": emulator.zone_id, "hostname": HOST, "wait": True, "wait_timeout": 60})])
    return SimpleNamespace(
        check=check, real=real, again=again, again_check=again_check, writes=created_writes, state=state, live=live, live_writes=writes(emulator)
    )


class TestCreateWithCheckModeReRunsAndAWaitUntilLive(UnchangedReRuns):
    """A hostname given in another case with a trailing dot: four_runs; then a run that waits until it is live."""

    @pytest.fixture
    def runs(self, creation):
        return creation

    def test_check_mode_reports_a_change(self, creation):
        assert creation.check["changed"], creation.check
        assert not creation.check.get("failed"), creation.check

    def test_check_mode_predicts_the_hostname_without_an_id_pending(self, creation):
        assert parts(creation.check["custom_hostname"], "id", "hostname", "status") == {"id": None, "hostname": HOST, "status": "pending"}

    def test_check_mode_predicts_the_ssl_given(self, creation):
        ssl = creation.check["custom_hostname"]["ssl"]
        assert parts(ssl, "method", "settings") == {"method": "txt", "settings": {"min_tls_version": "1.2"}}

    def test_the_check_mode_diff_goes_from_nothing_to_the_prediction(self, creation):
        assert (creation.check["diff"]["before"], creation.check["diff"]["after"]) == ({}, creation.check["custom_hostname"])

    def test_the_create_reports_a_change(self, creation):
        assert creation.real["changed"], creation.real
        assert not creation.real.get("failed"), creation.real

    def test_the_create_reports_the_documented_fields(self, creation):
        view = creation.real["custom_hostname"]
        assert set(view) == VIEW_KEYS
        assert set(view["ssl"]) == SSL_VIEW_KEYS

    def test_the_create_reports_the_new_hostname_pending_with_its_verification_errors(self, creation):
        view = creation.real["custom_hostname"]
        assert parts(view, "hostname", "status", "custom_metadata") == {"hostname": HOST, "status": "pending", "custom_metadata": {"customer": "acme"}}
        assert view["verification_errors"]
        assert view["ssl"]["type"] == "dv"

    def test_the_create_reports_the_ownership_txt_record_to_publish(self, creation):
        ownership = creation.real["custom_hostname"]["ownership_verification"]
        assert ownership["name"] == "_cf-custom-hostname." + HOST
        assert ownership["value"]

    def test_the_create_reports_the_dcv_delegation_cname_to_publish(self, creation):
        assert creation.real["custom_hostname"]["ssl"]["dcv_delegation_records"][0]["cname"] == "_acme-challenge." + HOST

    def test_one_post_sends_what_was_given_and_check_mode_and_re_runs_send_nothing(self, creation):
        assert creation.writes == [
            (
                "POST",
                "custom_hostnames",
                {"hostname": HOST, "ssl": {"method": "txt", "settings": {"min_tls_version": "1.2"}}, "custom_metadata": {"customer": "acme"}},
            )
        ]

    def test_the_emulator_holds_the_hostname_created(self, creation):
        state = creation.state
        assert (state["id"], state["ssl"]["method"], state["custom_metadata"]) == (creation.real["custom_hostname"]["id"], "txt", {"customer": "acme"})

    def test_a_wait_changes_nothing(self, creation):
        assert not creation.live["changed"], creation.live
        assert not creation.live.get("failed"), creation.live

    def test_a_wait_returns_once_the_hostname_and_its_ssl_are_active(self, creation):
        view = creation.live["custom_hostname"]
        assert (view["status"], view["ssl"]["status"]) == ("active", "active")

    def test_a_wait_sends_no_write(self, creation):
        assert creation.live_writes == []


def test_pending_validation_records_are_returned_for_publishing(ansible, emulator):
    emulator.delay = 3600  # statuses stand still: the hostname stays pending_validation
    emulator.state.add_custom_hostname(emulator.zone_id, HOST, status="pending", ssl={"method": "txt", "type": "dv", "status": "pending_validation"})
    result = ansible.run_module(MOD, {"zone": "example.com", "hostname": HOST}).result
    assert not result["changed"], result
    assert not result.get("failed"), result
    (record,) = result["custom_hostname"]["ssl"]["validation_records"]
    assert record["txt_name"] == "_acme-challenge." + HOST
    assert record["txt_value"]


@pytest.fixture(scope="module")
def min_tls(scenario_emulator):
    # YAML would read 1.2 as a number
    runs = four_runs_of(scenario_emulator, lambda emulator: {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"settings": {"min_tls_version": 1.2}}})
    runs.writes, runs.state = writes(runs.emulator), stored(runs.emulator)
    return runs


class TestMinTlsVersionOnlySendsTheRestBackUnchanged(UnchangedReRuns):
    """A hostname with a non-default SSL configuration; four_runs with only ssl.settings.min_tls_version, given as a number."""

    @pytest.fixture
    def runs(self, min_tls):
        return min_tls

    def test_check_mode_predicts_the_change_with_the_version_as_a_string(self, min_tls):
        assert min_tls.check["changed"], min_tls.check
        assert min_tls.check["custom_hostname"]["ssl"]["settings"]["min_tls_version"] == "1.2"

    def test_the_change_is_made(self, min_tls):
        assert min_tls.real["changed"], min_tls.real
        assert not min_tls.real.get("failed"), min_tls.real

    def test_the_other_settings_are_kept(self, min_tls):
        assert min_tls.real["custom_hostname"]["ssl"]["settings"] == dict(SSL_CONFIG["settings"], min_tls_version="1.2")

    def test_the_diff_shows_the_version_changed(self, min_tls):
        diff = min_tls.real["diff"]
        assert (diff["before"]["ssl"]["settings"]["min_tls_version"], diff["after"]["ssl"]["settings"]["min_tls_version"]) == ("1.0", "1.2")

    def test_the_result_says_the_patch_restarted_validation(self, min_tls):
        assert min_tls.real["custom_hostname"]["ssl"]["status"] == "pending_validation"

    def test_a_warning_says_the_patch_restarted_validation(self, min_tls):
        assert any("restarts the validation" in w for w in min_tls.real.get("warnings", [])), min_tls.real

    def test_one_patch_sends_the_whole_ssl_configuration_back(self, min_tls):
        want = json.loads(json.dumps(SSL_CONFIG))
        want["settings"]["min_tls_version"] = "1.2"
        assert min_tls.writes == [("PATCH", "custom_hostnames/" + min_tls.created.id, {"ssl": want})]

    def test_the_emulator_holds_the_ssl_configuration_sent(self, min_tls):
        want = json.loads(json.dumps(SSL_CONFIG))
        want["settings"]["min_tls_version"] = "1.2"
        assert {k: min_tls.state["ssl"][k] for k in want} == want


@pytest.fixture(scope="module")
def method_change(scenario_emulator):
    runs = four_runs_of(
        scenario_emulator,
        lambda emulator: {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"method": "txt"}},
        ssl={"method": "http", "type": "dv", "settings": {"min_tls_version": "1.2"}},  # no certificate_authority reported
    )
    runs.writes, runs.state = writes(runs.emulator), stored(runs.emulator)
    return runs


class TestMethodHttpToTxt(UnchangedReRuns):
    """A hostname validated over http, with no certificate authority reported; four_runs with ssl.method txt."""

    @pytest.fixture
    def runs(self, method_change):
        return method_change

    def test_check_mode_and_the_change_both_report_txt(self, method_change):
        assert method_change.check["changed"], method_change.check
        assert method_change.real["changed"], method_change.real
        assert (method_change.check["custom_hostname"]["ssl"]["method"], method_change.real["custom_hostname"]["ssl"]["method"]) == ("txt", "txt")

    def test_the_change_reports_the_txt_validation_record(self, method_change):
        assert method_change.real["custom_hostname"]["ssl"]["validation_records"][0]["txt_name"] == "_acme-challenge." + HOST

    def test_one_patch_sends_the_ssl_configuration_without_adding_a_certificate_authority(self, method_change):
        # certificate_authority is not added when Cloudflare reports none.
        body = {"ssl": {"method": "txt", "type": "dv", "settings": {"min_tls_version": "1.2"}, "bundle_method": "ubiquitous", "wildcard": False}}
        assert method_change.writes == [("PATCH", "custom_hostnames/" + method_change.created.id, body)]

    def test_the_emulator_holds_the_new_method(self, method_change):
        assert method_change.state["ssl"]["method"] == "txt"


@pytest.fixture(scope="module")
def timed_out(scenario_emulator):
    emulator, ansible = scenario_emulator()
    created = seed(emulator, ssl=dict(SSL_CONFIG, status="validation_timed_out"))
    base = {"zone_id": emulator.zone_id, "hostname": HOST, "wait": True, "wait_timeout": 60}
    (stuck,) = run_play(ansible, [task(base)])
    stuck_writes = writes(emulator)
    check, real, again, again_check = four_runs(ansible, dict(base, refresh_validation=True))
    return SimpleNamespace(
        created=created,
        stuck=stuck,
        stuck_writes=stuck_writes,
        check=check,
        real=real,
        again=again,
        again_check=again_check,
        writes=writes(emulator),
        state=stored(emulator),
    )


class TestTimedOutValidationIsRetriggeredWaitedForAndLeftAloneAfter(UnchangedReRuns):
    """A hostname whose validation timed out: a wait alone; then four_runs with refresh_validation and a wait."""

    @pytest.fixture
    def runs(self, timed_out):
        return timed_out

    def test_waiting_alone_fails_at_once_naming_the_status(self, timed_out):
        # the status will not change by waiting
        assert timed_out.stuck["failed"], timed_out.stuck
        assert not timed_out.stuck["changed"], timed_out.stuck
        assert "validation_timed_out" in timed_out.stuck["msg"]

    def test_waiting_alone_names_the_validation_errors(self, timed_out):
        assert "validation record was not found" in timed_out.stuck["msg"]

    def test_waiting_alone_sends_no_write(self, timed_out):
        assert timed_out.stuck_writes == []

    def test_check_mode_predicts_validation_restarted(self, timed_out):
        assert timed_out.check["changed"], timed_out.check
        assert timed_out.check["custom_hostname"]["ssl"]["status"] == "pending_validation"

    def test_the_refresh_reports_a_change(self, timed_out):
        assert timed_out.real["changed"], timed_out.real
        assert not timed_out.real.get("failed"), timed_out.real

    def test_the_refresh_waits_until_the_hostname_and_its_ssl_are_active(self, timed_out):
        view = timed_out.real["custom_hostname"]
        assert (view["status"], view["ssl"]["status"]) == ("active", "active")

    def test_the_refresh_reports_no_validation_error_left(self, timed_out):
        assert timed_out.real["custom_hostname"]["ssl"]["validation_errors"] == []

    def test_the_retrigger_is_one_patch_of_the_ssl_configuration_as_stored(self, timed_out):
        assert timed_out.writes == [("PATCH", "custom_hostnames/" + timed_out.created.id, {"ssl": SSL_CONFIG})]

    def test_the_emulator_holds_the_ssl_active(self, timed_out):
        assert timed_out.state["ssl"]["status"] == "active"


ORIGIN_ARGS = {
    "hostname": HOST,
    "custom_metadata": {"customer": "acme", "tier": "gold"},
    "custom_origin_server": "Origin-Acme.example.com",
    "custom_origin_sni": ":request_host_header:",
}


@pytest.fixture(scope="module")
def origin_fields(scenario_emulator):
    runs = four_runs_of(scenario_emulator, lambda emulator: dict(ORIGIN_ARGS, zone_id=emulator.zone_id), custom_metadata={"customer": "acme"})
    # Then only the SNI changes: only it is sent.
    (runs.sni,) = run_play(runs.ansible, [task(dict(ORIGIN_ARGS, zone_id=runs.emulator.zone_id, custom_origin_sni="sni.example.com"))])
    runs.writes, runs.state = writes(runs.emulator), stored(runs.emulator)
    return runs


class TestCustomMetadataAndOriginFields(UnchangedReRuns):
    """A hostname with metadata; four_runs with more metadata, an origin server and an origin SNI; then another SNI alone."""

    @pytest.fixture
    def runs(self, origin_fields):
        return origin_fields

    def test_check_mode_and_the_change_report_a_change(self, origin_fields):
        assert origin_fields.check["changed"], origin_fields.check
        assert origin_fields.real["changed"], origin_fields.real
        assert not origin_fields.real.get("failed"), origin_fields.real

    def test_check_mode_predicts_the_metadata_set(self, origin_fields):
        assert origin_fields.check["custom_hostname"]["custom_metadata"] == {"customer": "acme", "tier": "gold"}

    def test_the_change_reports_the_fields_with_the_origin_server_in_lower_case(self, origin_fields):
        assert parts(origin_fields.real["custom_hostname"], "custom_metadata", "custom_origin_server", "custom_origin_sni") == {
            "custom_metadata": {"customer": "acme", "tier": "gold"},
            "custom_origin_server": "origin-acme.example.com",
            "custom_origin_sni": ":request_host_header:",
        }

    def test_the_diff_shows_the_origin_server_set(self, origin_fields):
        diff = origin_fields.real["diff"]
        assert (diff["before"]["custom_origin_server"], diff["after"]["custom_origin_server"]) == (None, "origin-acme.example.com")

    def test_no_warning_as_validation_was_not_restarted(self, origin_fields):
        assert not origin_fields.real.get("warnings")  # no SSL change

    def test_another_sni_alone_changes_it(self, origin_fields):
        assert origin_fields.sni["changed"], origin_fields.sni
        assert origin_fields.sni["custom_hostname"]["custom_origin_sni"] == "sni.example.com"

    def test_each_change_is_one_patch_of_what_changed(self, origin_fields):
        path = "custom_hostnames/" + origin_fields.created.id
        assert origin_fields.writes == [
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

    def test_the_emulator_holds_the_metadata_and_the_last_sni(self, origin_fields):
        state = origin_fields.state
        assert (state["custom_metadata"], state["custom_origin_sni"]) == ({"customer": "acme", "tier": "gold"}, "sni.example.com")


@pytest.fixture(scope="module")
def custom_certificate(scenario_emulator):
    leaf = make_leaf(make_ca("Custom Hostname CA"), [HOST])
    runs = four_runs_of(
        scenario_emulator,
        lambda emulator: {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"bundle_method": "optimal", "settings": {"http2": True, "tls_1_3": False}}},
        ssl={"method": "http", "type": "dv"},
        certificates=[{"certificate": leaf.chain_pem}],
    )
    runs.leaf, runs.writes, runs.state = leaf, writes(runs.emulator), stored(runs.emulator)
    return runs


class TestCustomCertificateIsKeptThroughASettingsChange(UnchangedReRuns):
    """A hostname with a custom certificate; four_runs with another bundle method and settings given as YAML booleans."""

    @pytest.fixture
    def runs(self, custom_certificate):
        return custom_certificate

    def test_check_mode_and_the_change_report_a_change(self, custom_certificate):
        assert custom_certificate.check["changed"], custom_certificate.check
        assert custom_certificate.real["changed"], custom_certificate.real
        assert not custom_certificate.real.get("failed"), custom_certificate.real

    def test_yaml_booleans_are_mapped_back_to_on_and_off(self, custom_certificate):
        assert custom_certificate.real["custom_hostname"]["ssl"]["settings"] == {"http2": "on", "tls_1_3": "off"}

    def test_the_ssl_stays_active_in_check_mode_and_after_the_change(self, custom_certificate):
        statuses = (custom_certificate.check["custom_hostname"]["ssl"]["status"], custom_certificate.real["custom_hostname"]["ssl"]["status"])
        assert statuses == ("active", "active")

    def test_no_warning_as_a_custom_certificate_is_not_revalidated(self, custom_certificate):
        assert not custom_certificate.real.get("warnings")

    def test_one_patch_sends_the_ssl_configuration_less_the_validation_method(self, custom_certificate):
        # A PATCH with a DCV method moves a custom-certificate hostname to a Cloudflare certificate ("Manage custom
        # certificates", "Move to a Cloudflare certificate"): the configuration goes back without it.
        ((method, path, body),) = custom_certificate.writes
        assert (method, path) == ("PATCH", "custom_hostnames/" + custom_certificate.created.id)
        assert body == {"ssl": {"type": "dv", "settings": {"http2": "on", "tls_1_3": "off"}, "bundle_method": "optimal", "wildcard": False}}

    def test_the_emulator_keeps_the_custom_certificate(self, custom_certificate):
        state = custom_certificate.state
        assert [c["id"] for c in state["certificates"]] == [c.id for c in custom_certificate.created.certs]
        assert custom_certificate.leaf.cert_pem.strip() in state["certificates"][0]["certificate"]

    def test_the_emulator_holds_the_new_bundle_method(self, custom_certificate):
        assert custom_certificate.state["ssl"]["bundle_method"] == "optimal"


@pytest.fixture(scope="module")
def deletion(scenario_emulator):
    runs = four_runs_of(scenario_emulator, lambda emulator: {"zone": "example.com", "hostname": HOST, "state": "absent"})
    runs.writes, runs.state = writes(runs.emulator), stored(runs.emulator)
    return runs


class TestDelete:
    """A hostname; four_runs with state absent."""

    def test_check_mode_predicts_the_hostname_gone(self, deletion):
        assert deletion.check["changed"], deletion.check
        assert deletion.check["custom_hostname"] is None

    def test_the_check_mode_diff_shows_the_hostname_before(self, deletion):
        assert deletion.check["diff"]["before"]["id"] == deletion.created.id

    def test_the_delete_reports_the_hostname_gone(self, deletion):
        assert deletion.real["changed"], deletion.real
        assert not deletion.real.get("failed"), deletion.real
        assert deletion.real["custom_hostname"] is None

    def test_the_delete_diff_goes_from_the_hostname_to_nothing(self, deletion):
        assert deletion.real["diff"] == {"before": deletion.check["diff"]["before"], "after": {}}

    @pytest.mark.parametrize("phase", ["again", "again_check"], ids=["re_run", "re_run_in_check_mode"])
    def test_a_re_run_changes_nothing(self, deletion, phase):
        assert not getattr(deletion, phase)["changed"], getattr(deletion, phase)

    def test_one_delete_is_sent(self, deletion):
        assert deletion.writes == [("DELETE", "custom_hostnames/" + deletion.created.id, None)]

    def test_the_emulator_holds_no_hostname(self, deletion):
        assert deletion.state is None


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
    assert run.failed, run.result
    assert not run.changed, run.result
    for word in words:
        assert word in run.msg
    assert not run.msg.startswith("Unexpected error"), run.msg
    assert writes(emulator) == []


@pytest.fixture(scope="module")
def idn(scenario_emulator):
    emulator, ansible = scenario_emulator()
    args = {"zone_id": emulator.zone_id, "hostname": "Bücher.customer.com"}
    created, again = run_play(ansible, [task(args), task(args)])
    return SimpleNamespace(created=created, again=again, writes=writes(emulator))


class TestAnInternationalizedHostname:
    """One play: create Bücher.customer.com, the same again."""

    def test_it_is_created_as_a_labels(self, idn):
        assert idn.created["changed"], idn.created
        assert idn.created["custom_hostname"]["hostname"] == "xn--bcher-kva.customer.com"

    def test_it_is_found_again(self, idn):
        assert not idn.again["changed"], idn.again

    def test_one_post_sends_the_a_labels(self, idn):
        assert idn.writes == [("POST", "custom_hostnames", {"hostname": "xn--bcher-kva.customer.com"})]


def test_create_whose_answer_is_lost_is_not_sent_again(ansible, emulator):
    # The POST is processed but the connection drops: the module reads again, finds the hostname and carries on.
    emulator.add_fault("reset_after", method="POST", path="custom_hostnames$")
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname": HOST, "custom_metadata": {"customer": "acme"}}).result
    assert result["changed"], result
    assert not result.get("failed"), result
    assert parts(result["custom_hostname"], "id", "custom_metadata") == {"id": stored(emulator)["id"], "custom_metadata": {"customer": "acme"}}
    assert [w[0] for w in writes(emulator)] == ["POST"]


def hold_status(emulator, hostname: str, status: Any) -> None:
    """Keep a custom hostname's SSL status at `status` (None: let it go on from pending_validation), so no step depends on timing."""
    with emulator.state.lock:
        host = next(h for h in emulator.state.zones[emulator.zone_id].custom_hostnames.values() if h.hostname == hostname)
        host.frozen_status = status
        if status is None:
            host.restart_validation(time.time())


@pytest.fixture(scope="module")
def onboarding(scenario_emulator):
    """The EXAMPLES' onboarding play, with debug standing in for the DNS module: create, read until the
    records are listed, publish them with a loop; then, once validation goes on, wait until live."""
    emulator, ansible = scenario_emulator()
    defaults = {"module_defaults": {"group/certops.cloudflare.all": {"zone_id": emulator.zone_id}}}
    create = {"name": "create", MOD: {"hostname": HOST, "ssl": {"method": "txt"}, "custom_metadata": {"customer": "acme"}}}
    created = ansible.run_tasks([create], play_extra=defaults)
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
    hold_status(emulator, HOST, None)  # the records are published: validation goes on
    live = ansible.run_tasks([{"name": "wait until live", MOD: {"hostname": HOST, "wait": True, "wait_timeout": 60}}], play_extra=defaults)
    return SimpleNamespace(created=created, play=play, results=[r["result"] for r in play.results], live=live, writes=writes(emulator))


class TestOnboardingAsInTheExamples:
    """The EXAMPLES' onboarding: create; read until the records are listed and publish them; wait until live."""

    def test_the_create_succeeds_and_changes_something(self, onboarding):
        assert onboarding.created.rc == 0, onboarding.created.output
        assert onboarding.created.result()["changed"], onboarding.created.output

    def test_the_publishing_play_succeeds(self, onboarding):
        assert onboarding.play.rc == 0, onboarding.play.output

    def test_reading_until_the_records_are_listed_changes_nothing(self, onboarding):
        assert not onboarding.results[0]["changed"]

    def test_the_ownership_record_is_published(self, onboarding):
        assert onboarding.results[1]["msg"].startswith("TXT _cf-custom-hostname." + HOST)

    def test_the_validation_records_are_published_with_a_loop(self, onboarding):
        assert [m["msg"].split()[1] for m in onboarding.results[2]["results"]] == ["_acme-challenge." + HOST]

    def test_the_wait_succeeds_and_changes_nothing(self, onboarding):
        assert onboarding.live.rc == 0, onboarding.live.output
        assert not onboarding.live.result()["changed"]

    def test_the_wait_returns_once_the_hostname_and_its_ssl_are_active(self, onboarding):
        view = onboarding.live.result()["custom_hostname"]
        assert (view["status"], view["ssl"]["status"]) == ("active", "active")

    def test_the_create_is_the_only_write(self, onboarding):
        assert [w[0] for w in onboarding.writes] == ["POST"]


# -- a move to a Cloudflare certificate: only when asked for ---------------------------------------------------------


def test_a_validation_method_beside_custom_certificates_fails_before_any_write(ansible, emulator):
    leaf = make_leaf(make_ca("Custom Hostname CA"), [HOST])
    seed(emulator, ssl={"method": "http", "type": "dv"}, certificates=[{"certificate": leaf.chain_pem}])
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"method": "txt"}})
    assert result.failed
    assert "set use_managed_certificate: true" in result.msg
    assert writes(emulator) == []


@pytest.fixture(scope="module")
def managed_move(scenario_emulator):
    leaf = make_leaf(make_ca("Custom Hostname CA"), [HOST])
    runs = four_runs_of(
        scenario_emulator,
        lambda emulator: {"zone_id": emulator.zone_id, "hostname": HOST, "use_managed_certificate": True, "wait": True, "wait_timeout": 60},
        ssl={"method": "http", "type": "dv"},
        certificates=[{"certificate": leaf.chain_pem}],
    )
    runs.writes, runs.state = writes(runs.emulator), stored(runs.emulator)
    return runs


class TestAMoveToACloudflareCertificateOnlyWhenAskedFor(UnchangedReRuns):
    """A hostname with a custom certificate; four_runs with use_managed_certificate and wait."""

    @pytest.fixture
    def runs(self, managed_move):
        return managed_move

    def test_check_mode_and_the_move_report_a_change(self, managed_move):
        assert (managed_move.check["changed"], managed_move.real["changed"]) == (True, True)

    def test_the_check_mode_diff_shows_the_custom_certificate_going(self, managed_move):
        diff = managed_move.check["diff"]
        assert (len(diff["before"]["ssl"]["certificates"]), diff["after"]["ssl"]["certificates"]) == (1, [])

    def test_one_patch_sends_the_stored_validation_method(self, managed_move):
        ((method, path, body),) = managed_move.writes
        assert (method, path, body["ssl"]["method"]) == ("PATCH", "custom_hostnames/" + managed_move.created.id, "http")

    def test_the_move_warns_that_the_custom_certificates_go(self, managed_move):
        assert any("removes its custom certificates" in w for w in managed_move.real.get("warnings", []))

    def test_the_diff_of_the_move_shows_the_custom_certificate_going(self, managed_move):
        diff = managed_move.real["diff"]
        assert (len(diff["before"]["ssl"]["certificates"]), diff["after"]["ssl"]["certificates"]) == (1, [])

    def test_after_the_wait_the_hostname_is_live(self, managed_move):
        view = managed_move.real["custom_hostname"]
        assert (view["status"], view["ssl"]["status"]) == ("active", "active")

    def test_the_emulator_holds_no_custom_certificate_any_more(self, managed_move):
        assert not managed_move.state.get("certificates")


def test_a_loose_hostname_filter_does_not_make_a_duplicate(ansible, emulator):
    # The documented filter is exact; newer SDKs' hostname.contain hints it may match more loosely. With the emulator's
    # loose mode, 60 longer names containing HOST come first, so HOST is on the second page of 50 matches.
    for index in range(60):
        emulator.state.add_custom_hostname(emulator.zone_id, "v%02d-%s" % (index, HOST), ssl=dict(SSL_CONFIG))
    created = seed(emulator)
    assert emulator.set_hostname_filter("contains") == {"mode": "contains"}
    args = {"zone_id": emulator.zone_id, "hostname": HOST, "ssl": {"method": SSL_CONFIG["method"], "bundle_method": SSL_CONFIG["bundle_method"]}}
    (result,) = run_play(ansible, [task(args)])
    assert not result.get("failed") and not result["changed"], result
    assert result["custom_hostname"]["id"] == created.id
    assert writes(emulator) == []  # no POST: the one it has is found
    names = [h["hostname"] for h in emulator.dump_state()["zones"][0]["custom_hostnames"]]
    assert names.count(HOST) == 1 and len(names) == 61
    lists = [e["query"] for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith("/custom_hostnames")]
    assert [(q["hostname"], q["page"], q["per_page"]) for q in lists] == [(HOST, "1", "50"), (HOST, "2", "50")]
