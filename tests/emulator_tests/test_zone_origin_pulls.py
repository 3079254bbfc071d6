"""Zone-level authenticated origin pulls: the zone's client certificates, their statuses, and the zone setting."""

from __future__ import annotations

import json

from .conftest import Api, codes, watch

CERTS = "origin_tls_client_auth"
SETTINGS = "origin_tls_client_auth/settings"


def upload(api, cert, expect=200):
    return api.post(api.zone(CERTS), {"certificate": cert.cert_pem, "private_key": cert.key_pem}, expect=expect)


def status_of(api, cert_id):
    return api.get(api.zone(CERTS + "/" + cert_id))["result"]["status"]


def test_an_upload_is_pending_deployment_then_active(emulator_factory, leaf):
    api = Api(emulator_factory(delay=0.15))
    cert = leaf(["origin-pull.example.com"])
    result = upload(api, cert)["result"]
    assert set(result) == {"id", "certificate", "issuer", "signature", "expires_on", "status", "uploaded_on", "enabled"}
    assert result["status"] == "pending_deployment" and result["certificate"] == cert.cert_pem and result["enabled"] is False
    seen = watch(lambda: status_of(api, result["id"]), lambda s: s == "active")
    assert seen == ["pending_deployment", "active"]
    listed = api.get(api.zone(CERTS))
    assert [c["id"] for c in listed["result"]] == [result["id"]] and listed["result_info"]["total_count"] == 1
    assert "PRIVATE KEY" not in json.dumps(listed)


def test_a_deleted_certificate_is_pending_deletion_then_gone(emulator_factory, leaf):
    api = Api(emulator_factory(delay=0.1))
    kept = upload(api, leaf())["result"]["id"]
    cert_id = upload(api, leaf())["result"]["id"]
    assert api.delete(api.zone(CERTS + "/" + cert_id))["result"]["status"] == "pending_deletion"
    assert status_of(api, cert_id) == "pending_deletion"
    watch(lambda: api.get(api.zone(CERTS + "/" + cert_id), expect=None).get("success"), lambda ok: ok is False)
    assert codes(api.get(api.zone(CERTS + "/" + cert_id), expect=404)) == [1005]
    assert [c["id"] for c in api.get(api.zone(CERTS))["result"]] == [kept]
    assert codes(api.delete(api.zone(CERTS + "/" + "0" * 32), expect=404)) == [1005]


def test_the_setting_is_off_until_put_and_certificates_answer_it(api, leaf):
    cert_id = upload(api, leaf())["result"]["id"]
    assert api.get(api.zone(SETTINGS))["result"] == {"enabled": False}
    assert api.put(api.zone(SETTINGS), {"enabled": True})["result"] == {"enabled": True}
    assert api.get(api.zone(SETTINGS))["result"] == {"enabled": True}
    assert api.get(api.zone(CERTS + "/" + cert_id))["result"]["enabled"] is True
    assert api.put(api.zone(SETTINGS), {"enabled": False})["result"] == {"enabled": False}
    assert [c["enabled"] for c in api.get(api.zone(CERTS))["result"]] == [False]
    for body in ({}, {"enabled": "yes"}, {"enabled": None}, ["enabled"]):
        assert codes(api.put(api.zone(SETTINGS), body, expect=400)) == [1004]
    assert api.get(api.zone(SETTINGS))["result"] == {"enabled": False}


def test_an_upload_needs_a_matching_key_and_a_current_certificate(api, leaf):
    cert, other = leaf(), leaf()
    assert codes(api.post(api.zone(CERTS), {"certificate": cert.cert_pem}, expect=400)) == [1004]
    assert codes(api.post(api.zone(CERTS), {"private_key": cert.key_pem}, expect=400)) == [1004]
    assert codes(api.post(api.zone(CERTS), {"certificate": cert.cert_pem, "private_key": other.key_pem}, expect=400)) == [1403]
    assert codes(upload(api, leaf(days=-1, not_before_days=-30), expect=400)) == [1404]
    assert api.get(api.zone(CERTS))["result"] == []


def test_token_and_global_key_are_accepted_and_the_origin_ca_key_is_not(emulator, leaf):
    upload(Api(emulator), leaf())
    Api(emulator, {"X-Auth-Email": emulator.api_email, "X-Auth-Key": emulator.api_key}).get(Api(emulator).zone(CERTS))
    by_service_key = Api(emulator, {"X-Auth-User-Service-Key": emulator.service_key})
    assert codes(by_service_key.get(by_service_key.zone(CERTS), expect=400)) == [9106, 9107]
    readonly = Api(emulator, {"Authorization": "Bearer " + emulator.readonly_token})
    assert codes(readonly.put(readonly.zone(SETTINGS), {"enabled": True}, expect=403)) == [10000]


