"""The per-request GraphQL context: the runtime, the HTTP request and who is calling.

The context is built once per request by the view (``relance.handlers.graphql``), which
authenticates the caller first (:mod:`relance.graphql.auth`). Resolvers never touch the database
on the event loop: they hand a function of a session to :meth:`Context.in_transaction`, which runs
it in a worker thread inside one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

import strawberry
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from relance.runtime import Runtime
from relance.store.db import transaction

T = TypeVar("T")


class AuthMethod(StrEnum):
    API_TOKEN = "api_token"  # noqa: S105 (a name) ``Authorization: Bearer rl_…``
    DASHBOARD = "dashboard"  #: the Saleor Dashboard's JWT (``authorization-bearer``)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: an admin of exactly one store.

    ``can_manage`` allows mutations (always true for API tokens; for Dashboard users only with
    MANAGE_USERS). ``subject`` identifies the credential for audit (``api-token:<id>`` or the
    Saleor user's global id); it is never a token nor an email.
    """

    store_id: UUID
    method: AuthMethod
    can_manage: bool
    subject: str


class NotAuthenticatedError(RuntimeError):
    """A resolver asked for the caller but the request is anonymous (a missing permission class)."""


@dataclass(frozen=True, slots=True)
class Context:
    """What every resolver gets as ``info.context``."""

    runtime: Runtime
    request: Request
    principal: Principal | None

    @property
    def store_id(self) -> UUID:
        """The caller's store. Raises :class:`NotAuthenticatedError` if the request is anonymous."""
        if self.principal is None:
            raise NotAuthenticatedError("resolver reached without an authenticated principal")
        return self.principal.store_id

    async def in_transaction(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a worker thread, in one transaction (commit on success).

        ``work`` must return plain values (GraphQL types), not ORM rows needing lazy loads.
        """

        def run() -> T:
            with transaction(self.runtime.sessions) as session:
                return work(session)

        return await run_in_threadpool(run)


#: The ``info`` argument of every resolver.
Info = strawberry.Info[Context, None]
