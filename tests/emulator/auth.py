"""Credentials the emulator accepts: API tokens (Bearer), Global API key pairs and the Origin CA key.

Answers follow Cloudflare's where known (codes in api.Codes); the HTTP statuses for a bad token
(403) and a missing credential (400) are unverified against the live API.

The Origin CA key (`X-Auth-User-Service-Key`, the `user_service_key` scheme) is the one scheme the 2024 OpenAPI
document lists for the four Origin CA operations; Cloudflare's API reference and SDKs now say "You can use an Origin
CA Key as your User Service Key or an API token", and the Terraform provider's `cloudflare_origin_ca_certificate`
says all authentication schemes are supported since v3.32.0: the emulator accepts the token and the Global API key
there too. The Origin CA key is accepted by those operations only; elsewhere a request carrying only it is answered
as one without credentials (unverified against the live API). An unknown Origin CA key gets 403 + 10000 (a guess).
  # rule: origin-ca-credentials
The zone-level authenticated origin pull operations list `api_email` + `api_key` only in that document; the newer
reference accepts an API token for them as well, and so does the emulator.
  # rule: zone-aop-token
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Tuple

from .api import ApiError, Codes

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def check_permission(cred: "Credential", method: str) -> None:
    if method in WRITE_METHODS and cred.read_only:
        raise ApiError(403, Codes.AUTH_ERROR, "Authentication error")  # what a token without the permission gets


@dataclass
class Credential:
    id: str  # what the journal shows, never the secret
    read_only: bool


class Credentials:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: Dict[str, Credential] = {}
        self._keys: Dict[Tuple[str, str], Credential] = {}
        self._service_keys: Dict[str, Credential] = {}

    def add_token(self, token: str, read_only: bool = False, cred_id: Optional[str] = None) -> str:
        with self._lock:
            cred = Credential(cred_id or "token-%d" % (len(self._tokens) + 1), read_only)
            self._tokens[token] = cred
            return cred.id

    def add_key(self, email: str, key: str, read_only: bool = False, cred_id: Optional[str] = None) -> str:
        with self._lock:
            cred = Credential(cred_id or "key-%d" % (len(self._keys) + 1), read_only)
            self._keys[(email.lower(), key)] = cred
            return cred.id

    def add_service_key(self, key: str, read_only: bool = False, cred_id: Optional[str] = None) -> str:
        """An Origin CA key (sent as X-Auth-User-Service-Key), accepted by the Origin CA operations only."""
        with self._lock:
            cred = Credential(cred_id or "service-key-%d" % (len(self._service_keys) + 1), read_only)
            self._service_keys[key] = cred
            return cred.id

    def identity(self, headers: Mapping[str, str]) -> str:
        """Who a request claims to be, for rate limiting: a credential id, or "anonymous"."""
        try:
            return self.identify(headers)[0].id
        except ApiError:
            return "anonymous"

    def identify(self, headers: Mapping[str, str]) -> Tuple[Credential, str]:
        """The credential of a request and its scheme ("token", "key" or "service_key"); ApiError when refused."""
        authorization = headers.get("Authorization")
        if authorization is not None:
            scheme, _sep, token = authorization.strip().partition(" ")
            if scheme != "Bearer" or not token.strip() or " " in token.strip():
                raise ApiError(
                    400,
                    Codes.INVALID_HEADERS,
                    "Invalid request headers",
                    chain=[{"code": Codes.INVALID_AUTH_FORMAT, "message": "Invalid format for Authorization header"}],
                )
            with self._lock:
                cred = self._tokens.get(token.strip())
            if cred is None:
                raise ApiError(403, Codes.AUTH_ERROR, "Authentication error")  # status guessed
            return cred, "token"
        email, key = headers.get("X-Auth-Email"), headers.get("X-Auth-Key")
        service_key = headers.get("X-Auth-User-Service-Key")
        if service_key is not None and not email and not key:
            with self._lock:
                cred = self._service_keys.get(service_key.strip())
            if cred is None:
                raise ApiError(403, Codes.AUTH_ERROR, "Authentication error")  # guess
            return cred, "service_key"
        missing = []
        if not email:
            missing.append({"code": Codes.MISSING_EMAIL, "message": "Missing X-Auth-Email header"})
        if not key:
            missing.append({"code": Codes.MISSING_KEY, "message": "Missing X-Auth-Key header"})
        if missing:
            first = missing[0]
            raise ApiError(400, first["code"], first["message"], more=missing[1:])
        with self._lock:
            cred = self._keys.get((email.lower(), key))
        if cred is None:
            raise ApiError(403, Codes.UNKNOWN_KEY, "Unknown X-Auth-Key or X-Auth-Email")
        return cred, "key"
