"""Single-use discount codes: the port the ``create_discount`` step goes through.

A :class:`DiscountProvider` creates one code on the store's platform (Saleor: ``voucherCreate`` +
``voucherChannelListingUpdate``). Codes are derived deterministically from a secret and the
(enrollment, step) they belong to (:func:`discount_code`), so a retried creation asks the
platform for the *same* code: a provider that finds the code already exists reports success, and
a contact never ends up with two codes for one step.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal, Protocol

#: Characters of the random part of a code: no 0/O, 1/I/L, so codes can be read aloud.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
#: Length of the random part (31**10 ≈ 8·10^14 codes).
CODE_LENGTH = 10


def discount_code(secret: bytes, enrollment_id: str, step_id: str, prefix: str = "") -> str:
    """The code of step ``step_id`` of enrollment ``enrollment_id``: ``PREFIX-XXXXXXXXXX``.

    Deterministic (same inputs, same code) and unguessable without ``secret``.
    """
    digest = hmac.new(secret, f"discount|{enrollment_id}|{step_id}".encode(), hashlib.sha256)
    number = int.from_bytes(digest.digest(), "big")
    chars = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    body = "".join(chars)
    return f"{prefix}-{body}" if prefix else body


@dataclass(frozen=True, slots=True)
class DiscountRequest:
    """What to create. ``value``: percent for ``percentage``, amount in ``currency`` for
    ``fixed``; ``channel`` is the platform channel slug the code is valid in (None: the store's
    default channels)."""

    code: str
    kind: Literal["percentage", "fixed", "free_shipping"]
    value: Decimal
    currency: str | None
    channel: str | None
    starts_at: datetime
    ends_at: datetime
    minimum_order: Decimal | None
    name: str  #: shown in the platform's admin, e.g. "relance · Abandoned cart"
    customer_email: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedDiscount:
    """A code the platform accepted; ``platform_id`` is its id there (for later clean-up)."""

    code: str
    platform_id: str | None


class DiscountError(Exception):
    """The platform could not create the code. ``transient``: worth retrying later."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class DiscountAccessRefused(DiscountError):
    """The platform refused the store's token (never transient): the store is disconnected."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass(frozen=True, slots=True)
class PlatformAccess:
    """How to reach one store's platform: its API URL and (decrypted) app token."""

    store_id: str
    api_url: str
    token: str | None


class DiscountProvider(Protocol):
    """Creates codes on one kind of platform. Implementations must be idempotent per code."""

    def create(self, access: PlatformAccess, request: DiscountRequest) -> IssuedDiscount:
        """Create ``request.code`` on the store's platform (or confirm it already exists).

        Raises:
            DiscountError: the platform refused (``transient`` says whether to retry).
        """
        ...


def discount_code_seed(secret_key: str) -> bytes:
    """The HMAC key for :func:`discount_code`, derived from RELANCE_SECRET_KEY."""
    return hashlib.sha256(b"relance.discount-codes|" + secret_key.encode()).digest()
