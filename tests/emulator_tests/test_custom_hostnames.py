"""Custom hostnames: shapes, filters, validation, the certificate-pack rules, PATCH semantics and deployment."""

from __future__ import annotations

import json
import time

import pytest
import requests

from .conftest import Api, codes, watch

HOST = "app.example.com"


def create(api, hostname=HOST, ssl=None, expect=200, **extra):
    body = dict(extra, hostname=hostname)
    if ssl is not None:
        body["ssl"] = ssl
    return api.post(api.zone("custom_hostnames"), body, expect=expect)


def custom(cert):
    return {"custom_certificate": cert.chain_pem, "custom_key": cert.key_pem}


def with_certs(api, *certs):
    """A hostname whose pack holds `certs` (a bundle when two)."""
    ssl = custom(certs[0]) if len(certs) == 1 else {"custom_cert_bundle": [custom(c) for c in certs], "bundle_method": "force"}
    return create(api, ssl=ssl)["result"]


def get(api, hostname_id):
    return api.get(api.zone("custom_hostnames/" + hostname_id))["result"]


def kind(api, entry):
    """The key type of an `ssl.certificates` entry, as the emulator keeps it (its answers carry none)."""
    certs = [c for h in api.emu.state.zones[api.emu.zone_id].custom_hostnames.values() for c in h.certs]
    return next(c.info.key_type for c in certs if c.id == entry["id"])


