"""What the edge served over time: one model, `served(hostname, key_type, at)`, and the check that it was always valid.

Valid means the certificate served is unexpired and covers the host; while a new one is pending_deployment
the old one is what is served. The history records timelines ("spans") of:

* custom hostnames: from the first certificate served (a Cloudflare-managed one once its validation
  completes, or a custom one once deployed) until the hostname is deleted; a move to a Cloudflare
  certificate ("Move to a Cloudflare certificate") serves the custom ones until the managed one is active;
* zone custom certificates: from the end of their pending period until deleted or replaced; a PATCH
  (new certificate or new id) or a priority change starts a new span;
* client-certificate associations (what is presented to the origin): from the end of their
  pending_deployment until they are removed, disabled or moved to another certificate (the previous
  certificate is presented until the move is deployed);
* zone-level authenticated origin pulls: each zone client certificate from the end of its pending_deployment
  until its deletion starts, and the zone's setting (on or off) over time.

What the edge presents to the origin for a hostname (`served_client_cert`): its enabled association's certificate
first; else, while the zone's setting is on, the zone's active client certificate (the newest upload when several
are active, unverified against the live API), else Cloudflare's own origin pull certificate ("Per-hostname
authenticated origin pulls take precedence over zone-level", Cloudflare's authenticated origin pulls documentation;
the Cloudflare certificate when no zone certificate is uploaded, "Zone-level authenticated origin pulls").

`served()` answers from these timelines only, ordering the candidates as Cloudflare's "Certificate and
hostname priority" says (`_rank`), so the checks here and the edge cannot disagree. `violations()` evaluates
`served()` on every stretch of time where nothing changes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from .certs import CertInfo, iso

if TYPE_CHECKING:  # pragma: no cover
    from .state import State

MANAGED = "managed"  # a certificate Cloudflare issued itself: always valid once active
KEY_TYPES = ("rsa", "ecdsa")
FOREVER = float("inf")


@dataclass(frozen=True)
class Served:
    """What is served: `source` is "custom_hostname", "managed", "zone_custom", "association", "zone", "cloudflare" or
    "none"."""

    source: str
    info: Optional[CertInfo] = field(default=None, repr=False)
    object_id: Optional[str] = None  # the custom hostname, zone custom certificate or client certificate

    @property
    def fingerprint_sha256(self) -> Optional[str]:
        return self.info.fingerprint_sha256 if self.info else None

    @property
    def not_after(self) -> Optional[float]:
        return self.info.not_after if self.info else None

    @property
    def hosts(self) -> List[str]:
        return list(self.info.hosts) if self.info else []

    @property
    def key_type(self) -> Optional[str]:
        return self.info.key_type if self.info else None


NONE = Served("none")
# Cloudflare's own origin pull certificate, presented under zone-level authenticated origin pulls without a zone certificate.
CLOUDFLARE_ORIGIN_PULL = Served("cloudflare", None, "cloudflare-origin-pull")


def in_zone(hostname: str, zone_name: str) -> bool:
    return hostname == zone_name or hostname.endswith("." + zone_name)


def _live(span: Dict[str, Any], at: float) -> bool:
    return span["start"] <= at < (FOREVER if span["end"] is None else span["end"])


class History:
    def __init__(self, state: "State") -> None:
        self._state = state
        self.clear()

    def clear(self) -> None:
        self._segments: List[Dict[str, Any]] = []  # custom hostnames, in order
        self._by_host: Dict[str, List[Dict[str, Any]]] = defaultdict(list)
        self._open: Dict[str, Dict[str, Any]] = {}  # by custom hostname id
        self._zone_spans: List[Dict[str, Any]] = []
        self._zone_open: Dict[str, Dict[str, Any]] = {}  # by zone custom certificate id
        self._assoc_spans: Dict[str, List[Dict[str, Any]]] = defaultdict(list)  # by hostname
        self._assoc_open: Dict[Tuple[str, str], Dict[str, Any]] = {}  # by (zone id, hostname)
        self._zone_client_spans: Dict[str, List[Dict[str, Any]]] = defaultdict(list)  # by zone id
        self._zone_client_open: Dict[str, Dict[str, Any]] = {}  # by zone client certificate id
        self._zone_pulls: Dict[str, List[Dict[str, Any]]] = defaultdict(list)  # the zone setting's "on" spans, by zone id
        self._zone_names: Dict[str, str] = {}

    # -- recording (called by the resources, under the state lock) ------------------------------

    def serve(self, zone_id: str, hostname_id: str, hostname: str, at: float, certs: Any) -> None:
        """From `at` on, `certs` (a list of CertInfo, or MANAGED) is what the custom hostname serves."""
        self.end(hostname_id, at)
        segment = {"zone_id": zone_id, "hostname_id": hostname_id, "hostname": hostname, "start": at, "end": None, "certificates": certs}
        self._segments.append(segment)
        self._by_host[hostname].append(segment)
        self._open[hostname_id] = segment

    def end(self, hostname_id: str, at: float) -> None:
        segment = self._open.pop(hostname_id, None)
        if segment is not None:
            segment["end"] = at

    def zone_cert(self, zone: Any, cert: Any, at: float) -> None:
        """From `at` on, zone custom certificate `cert` is served as it is now (facts, type, priority)."""
        current = self._zone_open.get(cert.id)
        at = max(at, current["start"]) if current is not None else at  # a change while pending starts with it
        self.zone_cert_end(cert.id, at)
        span = {
            "zone_id": zone.id,
            "zone_name": zone.name,
            "cert_id": cert.id,
            "type": cert.type,
            "priority": cert.priority,
            "uploaded_on": cert.uploaded_on,
            "info": cert.info,
            "start": at,
            "end": None,
        }
        self._zone_spans.append(span)
        self._zone_open[cert.id] = span

    def zone_cert_end(self, cert_id: str, at: float) -> None:
        span = self._zone_open.pop(cert_id, None)
        if span is not None:
            span["end"] = at  # before its start when deleted while pending: never served

    def associate(self, zone_id: str, hostname: str, cert_id: str, info: CertInfo, at: float) -> None:
        """From `at` on, client certificate `cert_id` is presented to the origin for `hostname`."""
        self.unassociate(zone_id, hostname, at)
        span = {"zone_id": zone_id, "hostname": hostname, "cert_id": cert_id, "info": info, "start": at, "end": None}
        self._assoc_spans[hostname].append(span)
        self._assoc_open[(zone_id, hostname)] = span

    def unassociate(self, zone_id: str, hostname: str, at: float) -> None:
        span = self._assoc_open.pop((zone_id, hostname), None)
        if span is not None:
            span["end"] = at

    def zone_client_cert(self, zone: Any, cert_id: str, info: CertInfo, uploaded: float, active_at: float) -> None:
        """Zone client certificate `cert_id`, uploaded at `uploaded`, is active from `active_at` on."""
        self._zone_names[zone.id] = zone.name
        span = {"zone_id": zone.id, "cert_id": cert_id, "info": info, "uploaded": uploaded, "start": active_at, "end": None}
        self._zone_client_spans[zone.id].append(span)
        self._zone_client_open[cert_id] = span

    def zone_client_cert_end(self, cert_id: str, at: float) -> None:
        span = self._zone_client_open.pop(cert_id, None)
        if span is not None:
            span["end"] = at  # before its start when deleted while pending: never presented

    def zone_pulls(self, zone: Any, enabled: bool, at: float) -> None:
        """The zone's authenticated origin pulls setting is `enabled` from `at` on."""
        self._zone_names[zone.id] = zone.name
        spans = self._zone_pulls[zone.id]
        on = bool(spans) and spans[-1]["end"] is None
        if enabled and not on:
            spans.append({"start": at, "end": None})
        elif not enabled and on:
            spans[-1]["end"] = at

    # -- the model -------------------------------------------------------------------------------

    def served(self, hostname: str, key_type: Optional[str] = None, at: Optional[float] = None) -> Served:
        """The TLS server certificate served for `hostname` at `at` (now if None) to a client asking for `key_type`.

        Candidates: the custom hostname's certificates (its custom ones, or its managed one) and the zone
        custom certificates of the hostname's zone that cover it and are within their validity. They are
        ordered as Cloudflare's "Certificate and hostname priority" says (`_rank`: hostname specificity, zone
        specificity, type, priority number, latest expiry, newest upload); the first of the key type asked
        for is served, else the first (a managed certificate has both key types).
        """
        with self._state.lock:
            now = self._state.settle_all()
            return self._served(hostname.lower().rstrip("."), key_type, now if at is None else at)

    def served_client_cert(self, hostname: str, at: Optional[float] = None) -> Served:
        """The client certificate presented to the origin for `hostname` at `at` (now if None)."""
        with self._state.lock:
            now = self._state.settle_all()
            return self._served_client(hostname.lower().rstrip("."), now if at is None else at)

    def _served(self, hostname: str, key_type: Optional[str], at: float) -> Served:
        """The one model (see served()): every candidate ranked by `_rank`, then the first of the key type asked for."""
        ranked: List[Tuple[Tuple[Any, ...], Served]] = []
        for segment in self._by_host.get(hostname, ()):
            if _live(segment, at):
                certs = segment["certificates"]
                if certs == MANAGED:
                    ranked.append((_rank(0, 1, "custom_hostname", 0, 0.0, 0.0, ""), Served("managed", None, segment["hostname_id"])))
                else:
                    # A custom hostname's certificates are for that exact name; among them the stored order decides.
                    for index, info in enumerate(certs):
                        rank = _rank(0, 1, "custom_hostname", 0, 0.0, 0.0, "%06d" % index)
                        ranked.append((rank, Served("custom_hostname", info, segment["hostname_id"])))
                break
        for span in self._zone_spans:
            info = span["info"]
            if _live(span, at) and in_zone(hostname, span["zone_name"]) and info.covers(hostname) and info.not_before <= at < info.not_after:
                exact = 0 if hostname in (h.lower() for h in info.hosts) else 1
                rank = _rank(exact, 0, span["type"], span["priority"], info.not_after, span["uploaded_on"], span["cert_id"])
                ranked.append((rank, Served("zone_custom", info, span["cert_id"])))
        if not ranked:
            return NONE
        ranked.sort(key=lambda item: item[0])
        return next((s for _rank_, s in ranked if s.source == "managed" or s.key_type == key_type), ranked[0][1])

    def _served_client(self, hostname: str, at: float) -> Served:
        for span in self._assoc_spans.get(hostname, ()):
            if _live(span, at):
                return Served("association", span["info"], span["cert_id"])
        for zone_id, name in self._zone_names.items():
            if in_zone(hostname, name) and any(_live(s, at) for s in self._zone_pulls[zone_id]):
                active = self._zone_client_active(zone_id, at)
                return Served("zone", active["info"], active["cert_id"]) if active else CLOUDFLARE_ORIGIN_PULL
        return NONE

    def _zone_client_active(self, zone_id: str, at: float) -> Optional[Dict[str, Any]]:
        live = [s for s in self._zone_client_spans[zone_id] if _live(s, at)]
        return max(live, key=lambda s: s["uploaded"]) if live else None

    # -- reading ---------------------------------------------------------------------------------

    def segments(self, hostname: Optional[str] = None, kind: str = "custom_hostname") -> List[Dict[str, Any]]:
        """A timeline settled up to now (kind "custom_hostname", "zone_custom" or "association"); ISO times."""
        with self._state.lock:
            self._state.settle_all()
            if kind == "custom_hostname":
                return [_describe(s) for s in self._segments if hostname in (None, s["hostname"])]
            if kind == "zone_custom":
                spans = [s for s in self._zone_spans if s["start"] < _end(s, FOREVER) and (hostname is None or s["info"].covers(hostname))]
                return [_describe_span(s, ("zone_id", "cert_id", "type", "priority")) for s in spans]
            if kind == "zone_client":
                spans = [s for spans in self._zone_client_spans.values() for s in spans if s["start"] < _end(s, FOREVER)]
                return [_describe_span(s, ("zone_id", "cert_id")) for s in sorted(spans, key=lambda s: s["start"])]
            if kind == "association":
                spans = [s for spans in self._assoc_spans.values() for s in spans if hostname in (None, s["hostname"])]
                return [_describe_span(s, ("zone_id", "hostname", "cert_id")) for s in sorted(spans, key=lambda s: s["start"]) if s["start"] < _end(s, FOREVER)]
            raise ValueError("kind is custom_hostname, zone_custom, association or zone_client, not %r" % kind)

    def violations(self) -> List[str]:
        """One line per stretch of time a tracked hostname or association had no valid certificate; empty when all was well.

        Tracked: a custom hostname from its first served certificate until deleted; a host named by a
        zone custom certificate (in its zone) from when that certificate is first served on, since the
        emulator models no Universal SSL to fall back to; an association while it exists; a zone, once its own
        client certificate was first presented, while its authenticated origin pulls setting is on (an origin that
        trusts only the zone's own CA refuses Cloudflare's certificate).
        """
        with self._state.lock:
            now = self._state.settle_all()
            tracked: Dict[str, List[Tuple[float, float]]] = defaultdict(list)
            for segment in self._segments:
                tracked[segment["hostname"]].append((segment["start"], _end(segment, now)))
            for span in self._zone_spans:
                if span["start"] < min(_end(span, now), now):
                    for host in span["info"].hosts:
                        if in_zone(host, span["zone_name"]):
                            tracked[host].append((span["start"], now))
            found = []
            for host in sorted(tracked):
                times = self._times(host)
                found.extend(_check(host, tracked[host], times, lambda t0, t1, host=host: self._server_problems(host, t0, t1)))
            for host in sorted(self._assoc_spans):
                spans = [s for s in self._assoc_spans[host] if s["start"] < _end(s, now)]
                times = [t for s in spans for t in (s["start"], _end(s, now), s["info"].not_before, s["info"].not_after)]
                intervals = [(s["start"], min(_end(s, now), now)) for s in spans]
                found.extend(_check(host, intervals, times, lambda t0, t1, host=host: self._client_problems(host, t0, t1)))
            for zone_id in sorted(self._zone_pulls):
                found.extend(self._zone_pull_violations(zone_id, now))
            return found

    def _zone_pull_violations(self, zone_id: str, now: float) -> List[str]:
        certs = [s for s in self._zone_client_spans[zone_id] if s["start"] < min(_end(s, now), now)]
        if not certs:
            return []  # Cloudflare's own certificate so far: nothing of the zone's to lack
        first = min(s["start"] for s in certs)  # from when the zone's own certificate was first presented
        intervals = [(max(s["start"], first), min(_end(s, now), now)) for s in self._zone_pulls[zone_id]]
        times = [t for s in certs for t in (s["start"], _end(s, now), s["info"].not_before, s["info"].not_after)]
        return _check("zone %s" % self._zone_names[zone_id], intervals, times, lambda t0, t1: self._zone_client_problems(zone_id, t0, t1))

    def _zone_client_problems(self, zone_id: str, t0: float, t1: float) -> Set[str]:
        active = self._zone_client_active(zone_id, t0)
        if active is None:
            return {"authenticated origin pulls on without an active zone client certificate"}
        info = active["info"]
        if info.not_before > t0 or info.not_after < t1:
            return {"presented zone client certificate %s to the origin outside its validity" % info.fingerprint_sha256[:16]}
        return set()

    def assert_valid(self) -> None:
        problems = self.violations()
        if problems:
            raise AssertionError("a hostname lacked a valid certificate:\n" + "\n".join(problems))

    # -- checking ---------------------------------------------------------------------------------

    def _times(self, host: str) -> List[float]:
        """Every moment what `host` is served may change."""
        times: List[float] = []
        for segment in self._by_host.get(host, ()):
            times += [segment["start"], _end(segment, FOREVER)]
            if segment["certificates"] != MANAGED:
                times += [t for c in segment["certificates"] for t in (c.not_before, c.not_after)]
        for span in self._zone_spans:
            if in_zone(host, span["zone_name"]) and span["info"].covers(host):
                times += [span["start"], _end(span, FOREVER), span["info"].not_before, span["info"].not_after]
        return times

    def _server_problems(self, host: str, t0: float, t1: float) -> Set[str]:
        problems = set()
        for key_type in KEY_TYPES:
            served = self._served(host, key_type, t0)
            if served.source == "managed":
                continue
            if served.info is None:
                problems.add("served no valid certificate")
            else:
                problems.update(_cert_problems(host, served, t0, t1))
        return problems

    def _client_problems(self, host: str, t0: float, t1: float) -> Set[str]:
        served = self._served_client(host, t0)
        if served.info is None:
            return set()
        info, where = served.info, "presented client certificate %s to the origin" % served.info.fingerprint_sha256[:16]
        if info.not_before > t0:
            return {"%s: it was not valid before %s" % (where, iso(info.not_before))}
        if info.not_after < t1:
            return {"%s: it expired at %s" % (where, iso(info.not_after))}
        return set()


