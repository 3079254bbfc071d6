"""Per-hostname authenticated origin pulls: certificates, quota, associations and their statuses."""

from __future__ import annotations

import json

import pytest

from .conftest import Api, codes, watch

CERTS = "origin_tls_client_auth/hostnames/certificates"
HOSTNAMES = "origin_tls_client_auth/hostnames"


def upload(api, cert, expect=200):
    return api.post(api.zone(CERTS), {"certificate": cert.cert_pem, "private_key": cert.key_pem}, expect=expect)


def status_of(api, cert_id):
    return api.get(api.zone(CERTS + "/" + cert_id))["result"]["status"]


def test_certificate_statuses_and_shape(emulator_factory, leaf):
    api = Api(emulator_factory(delay=0.15))
    cert = leaf(["client.example.com"])
    result = upload(api, cert)["result"]
    assert result["status"] == "initializing" and result["serial_number"] == cert.serial_number
    assert result["certificate"] == cert.cert_pem and "private_key" not in result
    assert {"id", "issuer", "signature", "expires_on", "uploaded_on"} <= set(result)
    seen = watch(lambda: status_of(api, result["id"]), lambda s: s == "active")
    assert seen[0] == "initializing" and seen[-1] == "active" and set(seen) <= {"initializing", "pending_deployment", "active"}
    listed = api.get(api.zone(CERTS))
    assert [c["id"] for c in listed["result"]] == [result["id"]] and "PRIVATE KEY" not in json.dumps(listed)


def test_eleventh_certificate_is_refused_and_pending_deletion_counts(emulator, api, leaf):
    ids = [upload(api, leaf(["c%d.example.com" % i]))["result"]["id"] for i in range(10)]
    assert codes(upload(api, leaf(["c10.example.com"]), expect=400)) == [1408]
    emulator.delay = 30  # keep the deleted one in pending_deletion
    assert api.delete(api.zone(CERTS + "/" + ids[0]))["result"]["status"] == "pending_deletion"
    assert codes(upload(api, leaf(["c10.example.com"]), expect=400)) == [1408]
    emulator.delay = 0
    upload(api, leaf(["c10.example.com"]))


def test_deleted_certificate_is_pending_deletion_then_gone(emulator_factory, leaf):
    api = Api(emulator_factory(delay=0.1))
    cert_id = upload(api, leaf())["result"]["id"]
    assert api.delete(api.zone(CERTS + "/" + cert_id))["result"]["status"] == "pending_deletion"
    assert status_of(api, cert_id) == "pending_deletion"
    watch(lambda: api.get(api.zone(CERTS + "/" + cert_id), expect=None).get("success"), lambda ok: ok is False)
    api.get(api.zone(CERTS + "/" + cert_id), expect=404)
    assert api.get(api.zone(CERTS))["result"] == []


def test_associations_enable_list_and_remove(emulator_factory, leaf):
    api = Api(emulator_factory(delay=0.1))
    cert_id = upload(api, leaf(["app.example.com"]))["result"]["id"]
    answer = api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "cert_id": cert_id, "enabled": True}]})["result"]
    assert answer[0]["hostname"] == "app.example.com" and answer[0]["cert_id"] == cert_id and answer[0]["enabled"] is True
    assert answer[0]["status"] == "pending_deployment" and answer[0]["cert_status"] in ("initializing", "pending_deployment", "active")
    assert api.get(api.zone(HOSTNAMES))["result"] == []  # the list defaults to active associations
    assert len(api.get(api.zone(HOSTNAMES), status="all")["result"]) == 1
    assert len(api.get(api.zone(HOSTNAMES), status="pending_deployment,active")["result"]) == 1
    watch(lambda: api.get(api.zone(HOSTNAMES + "/app.example.com"))["result"]["status"], lambda s: s == "active")
    assert [a["hostname"] for a in api.get(api.zone(HOSTNAMES))["result"]] == ["app.example.com"]
    removed = api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "cert_id": cert_id, "enabled": None}]})["result"][0]
    assert removed["enabled"] is None and removed["status"] == "pending_deletion"
    api.get(api.zone(HOSTNAMES + "/app.example.com"), expect=404)
    assert api.get(api.zone(HOSTNAMES), status="pending_deletion")["result"][0]["hostname"] == "app.example.com"
    watch(lambda: api.get(api.zone(HOSTNAMES), status="all")["result"], lambda r: r == [])


def test_association_list_limits(api):
    assert codes(api.get(api.zone(HOSTNAMES), per_page=1001, expect=400)) == [1004]
    assert codes(api.get(api.zone(HOSTNAMES), status="bogus", expect=400)) == [1004]
    assert api.get(api.zone(HOSTNAMES), per_page=1000)["result_info"]["per_page"] == 1000


def test_disable_keeps_the_association(emulator, api, leaf):
    cert_id = upload(api, leaf())["result"]["id"]
    api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "cert_id": cert_id, "enabled": True}]})
    answer = api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "cert_id": cert_id, "enabled": False}]})["result"][0]
    assert answer["enabled"] is False
    assert api.get(api.zone(HOSTNAMES + "/app.example.com"))["result"]["enabled"] is False


