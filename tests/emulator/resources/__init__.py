"""The emulated API, one module per resource family; ROUTES lists every operation."""

from . import cert_packs, custom_certs, custom_hostnames, origin_pulls, zones

ROUTES = zones.ROUTES + custom_hostnames.ROUTES + origin_pulls.ROUTES + cert_packs.ROUTES + custom_certs.ROUTES
