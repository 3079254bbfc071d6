"""Zone custom certificates: upload, validation, PATCH in place, delete, list limits and priority."""

from __future__ import annotations

import json

import pytest

from emulator.certs import parse_iso

from .conftest import Api, codes, watch

CERTS = "custom_certificates"


def upload(api, cert, expect=200, **options):
    return api.post(api.zone(CERTS), dict(options, certificate=cert.chain_pem, private_key=cert.key_pem), expect=expect)


def ids(api, **params):
    return [c["id"] for c in api.get(api.zone(CERTS), **params)["result"]]


def test_upload_answers_the_certificate_and_it_becomes_active(emulator_factory, leaf):
    api = Api(emulator_factory(delay=0.1))
    cert = leaf(["example.com", "www.example.com"])
    result = upload(api, cert, type="sni_custom", bundle_method="force", geo_restrictions={"label": "eu"}, policy="(country: US)")["result"]
    assert result["zone_id"] == api.emu.zone_id and "type" not in result and result["bundle_method"] == "force"  # the document has no `type`
    assert result["geo_restrictions"] == {"label": "eu"} and result["policy_restrictions"] == "(country: US)" and "policy" not in result
    assert result["hosts"] == ["example.com", "www.example.com"] and result["priority"] == 20 and result["status"] == "pending"
    assert "private_key" not in json.dumps(result) and "PRIVATE KEY" not in json.dumps(result)
    watch(lambda: api.get(api.zone(CERTS + "/" + result["id"]))["result"]["status"], lambda s: s == "active")
    defaults = upload(api, leaf())["result"]
    assert defaults["bundle_method"] == "ubiquitous" and "geo_restrictions" not in defaults
    assert {c["id"]: c["type"] for c in api.emu.dump_state()["zones"][0]["custom_certificates"]} == {
        result["id"]: "sni_custom",
        defaults["id"]: "legacy_custom",
    }


@pytest.mark.parametrize(
    "options",
    [
        {"type": "custom"},
        {"bundle_method": "best"},
        {"geo_restrictions": {"label": "mars"}},
        {"geo_restrictions": "us"},
        {"policy": 5},
    ],
)
def test_invalid_uploads_are_refused(api, leaf, options):
    assert codes(upload(api, leaf(), expect=400, **options)) == [1004]


def test_upload_needs_certificate_and_private_key(api, leaf):
    assert codes(api.post(api.zone(CERTS), {"certificate": leaf().cert_pem}, expect=400)) == [1004]


def test_patch_edits_in_place(api, leaf):
    old = leaf(["example.com"])
    original = upload(api, old)["result"]
    new = leaf(["example.com", "www.example.com"])
    patched = api.patch(api.zone(CERTS + "/" + original["id"]), {"certificate": new.chain_pem, "private_key": new.key_pem, "bundle_method": "optimal"})[
        "result"
    ]
    assert patched["id"] == original["id"] and patched["hosts"] == ["example.com", "www.example.com"] and patched["bundle_method"] == "optimal"
    assert patched["uploaded_on"] == original["uploaded_on"] and parse_iso(patched["modified_on"]) > parse_iso(original["modified_on"])
    assert ids(api) == [original["id"]]
    policy = api.patch(api.zone(CERTS + "/" + original["id"]), {"policy": "(region: EU)"})["result"]
    assert policy["policy_restrictions"] == "(region: EU)" and policy["hosts"] == ["example.com", "www.example.com"]


def test_patch_of_an_sni_custom_certificate_returns_a_new_id_and_deletes_the_old_one(api, leaf):
    # The document's PATCH description: "PATCHing a configuration for sni_custom certificates will result in a new
    # resource id being returned, and the previous one being deleted." The new one's priority is a guess (the default).
    original = upload(api, leaf(["sni.example.com"]), type="sni_custom")["result"]
    api.put(api.zone(CERTS + "/prioritize"), {"certificates": [{"id": original["id"], "priority": 3}]})
    new = leaf(["sni.example.com"])
    patched = api.patch(api.zone(CERTS + "/" + original["id"]), {"certificate": new.chain_pem, "private_key": new.key_pem})["result"]
    assert patched["id"] != original["id"] and patched["priority"] == 20 and patched["status"] == "pending"
    api.get(api.zone(CERTS + "/" + original["id"]), expect=404)
    assert ids(api) == [patched["id"]]
    again = api.patch(api.zone(CERTS + "/" + patched["id"]), {"bundle_method": "optimal"})["result"]  # any PATCH, options too
    assert again["id"] not in (original["id"], patched["id"]) and ids(api) == [again["id"]]