def pack_path(api, hostname, cert_id):
    return api.zone("custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (hostname["id"], hostname["ssl"]["id"], cert_id))


def wait_active(api, hostname_id):
    watch(lambda: get(api, hostname_id)["ssl"]["status"], lambda s: s == "active")


def test_managed_certificate_progresses_to_active(emulator_factory):
    api = Api(emulator_factory(delay=0.15))
    created = create(api, ssl={"method": "txt", "type": "dv"})["result"]
    assert created["ssl"]["status"] == "initializing" and created["status"] == "pending"
    seen = watch(lambda: get(api, created["id"])["ssl"]["status"], lambda s: s == "active")
    assert seen == [s for s in ("initializing", "pending_validation", "pending_issuance", "pending_deployment", "active") if s in seen]
    assert len(seen) >= 3
    final = get(api, created["id"])
    assert final["status"] == "active" and "verification_errors" not in final


def test_result_shape_for_custom_certificates(api, leaf):
    cert = leaf([HOST, "*.example.com"], key_type="rsa")
    result = with_certs(api, cert)
    ssl = result["ssl"]
    assert result["hostname"] == HOST and result["ownership_verification"]["name"] == "_cf-custom-hostname." + HOST
    assert ssl["hosts"] == [HOST, "*.example.com"] and ssl["issuer"] == "Emulator Tests CA" and ssl["signature"] == "ECDSAWithSHA256"
    entry = ssl["certificates"][0]
    # Exactly the fields of cloudflare-go's (v0) CustomHostnameSSLCertificates: no key type.
    assert set(entry) == {"id", "issuer", "serial_number", "signature", "expires_on", "issued_on", "fingerprint_sha256"}
    assert entry["serial_number"] == cert.serial_number and entry["fingerprint_sha256"] == cert.fingerprint_sha256
    assert kind(api, entry) == "rsa" and entry["expires_on"].endswith("Z")
    assert "custom_key" not in json.dumps(result) and "PRIVATE KEY" not in json.dumps(result)
    again = api.get(api.zone("custom_hostnames/%s" % result["id"]))["result"]
    assert again["ssl"]["id"] == ssl["id"]


def test_hostname_filter_contains_mode_is_an_admin_switch(api):
    names = ("app.example.com", "myapp.example.com", "app.example.com.example.com", "other.example.com")
    for name in names:
        create(api, name)
    admin = api.emu.admin_url

    def listed():
        return [h["hostname"] for h in api.get(api.zone("custom_hostnames"), hostname="app.example.com")["result"]]

    assert listed() == ["app.example.com"]
    assert requests.get(admin + "/hostname-filter", timeout=10).json() == {"mode": "exact"}
    answer = requests.post(admin + "/hostname-filter", json={"mode": "contains"}, timeout=10)
    assert answer.status_code == 200 and answer.json() == {"mode": "contains"}
    assert listed() == ["app.example.com", "myapp.example.com", "app.example.com.example.com"]
    for bad in ({"mode": "startsWith"}, {"mode": None}, {}):
        assert requests.post(admin + "/hostname-filter", json=bad, timeout=10).status_code == 400
    assert listed() == ["app.example.com", "myapp.example.com", "app.example.com.example.com"]  # a refused switch changes nothing
    assert api.emu.set_hostname_filter("exact") == {"mode": "exact"}
    assert listed() == ["app.example.com"]
    with pytest.raises(ValueError):
        api.emu.set_hostname_filter("loose")


def test_loose_filter_pages_like_any_list(api):
    api.emu.set_hostname_filter("contains")
    for index in range(7):
        create(api, "t%d-shop.example.com" % index)
    create(api, "shop.example.com")
    page2 = api.get(api.zone("custom_hostnames"), hostname="shop.example.com", per_page=5, page=2)
    assert [h["hostname"] for h in page2["result"]] == ["t5-shop.example.com", "t6-shop.example.com", "shop.example.com"]
    assert page2["result_info"]["total_count"] == 8 and page2["result_info"]["total_pages"] == 2


def test_hostname_filter_is_exact_and_list_limits(api):
    for name in ("app.example.com", "myapp.example.com", "app.example.com.example.com"):
        create(api, name)
    found = api.get(api.zone("custom_hostnames"), hostname="app.example.com")
    assert [h["hostname"] for h in found["result"]] == ["app.example.com"] and found["result_info"]["total_count"] == 1
    assert api.get(api.zone("custom_hostnames"))["result_info"]["total_count"] == 3
    assert codes(api.get(api.zone("custom_hostnames"), per_page=51, expect=400)) == [1004]
    assert codes(api.get(api.zone("custom_hostnames"), per_page=4, expect=400)) == [1004]
    assert api.get(api.zone("custom_hostnames"), per_page=5, page=2)["result"] == []


def test_duplicate_hostname_is_refused(api):
    create(api)
    assert codes(create(api, expect=409)) == [1406]


@pytest.mark.parametrize(
    "ssl",
    [
        {"method": "carrier-pigeon"},
        {"type": "ev"},
        {"bundle_method": "best"},
        {"certificate_authority": "acme"},
        {"settings": {"min_tls_version": "1.4"}},
        {"settings": {"http2": True}},
        {"wildcard": "yes"},
        {"custom_certificate": "x"},
    ],
)
def test_invalid_ssl_is_refused(api, ssl):
    assert codes(create(api, ssl=ssl, expect=400)) == [1004]


def test_invalid_hostname_is_refused(api):
    assert codes(create(api, "not a hostname", expect=400)) == [1004]
    assert codes(api.post(api.zone("custom_hostnames"), {"ssl": {}}, expect=400)) == [1004]


def test_pack_holds_at_most_one_rsa_and_one_ecdsa(api, leaf):
    body = create(api, ssl={"custom_cert_bundle": [custom(leaf()), custom(leaf())]}, expect=400)
    assert codes(body) == [1405]
    assert len(with_certs(api, leaf(), leaf(key_type="rsa"))["ssl"]["certificates"]) == 2


def test_put_replaces_a_certificate_with_one_of_the_same_key_type(api, leaf):
    result = with_certs(api, leaf(key_type="rsa"), leaf())
    rsa_entry = next(c for c in result["ssl"]["certificates"] if kind(api, c) == "rsa")
    path = api.zone("custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (result["id"], result["ssl"]["id"], rsa_entry["id"]))
    assert codes(api.put(path, custom(leaf()), expect=400)) == [1405]
    new_rsa = leaf(key_type="rsa")
    answer = api.put(path, custom(new_rsa), expect=202)
    certs = answer["result"]["ssl"]["certificates"]
    assert sorted(kind(api, c) for c in certs) == ["ecdsa", "rsa"] and not any("key_type" in c for c in certs)
    assert new_rsa.fingerprint_sha256 in [c["fingerprint_sha256"] for c in certs] and rsa_entry["id"] not in [c["id"] for c in certs]
    assert answer["result"]["ssl"]["id"] == result["ssl"]["id"]


@pytest.mark.parametrize("key_type", ["ecdsa", "rsa"])
def test_put_is_refused_on_a_pack_holding_one_certificate(api, leaf, key_type):
    # "Replace a single custom certificate within a certificate pack that contains two bundled certificates."
    single = with_certs(api, leaf(key_type=key_type))
    (entry,) = single["ssl"]["certificates"]
    body = api.put(pack_path(api, single, entry["id"]), custom(leaf(key_type=key_type)), expect=400)
    assert codes(body) == [1405] and "pack of two" in body["errors"][0]["message"]
    after = get(api, single["id"])
    assert [c["id"] for c in after["ssl"]["certificates"]] == [entry["id"]] and after["ssl"]["id"] == single["ssl"]["id"]
    # Once the pack holds two (a one-item bundle joins the other key type), the same PUT is taken.
    other = "rsa" if key_type == "ecdsa" else "ecdsa"
    api.patch(api.zone("custom_hostnames/" + single["id"]), {"ssl": {"custom_cert_bundle": [custom(leaf(key_type=other))], "bundle_method": "force"}})
    replacement = leaf(key_type=key_type)
    answer = api.put(pack_path(api, single, entry["id"]), custom(replacement), expect=202)["result"]
    assert replacement.fingerprint_sha256 in [c["fingerprint_sha256"] for c in answer["ssl"]["certificates"]]


def test_put_and_delete_need_the_current_pack_and_certificate(api, leaf):
    result = with_certs(api, leaf())
    cert_id = result["ssl"]["certificates"][0]["id"]
    api.put(api.zone("custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (result["id"], "0" * 32, cert_id)), custom(leaf()), expect=404)
    api.delete(api.zone("custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (result["id"], result["ssl"]["id"], "0" * 32)), expect=404)


def test_delete_refuses_the_last_certificate_and_answers_bare(api, leaf):
    single = with_certs(api, leaf())
    path = "custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (single["id"], single["ssl"]["id"], single["ssl"]["certificates"][0]["id"])
    assert codes(api.delete(api.zone(path), expect=400)) == [1407]
    pair = create(
        api,
        "two.example.com",
        ssl={"custom_cert_bundle": [custom(leaf(["two.example.com"])), custom(leaf(["two.example.com"], "rsa"))], "bundle_method": "force"},
    )["result"]
    rsa_id = next(c["id"] for c in pair["ssl"]["certificates"] if kind(api, c) == "rsa")
    answer = api.delete(api.zone("custom_hostnames/%s/certificate_pack/%s/certificates/%s" % (pair["id"], pair["ssl"]["id"], rsa_id)), expect=202)
    assert answer == {"id": rsa_id}
    assert [kind(api, c) for c in get(api, pair["id"])["ssl"]["certificates"]] == ["ecdsa"]


def test_patch_one_item_bundle_joins_the_certificate_of_the_other_key_type(api, leaf):
    result = with_certs(api, leaf(key_type="rsa"))
    rsa_id = result["ssl"]["certificates"][0]["id"]
    ecdsa = leaf()
    patched = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"custom_cert_bundle": [custom(ecdsa)], "bundle_method": "force"}})["result"][
        "ssl"
    ]
    assert patched["id"] == result["ssl"]["id"]
    assert [(kind(api, c), c["id"] == rsa_id) for c in patched["certificates"]] == [("rsa", True), ("ecdsa", False)]
    again = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"custom_cert_bundle": [custom(leaf())], "bundle_method": "force"}})["result"][
        "ssl"
    ]
    assert [c["id"] == rsa_id for c in again["certificates"]] == [True, False]


