"""custom_hostname_cert_info against the emulator: bulk listing over several pages, filters, the view."""

from __future__ import annotations

import json

from emulator.testcerts import make_ca, make_leaf

MOD = "certops.cloudflare.custom_hostname_cert_info"
COUNT = 120  # more than two pages of 50


def seed_many(emulator):
    """120 hostnames: every 10th has a certificate expiring in 10 days, every 10th+1 one in 80 days, some none,
    two stuck in validation_timed_out."""
    ca = make_ca("Info CA")
    names = []
    for index in range(COUNT):
        name = "host%03d.customer.com" % index
        spec = {}
        if index % 10 == 0:
            spec["certificates"] = [{"certificate": make_leaf(ca, [name], days=10).chain_pem}]
        elif index % 10 == 1:
            spec["certificates"] = [{"certificate": make_leaf(ca, [name], days=80).chain_pem}]
        elif index in (5, 6):
            spec["ssl"] = {"status": "validation_timed_out"}
        emulator.state.add_custom_hostname(emulator.zone_id, name, **spec)
        names.append(name)
    return names


def lists(emulator):
    return [e for e in emulator.journal() if e["method"] == "GET" and e["path"].endswith("/custom_hostnames")]


def test_lists_every_page_at_the_largest_page_size(ansible, emulator):
    names = seed_many(emulator)
    result = ansible.run_module(MOD, {"zone_id": emulator.zone_id})
    assert not result.failed and not result.changed, result.msg
    hostnames = result.result["custom_hostnames"]
    assert [h["hostname"] for h in hostnames] == sorted(names)
    calls = lists(emulator)
    assert [(c["query"]["page"], c["query"]["per_page"]) for c in calls] == [("1", "50"), ("2", "50"), ("3", "50")]
    assert len(emulator.journal()) == 3 and emulator.counts()["writes"] == 0
    with_cert = next(h for h in hostnames if h["hostname"] == "host010.customer.com")
    assert set(with_cert) == {
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
    assert set(with_cert["ssl"]) == {
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
        "certificates",
    }
    (cert,) = with_cert["ssl"]["certificates"]
    assert cert["key_type"] == "ecdsa" and cert["issuer"] == "Info CA" and cert["id"] and len(cert["fingerprint_sha256"]) == 64
    assert 9 <= cert["days_remaining"] <= 10 and cert["hosts"] == ["host010.customer.com"]
    assert next(h for h in hostnames if h["hostname"] == "host002.customer.com")["ssl"]["certificates"] == []
    assert "BEGIN" not in json.dumps(result.result)


def test_filters(ansible, emulator):
    seed_many(emulator)
    zone = {"zone_id": emulator.zone_id}
    tasks = [
        {"name": "one hostname", MOD: dict(zone, hostname="HOST011.customer.com.")},
        {"name": "an unknown hostname", MOD: dict(zone, hostname="nope.customer.com")},
        {"name": "a list", MOD: dict(zone, hostnames=["host003.customer.com", "host100.customer.com", "nope.customer.com"])},
        {"name": "expiring within 30 days", MOD: dict(zone, expiring_within_days=30)},
        {"name": "expiring within 30 days, in a list", MOD: dict(zone, expiring_within_days=30, hostnames=["host010.customer.com", "host011.customer.com"])},
        {"name": "ssl status", MOD: dict(zone, ssl_status=["validation_timed_out"])},
        {"name": "status", MOD: dict(zone, status=["active"], hostnames=["host001.customer.com"])},
        {"name": "by zone name", MOD: {"zone": "example.com", "hostname": "host000.customer.com"}},
    ]
    run = ansible.run_tasks(tasks)
    assert len(run.results) == len(tasks) and all(r["status"] == "ok" for r in run.results), run.output
    found = [[h["hostname"] for h in r["result"]["custom_hostnames"]] for r in run.results]
    assert found[0] == ["host011.customer.com"]
    assert found[1] == []
    assert found[2] == ["host003.customer.com", "host100.customer.com"]
    assert found[3] == ["host%03d.customer.com" % i for i in range(0, COUNT, 10)]
    assert found[4] == ["host010.customer.com"]
    assert found[5] == ["host005.customer.com", "host006.customer.com"]
    # The stuck ones come with what their owner needs to fix validation (issue 11): the records and the CA's errors.
    stuck = run.results[5]["result"]["custom_hostnames"][0]["ssl"]
    assert stuck["status"] == "validation_timed_out" and stuck["validation_records"][0]["http_url"] and stuck["validation_errors"][0]["message"]
    assert stuck["dcv_delegation_records"][0]["cname"] == "_acme-challenge.host005.customer.com" and stuck["certificates"] == []
    assert found[6] == ["host001.customer.com"]
    assert found[7] == ["host000.customer.com"]
    # `hostname` is one call with the API's filter; lists are read in bulk (3 calls each).
    calls = lists(emulator)
    assert [c["query"] for c in calls[:2]] == [{"hostname": "host011.customer.com"}, {"hostname": "nope.customer.com"}]
    assert len(calls) == 2 + 5 * 3 + 1
    assert emulator.counts()["writes"] == 0


def test_unknown_zone_fails_clearly(ansible, emulator):
    result = ansible.run_module(MOD, {"zone_id": "f" * 32})
    assert result.failed and "zone %s was not found or these credentials cannot read it" % ("f" * 32) in result.msg
    assert "Traceback" not in result.output
