"""Dramatiq actors: thin, named, taking ids only.

Each actor reads the process's :class:`~relance.runtime.Runtime` (see :func:`set_runtime`) and
delegates to a service in this package. All three are idempotent, so Dramatiq's retries (on
database hiccups, optimistic-lock conflicts…) are safe.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

import dramatiq

from relance.runtime import Runtime
from relance.tasks import advancing, processing, sending

_runtime: Runtime | None = None


class TaskQueue(StrEnum):
    DEFAULT = "relance"


#: Retry policy shared by every actor: quick first retries (lock conflicts clear fast).
RETRY_OPTIONS: dict[str, Any] = {"max_retries": 10, "min_backoff": 200, "max_backoff": 60_000}


def set_runtime(runtime: Runtime) -> None:
    """Make ``runtime`` the one actors of this process use."""
    global _runtime
    _runtime = runtime


def current_runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("relance runtime not set up in this process")
    return _runtime


def _process_event(event_id: str) -> None:
    processing.process_event(current_runtime(), UUID(event_id))


def _advance_enrollment(enrollment_id: str) -> None:
    advancing.advance_enrollment(current_runtime(), UUID(enrollment_id))


def _send_message(message_id: str) -> None:
    sending.send_message(current_runtime(), UUID(message_id))


@dataclass(frozen=True)
class Actors:
    """The actors declared on one broker."""

    process_event: dramatiq.Actor[[str], None]
    advance_enrollment: dramatiq.Actor[[str], None]
    send_message: dramatiq.Actor[[str], None]


def declare_actors(broker: dramatiq.Broker) -> Actors:
    """Declare relance's actors on ``broker`` (once per broker)."""

    def make(fn: Any, name: str, priority: int) -> dramatiq.Actor[[str], None]:
        return dramatiq.Actor(
            fn,
            broker=broker,
            actor_name=name,
            queue_name=TaskQueue.DEFAULT.value,
            priority=priority,
            options=dict(RETRY_OPTIONS),
        )

    return Actors(
        process_event=make(_process_event, "event.process", 0),
        advance_enrollment=make(_advance_enrollment, "enrollment.advance", 10),
        send_message=make(_send_message, "message.send", 20),
    )


class DramatiqDispatcher:
    """The production :class:`~relance.runtime.Dispatcher`: enqueues ids on the broker."""

    def __init__(self, actors: Actors) -> None:
        self._actors = actors

    def process_event(self, event_id: UUID) -> None:
        self._actors.process_event.send(str(event_id))

    def advance_enrollment(self, enrollment_id: UUID) -> None:
        self._actors.advance_enrollment.send(str(enrollment_id))

    def send_message(self, message_id: UUID) -> None:
        self._actors.send_message.send(str(message_id))