def test_patch_one_item_bundle_needs_a_certificate_of_the_other_key_type(api, leaf):
    result = with_certs(api, leaf())
    body = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"custom_cert_bundle": [custom(leaf())], "bundle_method": "force"}}, expect=400)
    assert codes(body) == [1405]


def test_patch_two_item_bundle_replaces_the_pack(api, leaf):
    result = with_certs(api, leaf(key_type="rsa"), leaf())
    new = [leaf(key_type="rsa"), leaf()]
    patched = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"custom_cert_bundle": [custom(c) for c in new], "bundle_method": "force"}})[
        "result"
    ]["ssl"]
    assert patched["id"] != result["ssl"]["id"]
    assert sorted(c["fingerprint_sha256"] for c in patched["certificates"]) == sorted(c.fingerprint_sha256 for c in new)


def test_patch_with_one_custom_certificate_replaces_the_pack(api, leaf):
    result = with_certs(api, leaf(key_type="rsa"), leaf())
    new = leaf()
    patched = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": custom(new)})["result"]["ssl"]
    assert patched["id"] != result["ssl"]["id"] and [c["fingerprint_sha256"] for c in patched["certificates"]] == [new.fingerprint_sha256]


def test_patch_replaces_the_ssl_configuration_but_keeps_certificates_and_method(api, leaf):
    ssl = dict(custom(leaf()), method="txt", bundle_method="force", settings={"min_tls_version": "1.2", "http2": "on"})
    result = create(api, ssl=ssl, custom_origin_server="origin.example.com")["result"]
    patched = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"type": "dv"}, "custom_metadata": {"tier": "gold"}})["result"]
    assert patched["ssl"]["method"] == "txt" and patched["ssl"]["settings"] == {} and patched["ssl"]["bundle_method"] == "ubiquitous"
    assert patched["ssl"]["certificates"] == result["ssl"]["certificates"] and patched["ssl"]["id"] == result["ssl"]["id"]
    assert patched["custom_origin_server"] == "origin.example.com" and patched["custom_metadata"] == {"tier": "gold"}


