"""The HTTP side: routing, auth, envelope, faults, rate limit and journal around the resource handlers."""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple, Union
from urllib.parse import parse_qs, urlencode, urlsplit

from . import admin
from .api import ApiError, Codes, Query, Request, Route, failure
from .auth import Credentials, check_permission
from .edge import Edge
from .faults import ECHO_LIMIT, FaultRule, Faults, RateLimiter
from .history import History
from .journal import REDACTED, Journal, redact
from .resources import ROUTES, custom_certs
from .state import HOSTNAME_FILTERS, State

API_PREFIX = "/client/v4"
ADMIN_PREFIX = "/__emulator"
DEFAULT_TOKEN = "certops-emulator-token"
DEFAULT_READONLY_TOKEN = "certops-emulator-readonly-token"
DEFAULT_EMAIL = "admin@example.com"
DEFAULT_KEY = "certops-emulator-global-api-key"
DEFAULT_SERVICE_KEY = "v1.0-certops-emulator-origin-ca-key"
_MAX_ID = 32  # path ids are at most 32 characters in the document
_ECHO_CODE = 1000  # the error code of an injected "echo" answer


class Router:
    def __init__(self, routes: List[Route]) -> None:
        self._routes = [(r, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", r.pattern) + "$")) for r in routes]

    def match(self, method: str, path: str) -> Tuple[Route, Dict[str, str]]:
        other_method = False
        for route, regex in self._routes:
            found = regex.match(path)
            if not found:
                continue
            if route.method != method:
                other_method = True
                continue
            params = found.groupdict()
            if any(k.endswith("_id") and len(v) > _MAX_ID for k, v in params.items()):
                raise ApiError(
                    400,
                    Codes.BAD_ROUTE,
                    "Could not route to /%s, perhaps your object identifier is invalid?" % path,
                    more=[{"code": Codes.NO_ROUTE, "message": "No route for that URI"}],
                )
            return route, params
        if other_method:
            raise ApiError(405, Codes.METHOD_NOT_ALLOWED, "Method %s not allowed for this route" % method)
        raise ApiError(400, Codes.NO_ROUTE, "No route for that URI")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    server_version = "cloudflare"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without TCP_NODELAY each answer waits for a delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.connections.add(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        self.server.connections.discard(self.connection)  # type: ignore[attr-defined]
        super().finish()

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        if self.server.emulator.verbose:  # type: ignore[attr-defined]
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        emu: "Emulator" = self.server.emulator  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith(ADMIN_PREFIX + "/"):
            status, body = admin.handle(emu, self.command, url.path[len(ADMIN_PREFIX) + 1 :], raw)
            self._send(status, body)
        elif url.path == API_PREFIX or url.path.startswith(API_PREFIX + "/"):
            self._api(emu, url.path, url.query, raw)
        else:
            self._send(404, failure([{"code": Codes.NO_ROUTE, "message": "No route for that URI"}]))

    def _api(self, emu: "Emulator", path: str, query: str, raw: bytes) -> None:
        started = time.monotonic()
        text = raw.decode("utf-8", "replace")
        entry: Dict[str, Any] = {
            "method": self.command,
            "path": path,
            "query": {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()},
            "query_string": query,
            "user_agent": self.headers.get("User-Agent", ""),
            "credential": self._claimed_credential(emu),
            "auth_scheme": _auth_scheme(self.headers),
            "request_body": _decode(text) if text else None,
            "fault": None,
        }
        fault = emu.faults.pick(self.command, path)
        entry["fault"] = fault.kind if fault else None
        if fault and fault.kind == "reset_before":
            emu.journal_log.record(dict(entry, status=None, duration_ms=_ms(started)))
            self._reset()
            return
        if fault and fault.kind in ("429", "500", "502", "503"):
            status, body, headers = _fault_answer(fault.kind, fault.retry_after)
        elif fault and fault.kind in ("unapplied", "redirect", "echo"):
            status, body, headers = self._unprocessed_answer(emu, fault, path, query, text, entry)
        elif fault and fault.kind == "endless_pages":
            status, body, headers = self._endless_page(emu, path, query, text, entry)
        else:
            decision = emu.rate_limit.decide(emu.credentials.identity(self.headers), time.time())
            if decision.retry_after is not None:
                entry["fault"] = "rate_limit"
                status, body, headers = 429, emu.rate_limit.refusal(), {"Retry-After": str(decision.retry_after)}
            else:
                status, body, headers = self._process(emu, path, query, text, entry)
            headers = dict(headers, **decision.headers)
        if fault and fault.kind not in ("slow", "reset_after"):
            # an injected answer, which the limit never counted, still shows where the quota stands
            headers = dict(headers, **emu.rate_limit.decide(emu.credentials.identity(self.headers), time.time(), count=False).headers)
        if fault and fault.kind == "slow":
            time.sleep(fault.delay)
        journaled = body if isinstance(body, dict) else None
        if fault and fault.kind == "echo" and _holds_secret(entry["request_body"], text):
            journaled = _redact_echo(body)  # the echo may hold a secret the journal cannot recognise alone
        emu.journal_log.record(dict(entry, status=status, response_body=journaled, duration_ms=_ms(started)))
        if fault and fault.kind == "reset_after":
            self._reset()
            return
        self._send(status, body, headers)

    def _claimed_credential(self, emu: "Emulator") -> Optional[str]:
        """The id of a valid credential the request carries, before anything else is checked."""
        identity = emu.credentials.identity(self.headers)
        return None if identity == "anonymous" else identity

    def _unprocessed_answer(
        self, emu: "Emulator", fault: FaultRule, path: str, query: str, text: str, entry: Dict[str, Any]
    ) -> Tuple[int, Any, Dict[str, str]]:
        """The answer of an "unapplied", "redirect" or "echo" fault; the request itself is not processed."""
        if fault.kind == "redirect":
            return int(fault.status or 307), {}, {"Location": str(fault.location)}
        if fault.kind == "echo":
            echoed = text[:ECHO_LIMIT]
            if fault.answer == "escaped":
                echoed = json.dumps(echoed)
            message = "Invalid request: " + echoed
            if fault.answer == "string":
                return 400, {"success": False, "errors": message, "messages": [], "result": None}, {}
            return 400, failure([{"code": _ECHO_CODE, "message": message}]), {}
        if fault.answer == "empty":
            return 200, {"success": True, "errors": [], "messages": [], "result": None}, {}
        if fault.answer == "no_result":
            return 200, {"success": True, "errors": [], "messages": []}, {}
        if fault.answer == "not_json":
            return 200, "<html><head><title>Welcome</title></head><body><p>Please sign in to continue.</p></body></html>", {}
        # "stale": what a GET of the same path answers now (the object unchanged), through the usual path.
        status, body, _headers = self._process(emu, path, query, "", entry, method="GET")
        # A POST creates an object: the collection's list is no answer to it, an empty object is.
        if self.command != "POST" and 200 <= status < 300 and isinstance(body, dict) and body.get("success") is True:
            return 200, body, {}
        return 200, {"success": True, "errors": [], "messages": [], "result": {}}, {}

    def _endless_page(self, emu: "Emulator", path: str, query: str, text: str, entry: Dict[str, Any]) -> Tuple[int, Any, Dict[str, str]]:
        """The answer of an "endless_pages" fault: a list GET gets its first page, presented as page N of N+1."""
        if self.command != "GET":
            return self._process(emu, path, query, text, entry)
        params = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        asked = params.get("page", "1")
        page = int(asked) if asked.isdigit() and int(asked) >= 1 else 1
        status, body, headers = self._process(emu, path, urlencode(dict(params, page="1")), "", entry)
        if 200 <= status < 300 and isinstance(body, dict) and isinstance(body.get("result"), list):
            info = body.get("result_info") or {}
            per_page = int(info.get("per_page") or len(body["result"]) or 1)
            body = dict(body, result_info=dict(info, page=page, count=len(body["result"]), total_count=per_page * (page + 1), total_pages=page + 1))
        return status, body, headers

    def _process(
        self, emu: "Emulator", path: str, query: str, text: str, entry: Dict[str, Any], method: Optional[str] = None
    ) -> Tuple[int, Any, Dict[str, str]]:
        """Route, authenticate and run one request; `method` overrides the request's own (a stale answer runs GET)."""
        method = method or self.command
        try:
            cred, scheme = emu.credentials.identify(self.headers)
            entry["credential"] = cred.id
            route, params = emu.router.match(method, path[len(API_PREFIX) :].strip("/"))
            if scheme == "service_key" and not route.service_key:
                raise _no_credentials()
            check_permission(cred, method)
            try:
                body = json.loads(text) if text.strip() else None
            except ValueError:
                raise ApiError(400, Codes.MALFORMED_JSON, "Malformed JSON in request body") from None
            with emu.state.lock:
                zone = emu.state.zone(params["zone_id"]) if "zone_id" in params else None
                status, result = route.handler(emu.state, zone, Request(method, params, Query(query), body))
            return status, result, {}
        except ApiError as exc:
            return exc.status, failure(exc.errors), exc.headers
        # An emulator bug must still answer, not leave the client hanging.
        except Exception:  # pylint: disable=broad-except
            traceback.print_exc(file=sys.stderr)
            return 500, failure([{"code": Codes.INTERNAL, "message": "Internal emulator error"}]), {}

    def _send(self, status: int, body: Any, headers: Optional[Dict[str, str]] = None) -> None:
        html = isinstance(body, str)
        data = body.encode("utf-8") if html else json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html" if html else "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        """Drop the connection with a TCP RST (SO_LINGER 0), as a broken network would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True


def _auth_scheme(headers: Any) -> Optional[str]:
    """The scheme a request's headers claim, as identify() reads them (Authorization first)."""
    if "Authorization" in headers:
        return "token"
    if "X-Auth-Key" in headers or "X-Auth-Email" in headers:
        return "key"
    return "service_key" if "X-Auth-User-Service-Key" in headers else None


def _no_credentials() -> ApiError:
    """What a request without a credential the operation accepts gets (the Origin CA key is for Origin CA operations only)."""
    return ApiError(400, Codes.MISSING_EMAIL, "Missing X-Auth-Email header", more=[{"code": Codes.MISSING_KEY, "message": "Missing X-Auth-Key header"}])


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text[:2000]


def _holds_secret(request_body: Any, text: str) -> bool:
    """Whether the journal would redact something of this request body."""
    return "PRIVATE KEY" in text or redact(request_body) != request_body


def _redact_echo(body: Any) -> Any:
    """An echo fault's answer with the echoed request replaced by "<redacted>", for the journal."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("errors"), list):
        return dict(body, errors=[dict(e, message=REDACTED) for e in body["errors"]])
    return dict(body, errors=REDACTED)


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 2)


def _fault_answer(kind: str, retry_after: Optional[float]) -> Tuple[int, Any, Dict[str, str]]:
    if kind == "429":
        # retry_after None: no Retry-After header at all (the client must pick its own wait).
        headers = {} if retry_after is None else {"Retry-After": str(max(1, int(retry_after)))}
        return 429, failure([{"code": Codes.RATE_LIMITED, "message": "Please wait and consider throttling your request speed"}]), headers
    if kind == "500":
        return 500, failure([{"code": Codes.INTERNAL, "message": "Internal server error"}]), {}
    # Cloudflare's edge answers 502 and 503 with an HTML page, not an envelope.
    return int(kind), "<html><head><title>%s</title></head><body><h1>%s</h1><p>cloudflare</p></body></html>" % (kind, kind), {}


def _default_priority(value: Optional[float]) -> float:
    """20 (the 2024 OpenAPI document's default) unless given, here or in EMULATOR_DEFAULT_PRIORITY (newer schemas say 0)."""
    if value is None:
        raw = os.environ.get("EMULATOR_DEFAULT_PRIORITY", "").strip()
        try:
            value = float(raw) if raw else float(custom_certs.DEFAULT_PRIORITY)
        except ValueError:
            raise ValueError("EMULATOR_DEFAULT_PRIORITY must be a number, not %r" % raw) from None
    return int(value) if float(value).is_integer() else value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: Tuple[str, int], emulator: "Emulator") -> None:
        self.emulator = emulator
        self.connections: Set[socket.socket] = set()  # open keep-alive connections, closed by stop()
        super().__init__(address, Handler)

    def close_connections(self) -> None:
        for connection in list(self.connections):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Emulator:
    """A Cloudflare API emulator on 127.0.0.1 (see README.md).

    `seed`: None (an empty zone example.com), "demo", a dict, or a YAML/JSON file path.
    `delay`: seconds each status step lasts (None: the seed's `delay`, else 0).
    `tokens`: extra API tokens, {token: read_only}.
    `default_priority`: of a new zone custom certificate; None takes EMULATOR_DEFAULT_PRIORITY, else 20.
    """

    def __init__(
        self,
        seed: Union[None, str, Path, Dict[str, Any]] = None,
        delay: Optional[float] = None,
        token: str = DEFAULT_TOKEN,
        readonly_token: str = DEFAULT_READONLY_TOKEN,
        api_email: str = DEFAULT_EMAIL,
        api_key: str = DEFAULT_KEY,
        service_key: str = DEFAULT_SERVICE_KEY,
        tokens: Optional[Dict[str, bool]] = None,
        journal_bodies: bool = True,
        verbose: bool = False,
        default_priority: Optional[float] = None,
    ) -> None:
        self.state = State(default_priority=_default_priority(default_priority))
        self.state.load(seed)
        if delay is not None:
            self.state.delay = delay
        self.token, self.readonly_token, self.api_email, self.api_key = token, readonly_token, api_email, api_key
        self.credentials = Credentials()
        self.credentials.add_token(token, cred_id="token")
        self.credentials.add_token(readonly_token, read_only=True, cred_id="readonly-token")
        self.credentials.add_key(api_email, api_key, cred_id="global-key")
        self.service_key = service_key
        self.credentials.add_service_key(service_key, cred_id="service-key")
        for extra, read_only in (tokens or {}).items():
            self.credentials.add_token(extra, read_only=read_only)
        self.journal_log = Journal(journal_bodies)
        self.faults = Faults()
        self.rate_limit = RateLimiter()
        self.router = Router(ROUTES)
        self.verbose = verbose
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self.edge = Edge(self.state)

    # -- life cycle --------------------------------------------------------------------------

    def start(self, port: int = 0, edge_port: Optional[int] = None) -> str:
        """Serve in a background thread; return the API base URL. `edge_port` (0: a free one) also opens the TLS edge."""
        self._server = _Server(("127.0.0.1", port), self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="cloudflare-emulator", daemon=True)
        self._thread.start()
        if edge_port is not None:
            self.start_edge(edge_port)
        return self.url

    def serve_forever(self, port: int = 8787, edge_port: Optional[int] = None) -> None:
        """Serve in the calling thread until interrupted; `edge_port` also opens the TLS edge (in its own thread)."""
        self._server = _Server(("127.0.0.1", port), self)
        if edge_port is not None:
            self.start_edge(edge_port)
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()
            self.edge.stop()

    def start_edge(self, port: int = 0) -> int:
        """Open the TLS edge on 127.0.0.1:`port` (0: a free one); return its port. Stopped by stop()."""
        if not self.edge.running:
            self.edge.start(port)
        return self.edge.port

    @property
    def edge_port(self) -> Optional[int]:
        """The TLS edge's port, None while it is closed."""
        return self.edge.port if self.edge.running else None

    def edge_hold(self, hostnames: List[str]) -> Dict[str, float]:
        """Keep serving `hostnames` at the edge what they serve now, whatever changes (an edge that missed a rotation)."""
        return self.edge.hold(hostnames)

    def edge_release(self, hostnames: Optional[List[str]] = None) -> Dict[str, float]:
        """Serve `hostnames` (all if None) what the state says again."""
        return self.edge.release(hostnames)

    def stop(self) -> None:
        self.edge.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, API_PREFIX)

    @property
    def admin_url(self) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, ADMIN_PREFIX)

    # -- state, time, credentials ------------------------------------------------------------

    @property
    def zone_id(self) -> str:
        """The id of the first zone (example.com unless seeded otherwise)."""
        return next(iter(self.state.zones))

    @property
    def delay(self) -> float:
        return self.state.delay

    @delay.setter
    def delay(self, seconds: float) -> None:
        self.state.delay = seconds

    @property
    def history(self) -> History:
        return self.state.history

    def dump_state(self) -> Dict[str, Any]:
        return self.state.dump()

    def load_state(self, seed: Union[None, str, Path, Dict[str, Any]]) -> None:
        self.state.load(seed)

    def add_token(self, token: str, read_only: bool = False, name: Optional[str] = None) -> str:
        """Accept another API token; return its id (what the journal shows)."""
        return self.credentials.add_token(token, read_only, name)

    def add_global_key(self, email: str, key: str, read_only: bool = False, name: Optional[str] = None) -> str:
        return self.credentials.add_key(email, key, read_only, name)

    def add_service_key(self, key: str, name: Optional[str] = None) -> str:
        """Accept another Origin CA key (X-Auth-User-Service-Key, Origin CA operations only); return its id."""
        return self.credentials.add_service_key(key, cred_id=name)

    def origin_ca_roots(self) -> Dict[str, str]:
        """The emulator's Origin CA roots, {"rsa": PEM, "ecc": PEM}: what a client trusts Origin CA certificates with."""
        return self.state.origin_ca.roots_pem()

    # -- trust ---------------------------------------------------------------------------------

    def add_trusted_roots(self, pems: List[str]) -> List[Dict[str, Any]]:
        """Trust these PEM certificates from now on (besides the default set); answers the trusted set."""
        return self.state.trust.add(pems)

    def trusted_roots(self) -> List[Dict[str, Any]]:
        """The trusted set: subject, fingerprint_sha256, source (registry, emulator, environment, admin), root."""
        return self.state.trust.describe()

    def reset_trusted_roots(self) -> List[Dict[str, Any]]:
        """Back to the default set (drops what add_trusted_roots added)."""
        return self.state.trust.reset()

    # -- lookups by name ----------------------------------------------------------------------

    def set_hostname_filter(self, mode: str) -> Dict[str, str]:
        """How the custom hostname list's `hostname` filter matches: "exact" (as documented, the default) or "contains"
        (every name containing the value, as newer SDKs' `hostname.contain`), to test lookups by name. ValueError otherwise."""
        if mode not in HOSTNAME_FILTERS:
            raise ValueError("mode must be one of %s, not %r" % (", ".join(HOSTNAME_FILTERS), mode))
        with self.state.lock:
            self.state.hostname_filter = mode
        return {"mode": mode}

    # -- journal, faults, rate limit ---------------------------------------------------------

    def journal(self) -> List[Dict[str, Any]]:
        return self.journal_log.entries()

    def reset_journal(self) -> None:
        self.journal_log.reset()

    def counts(self) -> Dict[str, int]:
        return self.journal_log.counts()

    def add_fault(
        self,
        kind: Any,
        method: Optional[str] = None,
        path: Optional[str] = None,
        count: Optional[int] = 1,
        probability: Optional[float] = None,
        seed: Optional[int] = None,
        retry_after: Optional[float] = 1.0,
        delay: float = 1.0,
        answer: Optional[str] = None,
        status: Optional[int] = None,
        location: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Inject a fault (faults.py); return the rule."""
        return self.faults.add(kind, method, path, count, probability, seed, retry_after, delay, answer, status, location)

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_rate_limit(self, limit: Optional[int], window: float = 300.0) -> None:
        """At most `limit` requests per trailing `window` seconds per credential, every request blocked for one `window`
        from the one that goes over, with Cloudflare's rate-limit headers on every answer (None: off, no headers)."""
        self.rate_limit.configure(limit, window)
