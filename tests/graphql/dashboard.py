"""Test helpers for Saleor Dashboard tokens: an RSA signing key, its JWKS, and a JWKS server.

Self-contained (cryptography + PyJWT + http.server), so these tests do not depend on the shared
fake Saleor. Tokens carry the claims of ``saleor/core/jwt.py::create_access_token_for_app``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "QXBwOjQy"  # App:42
USER_ID = "VXNlcjo3"  # User:7


@cache
def _private_key(seed: str) -> rsa.RSAPrivateKey:
    # Keys are expensive to make; one per name per test session is plenty.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class SigningKey:
    """An RS256 key named ``kid``; ``sign`` makes a JWT with ``kid`` in its header."""

    kid: str

    @property
    def private(self) -> rsa.RSAPrivateKey:
        return _private_key(self.kid)

    def jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        data.update(kid=self.kid, use="sig", alg="RS256")
        return data

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.jwk() for key in keys]}


def dashboard_claims(
    *,
    api_url: str,
    now: datetime,
    app_id: str = APP_ID,
    user_permissions: tuple[str, ...] = ("MANAGE_USERS", "MANAGE_ORDERS"),
    ttl: timedelta = timedelta(minutes=5),
    **overrides: Any,
) -> dict[str, Any]:
    """Claims as Saleor puts them in ``App.accessToken`` (iat/exp as integer seconds)."""
    claims: dict[str, Any] = {
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "iss": api_url,
        "owner": "saleor",
        "type": "thirdparty",
        "token": "user-jwt-token-key",
        "email": "staff@example.com",
        "user_id": USER_ID,
        "is_staff": True,
        "app": app_id,
        "permissions": [p for p in user_permissions if p != "MANAGE_STAFF"],
        "user_permissions": list(user_permissions),
    }
    claims.update(overrides)
    return claims


@dataclass
class JwksServer:
    """A real HTTP server answering ``GET /.well-known/jwks.json`` with ``document``."""

    port: int
    document: dict[str, Any] = field(default_factory=lambda: {"keys": []})
    hits: int = 0

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql/"


@contextmanager
def serve_jwks(document: dict[str, Any]) -> Iterator[JwksServer]:
    """Run a :class:`JwksServer` on a free local port for the ``with`` block."""
    state = JwksServer(port=0, document=document)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            state.hits += 1
            body = json.dumps(state.document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