def test_patch_with_the_same_configuration_restarts_validation(emulator, api):
    emulator.state.add_custom_hostname(emulator.zone_id, "late.example.com", ssl={"method": "http", "type": "dv", "status": "validation_timed_out"})
    hostname_id = api.get(api.zone("custom_hostnames"), hostname="late.example.com")["result"][0]["id"]
    before = get(api, hostname_id)
    assert before["ssl"]["status"] == "validation_timed_out" and before["ssl"]["validation_errors"]
    stored = {k: before["ssl"][k] for k in ("method", "type", "settings", "bundle_method", "wildcard")}
    patched = api.patch(api.zone("custom_hostnames/" + hostname_id), {"ssl": stored})["result"]
    assert patched["ssl"]["status"] == "pending_validation" and patched["ssl"]["validation_records"][0]["http_url"]
    wait_active(api, hostname_id)


def test_new_certificate_is_pending_deployment_while_the_old_one_is_served(emulator_factory, leaf):
    emu = emulator_factory(delay=0.3)
    api = Api(emu)
    old, new = leaf(), leaf()
    result = with_certs(api, old)
    wait_active(api, result["id"])
    api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": custom(new)})
    pending = emu.history.segments(HOST)
    assert get(api, result["id"])["ssl"]["status"] == "pending_deployment"
    assert [s["certificates"][0]["fingerprint_sha256"] for s in pending] == [old.fingerprint_sha256]
    wait_active(api, result["id"])
    segments = emu.history.segments(HOST)
    assert [s["certificates"][0]["fingerprint_sha256"] for s in segments] == [old.fingerprint_sha256, new.fingerprint_sha256]
    assert segments[0]["end"] == segments[1]["start"] and segments[1]["end"] is None
    assert emu.history.violations() == []
    emu.history.assert_valid()


def test_history_reports_a_certificate_that_does_not_cover_the_hostname(api, emulator, leaf):
    wait_active(api, with_certs(api, leaf(["other.example.com"]))["id"])
    problems = emulator.history.violations()
    assert len(problems) == 1 and "does not cover" in problems[0] and HOST in problems[0]
    with pytest.raises(AssertionError):
        emulator.history.assert_valid()


def test_history_reports_a_certificate_that_expires_while_served(emulator, leaf):
    soon = leaf(days=1 / 86400)  # expires one second from now
    emulator.state.add_custom_hostname(emulator.zone_id, HOST, certificates=[{"certificate": soon.cert_pem}])
    assert emulator.history.violations() == []
    time.sleep(1.2)
    assert "expired" in emulator.history.violations()[0]


def test_delete_hostname_answers_bare_and_ends_its_history(api, emulator, leaf):
    result = with_certs(api, leaf())
    wait_active(api, result["id"])
    assert api.delete(api.zone("custom_hostnames/" + result["id"])) == {"id": result["id"]}
    api.get(api.zone("custom_hostnames/" + result["id"]), expect=404)
    assert emulator.history.segments(HOST)[-1]["end"] is not None


def test_managed_hostname_answers_dcv_delegation_records(emulator_factory):
    api = Api(emulator_factory(delay=0.05))
    created = create(api, ssl={"method": "txt", "type": "dv"})["result"]
    (record,) = created["ssl"]["dcv_delegation_records"]
    assert record["cname"] == "_acme-challenge." + HOST and record["cname_target"].endswith(".dcv.cloudflare.com") and record["status"] == "pending"
    wait_active(api, created["id"])
    assert get(api, created["id"])["ssl"]["dcv_delegation_records"][0]["status"] == "active"


@pytest.mark.parametrize(
    "extra",
    [{"custom_origin_server": "not a hostname"}, {"custom_origin_server": "*.example.com"}, {"custom_origin_sni": "bad_sni!"}],
)
def test_bad_custom_origin_fields_are_refused(api, extra):
    # Cloudflare's "Edit Custom Hostname": the origin server is "a valid hostname"; the SNI a hostname or ':request_host_header:'.
    assert codes(create(api, expect=400, **extra)) == [1004]
    assert api.get(api.zone("custom_hostnames"))["result"] == []


