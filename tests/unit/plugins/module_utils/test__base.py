"""The resource flow: {missing, same, different} x {present, absent} x {check, real}, settling, errors."""

from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.certops.cloudflare.plugins.module_utils import _base
from ansible_collections.certops.cloudflare.plugins.module_utils._base import CloudflareResource, Step, build_module
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareError, OutcomeUnknownError


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


def run(args, store, check=False, diff=True, fail_with=None):
    writes = []
    args = dict({"api_token": "t0ken-SECRET", "zone_id": "z", "_ansible_check_mode": check, "_ansible_diff": diff}, **args)
    with patch_module_args(args):
        module = build_module(dict(value=dict(type="str"), state=dict(type="str", default="present", choices=["present", "absent"])))
        with pytest.raises(Exit) as info:
            Thing(module, store, writes, fail_with).run()
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


def test_outcome_unknown_that_did_not_happen_fails_without_resending():
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
    assert result["failed"] and writes == ["set"]
    assert "was not applied" in result["msg"] and "Nothing was re-sent" in result["msg"]
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


def test_unexpected_error_has_traceback():
    result = run({"value": "a"}, {}, fail_with=KeyError("boom"))[0]
    assert result["failed"] and "exception" in result and "KeyError" in result["msg"]


def test_token_and_stray_email_fail_naming_both(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "ops@example.com")
    result, writes = run({"value": "a"}, {})
    assert result["failed"] and writes == []
    assert "CLOUDFLARE_EMAIL" in result["msg"] and "CLOUDFLARE_API_TOKEN" in result["msg"]
    assert "t0ken-SECRET" not in result["msg"]


def test_zone_and_zone_id_are_exclusive():
    with patch_module_args({"api_token": "t", "zone_id": "z", "zone": "example.com"}):
        with pytest.raises(Exit) as info:
            build_module({})
    assert "mutually exclusive" in info.value.result["msg"]


def test_env_fallbacks(monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "from-env")
    monkeypatch.setenv("CLOUDFLARE_BASE_URL", "http://127.0.0.1:1/client/v4")
    monkeypatch.setenv("CLOUDFLARE_API_RATE_LIMIT", "0")
    with patch_module_args({"zone_id": "z"}):
        module = build_module({})
    client = _base.client_from_module(module)
    assert client.base_url == "http://127.0.0.1:1/client/v4"
    assert client.session.headers["Authorization"] == "Bearer from-env"
    assert client.pacer.interval == 0
    assert "from-env" in module.no_log_values


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
