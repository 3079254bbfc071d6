"""The emulated API, one module per resource family; ROUTES lists every operation.

The per-hostname origin pull routes come before the zone-level ones: `.../origin_tls_client_auth/hostnames` is a
literal path beside `.../origin_tls_client_auth/{certificate_id}`, and the router takes the first route that matches.
"""

from . import cert_packs, custom_certs, custom_hostnames, origin_ca, origin_pulls, zone_origin_pulls, zones

ROUTES = zones.ROUTES + custom_hostnames.ROUTES + origin_pulls.ROUTES + zone_origin_pulls.ROUTES + cert_packs.ROUTES + custom_certs.ROUTES + origin_ca.ROUTES