def test_custom_origin_sni_takes_the_request_host_header(api):
    created = create(api, custom_origin_server="Origin.Example.com", custom_origin_sni=":request_host_header:")["result"]
    assert created["custom_origin_server"] == "origin.example.com" and created["custom_origin_sni"] == ":request_host_header:"


# -- PATCH keeps the stored method; a method on a custom-certificate hostname moves it to a Cloudflare certificate --------


def test_patch_without_method_keeps_the_stored_method_of_a_managed_hostname(api):
    created = create(api, ssl={"method": "email", "type": "dv"})["result"]
    patched = api.patch(api.zone("custom_hostnames/" + created["id"]), {"ssl": {"type": "dv", "settings": {"http2": "on"}}})["result"]
    assert patched["ssl"]["method"] == "email" and patched["ssl"]["settings"] == {"http2": "on"}


def test_patch_with_method_moves_a_custom_certificate_hostname_to_a_managed_certificate(emulator_factory, leaf):
    # Cloudflare's "Manage custom certificates", "Move to a Cloudflare certificate".
    emu = emulator_factory(delay=0.3)
    api = Api(emu)
    old = leaf()
    result = with_certs(api, old)
    wait_active(api, result["id"])
    moving = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"method": "http", "type": "dv"}})["result"]["ssl"]
    assert moving["status"] == "pending_validation" and moving["method"] == "http"
    assert [c["fingerprint_sha256"] for c in moving["certificates"]] == [old.fingerprint_sha256]  # still held and served
    assert moving["validation_records"][0]["http_url"]
    assert emu.history.served(HOST).fingerprint_sha256 == old.fingerprint_sha256
    wait_active(api, result["id"])
    moved = get(api, result["id"])["ssl"]
    assert "certificates" not in moved and "custom_certificate" not in moved and moved["dcv_delegation_records"]
    assert emu.history.served(HOST).source == "managed"
    segments = emu.history.segments(HOST)
    assert [s["certificates"] if s["certificates"] == "managed" else "custom" for s in segments] == ["custom", "managed"]
    assert segments[0]["end"] == segments[1]["start"]
    emu.history.assert_valid()


def test_a_new_custom_certificate_ends_a_move(emulator_factory, leaf):
    emu = emulator_factory(delay=0.3)
    api = Api(emu)
    result = with_certs(api, leaf())
    api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"method": "txt", "type": "dv"}})
    new = leaf()
    api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": custom(new)})
    wait_active(api, result["id"])
    time.sleep(1.0)  # past the moment the move would have completed
    assert [c["fingerprint_sha256"] for c in get(api, result["id"])["ssl"]["certificates"]] == [new.fingerprint_sha256]
    assert emu.history.served(HOST).fingerprint_sha256 == new.fingerprint_sha256


# -- custom_cert_bundle goes with bundle_method force ("Use certificate packs: RSA and ECDSA") ----------------------------


@pytest.mark.parametrize("bundle_method", [None, "ubiquitous", "optimal"])
def test_post_of_a_two_item_bundle_needs_force(api, leaf, bundle_method):
    ssl = {"custom_cert_bundle": [custom(leaf()), custom(leaf(key_type="rsa"))]}
    if bundle_method:
        ssl["bundle_method"] = bundle_method
    body = create(api, ssl=ssl, expect=400)
    assert codes(body) == [1412] and "force" in body["errors"][0]["message"]
    assert api.get(api.zone("custom_hostnames"))["result"] == []


def test_patch_of_a_one_item_bundle_beside_the_other_key_type_needs_force(api, leaf):
    result = with_certs(api, leaf(key_type="rsa"))
    body = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"custom_cert_bundle": [custom(leaf())]}}, expect=400)
    assert codes(body) == [1412]
    assert [kind(api, c) for c in get(api, result["id"])["ssl"]["certificates"]] == ["rsa"]


def test_patch_of_a_bundle_does_not_take_the_stored_force(api, leaf):
    # PATCH replaces the SSL configuration: a bundle_method not sent is the default, ubiquitous.
    result = with_certs(api, leaf(key_type="rsa"), leaf())
    assert result["ssl"]["bundle_method"] == "force"
    body = api.patch(api.zone("custom_hostnames/" + result["id"]), {"ssl": {"custom_cert_bundle": [custom(leaf())]}}, expect=400)
    assert codes(body) == [1412]
