"""The TLS edge: what a browser gets for each hostname, answered from the history's one `served()` model.

A TLS listener on 127.0.0.1. The SNI callback asks `history.served(hostname, key_type, at)` for both key
types and hands OpenSSL a context holding those certificates (one RSA, one ECDSA, or one of either), so
OpenSSL picks by what the client offers: a TLS 1.2 client offering only ECDSA cipher suites gets the ECDSA
certificate, one offering only RSA suites the RSA one. Sources:

* `custom_hostname` and `zone_custom`: the uploaded certificate with the private key kept in memory
  (CertInfo.private_key), with the chain its bundle method makes (trust.py: as uploaded with `force`, else
  completed from the trusted intermediates). A certificate seeded without its key cannot be served: the
  handshake fails.
* `managed`: a certificate the emulator mints for the hostname (both key types, signed by the emulator's
  CA, `ca_pem`), kept for as long as the edge runs.
* `none` (an unknown name) or no SNI at all: the handshake fails with an `unrecognized_name` alert.

Not modelled: a custom hostname's `ssl.settings` (min_tls_version, ciphers, tls_1_3). OpenSSL has chosen the
protocol version before Python's SNI callback runs, and a context set there cannot change it.
`hold(hostnames)` keeps serving what those hostnames serve now (the same model asked about an earlier
moment), so a test can play an edge that never picked up a rotation.

Python's ssl loads certificates from files only: each chain and key is written to a 0700 temporary
directory, loaded, and deleted at once; the directory is removed when the edge stops.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socketserver
import ssl
import tempfile
import threading
import uuid
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Optional, Tuple

from .testcerts import make_leaf, new_key

if TYPE_CHECKING:  # pragma: no cover
    from .state import State

KEY_TYPES = ("ecdsa", "rsa")
MANAGED_DAYS = 90  # Cloudflare's managed certificates last 90 days
HANDSHAKE_TIMEOUT = 10.0
_MAX_REQUEST = 65536


class Unservable(Exception):
    """No certificate to serve for a name; carries the TLS alert to send."""

    def __init__(self, alert: int) -> None:
        super().__init__(alert)
        self.alert = alert


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        edge: "Edge" = self.server.edge  # type: ignore[attr-defined]
        self.request.settimeout(HANDSHAKE_TIMEOUT)
        try:
            with edge.base_context.wrap_socket(self.request, server_side=True) as tls:
                _answer(tls)
        except (ssl.SSLError, OSError):
            pass  # a failed handshake or a client that went away: nothing more to say


def _answer(tls: ssl.SSLSocket) -> None:
    """A minimal HTTP answer, so that curl or a browser pointed at the edge sees something."""
    received = b""
    while b"\r\n\r\n" not in received and len(received) < _MAX_REQUEST:
        chunk = tls.recv(4096)
        if not chunk:
            return
        received += chunk
    body = b"certops emulator edge\n"
    tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # bursts of parallel probes


class Edge:
    """The TLS edge of one emulator's state (see the module docstring)."""

    def __init__(self, state: "State") -> None:
        self._state = state
        self._lock = threading.Lock()
        self._contexts: Dict[Tuple[str, ...], ssl.SSLContext] = {}
        self._managed: Dict[Tuple[str, str], Any] = {}  # (hostname, key_type) -> minted Issued
        self._managed_keys: Dict[str, Any] = {}  # one key per type: RSA keys are slow to generate
        self._held: Dict[str, float] = {}  # hostname -> the moment whose certificate it keeps serving
        self._server: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None
        self._key_dir: Optional[str] = None
        self.base_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.base_context.minimum_version = ssl.TLSVersion.TLSv1_2
        self.base_context.sni_callback = self._on_sni

    # -- life cycle --------------------------------------------------------------------------

    def start(self, port: int = 0) -> int:
        """Listen on 127.0.0.1:`port` (0: a free one) in a background thread; return the port."""
        self._key_dir = tempfile.mkdtemp(prefix="certops-edge-")
        os.chmod(self._key_dir, 0o700)
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.edge = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="cloudflare-emulator-edge", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._key_dir is not None:
            shutil.rmtree(self._key_dir, ignore_errors=True)
        with self._lock:
            self._contexts.clear()
            self._managed.clear()
        self._server = self._thread = self._key_dir = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the edge is not running")
        return self._server.server_address[1]

    @property
    def key_dir(self) -> Optional[str]:
        """The 0700 directory key files pass through while they load (None when stopped)."""
        return self._key_dir

    @property
    def ca_pem(self) -> str:
        """The emulator's CA: it signs the managed certificates (and minted seed certificates)."""
        return self._state.ca.cert_pem

    # -- holding the old certificate ----------------------------------------------------------

    def hold(self, hostnames: Iterable[str], at: Optional[float] = None) -> Dict[str, float]:
        """From now on serve `hostnames` what they served at `at` (now if None), whatever changes later."""
        moment = self._state.now() if at is None else at
        with self._lock:
            for hostname in hostnames:
                self._held[_normal(hostname)] = moment
            return dict(self._held)

    def release(self, hostnames: Optional[Iterable[str]] = None) -> Dict[str, float]:
        """Serve `hostnames` (all if None) what they serve now again."""
        with self._lock:
            if hostnames is None:
                self._held.clear()
            for hostname in hostnames or ():
                self._held.pop(_normal(hostname), None)
            return dict(self._held)

    def held(self) -> Dict[str, float]:
        with self._lock:
            return dict(self._held)

    # -- choosing what to serve -----------------------------------------------------------------

    def served_chains(self, hostname: str) -> List[Tuple[str, str, str]]:
        """(fingerprint, chain PEM, key PEM) of what `hostname` serves now; Unservable when nothing."""
        hostname = _normal(hostname)
        with self._lock:
            at = self._held.get(hostname)
        served = [self._state.history.served(hostname, key_type, at) for key_type in KEY_TYPES]
        if all(s.source == "none" for s in served):
            raise Unservable(ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME)
        chains = {}
        for key_type, item in zip(KEY_TYPES, served):
            if item.source == "managed":
                chain = self._managed_chain(hostname, key_type)
            elif item.info is None or not item.info.private_key:
                raise Unservable(ssl.ALERT_DESCRIPTION_INTERNAL_ERROR)  # seeded without its key: nothing to sign with
            else:
                # The chain as the bundle method made it (trust.py): as uploaded with force, else completed.
                chain = (item.info.fingerprint_sha256, item.info.served_pem or item.info.pem, item.info.private_key)
            chains[(chain[0], chain[1])] = chain
        return list(chains.values())

    def _managed_chain(self, hostname: str, key_type: str) -> Tuple[str, str, str]:
        with self._lock:
            issued = self._managed.get((hostname, key_type))
            if issued is None:
                key = self._managed_keys.get(key_type) or self._managed_keys.setdefault(key_type, new_key(key_type))
                issued = make_leaf(self._state.ca, [hostname], key_type=key_type, days=MANAGED_DAYS, key=key)
                self._managed[(hostname, key_type)] = issued
        return issued.fingerprint_sha256, issued.chain_pem, issued.key_pem

    def _on_sni(self, tls: Any, server_name: Optional[str], _context: ssl.SSLContext) -> Optional[int]:
        if not server_name:
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        try:
            tls.context = self._context_for(self.served_chains(server_name))
        except Unservable as refused:
            return refused.alert
        except (ssl.SSLError, OSError, ValueError):
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        return None

    def _context_for(self, chains: List[Tuple[str, str, str]]) -> ssl.SSLContext:
        cache_key = tuple(sorted(fp + ":" + hashlib.sha256(chain.encode("ascii")).hexdigest() for fp, chain, _key in chains))
        with self._lock:
            cached = self._contexts.get(cache_key)
        if cached is not None:
            return cached
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        for _fingerprint, chain, key in chains:
            self._load(context, chain, key)  # one slot per key type: OpenSSL chooses by the client's offer
        with self._lock:
            return self._contexts.setdefault(cache_key, context)

    def _load(self, context: ssl.SSLContext, chain: str, key: str) -> None:
        if self._key_dir is None:
            raise ValueError("the edge is not running")
        path = os.path.join(self._key_dir, uuid.uuid4().hex + ".pem")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(chain if chain.endswith("\n") else chain + "\n")
                handle.write(key)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)  # in memory from here on; the file existed only while OpenSSL read it


def _normal(hostname: str) -> str:
    return hostname.lower().rstrip(".")
