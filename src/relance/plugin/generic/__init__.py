"""Generic stores: any shop (Django/Wagtail, a custom Saleor-style backend…) feeding relance
signed JSON events at ``POST /api/webhooks/generic/<key>`` (docs/generic-stores.md).

Modules, one concept each:

- ``schema``: :class:`GenericEvent`, the documented JSON (pydantic, strict).
- ``signature``: ``X-Relance-Signature`` (``t=<unix>,v1=<HMAC-SHA256 of "<t>.<body>">``).
- ``mapping``: events → domain events, or checkout states for ``cart.updated``.
- ``stores``: creating a generic store and its secret; ``receive``: one request end to end.
- ``errors``: the exception tree (root :class:`GenericPluginError`), each with a ``code``.

The HTTP route lives in :mod:`relance.handlers.generic`; this package has no web imports.
"""

from relance.plugin.generic.errors import (
    GenericPluginError,
    InvalidEvent,
    MalformedJson,
    MalformedSignature,
    MissingSignature,
    Problem,
    SignatureMismatch,
    SignatureRefused,
    StaleTimestamp,
    UnknownGenericStore,
)
from relance.plugin.generic.mapping import map_event
from relance.plugin.generic.receive import GenericOutcome, parse_event, receive_generic_event
from relance.plugin.generic.schema import EVENT_TYPES, GenericEvent
from relance.plugin.generic.signature import SIGNATURE_HEADER, TOLERANCE, sign, verify_signature
from relance.plugin.generic.stores import (
    GenericStoreError,
    create_generic_store,
    find_generic_store,
    generic_api_url,
    rotate_generic_secret,
)

__all__ = [
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "TOLERANCE",
    "GenericEvent",
    "GenericOutcome",
    "GenericPluginError",
    "GenericStoreError",
    "InvalidEvent",
    "MalformedJson",
    "MalformedSignature",
    "MissingSignature",
    "Problem",
    "SignatureMismatch",
    "SignatureRefused",
    "StaleTimestamp",
    "UnknownGenericStore",
    "create_generic_store",
    "find_generic_store",
    "generic_api_url",
    "map_event",
    "parse_event",
    "receive_generic_event",
    "rotate_generic_secret",
    "sign",
    "verify_signature",
]
