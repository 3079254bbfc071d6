"""The resource flow: {missing, same, different} x {present, absent} x {check, real}, settling, errors."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.certops.cloudflare.plugins.module_utils import _base
from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, Step, build_module
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError, OutcomeUnknownError
from ansible_collections.certops.cloudflare.plugins.module_utils._wait import WaitTimeoutError


class Exit(SystemExit):
    def __init__(self, kwargs):
        super().__init__(kwargs)
        self.result = kwargs


@pytest.fixture(autouse=True)
def capture_exits(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exit(dict(kwargs, failed=False))

    def fail_json(self, msg, **kwargs):
        raise Exit(dict(kwargs, msg=msg, failed=True))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)


class Thing(CloudflareResource):
    """A toy resource whose API state is a dict; `writes` records what would reach the API."""

    RESULT_KEY = "thing"
    NOUN = "thing"

    def __init__(self, module, store, writes, fail_with=None):
        super().__init__(module)
        self.store, self.writes, self.fail_with = store, writes, fail_with

    def lookup(self):
        return dict(self.store["thing"]) if "thing" in self.store else None

    def plan(self, current):
        if self.params["state"] == "absent":
            return ([Step("delete", self._delete)], None) if current else ([], None)
        want = {"value": self.params["value"]}
        if current == want:
            return [], current
        return [Step("set value", self._set)], want

    def _set(self):
        self.writes.append("set")
        self.store["thing"] = {"value": self.params["value"]}
        if self.fail_with:
            raise self.fail_with

    def _delete(self):
        self.writes.append("delete")
        self.store.pop("thing")


def run(args, store, check=False, diff=True, fail_with=None, cls=Thing):
    writes = []
    args = dict({"api_token": "t0ken-SECRET", "zone_id": "z", "_ansible_check_mode": check, "_ansible_diff": diff}, **args)
    with patch_module_args(args):
        module = build_module(dict(value=dict(type="str"), state=dict(type="str", default="present", choices=["present", "absent"])))
        with pytest.raises(Exit) as info:
            cls(module, store, writes, fail_with).run()
    return info.value.result, writes


START = {"missing": {}, "same": {"thing": {"value": "a"}}, "different": {"thing": {"value": "b"}}}


@pytest.mark.parametrize("start", START)
@pytest.mark.parametrize("state", ["present", "absent"])
@pytest.mark.parametrize("check", [True, False])
def test_matrix(start, state, check):
    store = {k: dict(v) for k, v in START[start].items()}
    before = store.get("thing")
    result, writes = run({"value": "a", "state": state}, store, check=check)
    expect_change = (state == "present" and start != "same") or (state == "absent" and start != "missing")
    assert result.get("changed") is expect_change, result
    assert result["diff"] == {"before": before or {}, "after": result["thing"] or {}}
    want_after = {"value": "a"} if state == "present" else None
    assert result["thing"] == want_after or (not expect_change and result["thing"] == before)
    if check:
        assert writes == [] and store.get("thing") == before
    else:
        assert len(writes) == int(expect_change)
        assert store.get("thing") == want_after


def test_no_diff_key_without_diff_mode():
    result = run({"value": "a"}, {}, diff=False)[0]
    assert "diff" not in result


def test_outcome_unknown_that_happened_is_settled_by_reading_again():
    store = {}
    result, writes = run({"value": "a"}, store, fail_with=OutcomeUnknownError("connection reset", method="POST", path="things"))
    assert result["failed"] is False and result["changed"] is True
    assert writes == ["set"] and store == {"thing": {"value": "a"}}


def test_outcome_unknown_that_did_not_happen_is_sent_once_more():
    class LostOnce(Thing):
        def _set(self):
            if not self.writes:
                self.writes.append("lost")
                raise OutcomeUnknownError("server error (HTTP 502)", status=502, method="POST", path="things")
            return super()._set()

    store = {}
    result, writes = run({"value": "a"}, store, cls=LostOnce)
    assert result["failed"] is False and result["changed"] is True and result["resent"] is True
    assert writes == ["lost", "set"] and store == {"thing": {"value": "a"}}


def test_outcome_unknown_twice_fails_after_one_more_try():
    class LostWrite(Thing):
        def _set(self):
            self.writes.append("set")
            raise OutcomeUnknownError("server error (HTTP 502)", status=502, method="POST", path="things")

    writes = []
    with patch_module_args({"api_token": "t", "zone_id": "z", "value": "a"}):
        module = build_module(dict(value=dict(type="str"), state=dict(type="str", default="present")))
        with pytest.raises(Exit) as info:
            LostWrite(module, {}, writes).run()
    result = info.value.result
    assert result["failed"] and writes == ["set", "set"]
    assert "after one more try" in result["msg"] and "running the task again is safe" in result["msg"]
    assert "exception" not in result


def test_api_error_message_has_code_and_no_traceback():
    error = CloudflareError(
        "Invalid custom hostname.", status=400, errors=[{"code": 1406, "message": "Invalid custom hostname."}], method="PATCH", path="zones/z/x"
    )
    result = run({"value": "a"}, {}, fail_with=error)[0]
    assert result["failed"]
    assert result["msg"].startswith("Failed to manage thing: Invalid custom hostname. (code 1406)")
    assert result["status"] == 400 and result["cloudflare_errors"] == [{"code": 1406, "message": "Invalid custom hostname."}]
    assert "exception" not in result


def test_a_wait_that_runs_out_of_time_fails_with_the_timed_out_flag():
    result = run({"value": "a"}, {}, fail_with=WaitTimeoutError("timed out after 5s waiting for the thing"))[0]
    assert result["timed_out"] is True


def test_other_api_errors_carry_no_timed_out_flag():
    result = run({"value": "a"}, {}, fail_with=CloudflareError("Invalid custom hostname.", status=400))[0]
    assert "timed_out" not in result


def test_unexpected_error_has_traceback():
    result = run({"value": "a"}, {}, fail_with=KeyError("boom"))[0]
    assert result["failed"] and "exception" in result and "KeyError" in result["msg"]


def test_token_and_stray_email_fail_naming_both(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "ops@example.com")
    result, writes = run({"value": "a"}, {})
    assert result["failed"] and writes == []
    assert "CLOUDFLARE_EMAIL" in result["msg"] and "CLOUDFLARE_API_TOKEN" in result["msg"]
    assert "t0ken-SECRET" not in result["msg"]


def test_zone_id_wins_over_zone_when_both_are_given():
    # module_defaults may give one and the task the other; a module cannot tell them apart.
    with patch_module_args({"api_token": "t", "zone_id": "z1", "zone": "example.com"}):
        module = build_module({})
    resource = CloudflareResource(module)
    assert resource.zone_id == "z1" and resource.zone_label == "z1"


def test_env_fallbacks(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "from-env")
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:1/client/v4")
    monkeypatch.setenv("CLOUDFLARE_API_RATE_LIMIT", "0")
    monkeypatch.setenv("CLOUDFLARE_API_RATE_LIMIT_KEY", "team-a")
    with patch_module_args({"zone_id": "z"}):
        module = build_module({})
    client = _base.client_from_module(module)
    assert client.base_url == "http://127.0.0.1:1/client/v4"
    assert client.session.headers["Authorization"] == "Bearer from-env"
    assert client.pacer.limit == 0
    # a label, not a secret: it stays visible in the output
    assert module.params["api_rate_limit_key"] == "team-a" and "team-a" not in module.no_log_values
    assert "from-env" in module.no_log_values


def test_the_retry_budget_is_330_seconds_unless_the_option_or_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("CLOUDFLARE_API_RETRY_BUDGET", raising=False)
    with patch_module_args({"api_token": "t", "zone_id": "z"}):
        module = build_module({})
    assert module.params["api_retry_budget"] == 330.0 and _base.client_from_module(module).retry_budget == 330.0
    monkeypatch.setenv("CLOUDFLARE_API_RETRY_BUDGET", "12.5")
    with patch_module_args({"api_token": "t", "zone_id": "z"}):
        module = build_module({})
    assert _base.client_from_module(module).retry_budget == 12.5
    with patch_module_args({"api_token": "t", "zone_id": "z", "api_retry_budget": 600}):
        module = build_module({})
    assert _base.client_from_module(module).retry_budget == 600.0


@pytest.mark.parametrize("check", [True, False])
def test_settle_also_runs_when_nothing_changed_but_never_in_check_mode(check):
    settled = []

    class Slow(Thing):
        def settle(self, view):
            settled.append(view)
            return dict(view, ready=True)

    writes = []
    args = {"api_token": "t", "zone_id": "z", "value": "a", "_ansible_check_mode": check}
    with patch_module_args(args):
        module = build_module(dict(value=dict(type="str"), state=dict(type="str", default="present")))
        with pytest.raises(Exit) as info:
            Slow(module, {"thing": {"value": "a"}}, writes).run()
    result = info.value.result
    assert result["changed"] is False and writes == []
    assert settled == ([] if check else [{"value": "a"}])
    assert result["thing"] == ({"value": "a"} if check else {"value": "a", "ready": True})


# -- writes judged by their answers; changed after a failure ----------------------------------


class Answered(Thing):
    """Thing whose write answers `answer` and whose check accepts only {"value": <wanted>}."""

    def __init__(self, module, store, writes, answer, after_write=None):
        super().__init__(module, store, writes)
        self.answer, self.after_write, self.lookups = answer, after_write, 0

    def lookup(self):
        self.lookups += 1
        return super().lookup()

    def plan(self, current):
        want = {"value": self.params["value"]}
        if current == want:
            return [], current
        return [Step("set value", self._answered, self._check), Step("second write", self._second)], want

    def _answered(self):
        self._set()
        return self.answer

    def _check(self, answer, state):
        if not isinstance(answer, dict) or answer.get("value") != self.params["value"]:
            raise self.unexpected_answer("set value", "does not show the new value", answer)
        return answer

    def _second(self):
        self.writes.append("second")
        if self.after_write:
            raise self.after_write
        return None


def run_answered(answer, after_write=None, value="a"):
    writes = []
    with patch_module_args({"api_token": "t0ken-SECRET", "zone_id": "z", "value": value}):
        module = build_module(dict(value=dict(type="str"), state=dict(type="str", default="present")))
        resource = Answered(module, {}, writes, answer, after_write)
        with pytest.raises(Exit) as info:
            resource.run()
    return info.value.result, writes, resource


def test_a_write_whose_answer_shows_it_needs_no_read_back_unless_a_step_cannot_tell():
    class Told(Answered):
        def plan(self, current):
            want = {"value": self.params["value"]}
            return ([], current) if current == want else ([Step("set value", self._answered, self._check)], want)

    writes = []
    with patch_module_args({"api_token": "t", "zone_id": "z", "value": "a"}):
        module = build_module(dict(value=dict(type="str"), state=dict(type="str", default="present")))
        resource = Told(module, {}, writes, {"value": "a"})
        with pytest.raises(Exit) as info:
            resource.run()
    assert info.value.result["changed"] is True and info.value.result["thing"] == {"value": "a"}
    assert resource.lookups == 1  # the lookup before planning only
    # a step without a check (a bare answer) makes the flow read the state back once
    result, writes, resource = run_answered({"value": "a"})
    assert result["changed"] is True and writes == ["set", "second"] and resource.lookups == 2


@pytest.mark.parametrize("answer", [{}, None, {"value": "stale"}, {"value": "a-not", "private_key": "-----BEGIN PRIVATE KEY-----x"}])
def test_a_write_whose_answer_does_not_show_it_fails_saying_what_was_sent_and_what_came_back(answer):
    result, writes, _resource = run_answered(answer)
    assert result["failed"] and result["changed"] is True
    assert writes == ["set"]  # the next step never ran
    assert "the API accepted the write (set value) but its answer does not show the new value" in result["msg"]
    assert "it came back as " in result["msg"] and "PRIVATE KEY" not in result["msg"]
    assert "Already changed before this failure: set value." in result["msg"]


def test_a_failure_after_a_write_reports_changed_and_what_was_changed():
    error = CloudflareError("timed out after 5s waiting for the thing")
    result, writes, _resource = run_answered({"value": "a"}, after_write=error)
    assert result["failed"] and result["changed"] is True and writes == ["set", "second"]
    assert result["msg"].endswith("Already changed before this failure: set value.")
    # a failure before any write is not a change
    result = run({"value": "a"}, {}, fail_with=CloudflareError("nope"))[0]
    assert result["failed"] and "changed" not in result


@pytest.mark.parametrize(
    "args, message",
    [
        ({"zone_id": "../zones"}, "zone_id: '../zones' is not a valid Cloudflare id"),
        ({"zone_id": "abc?x=1"}, "zone_id: 'abc?x=1' is not a valid Cloudflare id"),
        ({"zone": "exa mple.com"}, "zone: exa mple.com is not a valid hostname"),
        ({"zone": "*.example.com"}, "zone: *.example.com is a wildcard"),
        ({"zone_id": "z", "api_timeout": 0}, "api_timeout must be a positive number"),
        ({"zone_id": "z", "api_rate_limit": -1}, "api_rate_limit must be 0"),
        ({"zone_id": "z", "api_retry_budget": 0}, "api_retry_budget must be a positive number of seconds"),
        ({"zone_id": "z", "api_retry_budget": -30}, "api_retry_budget must be a positive number of seconds"),
        ({"zone_id": "z", "api_retry_budget": "nan"}, "api_retry_budget must be a positive number of seconds"),
        ({"zone": "xn--zz.example.com"}, "label 'xn--zz' is not a valid IDNA A-label"),
    ],
)
def test_shared_inputs_are_checked_by_name(args, message):
    with patch_module_args(dict({"api_token": "t"}, **args)):
        with pytest.raises(Exit) as info:
            build_module({})
    assert info.value.result["failed"] and message in info.value.result["msg"]


def test_hostnames_are_normalized_and_checked_in_suboptions():
    spec = dict(
        hostname=dict(type="str"),
        items=dict(type="list", elements="dict", options=dict(hostnames=dict(type="list", elements="str"), certificate=dict(type="str"))),
    )
    args = {"api_token": "t", "zone_id": "z", "hostname": "*.Bücher.Example.", "items": [{"hostnames": ["A.example.com"]}]}
    with patch_module_args(args):
        module = build_module(spec, wildcard_options=("hostname",))
    assert module.params["hostname"] == "*.xn--bcher-kva.example"
    assert module.params["items"][0]["hostnames"] == ["a.example.com"]
    key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----"
    args["items"] = [{"hostnames": ["a.example.com"], "certificate": "-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----\n" + key}]
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            build_module(spec, wildcard_options=("hostname",))
    assert "items[0].certificate holds a private key" in info.value.result["msg"] and "MHcCAQEEIB" not in info.value.result["msg"]
    args["items"] = [{"hostnames": ["x" * 64 + ".example.com"]}]
    with patch_module_args(args):
        with pytest.raises(Exit) as info:
            build_module(spec, wildcard_options=("hostname",))
    assert "items[0].hostnames: " in info.value.result["msg"] and "label of 64 characters" in info.value.result["msg"]


def test_every_bad_item_of_a_list_option_is_named():
    with patch_module_args({"api_token": "t", "zone_id": "z", "hosts": ["ok.example.com", "bad_one.example.com", "a..example.com"]}):
        with pytest.raises(Exit) as info:
            build_module(dict(hosts=dict(type="list", elements="str")))
    msg = info.value.result["msg"]
    assert "bad_one.example.com" in msg and "a..example.com" in msg and "ok.example.com" not in msg


def test_api_usage_file_gets_one_line_per_module_run_and_a_bad_path_is_skipped(tmp_path):
    client = _base.CloudflareClient(api_token="t" * 40, base_url="http://127.0.0.1:9/client/v4", rate_limit=0)
    client.request_count, client.rate_limited_count = 12, 2
    usage = tmp_path / "usage.jsonl"
    _base.record_usage(client, str(usage))
    client.request_count, client.rate_limited_count = 3, 0
    _base.record_usage(client, str(usage))
    assert usage.read_text() == '{"requests": 12, "rate_limited": 2}\n{"requests": 3, "rate_limited": 0}\n'
    assert usage.stat().st_mode & 0o777 == 0o600
    _base.record_usage(client, str(tmp_path / "missing" / "usage.jsonl"))  # no error: counting never fails a task
