"""The built-in demo zone `example.com`: something to rotate, restart and prioritize.

Certificates are minted at start by the emulator's throwaway CA, with dates relative to now.
"""

from __future__ import annotations

from typing import Any, Dict

DEFAULT_ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"  # the document's example id
DEMO_CLIENT_CERT_ID = "6d3d0e8d5a0f4f6b9a1f2c3d4e5f6a7b"


def demo_seed() -> Dict[str, Any]:
    return {
        "zones": [
            {
                "name": "example.com",
                "id": DEFAULT_ZONE_ID,
                "cert_pack_quota": 10,
                "custom_hostnames": [
                    # a custom certificate that expires in 20 days: due for rotation
                    {"hostname": "app.example.com", "ssl": {"type": "dv", "status": "active"}, "certificates": [{"mint": {"days": 20}}]},
                    {"hostname": "shop.example.com", "ssl": {"method": "txt", "type": "dv", "status": "active"}},
                    {"hostname": "legacy.example.com", "ssl": {"method": "http", "type": "dv", "status": "validation_timed_out"}},
                ],
                "hostname_client_certs": [
                    {"id": DEMO_CLIENT_CERT_ID, "mint": {"hosts": ["origin-pull.example.com"], "days": 30}},
                ],
                "hostname_associations": [
                    {"hostname": "app.example.com", "cert_id": DEMO_CLIENT_CERT_ID, "enabled": True},
                ],
                "cert_packs": [
                    {"type": "universal", "hosts": ["example.com", "*.example.com"], "certificate_authority": "google"},
                    {"hosts": ["example.com", "www.example.com"], "validation_method": "txt", "validity_days": 90, "certificate_authority": "lets_encrypt"},
                    {
                        "hosts": ["example.com", "api.example.com"],
                        "validation_method": "txt",
                        "validity_days": 90,
                        "certificate_authority": "google",
                        "status": "validation_timed_out",
                    },
                ],
                "custom_certificates": [
                    {"mint": {"hosts": ["example.com", "www.example.com"], "days": 25}, "type": "legacy_custom", "priority": 1},
                    {"mint": {"hosts": ["static.example.com"], "days": 200}, "type": "sni_custom", "priority": 2},
                ],
            }
        ]
    }