def test_patch_certificate_without_key_must_reuse_the_stored_key(api, leaf):
    first = leaf()
    original = upload(api, first)["result"]
    assert codes(api.patch(api.zone(CERTS + "/" + original["id"]), {"certificate": leaf().cert_pem}, expect=400)) == [1403]
    renewed = leaf(key=first.key)
    assert api.patch(api.zone(CERTS + "/" + original["id"]), {"certificate": renewed.cert_pem})["result"]["expires_on"]
    assert codes(api.patch(api.zone(CERTS + "/" + original["id"]), {"private_key": leaf().key_pem}, expect=400)) == [1403]


def test_patch_refuses_a_type_change(api, leaf):
    original = upload(api, leaf())["result"]
    assert codes(api.patch(api.zone(CERTS + "/" + original["id"]), {"type": "sni_custom"}, expect=400)) == [1004]
    api.patch(api.zone(CERTS + "/" + original["id"]), {"type": "legacy_custom"})


def test_delete(api, leaf):
    original = upload(api, leaf())["result"]
    assert api.delete(api.zone(CERTS + "/" + original["id"]))["result"] == {"id": original["id"]}
    api.get(api.zone(CERTS + "/" + original["id"]), expect=404)
    assert ids(api) == []


def test_list_limits_and_status_filter(api, leaf):
    assert codes(api.get(api.zone(CERTS), per_page=4, expect=400)) == [1004]
    assert codes(api.get(api.zone(CERTS), per_page=51, expect=400)) == [1004]
    assert codes(api.get(api.zone(CERTS), status="gone", expect=400)) == [1004]
    for i in range(6):
        upload(api, leaf(["h%d.example.com" % i]))
    paged = api.get(api.zone(CERTS), per_page=5, page=2)
    assert paged["result_info"] == {"page": 2, "per_page": 5, "count": 1, "total_count": 6, "total_pages": 2}
    assert len(api.get(api.zone(CERTS), status="expired")["result"]) == 0


def test_priority_lower_first_and_legacy_before_sni(api, leaf):
    sni = upload(api, leaf(["a.example.com"]), type="sni_custom")["result"]["id"]
    legacy_a = upload(api, leaf(["b.example.com"]))["result"]["id"]
    legacy_b = upload(api, leaf(["c.example.com"]))["result"]["id"]
    assert ids(api) == [legacy_a, legacy_b, sni]  # equal priority: older first
    answer = api.put(api.zone(CERTS + "/prioritize"), {"certificates": [{"id": legacy_b, "priority": 1}, {"id": sni, "priority": 0}]})
    assert [c["id"] for c in answer["result"]] == [legacy_b, legacy_a, sni] and answer["result_info"]["count"] == 3
    priorities = {c["id"]: c["priority"] for c in answer["result"]}
    assert priorities == {legacy_b: 1, legacy_a: 20, sni: 0}  # certificates not named keep their priority
    assert ids(api) == [legacy_b, legacy_a, sni]


def test_prioritize_validation(api, leaf):
    cert_id = upload(api, leaf())["result"]["id"]
    assert codes(api.put(api.zone(CERTS + "/prioritize"), {"certificates": [{"id": "0" * 32, "priority": 1}]}, expect=404)) == [1005]
    assert codes(api.put(api.zone(CERTS + "/prioritize"), {"certificates": [{"id": cert_id, "priority": "1"}]}, expect=400)) == [1004]
    assert codes(api.put(api.zone(CERTS + "/prioritize"), {}, expect=400)) == [1004]
    for item in ({"id": None, "priority": 1}, {"id": cert_id, "priority": None}, {"id": 5}, {"priority": "1"}):  # optional, but typed
        assert codes(api.put(api.zone(CERTS + "/prioritize"), {"certificates": [item]}, expect=400)) == [1004], item
    assert codes(api.put(api.zone(CERTS + "/prioritize"), {"certificates": [{"id": "0" * 32}]}, expect=404)) == [1005]


def test_prioritize_items_without_id_or_priority(api, leaf):
    # Both are optional in the document and the official Python SDK: an item without `id` is ignored, one without
    # `priority` leaves the certificate's priority as it is (both unverified against the live API).
    first = upload(api, leaf(["a.example.com"]))["result"]["id"]
    second = upload(api, leaf(["b.example.com"]))["result"]["id"]
    api.put(api.zone(CERTS + "/prioritize"), {"certificates": [{"id": first, "priority": 5}]})
    items = [{"priority": 1}, {"id": first}, {}, {"id": second, "priority": 3}]
    answer = api.put(api.zone(CERTS + "/prioritize"), {"certificates": items})["result"]
    assert {c["id"]: c["priority"] for c in answer} == {first: 5, second: 3} and [c["id"] for c in answer] == [second, first]
    for items in ([{"priority": 0}], []):  # nothing named: nothing changes, the list is answered
        again = api.put(api.zone(CERTS + "/prioritize"), {"certificates": items})["result"]
        assert [(c["id"], c["priority"]) for c in again] == [(second, 3), (first, 5)]
