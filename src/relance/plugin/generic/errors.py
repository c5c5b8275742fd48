"""Errors of the generic-store plugin. One root, a shallow tree::

    GenericPluginError
    ├── UnknownGenericStore     no active generic store has that key
    ├── SignatureRefused        X-Relance-Signature does not prove the store's secret signed it
    │   ├── MissingSignature    no header
    │   ├── MalformedSignature  not ``t=<unix>,v1=<hex>``
    │   ├── StaleTimestamp      ``t`` is further than the tolerance from now (replay protection)
    │   └── SignatureMismatch   no ``v1`` matches the body under the store's secret
    └── InvalidEvent            not a valid event; ``problems`` lists each field and what is wrong
        └── MalformedJson       the body is not a JSON object at all

Each error has a machine-readable ``code`` (what the HTTP error body carries) and a message
meant for the shop's developer. Messages never contain secrets or personal data.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple


class GenericPluginError(Exception):
    """Root of every error raised by :mod:`relance.plugin.generic`."""

    code = "GENERIC_ERROR"


class UnknownGenericStore(GenericPluginError):
    code = "UNKNOWN_STORE"


class SignatureRefused(GenericPluginError):
    code = "INVALID_SIGNATURE"


class MissingSignature(SignatureRefused):
    code = "MISSING_SIGNATURE"


class MalformedSignature(SignatureRefused):
    code = "MALFORMED_SIGNATURE"


class StaleTimestamp(SignatureRefused):
    code = "STALE_TIMESTAMP"


class SignatureMismatch(SignatureRefused):
    code = "INVALID_SIGNATURE"


class Problem(NamedTuple):
    """One thing wrong with an event: the field's dotted path (``cart.lines.0.quantity``,
    ``""`` for the whole body) and what is wrong."""

    field: str
    message: str


class InvalidEvent(GenericPluginError):
    code = "INVALID_EVENT"

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)


class MalformedJson(InvalidEvent):
    code = "INVALID_JSON"
