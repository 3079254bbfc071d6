"""The admin API under /__emulator/ (a path the real API never uses). Plain JSON, no auth, never journaled."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Dict, Tuple

import yaml

from .api import ApiError

if TYPE_CHECKING:  # pragma: no cover
    from .server import Emulator


def _body(raw: bytes) -> Any:
    text = raw.decode("utf-8")
    return yaml.safe_load(text) if text.strip() else {}  # JSON is YAML too


def _journal_get(emu: "Emulator", body: Any) -> Any:
    return emu.journal()


def _journal_brief_get(emu: "Emulator", body: Any) -> Any:
    return emu.journal_log.brief()


def _journal_delete(emu: "Emulator", body: Any) -> Any:
    emu.reset_journal()
    return {"reset": True}


def _state_put(emu: "Emulator", body: Any) -> Any:
    emu.load_state(body)
    return emu.dump_state()


def _faults_post(emu: "Emulator", body: Any) -> Any:
    return emu.add_fault(**body)


def _faults_delete(emu: "Emulator", body: Any) -> Any:
    emu.clear_faults()
    return {"cleared": True}


def _custom_hostnames_post(emu: "Emulator", body: Any) -> Any:
    """{"hostname": "h%06d.example.net", "count": N, "certificate": PEM} (optional: "start" 0, "ssl", "zone_id"): N active
    custom hostnames, the numbers start to start + N - 1 in place of the %d, each serving that certificate."""
    pattern, count, start = str(body["hostname"]), int(body["count"]), int(body.get("start", 0))
    if not re.fullmatch(r"[^%]*%0?[0-9]*d[^%]*", pattern):
        raise ValueError("hostname must hold one %%d, for example h%%06d.example.net, not %r" % pattern)
    zone_id = body.get("zone_id") or emu.zone_id
    try:
        added = emu.state.add_custom_hostnames(zone_id, [pattern % i for i in range(start, start + count)], body["certificate"], ssl=body.get("ssl") or {})
    except ApiError as exc:  # a certificate that does not parse, an invalid hostname, an unknown zone
        raise ValueError("; ".join(e["message"] for e in exc.errors)) from None
    return {"zone_id": zone_id, "added": added}


def _rate_limit_post(emu: "Emulator", body: Any) -> Any:
    emu.set_rate_limit(body.get("limit"), body.get("window", 300.0))
    return emu.rate_limit.describe()


def _hostname_filter_post(emu: "Emulator", body: Any) -> Any:
    """{"mode": "contains"} makes the custom hostname list's `hostname` filter match loosely; {"mode": "exact"} undoes it."""
    if not isinstance(body, dict) or "mode" not in body:
        raise ValueError('give mode: "exact" or "contains"')
    return emu.set_hostname_filter(body["mode"])


def _credentials_post(emu: "Emulator", body: Any) -> Any:
    read_only, name = bool(body.get("read_only", False)), body.get("id")
    if "token" in body:
        return {"id": emu.add_token(body["token"], read_only, name)}
    if "service_key" in body:
        return {"id": emu.add_service_key(body["service_key"], name)}
    return {"id": emu.add_global_key(body["email"], body["key"], read_only, name)}


def _delay_post(emu: "Emulator", body: Any) -> Any:
    emu.delay = float(body["delay"])
    return {"delay": emu.delay}


def _history_get(emu: "Emulator", body: Any) -> Any:
    return {"segments": emu.history.segments(), "violations": emu.history.violations()}


def _edge_get(emu: "Emulator", body: Any) -> Any:
    return {"port": emu.edge_port, "held": sorted(emu.edge.held()), "ca": emu.edge.ca_pem}


def _edge_post(emu: "Emulator", body: Any) -> Any:
    """{"hold": [hostnames]} keeps serving them what they serve now; {"release": [hostnames] or null} undoes it."""
    if "hold" in body:
        emu.edge_hold(list(body["hold"]))
    if "release" in body:
        emu.edge_release(None if body["release"] is None else list(body["release"]))
    if not {"hold", "release"} & set(body):
        raise ValueError("give hold (a list of hostnames) or release (a list, or null for all)")
    return _edge_get(emu, body)


def _trusted_roots_post(emu: "Emulator", body: Any) -> Any:
    """{"roots": [PEM, ...]} adds roots to the trusted set; answers the set."""
    if not isinstance(body, dict) or "roots" not in body:
        raise ValueError("give roots: a list of PEM certificates")
    return {"roots": emu.add_trusted_roots(body["roots"])}


ROUTES: Dict[Tuple[str, str], Callable[["Emulator", Any], Any]] = {
    ("GET", "journal"): _journal_get,
    ("DELETE", "journal"): _journal_delete,
    ("GET", "journal/brief"): _journal_brief_get,
    ("GET", "counts"): lambda emu, body: emu.counts(),
    ("GET", "state"): lambda emu, body: emu.dump_state(),
    ("PUT", "state"): _state_put,
    ("POST", "custom-hostnames"): _custom_hostnames_post,
    ("GET", "faults"): lambda emu, body: emu.faults.rules(),
    ("POST", "faults"): _faults_post,
    ("DELETE", "faults"): _faults_delete,
    ("GET", "rate-limit"): lambda emu, body: emu.rate_limit.describe(),
    ("POST", "rate-limit"): _rate_limit_post,
    ("GET", "hostname-filter"): lambda emu, body: {"mode": emu.state.hostname_filter},
    ("POST", "hostname-filter"): _hostname_filter_post,
    ("POST", "credentials"): _credentials_post,
    ("POST", "delay"): _delay_post,
    ("GET", "history"): _history_get,
    ("GET", "edge"): _edge_get,
    ("POST", "edge"): _edge_post,
    ("GET", "origin-ca"): lambda emu, body: emu.origin_ca_roots(),
    ("GET", "trusted-roots"): lambda emu, body: {"roots": emu.trusted_roots()},
    ("POST", "trusted-roots"): _trusted_roots_post,
    ("DELETE", "trusted-roots"): lambda emu, body: {"roots": emu.reset_trusted_roots()},
}


def handle(emu: "Emulator", method: str, path: str, raw: bytes) -> Tuple[int, Any]:
    action = ROUTES.get((method, path.strip("/")))
    if action is None:
        return 404, {"error": "no admin route %s /__emulator/%s" % (method, path)}
    try:
        return 200, action(emu, _body(raw))
    except (ValueError, KeyError, TypeError, yaml.YAMLError) as exc:
        return 400, {"error": "%s: %s" % (type(exc).__name__, exc)}
