"""The admin schema, and what clients see of unexpected failures.

Expected failures reach clients as they are: permission errors (``extensions.code``
UNAUTHENTICATED / FORBIDDEN), query syntax and validation errors, and mutation payload errors.
An exception raised inside a resolver is a bug or an outage: it is logged with its traceback and
clients get only "Unexpected error." (no SQL, paths or personal data leak out).
"""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from relance.graphql.mutations import Mutation
from relance.graphql.queries import Query

logger = logging.getLogger(__name__)


def is_unexpected(error: GraphQLError) -> bool:
    """True for errors caused by an exception that is not itself a GraphQL error."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Masks exactly the errors :func:`is_unexpected` selects (one instance per request)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)


class AdminSchema(strawberry.Schema):
    """Logs unexpected errors with tracebacks, expected ones at debug level only."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if is_unexpected(error):
                logger.error(
                    "GraphQL resolver failed at %s", error.path, exc_info=error.original_error
                )
            else:
                logger.debug("GraphQL request refused: %s", error.message)


#: The admin GraphQL schema served at ``/graphql``.
schema = AdminSchema(query=Query, mutation=Mutation, extensions=[MaskUnexpectedErrors])
