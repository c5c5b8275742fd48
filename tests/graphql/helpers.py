"""Helpers for admin API tests: serve the app over real HTTP, send documents, make stores.

The app runs in uvicorn on a free local port, in a thread, and tests talk to it with httpx:
Starlette's TestClient warns on this Starlette version when used with httpx (and warnings are
errors here), and real HTTP also exercises header handling as browsers and the Dashboard send them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import StoreKind
from relance.store.repositories.api_tokens import create_token_for_store
from relance.store.repositories.stores import save_installation
from tests.fixtures.http import serve as serve  # re-exported for the tests


class _Library:
    def known_designs(self) -> frozenset[str]:
        return frozenset({"post_purchase"})


class FakeRenderer:
    """Just enough renderer for publishing: the design library's names."""

    library = _Library()


@dataclass
class Api:
    """POSTs GraphQL documents to /graphql and returns the decoded JSON body."""

    client: httpx.Client

    def __call__(
        self,
        document: str,
        variables: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = self.client.post(
            "/graphql", json={"query": document, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def install_store(
    runtime: Runtime,
    api_url: str,
    *,
    app_id: str | None = "QXBwOjQy",
    jwks: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> UUID:
    """A Saleor store installed from ``api_url`` (JWKS saved ``at``, default the clock's now)."""
    with transaction(runtime.sessions) as session:
        store = save_installation(
            session,
            kind=StoreKind.SALEOR,
            api_url=api_url,
            app_id=app_id,
            auth_token="saleor-app-token",
            jwks=jwks,
            secrets=runtime.secrets,
            now=at or runtime.clock(),
            name=api_url,
        )
        return store.id


def bearer(runtime: Runtime, store_id: UUID) -> dict[str, str]:
    """Headers with a fresh API token of ``store_id``."""
    return {"Authorization": f"Bearer {create_token_for_store(runtime, store_id, 'tests')}"}


def error_codes(body: dict[str, Any]) -> list[str]:
    """The extensions codes of a response's GraphQL errors."""
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]
