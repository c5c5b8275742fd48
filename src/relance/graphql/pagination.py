"""Cursor pagination (Relay-style connections) over enrollments, newest first.

A cursor is opaque to clients: the URL-safe base64 of ``[entered_at ISO, enrollment id]``.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from uuid import UUID

import strawberry
from graphql import GraphQLError

from relance.store.repositories.campaigns import MAX_PAGE_SIZE, EnrollmentCursor

#: Enrollments per page when ``first`` is not given.
DEFAULT_PAGE_SIZE = 20


@strawberry.type(description="Where a page of a connection stands.")
class PageInfo:
    has_next_page: bool
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` to get the next page; null on an empty page."
    )


def encode_cursor(cursor: EnrollmentCursor) -> str:
    raw = json.dumps([cursor.entered_at.isoformat(), str(cursor.enrollment_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str | None) -> EnrollmentCursor | None:
    """The cursor ``value`` encodes (None for None).

    Raises:
        GraphQLError: with ``extensions.code`` BAD_USER_INPUT when it is not a cursor.
    """
    if value is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        at, ident = json.loads(raw)
        entered_at = datetime.fromisoformat(at)
        if entered_at.utcoffset() is None:
            raise ValueError("naive time")
        return EnrollmentCursor(entered_at, UUID(ident))
    except (binascii.Error, ValueError, TypeError) as error:
        raise GraphQLError(
            "`after` is not a cursor of this connection", extensions={"code": "BAD_USER_INPUT"}
        ) from error


def check_page_size(first: int) -> int:
    """``first`` if it is within 1…MAX_PAGE_SIZE.

    Raises:
        GraphQLError: with ``extensions.code`` BAD_USER_INPUT otherwise.
    """
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise GraphQLError(
            f"`first` must be between 1 and {MAX_PAGE_SIZE}", extensions={"code": "BAD_USER_INPUT"}
        )
    return first
