"""Helpers for admin API tests: serve the app over real HTTP, send documents, make stores.

The app runs in uvicorn on a free local port, in a thread, and tests talk to it with httpx:
Starlette's TestClient warns on this Starlette version when used with httpx (and warnings are
errors here), and real HTTP also exercises header handling as browsers and the Dashboard send them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from relance.automation.definitions import SendEmailStep
from relance.automation.library import LANGUAGES, TEMPLATES
from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import (
    CampaignVersion,
    Contact,
    Enrollment,
    EnrollmentStatus,
    Event,
    Message,
    MessageStatus,
    StoreKind,
    TraceRecord,
    VersionStatus,
)
from relance.store.repositories.api_tokens import create_token_for_store
from relance.store.repositories.stores import save_installation
from tests.fixtures.http import serve as serve  # re-exported for the tests

#: The designs the fake library has: every one a template uses, and ``other``, each in every
#: template language.
DESIGNS: dict[str, frozenset[str]] = {
    design: frozenset(LANGUAGES)
    for design in (
        "post_purchase",
        "other",
        *(
            step.design
            for template in TEMPLATES.values()
            for step in template.definition.steps
            if isinstance(step, SendEmailStep)
        ),
    )
}


class _Library:
    def known_designs(self) -> frozenset[str]:
        return frozenset(DESIGNS)

    def languages(self, design: str) -> frozenset[str]:
        return DESIGNS[design]


class FakeRenderer:
    """Just enough renderer for validating and publishing: the design library's names and
    languages."""

    library = _Library()


def simple_definition(design: str = "post_purchase", **fields: Any) -> dict[str, Any]:
    """A definition's JSON: on order.placed, one email, then the end."""
    return {
        "trigger": {"type": "event", "events": ["order.placed"]},
        "entry_step": "thank_you",
        "steps": [{"id": "thank_you", "type": "send_email", "design": design}],
        **fields,
    }


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


def mutate(
    api: Api, headers: dict[str, str], field: str, document: str, /, **variables: Any
) -> dict[str, Any]:
    """Run ``document`` and return its ``field``'s payload (failing on GraphQL errors)."""
    body = api(document, variables, headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"][field]
    return payload


def fields_and_codes(payload: dict[str, Any], key: str = "errors") -> list[tuple[str | None, str]]:
    """(field, code) of each error (or violation) of a payload."""
    return [(e["field"], e["code"]) for e in payload[key]]


def error_codes(body: dict[str, Any]) -> list[str]:
    """The extensions codes of a response's GraphQL errors."""
    return [error.get("extensions", {}).get("code") for error in body.get("errors", [])]


def seed_enrollment(
    runtime: Runtime,
    store_id: UUID,
    campaign_id: str,
    *,
    email: str,
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE,
    entered_at: datetime | None = None,
    pending_messages: int = 0,
    trace: tuple[tuple[str, str, str], ...] = (),
) -> UUID:
    """An enrollment of the contact ``email`` (made if new) in the campaign's published version
    (else its draft), entered ``entered_at`` (default now), at step ``thank_you``, with
    ``pending_messages`` PENDING messages and ``trace`` entries (step, action, detail) one
    minute apart from the entry."""
    at = entered_at or runtime.clock()
    with transaction(runtime.sessions) as session:
        version = session.scalars(
            select(CampaignVersion)
            .where(
                CampaignVersion.campaign_id == UUID(campaign_id),
                CampaignVersion.status.in_([VersionStatus.PUBLISHED, VersionStatus.DRAFT]),
            )
            .order_by(CampaignVersion.status.desc())  # published before draft
        ).first()
        assert version is not None
        contact = session.scalars(
            select(Contact).where(Contact.store_id == store_id, Contact.email == email)
        ).one_or_none()
        if contact is None:
            contact = Contact(store_id=store_id, email=email)
            session.add(contact)
        occurred = Event(
            store_id=store_id,
            type="order.placed",
            idempotency_key=uuid4().hex,
            occurred_at=at,
            payload={},
        )
        session.add(occurred)
        session.flush()
        active = status == EnrollmentStatus.ACTIVE
        enrollment = Enrollment(
            store_id=store_id,
            campaign_id=version.campaign_id,
            version_id=version.id,
            contact_id=contact.id,
            event_id=occurred.id,
            status=status,
            step_id="thank_you",
            wake_at=at + timedelta(days=1) if active else None,
            ended_at=None if active else at,
            end_reason=None if active else "completed",
            context={},
            trace_seq=len(trace),
            created_at=at,
            updated_at=at,
        )
        session.add(enrollment)
        session.flush()
        session.add_all(
            Message(
                store_id=store_id,
                enrollment_id=enrollment.id,
                contact_id=contact.id,
                step_id=f"step-{index}",
                design="post_purchase",
                status=MessageStatus.PENDING,
            )
            for index in range(pending_messages)
        )
        session.add_all(
            TraceRecord(
                enrollment_id=enrollment.id,
                seq=index + 1,
                at=at + timedelta(minutes=index),
                step_id=step_id,
                action=action,
                detail=detail,
            )
            for index, (step_id, action, detail) in enumerate(trace)
        )
        return enrollment.id
