"""The audit in the plan: what is due with no new material, the expiry buckets and what is not active, over every
discovered object. Discovered state is built here; the few new certificates are minted from a CA made at import, so
its root is in the trusted bundle (tests/unit/plugins/conftest.py)."""

from __future__ import annotations


from cryptography.x509.oid import ExtendedKeyUsageOID

from ansible_collections.certops.cloudflare.plugins.module_utils._pem import cloudflare_issuer, isoformat
from ansible_collections.certops.cloudflare.plugins.module_utils._rotation.plan import plan_rotation
from ansible_collections.certops.cloudflare.plugins.modules import rotation_plan
from emulator.testcerts import make_ca, make_leaf
from planning import NOW, at, files

CA = make_ca("Audit Root CA")
STRANGER = make_ca("Audit Unknown CA", trusted=False)
NAME = "shop.example.com"
NEW_HOST = make_leaf(CA, [NAME], days=90)
NEW_CLIENT = make_leaf(CA, ["origin.example.com"], days=90)
NEW_ZONE = make_leaf(CA, ["example.com", "www.example.com"], days=90)


def cert(days: float, cid: str = "c1", key_type: str = "ecdsa") -> dict:
    """A served custom certificate as custom_hostname_cert_info shows it."""
    return {"id": cid, "key_type": key_type, "serial_number": "7%s" % cid, "fingerprint_sha256": "ab" + cid, "expires_on": at(days), "issuer": "Some CA"}


def hostname(name: str, *certs: dict, ssl_status: str = "active") -> dict:
    return {"id": "h-" + name, "hostname": name, "status": "active", "ssl": {"status": ssl_status, "certificates": list(certs)}}


def client(cid: str, days: float, *hostnames: str, status: str = "active") -> dict:
    return {
        "id": cid,
        "status": status,
        "hosts": ["origin.example.com"],
        "expires_on": at(days),
        "not_before": at(days - 365),
        "hostnames": [{"hostname": h, "enabled": True, "status": "active"} for h in hostnames],
    }


def zone(cid: str, days: float, hosts=("example.com", "www.example.com"), status: str = "active") -> dict:
    return {"id": cid, "status": status, "hosts": list(hosts), "expires_on": at(days), "uploaded_on": at(days - 365), "priority": 1, "issuer": "x"}


def pack(pid: str, status: str) -> dict:
    return {"id": pid, "status": status, "hosts": ["example.com", "*.example.com"], "certificates": []}


def audit(discovered: dict, **params) -> dict:
    return plan_rotation(dict({"discovered": discovered}, **params), now=NOW)


def due_names(out: dict) -> list:
    return [(d["kind"], d["name"]) for d in out["plan"]["due_without_material"]]


# -- due without material ------------------------------------------------------------------------------------------------


def test_a_due_hostname_without_material_is_listed_with_its_expiry():
    host = hostname(NAME, cert(40, "late"), cert(10, "soon"))
    out = audit({"custom_hostnames": [host]})
    assert out["plan"]["due_without_material"] == [{"kind": "custom_hostname", "name": NAME, "id": "h-" + NAME, "expires_on": at(10), "hosts": [NAME]}]


def test_a_due_hostname_gets_a_plan_object_with_action_due_and_its_reason():
    out = audit({"custom_hostnames": [hostname(NAME, cert(10))]})
    (obj,) = out["plan"]["objects"]
    assert (obj["action"], obj["reason"], obj["id"]) == ("due", "due, no new material: expires on %s" % at(10), "h-" + NAME)


def test_the_due_object_shows_the_served_certificate_as_old():
    out = audit({"custom_hostnames": [hostname(NAME, cert(10, "soon"), cert(40, "late"))]})
    assert out["plan"]["objects"][0]["old"] == {"serial_number": "7soon", "fingerprint_sha256": "absoon", "expires_on": at(10)}


def test_a_hostname_not_due_is_not_listed():
    out = audit({"custom_hostnames": [hostname(NAME, cert(60))]})
    assert out["plan"]["due_without_material"] == []


