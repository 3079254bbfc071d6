"""Everything the emulator stores, plus helpers to seed and dump it (format: README.md, "Seed format").

Callers hold `state.lock` while they read or change state; the HTTP server does so per request.
Statuses are computed from timestamps when read (no background threads).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import yaml

from .api import ApiError, Codes, new_id
from .certs import CertInfo, check_key, parse_certificate
from .demo import DEFAULT_ZONE_ID, demo_seed
from .history import History
from .origin_ca import OriginCA
from .resources import cert_packs, custom_certs, custom_hostnames, origin_pulls
from .testcerts import CA, make_ca, make_leaf
from .trust import TrustStore

DEFAULT_ACCOUNT_ID = "01a7362d577a6c3019a474fd6f485823"
# How the custom hostname list's `hostname` filter matches: exactly, as documented, or every name containing the value.
HOSTNAME_FILTERS = ("exact", "contains")
_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Zone:
    id: str
    name: str
    account_id: str = DEFAULT_ACCOUNT_ID
    account_name: str = "Certops Emulator Account"
    created_on: float = field(default_factory=time.time)
    pack_quota: int = 10  # advanced certificate packs allocated
    custom_hostnames: Dict[str, Any] = field(default_factory=dict)
    client_certs: Dict[str, Any] = field(default_factory=dict)
    associations: Dict[str, Any] = field(default_factory=dict)  # by hostname
    cert_packs: Dict[str, Any] = field(default_factory=dict)
    custom_certs: Dict[str, Any] = field(default_factory=dict)
    zone_client_certs: Dict[str, Any] = field(default_factory=dict)  # zone-level authenticated origin pulls
    origin_pulls_enabled: bool = False  # the zone-level authenticated origin pulls setting


class State:
    """Zones and everything in them; `delay` is how long each status step lasts, in seconds."""

    def __init__(self, delay: float = 0.0, default_priority: float = custom_certs.DEFAULT_PRIORITY) -> None:
        self.lock = threading.RLock()
        self.delay = delay
        self.default_priority = default_priority  # of a new zone custom certificate (20 or 0, README.md)
        self.zones: Dict[str, Zone] = {}
        self.history = History(self)
        self.hostname_filter = "exact"  # the custom hostname list's `hostname` filter; "contains" for tests (HOSTNAME_FILTERS)
        self._ca: Optional[CA] = None
        self.trust = TrustStore(lambda: self.ca)
        self.origin_ca = OriginCA()
        self.origin_ca_certs: Dict[str, Any] = {}  # Origin CA certificates belong to the account, not to a zone

    @staticmethod
    def now() -> float:
        return time.time()

    def zone(self, zone_id: str) -> Zone:
        found = self.zones.get(zone_id)
        if found is None:
            raise ApiError(404, Codes.INVALID_ZONE, "Invalid zone identifier")
        return found

    def settle_all(self) -> float:
        """Bring every hostname's serving history up to now; return now."""
        now = self.now()
        for zone in self.zones.values():
            for hostname in zone.custom_hostnames.values():
                hostname.settle(self, now)
        return now

    # -- helpers for tests and seeds ---------------------------------------------------------

    def add_zone(self, name: str, zone_id: Optional[str] = None, account: Optional[Dict[str, str]] = None, cert_pack_quota: int = 10) -> Zone:
        zone_id = zone_id or new_id()
        if not _ID.match(zone_id):
            raise ValueError("zone ids are 32 lowercase hex characters, not %r" % zone_id)
        account = account or {}
        with self.lock:
            zone = Zone(
                zone_id, name.lower(), account.get("id", DEFAULT_ACCOUNT_ID), account.get("name", "Certops Emulator Account"), pack_quota=cert_pack_quota
            )
            self.zones[zone_id] = zone
            return zone

    def add_custom_hostname(self, zone_id: str, hostname: str, **spec: Any) -> Any:
        """A custom hostname; spec as in a seed: ssl, status, certificates ([{certificate} or {mint}]), ..."""
        with self.lock:
            return custom_hostnames.seed(self, self.zone(zone_id), dict(spec, hostname=hostname))

    def add_custom_hostnames(self, zone_id: str, hostnames: Sequence[str], certificate: str, **spec: Any) -> int:
        """Many custom hostnames serving one certificate, parsed once: a zone of 100,000 in seconds (the benchmark's)."""
        with self.lock:
            zone, info = self.zone(zone_id), self.seed_certificate({"certificate": certificate})
            certificates = [{"certificate": certificate}]
            for name in hostnames:
                custom_hostnames.seed(self, zone, dict(spec, hostname=name, certificates=certificates), infos=[info])
            return len(hostnames)

    def add_client_cert(self, zone_id: str, certificate: Optional[str] = None, **spec: Any) -> Any:
        """A hostname client certificate (status active unless given); `mint={...}` instead of a PEM."""
        with self.lock:
            return origin_pulls.seed_cert(self, self.zone(zone_id), dict(spec, certificate=certificate))

    def add_association(self, zone_id: str, hostname: str, cert_id: str, enabled: bool = True, status: str = "active") -> Any:
        with self.lock:
            spec = {"hostname": hostname, "cert_id": cert_id, "enabled": enabled, "status": status}
            return origin_pulls.seed_association(self, self.zone(zone_id), spec)

    def add_cert_pack(self, zone_id: str, hosts: Sequence[str], **spec: Any) -> Any:
        """A certificate pack (advanced and active unless given, e.g. status="validation_timed_out")."""
        with self.lock:
            return cert_packs.seed(self, self.zone(zone_id), dict(spec, hosts=list(hosts)))

    def add_custom_certificate(self, zone_id: str, certificate: Optional[str] = None, **spec: Any) -> Any:
        """A zone custom certificate (legacy_custom, active, priority 20 unless given)."""
        with self.lock:
            return custom_certs.seed(self, self.zone(zone_id), dict(spec, certificate=certificate))

    def seed_certificate(self, spec: Dict[str, Any], default_hosts: Optional[List[str]] = None) -> CertInfo:
        """Facts of a seeded certificate: {certificate[, private_key]} or {mint: {hosts, key_type, days, ...}}.

        Seeds may hold expired certificates (uploads may not), to test rotation and the history check.
        """
        if spec.get("mint") is not None or spec.get("certificate") is None:
            mint = dict(spec.get("mint") or {})
            hosts = mint.pop("hosts", None) or default_hosts
            if not hosts:
                raise ValueError("a minted seed certificate needs hosts")
            minted = make_leaf(self.ca, hosts, **mint)
            info = parse_certificate(minted.chain_pem)
            info.private_key = minted.key_pem  # for the TLS edge only; never dumped
            return info
        info = parse_certificate(spec["certificate"])
        if spec.get("private_key"):
            check_key(info, spec["private_key"])
            info.private_key = spec["private_key"]
        return info

    @property
    def ca(self) -> CA:
        """The throwaway CA that signs minted seed certificates."""
        if self._ca is None:
            self._ca = make_ca("Certops Emulator CA", org="Certops Emulator")
        return self._ca

    # -- seed and dump -----------------------------------------------------------------------

    def load(self, seed: Union[None, str, Path, Dict[str, Any]]) -> None:
        """Replace everything with a seed: a dict, a YAML or JSON file path, "demo", or None (empty example.com)."""
        if seed is None:
            seed = {"zones": [{"name": "example.com", "id": DEFAULT_ZONE_ID}]}
        elif seed == "demo":
            seed = demo_seed()
        elif isinstance(seed, (str, Path)):
            text = Path(seed).read_text(encoding="utf-8")
            seed = json.loads(text) if str(seed).endswith(".json") else yaml.safe_load(text)
        with self.lock:
            self.zones = {}
            self.origin_ca_certs = {}
            self.history.clear()
            if "delay" in seed:
                self.delay = float(seed["delay"])
            for spec in seed.get("zones", []):
                self._load_zone(spec)

    def _load_zone(self, spec: Dict[str, Any]) -> None:
        zone = self.add_zone(spec["name"], spec.get("id"), spec.get("account"), spec.get("cert_pack_quota", 10))
        for item in spec.get("custom_hostnames", []):
            custom_hostnames.seed(self, zone, item)
        for item in spec.get("hostname_client_certs", []):
            origin_pulls.seed_cert(self, zone, item)
        for item in spec.get("hostname_associations", []):
            origin_pulls.seed_association(self, zone, item)
        for item in spec.get("cert_packs", []):
            cert_packs.seed(self, zone, item)
        for item in spec.get("custom_certificates", []):
            custom_certs.seed(self, zone, item)

    def dump(self) -> Dict[str, Any]:
        """Everything, in the seed format (certificates as PEM; private keys are never stored)."""
        with self.lock:
            now = self.settle_all()
            zones = []
            for zone in self.zones.values():
                spec = {"id": zone.id, "name": zone.name, "account": {"id": zone.account_id, "name": zone.account_name}, "cert_pack_quota": zone.pack_quota}
                spec["custom_hostnames"] = [h.dump(self, now) for h in zone.custom_hostnames.values()]
                spec.update(origin_pulls.dump(zone, now, self.delay))
                cert_packs.purge(zone, now, self.delay)  # a pack whose deletion is over is gone, listed or not
                spec["cert_packs"] = [p.dump(now, self.delay) for p in zone.cert_packs.values()]
                spec["custom_certificates"] = [c.dump(now, self.delay) for c in custom_certs.in_use_order(zone)]
                zones.append(spec)
            return {"delay": self.delay, "zones": zones}