def test_literal_paths_beside_the_certificate_id(emulator, api, leaf):
    # .../hostnames stays the per-hostname association list and .../settings the setting, not certificate ids.
    cert_id = upload(api, leaf())["result"]["id"]
    associations = api.get(api.zone(CERTS + "/hostnames"))
    assert associations["result"] == [] and associations["result_info"]["per_page"] == 50
    assert api.get(api.zone(SETTINGS))["result"] == {"enabled": False}
    assert api.get(api.zone(CERTS + "/" + cert_id))["result"]["id"] == cert_id
    assert codes(api.call("PATCH", api.zone(CERTS + "/" + cert_id), expect=405)) == [7001]
    assert api.get(api.zone("origin_tls_client_auth/hostnames/certificates"))["result"] == []


def test_each_zone_has_its_own_certificates_and_setting(emulator, api, leaf):
    other = emulator.state.add_zone("example.org").id
    upload(api, leaf())
    api.put(api.zone(SETTINGS), {"enabled": True})
    assert api.get("zones/%s/%s" % (other, CERTS))["result"] == []
    assert api.get("zones/%s/%s" % (other, SETTINGS))["result"] == {"enabled": False}


def test_the_journal_never_holds_the_key(emulator, api, leaf):
    cert = leaf()
    upload(api, cert)
    entry = emulator.journal()[0]
    assert entry["request_body"] == {"certificate": cert.cert_pem, "private_key": "<redacted>"}
    assert "PRIVATE KEY" not in json.dumps(emulator.journal())


def presented(emu, hostname="app.example.com"):
    served = emu.history.served_client_cert(hostname)
    return served.source, served.fingerprint_sha256


def test_what_is_presented_to_the_origin_association_then_zone_then_cloudflare(emulator_factory, leaf):
    emu = emulator_factory(delay=0.1)
    api = Api(emu)
    assert presented(emu) == ("none", None)  # the setting is off: nothing presented
    api.put(api.zone(SETTINGS), {"enabled": True})
    assert presented(emu) == ("cloudflare", None)  # on, no zone certificate: Cloudflare's own
    zone_cert = leaf(["origin-pull.example.com"])
    zone_id = upload(api, zone_cert)["result"]["id"]
    assert presented(emu)[0] == "cloudflare"  # still pending_deployment
    watch(lambda: status_of(api, zone_id), lambda s: s == "active")
    assert presented(emu) == ("zone", zone_cert.fingerprint_sha256)
    assert presented(emu, "other.example.com") == ("zone", zone_cert.fingerprint_sha256)
    assert presented(emu, "app.example.org") == ("none", None)  # another zone
    # a hostname's own (per-hostname) certificate comes first
    host_cert = leaf(["app.example.com"])
    client = api.post(api.zone("origin_tls_client_auth/hostnames/certificates"), {"certificate": host_cert.cert_pem, "private_key": host_cert.key_pem})
    client_id = client["result"]["id"]
    watch(lambda: api.get(api.zone("origin_tls_client_auth/hostnames/certificates/" + client_id))["result"]["status"], lambda s: s == "active")
    api.put(api.zone("origin_tls_client_auth/hostnames"), {"config": [{"hostname": "app.example.com", "cert_id": client_id, "enabled": True}]})
    watch(lambda: presented(emu)[0], lambda source: source == "association")
    assert presented(emu) == ("association", host_cert.fingerprint_sha256)
    assert presented(emu, "other.example.com") == ("zone", zone_cert.fingerprint_sha256)
    api.put(api.zone(SETTINGS), {"enabled": False})
    assert presented(emu, "other.example.com") == ("none", None)
    assert emu.history.violations() == []


def test_new_before_old_keeps_the_history_valid_and_old_first_does_not(emulator_factory, leaf):
    emu = emulator_factory(delay=0.1)
    api = Api(emu)
    old_id = upload(api, leaf(["origin-pull.example.com"]))["result"]["id"]
    watch(lambda: status_of(api, old_id), lambda s: s == "active")
    api.put(api.zone(SETTINGS), {"enabled": True})
    new_id = upload(api, leaf(["origin-pull.example.com"]))["result"]["id"]
    watch(lambda: status_of(api, new_id), lambda s: s == "active")
    api.delete(api.zone(CERTS + "/" + old_id))
    assert emu.history.violations() == []
    assert [s["cert_id"] for s in emu.history.segments(kind="zone_client")] == [old_id, new_id]
    # old first: the zone presents nothing of its own while the new one deploys
    api.delete(api.zone(CERTS + "/" + new_id))
    newest = upload(api, leaf(["origin-pull.example.com"]))["result"]["id"]
    watch(lambda: status_of(api, newest), lambda s: s == "active")
    problems = emu.history.violations()
    assert len(problems) == 1 and problems[0].startswith("zone example.com from ")
    assert problems[0].endswith("authenticated origin pulls on without an active zone client certificate")
