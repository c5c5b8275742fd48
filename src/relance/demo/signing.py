"""Signing webhook bodies exactly as Saleor does: detached RS256 JWS over the raw body (RFC 7797).

Saleor's ``Saleor-Signature`` header is ``<b64url protected header>..<b64url signature>`` with the
protected header ``{"alg": "RS256", "kid": <RFC 7638 thumbprint>, "b64": false, "crit": ["b64"]}``
(saleor/core/jwt_manager.py). Used by the demo store and by the tests' fake Saleor.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint of an RSA public key (what Saleor uses as ``kid``)."""
    canonical = json.dumps(
        {"e": public_jwk["e"], "kty": "RSA", "n": public_jwk["n"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode()).digest())


@dataclass(frozen=True)
class WebhookSigner:
    """An RS256 key pair that signs like a Saleor instance and publishes its JWKS.

    ``key_id`` is the ``kid`` it signs and publishes under: the RFC 7638 thumbprint unless given
    (some Saleor versions use the constant ``"1"``).
    """

    private_key: rsa.RSAPrivateKey
    key_id: str | None = None

    @classmethod
    def generate(cls) -> WebhookSigner:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def load_or_create(cls, path: Path) -> WebhookSigner:
        """The key stored at ``path`` (PEM), created there (mode 0600) if missing."""
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return cls(key)
        signer = cls.generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            signer.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
        return signer

    @property
    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return jwk

    @property
    def kid(self) -> str:
        return self.key_id or thumbprint(self.public_jwk)

    def jwks(self) -> dict[str, Any]:
        """The JWKS document, as Saleor serves it at ``/.well-known/jwks.json``."""
        return {"keys": [{**self.public_jwk, "use": "sig", "kid": self.kid, "alg": "RS256"}]}

    def sign(self, body: bytes) -> str:
        """The ``Saleor-Signature`` header value for ``body`` (raw bytes, not re-serialised)."""
        return jwt.api_jws.encode(
            body,
            self.private_key,
            algorithm="RS256",
            headers={"kid": self.kid, "b64": False, "crit": ["b64"]},
            is_payload_detached=True,
        )
