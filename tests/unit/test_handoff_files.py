"""The files that carry long lists from one task to the next, and what reads the environment once.

write_atomically must leave either the old file or the whole new one (never half, never a temporary file), the
readers must take every form the modules document and name the option in every error, the served leaf of a zone's
hostnames is parsed once, and the client's session reads proxies and the CA bundle once then ignores the environment.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, List

import pytest
import requests
from emulator.testcerts import make_ca, make_leaf

from ansible_collections.certops.cloudflare.plugins.module_utils._base import InputError, read_json_file, write_atomically, write_json_file
from ansible_collections.certops.cloudflare.plugins.module_utils._client import CloudflareClient
from ansible_collections.certops.cloudflare.plugins.module_utils._custom_hostname import _leaf_start, read_hostnames, remote_certificates
from ansible_collections.certops.cloudflare.plugins.module_utils._pem import isoformat

BASE = "https://api.test/client/v4"
TOKEN = "tok-SECRET-0123456789"
HOSTS = [{"hostname": "a.customer.example", "id": "1"}, {"hostname": "b.customer.example", "id": "2"}]
PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy")


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


# -- _leaf_start: the served leaf parsed once per PEM ------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Any:
    return make_leaf(make_ca("Handoff Unit CA"), ["*.customer.example"], days=10, not_before_days=-80)


def hostname(served_pem: str, serial: str, uploaded_on: str = "2026-01-01T00:00:00Z") -> Dict[str, Any]:
    certificates = [{"id": "c1", "serial_number": serial, "fingerprint_sha256": "ab" * 32, "expires_on": "2026-12-01T00:00:00Z"}]
    return {"hostname": "x", "ssl": {"custom_certificate": served_pem, "uploaded_on": uploaded_on, "certificates": certificates}}


def test_hostnames_sharing_one_served_pem_parse_it_once(served):
    _leaf_start.cache_clear()
    serial_hex = "%x" % served.cert.serial_number  # as Cloudflare reports serials
    first = remote_certificates(hostname(served.chain_pem, serial_hex))
    second = remote_certificates(hostname(served.chain_pem, serial_hex))
    info = _leaf_start.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    expected = isoformat(served.cert.not_valid_before_utc)
    assert first[0].not_before == expected and second[0].not_before == expected
    # The cache must not carry one hostname's answer to a certificate it does not match.
    other = remote_certificates(hostname(served.chain_pem, "1234"))
    assert other[0].not_before is None and _leaf_start.cache_info().hits == 2


@pytest.mark.parametrize(
    "pem",
    [
        "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n",
        "no PEM here",
        "-----BEGIN CERTIFICATE-----\nÿÿ\n-----END CERTIFICATE-----\n",
    ],
    ids=["not-der", "no-block", "not-ascii"],
)
def test_a_bad_served_pem_gives_no_start_date_and_no_exception(pem):
    _leaf_start.cache_clear()
    (cert,) = remote_certificates(hostname(pem, "12"))
    assert cert.not_before is None
    assert cert.uploaded_on == "2026-01-01T00:00:00Z"  # the rest of the facts still come through
    assert _leaf_start(pem) is None


# -- the client's session: the environment read once ----------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    for name in PROXY_VARIABLES + ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def client(**kwargs: Any) -> CloudflareClient:
    return CloudflareClient(api_token=TOKEN, base_url=kwargs.pop("base_url", BASE), rate_limit=0, **kwargs)


def test_the_session_takes_the_proxy_for_the_api_once_and_then_ignores_the_environment(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    made = client()
    assert made.session.proxies.get("https") == "http://proxy.test:3128"
    assert made.session.trust_env is False
    # What requests would merge in per request: nothing from the environment, whatever it holds by then.
    clean_env.setenv("HTTPS_PROXY", "http://other.test:8080")
    settings = made.session.merge_environment_settings(BASE + "/zones", {}, None, made.verify, None)
    assert settings["proxies"].get("https") == "http://proxy.test:3128"


@pytest.mark.parametrize("no_proxy", ["api.test", ".test", "localhost,api.test"])
def test_no_proxy_covering_the_api_host_leaves_the_session_without_a_proxy(clean_env, no_proxy):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    clean_env.setenv("NO_PROXY", no_proxy)
    made = client()
    assert dict(made.session.proxies) == {}
    assert made.session.trust_env is False


def test_no_proxy_for_another_host_keeps_the_proxy(clean_env):
    clean_env.setenv("HTTPS_PROXY", "http://proxy.test:3128")
    clean_env.setenv("NO_PROXY", "elsewhere.example")
    assert client().session.proxies.get("https") == "http://proxy.test:3128"


def test_the_proxy_follows_the_scheme_of_the_base_url(clean_env):
    clean_env.setenv("HTTP_PROXY", "http://plain-proxy.test:3128")
    assert client().session.proxies.get("https") is None  # an https API does not take the http proxy
    assert client(base_url="http://127.0.0.1:9/client/v4").session.proxies.get("http") == "http://plain-proxy.test:3128"


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_from_the_environment_becomes_verify_only_when_validating(clean_env, tmp_path, variable):
    bundle = str(tmp_path / "ca.pem")
    clean_env.setenv(variable, bundle)
    assert client().verify == bundle
    assert client(validate_certs=False).verify is False  # never turns validation back on


def test_without_a_ca_bundle_verify_stays_true(clean_env):
    made = client()
    assert made.verify is True and made.session.trust_env is False
    assert isinstance(made.session, requests.Session)
