"""Saleor's public GraphQL schema, shipped beside this module as ``schema.graphql``.

The file is ``saleor/graphql/schema.graphql`` from saleor/saleor @723cd4e (Saleor 3.24.0-a.0,
sha256 ``3c82e765…7a5b88``). gql clients load it so every document relance sends is validated
locally first, and tests use it to check subscriptions and to run a fake Saleor.

Building the schema takes a few seconds, so it is built once per process, on first use, and shared
(graphql-core schemas are read-only once built).
"""

from __future__ import annotations

import threading
from importlib.resources import files

from graphql import GraphQLSchema, build_schema

#: The schema file's name inside this package.
SCHEMA_FILE = "schema.graphql"

_lock = threading.Lock()
_schema: GraphQLSchema | None = None


def schema_sdl() -> str:
    """The schema's SDL text, as shipped."""
    return files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def saleor_schema() -> GraphQLSchema:
    """The shipped schema, built on first call and cached for the process. Thread-safe."""
    global _schema
    if _schema is None:
        with _lock:
            if _schema is None:
                _schema = build_schema(schema_sdl())
    return _schema
