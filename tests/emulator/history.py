"""What each custom hostname served over time, and the check that it was always valid (clarification 10).

A hostname's timeline starts when it first serves a certificate (a Cloudflare-managed one once its
validation completes, or a custom one once deployed) and ends when the hostname is deleted. While a
new custom certificate is pending_deployment the previous one is still what is served. Valid means
every served certificate covers the hostname and is within its validity for the whole segment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from .certs import CertInfo, iso

if TYPE_CHECKING:  # pragma: no cover
    from .state import State

MANAGED = "managed"  # a certificate Cloudflare issued itself: always valid once active


class History:
    def __init__(self, state: "State") -> None:
        self._state = state
        self._segments: List[Dict[str, Any]] = []
        self._open: Dict[str, Dict[str, Any]] = {}

    def serve(self, zone_id: str, hostname_id: str, hostname: str, at: float, certs: Any) -> None:
        """From `at` on, `certs` (a list of CertInfo, or MANAGED) is what the hostname serves."""
        self.end(hostname_id, at)
        segment = {"zone_id": zone_id, "hostname_id": hostname_id, "hostname": hostname, "start": at, "end": None, "certificates": certs}
        self._segments.append(segment)
        self._open[hostname_id] = segment

    def end(self, hostname_id: str, at: float) -> None:
        segment = self._open.pop(hostname_id, None)
        if segment is not None:
            segment["end"] = at

    def clear(self) -> None:
        self._segments = []
        self._open = {}

    def segments(self, hostname: Optional[str] = None) -> List[Dict[str, Any]]:
        """The timeline, settled up to now; times as ISO strings, certificates as facts."""
        with self._state.lock:
            self._state.settle_all()
            return [_describe(s) for s in self._segments if hostname in (None, s["hostname"])]

    def violations(self) -> List[str]:
        """One line per moment a hostname served no valid certificate; empty when all was well."""
        with self._state.lock:
            now = self._state.settle_all()
            found = []
            for segment in self._segments:
                if segment["certificates"] == MANAGED:
                    continue
                end = segment["end"] if segment["end"] is not None else now
                for info in segment["certificates"]:
                    found.extend(_problems(segment, info, end))
            return found

    def assert_valid(self) -> None:
        problems = self.violations()
        if problems:
            raise AssertionError("a hostname lacked a valid certificate:\n" + "\n".join(problems))


def _problems(segment: Dict[str, Any], info: CertInfo, end: float) -> List[str]:
    where = "%s served %s from %s" % (segment["hostname"], info.fingerprint_sha256[:16], iso(segment["start"]))
    problems = []
    if not info.covers(segment["hostname"]):
        problems.append("%s: the certificate does not cover the hostname (hosts %s)" % (where, ", ".join(info.hosts)))
    if info.not_before > segment["start"]:
        problems.append("%s: the certificate was not valid before %s" % (where, iso(info.not_before)))
    if info.not_after < end:
        problems.append("%s until %s: the certificate expired at %s" % (where, iso(end), iso(info.not_after)))
    return problems


def _describe(segment: Dict[str, Any]) -> Dict[str, Any]:
    certs = segment["certificates"]
    return {
        "zone_id": segment["zone_id"],
        "hostname_id": segment["hostname_id"],
        "hostname": segment["hostname"],
        "start": iso(segment["start"]),
        "end": iso(segment["end"]) if segment["end"] is not None else None,
        "certificates": (
            certs
            if certs == MANAGED
            else [
                {
                    "fingerprint_sha256": c.fingerprint_sha256,
                    "hosts": c.hosts,
                    "key_type": c.key_type,
                    "not_before": iso(c.not_before),
                    "not_after": iso(c.not_after),
                }
                for c in certs
            ]
        ),
    }