def test_force_does_not_make_a_hostname_without_material_due():
    out = audit({"custom_hostnames": [hostname(NAME, cert(60))]}, force=True)
    assert out["plan"]["due_without_material"] == []


def test_the_percentage_window_decides_too():
    served = dict(cert(10), not_before=at(-5))  # 15-day lifetime, two thirds left
    out = audit({"custom_hostnames": [hostname(NAME, served)]}, renew_before_percentage=33)
    assert out["plan"]["due_without_material"] == []


def test_a_managed_hostname_is_never_due_without_material():
    out = audit({"custom_hostnames": [hostname(NAME)]})
    assert out["plan"]["due_without_material"] == []


def test_a_hostname_with_material_is_not_listed(tmp_path):
    item = {"hostname": NAME.upper(), "certificates": [files(tmp_path, "host", NEW_HOST)]}
    out = audit({"custom_hostnames": [hostname(NAME, cert(10))]}, custom_hostnames=[item])
    assert out["plan"]["due_without_material"] == []


def test_a_hostname_with_material_has_its_own_plan_row_instead(tmp_path):
    item = {"hostname": NAME, "certificates": [files(tmp_path, "host", NEW_HOST)]}
    out = audit({"custom_hostnames": [hostname(NAME, cert(10))]}, custom_hostnames=[item])
    assert [o["action"] for o in out["plan"]["objects"]] == ["rotate"]


def test_an_expired_certificate_says_expired():
    out = audit({"custom_hostnames": [hostname(NAME, cert(-2))]})
    assert out["plan"]["objects"][0]["reason"] == "expired on %s, no new material" % at(-2)


def test_a_used_due_client_certificate_without_material_is_listed():
    out = audit({"hostname_client_certs": [client("c9", 10, "app.example.com")]})
    assert out["plan"]["due_without_material"] == [
        {"kind": "client_cert", "name": "origin.example.com", "id": "c9", "expires_on": at(10), "hosts": ["origin.example.com"]}
    ]


def test_an_unused_due_client_certificate_is_not_listed():
    out = audit({"hostname_client_certs": [client("c9", 10)]})
    assert out["plan"]["due_without_material"] == []


def test_a_client_certificate_with_only_a_disabled_association_is_not_listed():
    cert_ = client("c9", 10, "app.example.com")
    cert_["hostnames"][0]["enabled"] = False
    assert audit({"hostname_client_certs": [cert_]})["plan"]["due_without_material"] == []


def test_an_ended_client_certificate_is_not_listed():
    out = audit({"hostname_client_certs": [client("c9", 10, "app.example.com", status="pending_deletion")]})
    assert out["plan"]["due_without_material"] == []


def test_a_client_certificate_this_plan_replaces_is_not_listed(tmp_path):
    item = dict(files(tmp_path, "client", NEW_CLIENT), hostnames=["app.example.com"])
    out = audit({"hostname_client_certs": [client("c9", 10, "app.example.com")]}, client_certs=[item])
    assert out["plan"]["due_without_material"] == []


def test_a_client_certificate_whose_other_hostname_gets_no_material_is_listed(tmp_path):
    item = dict(files(tmp_path, "client", NEW_CLIENT), hostnames=["app.example.com"])
    out = audit({"hostname_client_certs": [client("c9", 10, "app.example.com", "other.example.com")]}, client_certs=[item])
    assert due_names(out) == [("client_cert", "origin.example.com")]


def test_a_client_certificate_whose_new_material_has_problems_is_not_listed(tmp_path):
    server_only = make_leaf(CA, ["origin.example.com"], usages=[ExtendedKeyUsageOID.SERVER_AUTH])
    item = dict(files(tmp_path, "client", server_only), hostnames=["app.example.com"])
    out = audit({"hostname_client_certs": [client("c9", 10, "app.example.com")]}, client_certs=[item])
    assert out["plan"]["due_without_material"] == []


