"""Verification of the ``Saleor-Signature`` webhook header.

Saleor signs each delivery with ``jwt.api_jws.encode(body, key, algorithm="RS256",
headers={"kid": …}, is_payload_detached=True)`` (``saleor/core/jwt_manager.py``): a detached JWS
with an unencoded payload (RFC 7797). The header value is ``<b64url header>..<b64url signature>``,
the protected header holds ``"alg": "RS256"``, ``"kid"``, ``"b64": false`` and ``"crit": ["b64"]``,
and the signing input is ``<b64url header>.<raw body bytes>``. So the raw bytes must be verified,
never a re-serialised JSON.

Legacy HMAC. A webhook created with a ``secretKey`` (deprecated since Saleor 3.5, still honoured:
``saleor/webhook/transport/__init__.py::signature_for_payload``) is signed instead with the hex
HMAC-SHA256 of the raw body under that key. relance's manifest never sets one, but a merchant
may point a hand-made webhook at relance; it is accepted when the store has that secret
(:func:`verify_legacy_signature`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from typing import Any

import jwt
from jwt.api_jws import PyJWS

from relance.plugin.saleor.errors import InvalidSignature, MalformedSignature, UnknownKeyId

#: The only algorithm Saleor signs webhooks with.
ALGORITHM = "RS256"

_jws = PyJWS()

#: A legacy signature: 64 hex digits (HMAC-SHA256).
_LEGACY = re.compile(r"^[0-9a-fA-F]{64}$")


def _header(signature: str) -> dict[str, Any]:
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise MalformedSignature("not a detached JWS (<header>..<signature>)")
    try:
        header = _jws.get_unverified_header(signature)
    except jwt.PyJWTError as exc:
        raise MalformedSignature(f"unreadable JWS header ({exc})") from exc
    if header.get("alg") != ALGORITHM:
        raise MalformedSignature(f"JWS algorithm {header.get('alg')!r}, expected {ALGORITHM}")
    if header.get("b64") is not False:
        raise MalformedSignature("JWS payload is not unencoded (b64 must be false)")
    if not isinstance(header.get("kid"), str):
        raise MalformedSignature("JWS header has no kid")
    return header


def _public_key(jwks: Mapping[str, Any], kid: str) -> Any:
    keys = jwks.get("keys")
    for entry in keys if isinstance(keys, list) else []:
        if isinstance(entry, Mapping) and entry.get("kid") == kid:
            try:
                return jwt.PyJWK(dict(entry), algorithm=ALGORITHM).key
            except jwt.PyJWTError as exc:
                raise InvalidSignature(f"key {kid!r} in the JWKS is not an RSA key") from exc
    raise UnknownKeyId(kid)


def signature_key_id(signature: str) -> str:
    """The ``kid`` a Saleor signature names (unverified). Raises :class:`MalformedSignature`."""
    kid: str = _header(signature)["kid"]
    return kid


def verify_webhook_signature(signature: str, body: bytes, jwks: Mapping[str, Any]) -> None:
    """Check that ``signature`` is Saleor's detached JWS over exactly ``body``.

    Parameters:
        signature(str): the ``Saleor-Signature`` header value.
        body(bytes): the request body, byte for byte as received.
        jwks(Mapping): the store's JWKS, ``{"keys": [{"kty": "RSA", "kid": …, "n": …, "e": …}]}``.

    Raises:
        MalformedSignature: the value is not a detached ``b64: false`` RS256 JWS.
        UnknownKeyId: its ``kid`` is not in ``jwks`` (refetching the JWKS may help).
        InvalidSignature: the signature does not match ``body`` (tampered, or signed with another
            key under the same ``kid``).

    Returns:
        Nothing: returning means the body is authentic. Pure; safe to call from any thread.
    """
    kid = _header(signature)["kid"]
    key = _public_key(jwks, kid)
    try:
        _jws.decode_complete(signature, key, algorithms=[ALGORITHM], detached_payload=body)
    except jwt.PyJWTError as exc:
        raise InvalidSignature(f"signature does not match the body ({exc})") from exc


def is_legacy_signature(signature: str) -> bool:
    """Whether ``signature`` has the legacy form (hex HMAC-SHA256), not a detached JWS."""
    return bool(_LEGACY.match(signature.strip()))


def legacy_signature(body: bytes, secret: str) -> str:
    """The legacy ``Saleor-Signature`` of ``body``: hex HMAC-SHA256 under ``secret`` (UTF-8)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_legacy_signature(signature: str, body: bytes, secret: str) -> None:
    """Check a legacy ``Saleor-Signature`` (hex HMAC-SHA256 of ``body`` under ``secret``).

    Constant-time comparison, case-insensitive hex.

    Raises:
        MalformedSignature: not 64 hex digits.
        InvalidSignature: it does not match ``body`` under ``secret``.
    """
    if not is_legacy_signature(signature):
        raise MalformedSignature("not a legacy signature (64 hex digits of HMAC-SHA256)")
    expected = legacy_signature(body, secret)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise InvalidSignature("the HMAC signature does not match the body")