def _end(span: Dict[str, Any], default: float) -> float:
    return default if span["end"] is None else span["end"]


# Certificate types in the order of Cloudflare's "Certificate and hostname priority" table. Only the zone custom
# certificates (legacy_custom, sni_custom) and a custom hostname's certificates (custom or managed) are modelled.
TYPE_ORDER = ("keyless", "legacy_custom", "sni_custom", "custom_hostname", "advanced", "total_tls", "universal")


def _rank(exact: int, custom_hostname: int, cert_type: str, priority: float, not_after: float, uploaded_on: float, tie: str) -> Tuple[Any, ...]:
    """The sort key of a candidate: lower is served first.

    1. hostname specificity: a certificate naming the hostname exactly before one covering it by a wildcard
       (a custom hostname's certificate counts as exact: it is deployed for that hostname);
    2. zone specificity: a zone certificate before a custom hostname's certificate ("a specific subdomain
       certificate would take precedence over a custom hostname certificate if the domain is active as a zone";
       a zone certificate counts only for hostnames in its zone);
    3. type, by TYPE_ORDER;
    4. among zone custom certificates, the lower `priority` number (where this step sits is unverified against
       the live API);
    5. the latest expiry;
    6. the newest upload; then the id, so that the order is total.
    """
    return (exact, custom_hostname, TYPE_ORDER.index(cert_type), priority, -not_after, -uploaded_on, tie)