def test_the_client_certificate_of_the_new_material_is_not_listed(tmp_path):
    item = dict(files(tmp_path, "client", NEW_CLIENT), hostnames=["app.example.com"])
    there = dict(client("new", 90, "other.example.com"), fingerprint_sha256=NEW_CLIENT.fingerprint_sha256)  # associated by hand elsewhere
    out = audit({"hostname_client_certs": [there]}, client_certs=[item], renew_before_days=100)
    assert out["plan"]["due_without_material"] == []


def test_a_due_zone_certificate_not_targeted_is_listed():
    out = audit({"custom_certs": [zone("z1", 10)]})
    assert out["plan"]["due_without_material"] == [
        {"kind": "zone_cert", "name": "example.com, www.example.com", "id": "z1", "expires_on": at(10), "hosts": ["example.com", "www.example.com"]}
    ]


def test_a_zone_certificate_a_given_entry_targets_is_not_listed(tmp_path):
    out = audit({"custom_certs": [zone("z1", 10)]}, zone_certs=[files(tmp_path, "zone", NEW_ZONE)])
    assert out["plan"]["due_without_material"] == []


def test_a_zone_certificate_named_by_replaces_is_not_listed(tmp_path):
    item = dict(files(tmp_path, "zone", NEW_ZONE), replaces="z2")
    out = audit({"custom_certs": [zone("z1", 60), zone("z2", 10, hosts=["example.com"])]}, zone_certs=[item])
    assert out["plan"]["due_without_material"] == []


def test_a_zone_certificate_named_by_an_entry_whose_material_has_problems_is_not_listed(tmp_path):
    item = dict(files(tmp_path, "zone", make_leaf(STRANGER, ["example.com"])), replaces="z1")
    out = audit({"custom_certs": [zone("z1", 10)]}, zone_certs=[item])
    assert out["plan"]["due_without_material"] == []


def test_a_zone_certificate_that_is_the_new_material_is_not_listed(tmp_path):
    item = dict(files(tmp_path, "zone", NEW_ZONE), replaces="z2")
    uploaded = dict(zone("z5", 0), expires_on=isoformat(NEW_ZONE.cert.not_valid_after_utc), issuer=cloudflare_issuer(NEW_ZONE.cert))
    out = audit({"custom_certs": [zone("z2", 10, hosts=["example.com"]), uploaded]}, zone_certs=[item], renew_before_days=100)
    assert out["plan"]["due_without_material"] == []


def test_a_zone_certificate_an_earlier_run_replaced_is_not_listed():
    out = audit({"custom_certs": [zone("z1", 10)]}, replaced=[{"kind": "zone_cert", "id": "z1"}], retire_replaced=False)
    assert out["plan"]["due_without_material"] == []


def test_a_zone_certificate_listed_in_retire_is_not_listed():
    out = audit({"custom_certs": [zone("z1", 10)]}, retire=["z1"])
    assert out["plan"]["due_without_material"] == []


def test_a_client_certificate_an_earlier_run_replaced_still_used_is_listed():
    out = audit({"hostname_client_certs": [client("c9", 10, "app.example.com")]}, replaced=[{"kind": "client_cert", "id": "c9"}])
    assert due_names(out) == [("client_cert", "origin.example.com")]


def test_another_due_zone_certificate_is_listed_beside_a_targeted_one(tmp_path):
    out = audit({"custom_certs": [zone("z1", 10), zone("z2", 10, hosts=["api.example.com"])]}, zone_certs=[files(tmp_path, "zone", NEW_ZONE)])
    assert [d["id"] for d in out["plan"]["due_without_material"]] == ["z2"]


def test_a_due_object_is_not_a_change():
    out = audit({"custom_hostnames": [hostname(NAME, cert(10))], "custom_certs": [zone("z1", 10)]})
    assert out["plan"]["changes"] == []


# -- buckets and not active ----------------------------------------------------------------------------------------------


