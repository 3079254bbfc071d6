"""The emulator's stand-in for "publicly trusted", and the check of every server certificate upload.

Cloudflare's "Manage custom certificates" page (Cloudflare for SaaS) says a custom certificate must be publicly
trusted and that a self-signed one is rejected; the emulator applies the same check to zone custom certificates
(unverified against the live API). The emulator cannot know the public roots, so it trusts:

* the roots of the test CA registry (`testcerts.trusted_cas()`: every CA `make_ca` created in this process unless
  `trusted=False`), as the registry is at the moment of the upload; its intermediates are the ones a chain may be
  completed with;
* its own CA (the one that signs minted seed certificates and the edge's managed certificates);
* the roots in the PEM bundle the environment variable `EMULATOR_TRUSTED_ROOTS` names, read when it starts;
* roots added with `add()` (the admin API's `POST /__emulator/trusted-roots`); `reset()` drops those.

An upload is verified with the collection's own `verify_chain` (plugins/module_utils/_pem.py; the web-PKI profile
of `cryptography.x509.verification`), so the emulator and the collection's planner agree on what is trusted.
`bundle_method` `force` "verifies the chain, but does not otherwise modify it" (the OpenAPI description of
`bundle_method`): the chain must verify as uploaded and is served as uploaded. `ubiquitous` and `optimal` build the
chain: the intermediates of the registry may complete it, and the edge serves the leaf and the intermediates the
verification used (the root left out: unverified against the live API). Refusals answer 400 with code 1411 (a
guess, unverified against the live API). Client certificates for authenticated origin pulls are not web-PKI and
are not checked here.
"""

from __future__ import annotations

import datetime
import hashlib
import importlib.util
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Sequence, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from .api import ApiError, Codes
from .testcerts import trusted_cas

if TYPE_CHECKING:  # pragma: no cover
    from .certs import CertInfo

ENV_TRUSTED_ROOTS = "EMULATOR_TRUSTED_ROOTS"
_PEM_FILE = Path(__file__).resolve().parents[2] / "plugins" / "module_utils" / "_pem.py"


def _load_pem_module() -> Any:
    """The collection's _pem module (no Ansible import in it), by file path so `python -m emulator` needs no collection path."""
    spec = importlib.util.spec_from_file_location("certops_emulator_pem", _PEM_FILE)
    if spec is None or spec.loader is None:  # pragma: no cover
        raise ImportError("cannot load %s" % _PEM_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pem_utils = _load_pem_module()


def _fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _is_root(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def load_roots(text: str, where: str) -> List[x509.Certificate]:
    """The certificates of a PEM bundle; ValueError naming `where` when there is none or one does not parse."""
    try:
        certs = x509.load_pem_x509_certificates(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError("%s: not a PEM bundle of certificates (%s)" % (where, exc)) from None
    if not certs:
        raise ValueError("%s: no certificate found" % where)
    return certs


class TrustStore:
    """The roots an emulator trusts (see the module docstring)."""

    def __init__(self, own_ca: Callable[[], Any]) -> None:
        self._own_ca = own_ca
        self._lock = threading.Lock()
        self._added: List[x509.Certificate] = []
        self._env: List[x509.Certificate] = []
        path = os.environ.get(ENV_TRUSTED_ROOTS)
        if path:
            self._env = load_roots(Path(path).read_text(encoding="ascii"), ENV_TRUSTED_ROOTS + "=" + path)

    # -- configuration -----------------------------------------------------------------------

    def add(self, pems: Sequence[str]) -> List[Dict[str, str]]:
        """Trust the certificates of `pems` (PEM texts) from now on; ValueError for one that does not parse."""
        if isinstance(pems, str) or not isinstance(pems, (list, tuple)) or not pems:
            raise ValueError("roots must be a non-empty list of PEM certificates")
        certs = [cert for index, text in enumerate(pems) for cert in load_roots(str(text), "roots[%d]" % index)]
        with self._lock:
            self._added.extend(certs)
        return self.describe()

    def reset(self) -> List[Dict[str, str]]:
        """Back to the default: the registry, the emulator's CA and EMULATOR_TRUSTED_ROOTS."""
        with self._lock:
            self._added = []
        return self.describe()

    # -- reading -----------------------------------------------------------------------------

    def _sources(self) -> List[Tuple[x509.Certificate, str, str]]:
        own = self._own_ca()
        with self._lock:
            added = list(self._added)
        items = [(ca.cert, "registry") for ca in trusted_cas()]
        items += [(own.cert, "emulator")] + [(c, "environment") for c in self._env] + [(c, "admin") for c in added]
        seen, unique = set(), []
        for cert, source in items:
            fingerprint = _fingerprint(cert)
            if fingerprint not in seen:
                seen.add(fingerprint)
                unique.append((cert, source, fingerprint))
        return unique

    def roots(self) -> List[x509.Certificate]:
        """The trust anchors now: every self-signed certificate of the sources."""
        return [cert for cert, _source, _fp in self._sources() if _is_root(cert)]

    def intermediates(self) -> List[x509.Certificate]:
        """The CA certificates that are not roots: what `ubiquitous`/`optimal` may complete a chain with."""
        return [cert for cert, _source, _fp in self._sources() if not _is_root(cert)]

    def describe(self) -> List[Dict[str, str]]:
        return [
            {"subject": cert.subject.rfc4514_string(), "fingerprint_sha256": fp, "source": source, "root": _is_root(cert)}
            for cert, source, fp in self._sources()
        ]

    # -- the check ---------------------------------------------------------------------------

    def check(self, info: "CertInfo", bundle_method: str, now: float) -> None:
        """Refuse an upload that is not trusted (ApiError 400); else set `info.served_pem`, the chain the edge serves."""
        moment = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
        complete_from = () if bundle_method == "force" else self.intermediates()
        try:
            chain = pem_utils.verify_chain(info.pem, self.roots(), complete_from=complete_from, now=moment, name="The certificate")
        except pem_utils.CertificateError as exc:
            raise ApiError(400, Codes.UNTRUSTED, "%s. Custom certificates must be publicly trusted." % str(exc).rstrip(".")) from None
        if bundle_method == "force":
            info.served_pem = info.pem
        else:
            info.served_pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain[:-1])
