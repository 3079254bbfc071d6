"""Zones: list (with the name filter and its operators) and details, for zone name -> id lookups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, List, Tuple

from ..api import Request, Route, invalid, paginate, success
from ..certs import iso

if TYPE_CHECKING:  # pragma: no cover
    from ..state import State, Zone

STATUSES = ("initializing", "pending", "active", "moved")
TYPES = ("full", "partial", "secondary", "internal")
ORDERS = ("name", "status", "account.id", "account.name", "plan.id")
OPERATORS: Dict[str, Callable[[str, str], bool]] = {
    "equal": lambda value, wanted: value.lower() == wanted.lower(),
    "not_equal": lambda value, wanted: value.lower() != wanted.lower(),
    "starts_with": lambda value, wanted: value.lower().startswith(wanted.lower()),
    "ends_with": lambda value, wanted: value.lower().endswith(wanted.lower()),
    "contains": lambda value, wanted: wanted.lower() in value.lower(),
    "starts_with_case_sensitive": lambda value, wanted: value.startswith(wanted),
    "ends_with_case_sensitive": lambda value, wanted: value.endswith(wanted),
    "contains_case_sensitive": lambda value, wanted: wanted in value,
}


def view(zone: "Zone") -> Dict[str, Any]:
    created = iso(zone.created_on)
    return {
        "id": zone.id,
        "name": zone.name,
        "status": "active",
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "created_on": created,
        "modified_on": created,
        "activated_on": created,
        "owner": {"id": zone.account_id, "name": zone.account_name, "type": "organization"},
        "account": {"id": zone.account_id, "name": zone.account_name},
        "meta": {"custom_certificate_quota": 10, "page_rule_quota": 3, "phishing_detected": False, "step": 2},
        "plan": {"id": "94f3b7b768b0458b56d2cac4fe5ec0f9", "name": "Enterprise Website", "legacy_id": "enterprise"},
        "permissions": ["#ssl:read", "#ssl:edit", "#zone:read"],
    }


def _text_filter(field: Callable[["Zone"], str], raw: str) -> Callable[["Zone"], bool]:
    operator, _sep, wanted = raw.partition(":")
    if operator not in OPERATORS:  # no operator: the whole value is compared for equality
        operator, wanted = "equal", raw
    return lambda zone: OPERATORS[operator](field(zone), wanted)


def list_zones(state: "State", zone: Any, req: Request) -> Tuple[int, Any]:
    query = req.query
    tests: List[Callable[["Zone"], bool]] = []
    if query.get("name") is not None:
        tests.append(_text_filter(lambda z: z.name, query.get("name")))
    if query.get("account.name") is not None:
        tests.append(_text_filter(lambda z: z.account_name, query.get("account.name")))
    if query.get("account.id") is not None:
        tests.append(lambda z: z.account_id == query.get("account.id"))
    if query.enum("status", STATUSES) is not None:
        tests.append(lambda z: query.get("status") == "active")
    types = (query.get("type") or "full,partial,secondary").split(",")  # internal zones only when asked for
    if not set(types) <= set(TYPES):
        raise invalid("type must be a comma-separated list of %s" % ", ".join(TYPES))
    order = query.enum("order", ORDERS)
    reverse = query.enum("direction", ("asc", "desc")) == "desc"
    combine = any if query.enum("match", ("any", "all"), "all") == "any" else all
    items = [z for z in state.zones.values() if "full" in types and (not tests or combine(t(z) for t in tests))]
    if order in ("name", "account.name", "account.id"):
        items.sort(key=lambda z: {"name": z.name, "account.name": z.account_name, "account.id": z.account_id}[order])
    if reverse:
        items.reverse()
    page, info = paginate(items, query, 20, 5, 50)
    return 200, success([view(z) for z in page], info)


def get_zone(state: "State", zone: "Zone", req: Request) -> Tuple[int, Any]:
    return 200, success(view(zone))


ROUTES = [
    Route("GET", "zones", list_zones),
    Route("GET", "zones/{zone_id}", get_zone),
]