def _cert_problems(host: str, served: Served, t0: float, t1: float) -> Iterable[str]:
    info = served.info
    where = "served %s (%s)" % (info.fingerprint_sha256[:16], served.source)
    if not info.covers(host):
        yield "%s: the certificate does not cover the hostname (hosts %s)" % (where, ", ".join(info.hosts))
    if info.not_before > t0:
        yield "%s: the certificate was not valid before %s" % (where, iso(info.not_before))
    if info.not_after < t1:
        yield "%s: the certificate expired at %s" % (where, iso(info.not_after))


def _check(host: str, intervals: List[Tuple[float, float]], times: List[float], problems: Callable[[float, float], Set[str]]) -> List[str]:
    """Evaluate `problems` on each stretch of the tracked intervals cut at `times`; one line per problem and stretch."""
    lines = []
    for start, end in _merge(intervals):
        cuts = sorted({start, end} | {t for t in times if start < t < end})
        ongoing: Dict[str, float] = {}  # problem -> since when
        for t0, t1 in zip(cuts, cuts[1:]):
            now_problems = problems(t0, t1)
            for problem in [p for p in ongoing if p not in now_problems]:
                lines.append(_line(host, problem, ongoing.pop(problem), t0))
            for problem in now_problems:
                ongoing.setdefault(problem, t0)
        lines.extend(_line(host, problem, since, end) for problem, since in sorted(ongoing.items(), key=lambda i: (i[1], i[0])))
    return lines


