"""Errors raised when a message cannot be delivered.

The tree::

    DeliveryError                    root: the message was not delivered by this attempt
    ├── TransientDeliveryError       try again later: SMTP 4xx (421, 450, 451, 452, 454…),
    │                                timeouts, refused or reset connections, TLS failures
    ├── PermanentDeliveryError       the server rejected the message for good (SMTP 5xx), or it
    │                                cannot be sent at all (no valid address): never retry
    └── DeliveryOutcomeUnknown       the whole message was sent but the connection failed before
                                     the server answered: it may or may not have been accepted.
                                     Record it as unknown; retrying risks a duplicate.

Every error carries ``smtp_code``, the server's reply code when there was one (else ``None``).
Messages name the stage and the server's reply, never addresses or content.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Root of every delivery failure. ``smtp_code`` is the server's reply code, if any."""

    def __init__(self, message: str, *, smtp_code: int | None = None) -> None:
        super().__init__(message)
        self.smtp_code = smtp_code


class TransientDeliveryError(DeliveryError):
    """Not delivered this time, for a reason expected to pass: retry later with back-off."""


class PermanentDeliveryError(DeliveryError):
    """Rejected for good: retrying the same message to the same address cannot succeed."""


class DeliveryOutcomeUnknown(DeliveryError):
    """Sent in full, but no reply arrived: the server may have accepted it. Do not resend."""
