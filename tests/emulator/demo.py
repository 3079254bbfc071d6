"""The built-in demo zone `example.com`: a SaaS zone with something to rotate, restart and prioritize.

Certificates are minted at start by the emulator's throwaway CA, with dates relative to now and
realistic lifetimes (issued 60 to 300 days ago). Due for rotation (expiring within 30 days): six
custom hostname certificates (`shop19.tenant.test` with an RSA+ECDSA pair), the client certificate
`DEMO_CLIENT_CERT_ID` and the `legacy_custom` zone certificate. `make demo` (tests/demo/run_demo.py)
reads this seed to know what to mint new material for.
"""

from __future__ import annotations

from typing import Any, Dict, List

DEFAULT_ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"  # the document's example id
DEMO_CLIENT_CERT_ID = "6d3d0e8d5a0f4f6b9a1f2c3d4e5f6a7b"  # expires in 21 days: due
TENANT_CLIENT_CERT_ID = "7e4e1f9e6b1a4a7cab2a3d4e5f6a7b8c"
WWW_CLIENT_CERT_ID = "8f5f2a0f7c2b4b8dbc3b4e5f6a7b8c9d"
TIMED_OUT_PACK_HOSTS = ["example.com", "api.example.com"]

# Tenant hostnames due for rotation, with days left; shop19 serves an RSA+ECDSA pair.
DUE = {"shop03": 25, "shop07": 14, "shop11": 28, "shop15": 6, "shop19": 10}
PAIR = "shop19"
TENANTS = 21


def mint(days: int, lifetime: int, **extra: Any) -> Dict[str, Any]:
    """A certificate expiring in `days` that was issued `lifetime` days before it expires."""
    return {"mint": dict(extra, days=days, not_before_days=days - lifetime)}


def tenant(number: int) -> Dict[str, Any]:
    name = "shop%02d" % number
    if name == PAIR:
        certificates = [mint(DUE[name], 90, key_type="rsa"), mint(DUE[name], 90, key_type="ecdsa")]
    elif name in DUE:
        certificates = [mint(DUE[name], 90)]  # 90-day certificates, renewed late
    else:
        certificates = [mint(65 + number * 29 % 135, 365)]  # one-year certificates, 65 to 199 days left
    return {"hostname": name + ".tenant.test", "ssl": {"type": "dv", "status": "active"}, "certificates": certificates}


def demo_seed() -> Dict[str, Any]:
    hostnames: List[Dict[str, Any]] = [
        {"hostname": "app.example.com", "ssl": {"type": "dv", "status": "active"}, "certificates": [mint(20, 90)]},  # due
        {"hostname": "shop.example.com", "ssl": {"method": "txt", "type": "dv", "status": "active"}},
        {"hostname": "legacy.example.com", "ssl": {"method": "http", "type": "dv", "status": "validation_timed_out"}},
    ]
    hostnames += [tenant(n) for n in range(1, TENANTS + 1)]
    return {
        "zones": [
            {
                "name": "example.com",
                "id": DEFAULT_ZONE_ID,
                "cert_pack_quota": 10,
                "custom_hostnames": hostnames,
                "hostname_client_certs": [
                    dict(mint(21, 200, hosts=["origin-pull.example.com"]), id=DEMO_CLIENT_CERT_ID),
                    dict(mint(160, 365, hosts=["origin-pull.tenant.test"]), id=TENANT_CLIENT_CERT_ID),
                    dict(mint(120, 365, hosts=["origin-pull-www.example.com"]), id=WWW_CLIENT_CERT_ID),
                ],
                "hostname_associations": [
                    {"hostname": "app.example.com", "cert_id": DEMO_CLIENT_CERT_ID, "enabled": True},
                    {"hostname": "api.example.com", "cert_id": DEMO_CLIENT_CERT_ID, "enabled": True},
                    {"hostname": "shop01.tenant.test", "cert_id": TENANT_CLIENT_CERT_ID, "enabled": True},
                    {"hostname": "shop02.tenant.test", "cert_id": TENANT_CLIENT_CERT_ID, "enabled": True},
                    {"hostname": "www.example.com", "cert_id": WWW_CLIENT_CERT_ID, "enabled": True},
                ],
                "cert_packs": [
                    {"type": "universal", "hosts": ["example.com", "*.example.com"], "certificate_authority": "google"},
                    {"hosts": ["example.com", "www.example.com"], "validation_method": "txt", "validity_days": 90, "certificate_authority": "lets_encrypt"},
                    {
                        "hosts": TIMED_OUT_PACK_HOSTS,
                        "validation_method": "txt",
                        "validity_days": 90,
                        "certificate_authority": "google",
                        "status": "validation_timed_out",
                    },
                ],
                "custom_certificates": [
                    dict(mint(25, 90, hosts=["example.com", "www.example.com"]), type="legacy_custom", priority=1),  # due
                    dict(mint(200, 365, hosts=["static.example.com"]), type="sni_custom", priority=2),
                ],
            }
        ]
    }