def test_buckets_are_counted_per_kind():
    discovered = {
        "custom_hostnames": [hostname("a.example.com", cert(-1, "r", "rsa"), cert(3, "e")), hostname("b.example.com", cert(20)), hostname(NAME)],
        "hostname_client_certs": [client("c1", 60), client("c2", 200, "app.example.com"), client("c3", 1, status="deleted")],
        "custom_certs": [zone("z1", 100), zone("z2", 89)],
    }
    assert audit(discovered)["plan"]["audit"]["buckets"] == {
        "custom_hostname": {"expired": 1, "under_7": 1, "under_30": 1, "under_90": 0, "later": 0},
        "client_cert": {"expired": 0, "under_7": 0, "under_30": 0, "under_90": 1, "later": 1},
        "zone_cert": {"expired": 0, "under_7": 0, "under_30": 0, "under_90": 1, "later": 1},
    }


def test_an_unknown_expiry_is_not_counted():
    out = audit({"custom_certs": [dict(zone("z1", 10), expires_on=None)]})
    assert sum(out["plan"]["audit"]["buckets"]["zone_cert"].values()) == 0


def test_objects_with_material_count_in_the_buckets(tmp_path):
    item = {"hostname": NAME, "certificates": [files(tmp_path, "host", NEW_HOST)]}
    out = audit({"custom_hostnames": [hostname(NAME, cert(10))]}, custom_hostnames=[item])
    assert out["plan"]["audit"]["buckets"]["custom_hostname"]["under_30"] == 1


def test_a_kind_not_discovered_is_absent_from_the_buckets():
    out = audit({"custom_hostnames": [], "custom_certs": []})
    assert sorted(out["plan"]["audit"]["buckets"]) == ["custom_hostname", "zone_cert"]


def test_a_non_active_pack_and_a_timed_out_managed_hostname_are_not_active():
    discovered = {
        "custom_hostnames": [hostname(NAME, ssl_status="validation_timed_out"), hostname("ok.example.com")],
        "cert_packs": [pack("p1", "active"), pack("p2", "pending_validation"), pack("p3", "deleted")],
    }
    assert audit(discovered)["plan"]["audit"]["not_active"] == [
        {"kind": "managed_hostname", "name": NAME, "id": "h-" + NAME, "status": "validation_timed_out"},
        {"kind": "cert_pack", "name": "*.example.com, example.com", "id": "p2", "status": "pending_validation"},
    ]


def test_a_hostname_serving_a_custom_certificate_is_not_active_as_a_custom_hostname():
    out = audit({"custom_hostnames": [hostname(NAME, cert(60), ssl_status="pending_deployment")]})
    assert [n["kind"] for n in out["plan"]["audit"]["not_active"]] == ["custom_hostname"]


def test_the_audit_counts_what_is_due():
    out = audit({"custom_hostnames": [hostname(NAME, cert(10))], "hostname_client_certs": [client("c9", 10, "app.example.com")]})
    assert out["plan"]["audit"]["due_without_material_count"] == 2


# -- an audit run --------------------------------------------------------------------------------------------------------

ZONE_STATE = {
    "custom_hostnames": [hostname(NAME, cert(10)), hostname("fresh.example.com", cert(60)), hostname("managed.example.com")],
    "hostname_client_certs": [client("c9", 5, "app.example.com"), client("standby", 5)],
    "custom_certs": [zone("z1", -1)],
    "cert_packs": [pack("p1", "active")],
}


def test_an_audit_plan_without_material_has_no_problem():
    assert audit(ZONE_STATE)["problems"] == []


def test_an_audit_plan_counts_due_in_the_summary():
    assert audit(ZONE_STATE)["summary"]["due"] == 3


def test_an_audit_plan_counts_the_due_list():
    assert audit(ZONE_STATE)["plan"]["counts"]["due_without_material"] == 3


def test_with_dest_the_returned_due_list_is_trimmed_to_the_first_100():
    hosts = [hostname("h%03d.example.com" % i, cert(10)) for i in range(150)]
    out = audit({"custom_hostnames": hosts})
    rotation_plan.trim(out["plan"])
    assert (len(out["plan"]["due_without_material"]), out["plan"]["counts"]["due_without_material"]) == (100, 150)
