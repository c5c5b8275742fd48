"""The runtime: everything a request handler or an actor needs, built once per process.

Handlers reach it as ``request.app.state.runtime``; actors through
:func:`relance.tasks.actors.current_runtime`.
It holds no per-request state, so any number of web and worker processes can each build their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from relance.settings import Settings
from relance.store.crypto import SecretBox
from relance.store.models import utcnow

if TYPE_CHECKING:
    from relance.channels.email import EmailTransport
    from relance.discounts import DiscountProvider
    from relance.templates.renderer import EmailRenderer


class Dispatcher(Protocol):
    """Hands ids to background workers. Fire-and-forget: the database stays the source of truth,
    and the sweep re-finds anything whose message was lost."""

    def process_event(self, event_id: UUID) -> None: ...

    def advance_enrollment(self, enrollment_id: UUID) -> None: ...

    def send_message(self, message_id: UUID) -> None: ...


@dataclass
class Runtime:
    """Process-wide collaborators. ``clock`` returns timezone-aware UTC (tests replace it)."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    dispatcher: Dispatcher
    email_transport: EmailTransport
    renderer: EmailRenderer
    secrets: SecretBox
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Discount-code providers by store kind (``saleor``, ``demo``); a kind without one cannot
    #: run ``create_discount`` steps (the enrollment ends with reason ``discount_failed``).
    discount_providers: Mapping[str, DiscountProvider] = field(default_factory=dict)