def test_certificate_in_use_cannot_be_deleted_until_invalidated(emulator, api, leaf):
    cert_id = upload(api, leaf())["result"]["id"]
    api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "cert_id": cert_id, "enabled": True}]})
    body = api.delete(api.zone(CERTS + "/" + cert_id), expect=400)
    assert codes(body) == [1409] and "app.example.com" in body["errors"][0]["message"]
    api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "enabled": None}]})
    api.delete(api.zone(CERTS + "/" + cert_id))


@pytest.mark.parametrize(
    "item, code",
    [
        ({"hostname": "app.example.com", "cert_id": "0" * 32, "enabled": True}, 1005),
        ({"hostname": "app.example.com", "enabled": True}, 1004),
        ({"cert_id": "x", "enabled": True}, 1004),
        ({"hostname": "app.example.com", "cert_id": "x"}, 1004),
        ({"hostname": "app.example.com", "cert_id": "x", "enabled": "yes"}, 1004),
    ],
)
def test_invalid_association_config_is_refused(api, item, code):
    body = api.put(api.zone(HOSTNAMES), {"config": [item]}, expect=None)
    assert codes(body) == [code]


def test_deleting_certificate_cannot_be_associated(emulator, api, leaf):
    emulator.delay = 30
    cert_id = upload(api, leaf())["result"]["id"]
    api.delete(api.zone(CERTS + "/" + cert_id))
    body = api.put(api.zone(HOSTNAMES), {"config": [{"hostname": "app.example.com", "cert_id": cert_id, "enabled": True}]}, expect=400)
    assert codes(body) == [1410]


def test_upload_needs_certificate_and_key(api, leaf):
    assert codes(api.post(api.zone(CERTS), {"certificate": leaf().cert_pem}, expect=400)) == [1004]


def put_config(api, config, expect=200):
    return api.put(api.zone(HOSTNAMES), {"config": config}, expect=expect)


def names(first, count):
    return ["h%03d.example.com" % i for i in range(first, first + count)]


def test_a_certificate_takes_100_associations_and_the_101st_is_refused(emulator, api, leaf):
    # "100 maximum associations on a single certificate are allowed." (Enable or Disable a Hostname for Client
    # Authentication); the code 1408 is a guess.
    emulator.delay = 30
    cert_id = upload(api, leaf())["result"]["id"]
    assert len(put_config(api, [{"hostname": n, "cert_id": cert_id, "enabled": True} for n in names(0, 99)])["result"]) == 99
    put_config(api, [{"hostname": "h099.example.com", "cert_id": cert_id, "enabled": False}])  # a disabled association counts too
    body = put_config(api, [{"hostname": "h100.example.com", "cert_id": cert_id, "enabled": True}], expect=400)
    assert codes(body) == [1408] and "100" in body["errors"][0]["message"] and cert_id in body["errors"][0]["message"]
    assert len(api.get(api.zone(HOSTNAMES), status="all", per_page=1000)["result"]) == 100
    api.get(api.zone(HOSTNAMES + "/h100.example.com"), expect=404)


def test_101_associations_in_one_put_are_refused_as_a_whole(emulator, api, leaf):
    cert_id = upload(api, leaf())["result"]["id"]
    body = put_config(api, [{"hostname": n, "cert_id": cert_id, "enabled": True} for n in names(0, 101)], expect=400)
    assert codes(body) == [1408]
    assert api.get(api.zone(HOSTNAMES), status="all", per_page=1000)["result"] == []


def test_the_limit_counts_after_the_put_removals_moves_and_other_certificates(emulator, api, leaf):
    emulator.delay = 30
    full, other = upload(api, leaf(["a.example.com"]))["result"]["id"], upload(api, leaf(["b.example.com"]))["result"]["id"]
    put_config(api, [{"hostname": n, "cert_id": full, "enabled": True} for n in names(0, 100)])
    # One removed and one added in the same PUT: still 100.
    put_config(api, [{"hostname": "h000.example.com", "enabled": None}, {"hostname": "h100.example.com", "cert_id": full, "enabled": True}])
    # A hostname moved away makes room; moved to another certificate, it counts there.
    put_config(api, [{"hostname": "h001.example.com", "cert_id": other, "enabled": True}, {"hostname": "h101.example.com", "cert_id": full, "enabled": True}])
    # Re-sending what the certificate already holds adds nothing; a removal in pending_deletion no longer counts.
    put_config(api, [{"hostname": "h050.example.com", "cert_id": full, "enabled": True}])
    assert codes(put_config(api, [{"hostname": "h000.example.com", "cert_id": full, "enabled": True}], expect=400)) == [1408]
    counts = {}
    for assoc in api.get(api.zone(HOSTNAMES), status="pending_deployment,active", per_page=1000)["result"]:
        counts[assoc["cert_id"]] = counts.get(assoc["cert_id"], 0) + 1
    assert counts == {full: 100, other: 1}
