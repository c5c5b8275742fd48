"""``X-Relance-Signature``: how a generic store proves an event comes from it.

The header is ``t=<unix seconds>,v1=<hex HMAC-SHA256>``, the HMAC taken under the store's secret
over ``<t>.<raw body>`` (the decimal timestamp, a dot, then the body bytes exactly as sent).
Signing the timestamp with the body means a captured request cannot be replayed later than
:data:`TOLERANCE` (and within it, the event's id makes a replay a duplicate). Several ``v1=``
entries may be sent (e.g. during a secret rotation); one matching is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime, timedelta

from relance.plugin.generic.errors import (
    MalformedSignature,
    MissingSignature,
    SignatureMismatch,
    StaleTimestamp,
)

#: The request header carrying the signature.
SIGNATURE_HEADER = "X-Relance-Signature"
#: How far the signed timestamp may be from relance's clock, either way.
TOLERANCE = timedelta(minutes=5)

_HEX = re.compile(r"^[0-9a-f]{64}$")
_MAX_ENTRIES = 8


def sign(body: bytes, secret: str, timestamp: int) -> str:
    """The ``X-Relance-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def parse_signature(header: str | None) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a header value.

    Raises:
        MissingSignature: no header (or a blank one).
        MalformedSignature: not ``t=<unix>,v1=<64 hex>[,v1=…]``.
    """
    if header is None or not header.strip():
        raise MissingSignature(f"the {SIGNATURE_HEADER} header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    entries = header.split(",")
    if len(entries) > _MAX_ENTRIES:
        raise MalformedSignature(f"{SIGNATURE_HEADER} has too many entries")
    for entry in entries:
        key, _, value = entry.strip().partition("=")
        if key == "t" and value.isdigit() and timestamp is None:
            timestamp = int(value)
        elif key == "v1" and _HEX.match(value.lower()):
            signatures.append(value.lower())
        elif key in ("t", "v1"):
            raise MalformedSignature(
                f"{SIGNATURE_HEADER}: {key}= must be "
                + ("Unix seconds, once" if key == "t" else "64 hex digits (HMAC-SHA256)")
            )
        # other schemes (v0, v2…) are ignored, so that new ones can be added alongside
    if timestamp is None or not signatures:
        raise MalformedSignature(f"{SIGNATURE_HEADER} must be t=<unix seconds>,v1=<hex HMAC>")
    return timestamp, signatures


def verify_signature(
    header: str | None,
    body: bytes,
    secret: str,
    now: datetime,
    *,
    tolerance: timedelta = TOLERANCE,
) -> int:
    """Check ``header`` against ``body`` under ``secret`` at ``now``. Pure; constant-time.

    Raises:
        MissingSignature, MalformedSignature: see :func:`parse_signature`.
        StaleTimestamp: the timestamp is more than ``tolerance`` away from ``now``.
        SignatureMismatch: no ``v1`` is the HMAC of ``<t>.<body>`` under ``secret``.

    Returns:
        The signed timestamp.
    """
    timestamp, signatures = parse_signature(header)
    skew = abs(now.timestamp() - timestamp)
    if skew > tolerance.total_seconds():
        raise StaleTimestamp(
            f"the signature's timestamp is {int(skew)} s away from relance's clock "
            f"(at most {int(tolerance.total_seconds())} s): sign each request when sending it, "
            "and keep the clock synchronised"
        )
    expected = sign(body, secret, timestamp).partition(",v1=")[2]
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureMismatch(
            "the signature does not match the body: sign the exact bytes sent, "
            "as HMAC-SHA256 of '<t>.<body>' under the store's secret"
        )
    return timestamp
