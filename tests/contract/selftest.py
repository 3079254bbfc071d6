"""The emulator self-test: every one of the 38 operations through HTTP, as the collection would send them.

Requests carry the User-Agent `certops.cloudflare/selftest`, so the contract check replays them
like the collection's own. Some ask for answers that are errors (a 404 lookup, the refusal to
delete a pack's last certificate), so error bodies are checked too. The Origin CA operations go with the API token
(accepted beyond the 2024 document's security, see checker.NEWER_SCHEMES) and, once, with the Origin CA key.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

import requests

from emulator.testcerts import make_ca, make_csr, make_leaf

USER_AGENT = "certops.cloudflare/selftest"


class _Client:
    def __init__(self, emu: Any) -> None:
        self.base = "%s/zones/%s" % (emu.url, emu.zone_id)
        self.root = emu.url
        self.session = requests.Session()
        self.session.headers.update({"Authorization": "Bearer " + emu.token, "User-Agent": USER_AGENT})

    def __call__(
        self, method: str, path: str, expect: int = 200, body: Optional[Dict[str, Any]] = None, headers: Optional[Dict[str, str]] = None, **params: Any
    ) -> Any:
        url = self.root + path if path == "/zones" or path.startswith("/certificates") else self.base + path
        response = self.session.request(method, url, json=body, params=params, headers=headers, timeout=10)
        assert response.status_code == expect, "%s %s: HTTP %s %s" % (method, path, response.status_code, response.text[:1000])
        return response.json()


def exercise_all_operations(emu: Any) -> None:
    """Send every documented operation to `emu` (an empty example.com zone, delay 0)."""
    call = _Client(emu)
    ca = make_ca("Selftest CA", org="Certops Selftest")
    ecdsa, rsa = make_leaf(ca, ["app.example.com"]), make_leaf(ca, ["app.example.com"], key_type="rsa")

    # zones
    call("GET", "/zones", name="example.com", per_page=50)
    call("GET", "")

    # zone custom certificates
    zone_cert = {
        "certificate": ecdsa.chain_pem,
        "private_key": ecdsa.key_pem,
        "type": "sni_custom",
        "bundle_method": "ubiquitous",
        "geo_restrictions": {"label": "us"},
        "policy": "(country: US)",
    }
    custom_id = call("POST", "/custom_certificates", body=zone_cert)["result"]["id"]
    call("GET", "/custom_certificates", page=1, per_page=50)
    call("GET", "/custom_certificates/" + custom_id)
    # An sni_custom certificate comes back from a PATCH under a new id (the document's PATCH description).
    edit = {"bundle_method": "optimal", "certificate": ecdsa.cert_pem, "private_key": ecdsa.key_pem}
    custom_id = call("PATCH", "/custom_certificates/" + custom_id, body=edit)["result"]["id"]
    call("PUT", "/custom_certificates/prioritize", body={"certificates": [{"id": custom_id, "priority": 1}]})
    call("DELETE", "/custom_certificates/" + custom_id)

    # custom hostnames and their certificate pack
    bundle = [{"custom_certificate": c.chain_pem, "custom_key": c.key_pem} for c in (rsa, ecdsa)]
    created = call(
        "POST",
        "/custom_hostnames",
        body={"hostname": "app.example.com", "ssl": {"method": "http", "type": "dv", "bundle_method": "force", "custom_cert_bundle": bundle}},
    )
    hostname_id, pack_id = created["result"]["id"], created["result"]["ssl"]["id"]
    call("GET", "/custom_hostnames", hostname="app.example.com", page=1, per_page=50)
    call("GET", "/custom_hostnames/" + hostname_id)
    call("GET", "/custom_hostnames/" + "0" * 32, expect=404)
    # No `method`: beside custom certificates it would start the move to a Cloudflare certificate.
    ssl = {"type": "dv", "settings": {"min_tls_version": "1.2"}, "bundle_method": "ubiquitous", "wildcard": False}
    call("PATCH", "/custom_hostnames/" + hostname_id, body={"ssl": ssl, "custom_metadata": {"owner": "selftest"}})
    kinds = {ecdsa.fingerprint_sha256: "ecdsa", rsa.fingerprint_sha256: "rsa"}  # the answers carry no key type
    certs = {kinds[c["fingerprint_sha256"]]: c["id"] for c in call("GET", "/custom_hostnames/" + hostname_id)["result"]["ssl"]["certificates"]}
    pack_certs = "/custom_hostnames/%s/certificate_pack/%s/certificates/" % (hostname_id, pack_id)
    replacement = make_leaf(ca, ["app.example.com"])
    call("PUT", pack_certs + certs["ecdsa"], expect=202, body={"custom_certificate": replacement.chain_pem, "custom_key": replacement.key_pem})
    call("DELETE", pack_certs + certs["rsa"], expect=202)
    last = call("GET", "/custom_hostnames/" + hostname_id)["result"]["ssl"]["certificates"][0]["id"]
    call("DELETE", pack_certs + last, expect=400)
    call("DELETE", "/custom_hostnames/" + hostname_id)

    # per-hostname authenticated origin pulls
    client_id = call("POST", "/origin_tls_client_auth/hostnames/certificates", body={"certificate": ecdsa.cert_pem, "private_key": ecdsa.key_pem})["result"][
        "id"
    ]
    call("GET", "/origin_tls_client_auth/hostnames/certificates")
    call("GET", "/origin_tls_client_auth/hostnames/certificates/" + client_id)
    call("PUT", "/origin_tls_client_auth/hostnames", body={"config": [{"hostname": "app.example.com", "cert_id": client_id, "enabled": True}]})
    call("GET", "/origin_tls_client_auth/hostnames", status="all", per_page=100)
    call("GET", "/origin_tls_client_auth/hostnames/app.example.com")
    call("DELETE", "/origin_tls_client_auth/hostnames/certificates/" + client_id, expect=400)
    call("PUT", "/origin_tls_client_auth/hostnames", body={"config": [{"hostname": "app.example.com", "cert_id": client_id, "enabled": None}]})
    call("DELETE", "/origin_tls_client_auth/hostnames/certificates/" + client_id)

    # certificate packs
    timed_out = emu.state.add_cert_pack(emu.zone_id, ["example.com", "*.example.com"], status="validation_timed_out")
    order = {
        "type": "advanced",
        "hosts": ["example.com", "www.example.com"],
        "validation_method": "txt",
        "validity_days": 90,
        "certificate_authority": "google",
        "cloudflare_branding": False,
    }
    pack = call("POST", "/ssl/certificate_packs/order", body=order)["result"]["id"]
    call("GET", "/ssl/certificate_packs", status="all", per_page=50)
    call("GET", "/ssl/certificate_packs/quota")
    call("GET", "/ssl/certificate_packs/" + pack)
    call("PATCH", "/ssl/certificate_packs/" + pack, expect=400, body={})
    call("PATCH", "/ssl/certificate_packs/" + timed_out.id, body={})
    call("PATCH", "/ssl/certificate_packs/" + pack, body={"cloudflare_branding": True})
    call("DELETE", "/ssl/certificate_packs/" + pack)

    # zone-level authenticated origin pulls
    zone_cert = call("POST", "/origin_tls_client_auth", body={"certificate": rsa.cert_pem, "private_key": rsa.key_pem})["result"]["id"]
    call("GET", "/origin_tls_client_auth")
    call("GET", "/origin_tls_client_auth/" + zone_cert)
    call("PUT", "/origin_tls_client_auth/settings", body={"enabled": True})
    call("GET", "/origin_tls_client_auth/settings")
    call("DELETE", "/origin_tls_client_auth/" + zone_cert)

    # Origin CA
    csr = make_csr(["example.com", "*.example.com"])[0]
    order = {"csr": csr, "hostnames": ["example.com", "*.example.com"], "request_type": "origin-ecc", "requested_validity": 90}
    origin_id = call("POST", "/certificates", body=order)["result"]["id"]
    call("GET", "/certificates", zone_id=emu.zone_id)
    call("GET", "/certificates/" + origin_id, headers={"Authorization": None, "X-Auth-User-Service-Key": emu.service_key})
    call("DELETE", "/certificates/" + origin_id)
    call("GET", "/certificates", expect=400)