def _line(host: str, problem: str, start: float, end: float) -> str:
    return "%s from %s until %s: %s" % (host, iso(start), iso(end), problem)


def _merge(intervals: List[Tuple[float, float]]) -> List[Tuple[float, float]]:
    merged: List[Tuple[float, float]] = []
    for start, end in sorted(i for i in intervals if i[0] < i[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _describe_span(span: Dict[str, Any], keys: Tuple[str, ...]) -> Dict[str, Any]:
    described = {k: span[k] for k in keys}
    described.update(start=iso(span["start"]), end=iso(span["end"]) if span["end"] is not None else None, certificate=_cert_facts(span["info"]))
    return described


def _cert_facts(c: CertInfo) -> Dict[str, Any]:
    return {
        "fingerprint_sha256": c.fingerprint_sha256,
        "hosts": c.hosts,
        "key_type": c.key_type,
        "not_before": iso(c.not_before),
        "not_after": iso(c.not_after),
    }


def _describe(segment: Dict[str, Any]) -> Dict[str, Any]:
    certs = segment["certificates"]
    return {
        "zone_id": segment["zone_id"],
        "hostname_id": segment["hostname_id"],
        "hostname": segment["hostname"],
        "start": iso(segment["start"]),
        "end": iso(segment["end"]) if segment["end"] is not None else None,
        "certificates": certs if certs == MANAGED else [_cert_facts(c) for c in certs],
    }
