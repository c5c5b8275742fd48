"""The GraphQL documents relance sends to Saleor, one ``.graphql`` file per operation.

Invariant: ``<Name>.graphql`` holds exactly one operation, named ``Name``, which validates against
the shipped schema (a test checks every file). Each is loaded once, paired with the pydantic model
its ``data`` is parsed into, by :func:`load_document`; :func:`registered_documents` lists those
loaded so far (the tests check that every file is used and every used document is a file).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from threading import Lock
from typing import Any, Generic, TypeVar

from gql import GraphQLRequest
from graphql import OperationDefinitionNode
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

__all__ = [
    "Document",
    "SaleorModel",
    "document_names",
    "load_document",
    "registered_documents",
]


class SaleorModel(BaseModel):
    """Base of the models Saleor's answers are parsed into: camelCase on the wire, snake_case in
    Python, unknown keys ignored, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, extra="ignore"
    )


R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Document(Generic[R]):
    """A named operation and the model its ``data`` is parsed into."""

    name: str  #: the operation name, also the file stem
    text: str
    result: type[R]
    request: GraphQLRequest  #: parsed (syntax only; the schema check happens when it is sent)


_registry: dict[str, Document[Any]] = {}
_lock = Lock()


def document_names() -> list[str]:
    """The stems of every ``.graphql`` file shipped in this package, sorted."""
    return sorted(
        entry.name.removesuffix(".graphql")
        for entry in files(__package__).iterdir()
        if entry.name.endswith(".graphql")
    )


def load_document(name: str, result: type[R]) -> Document[R]:
    """Load ``<name>.graphql`` and pair it with ``result``. Call at import time, once per name.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file does not hold exactly one operation named ``name``, or ``name`` was
            already loaded with another model.
        graphql.GraphQLError: the file is not GraphQL.
    """
    text = files(__package__).joinpath(f"{name}.graphql").read_text(encoding="utf-8")
    request = GraphQLRequest(text, operation_name=name)
    operations = [
        node for node in request.document.definitions if isinstance(node, OperationDefinitionNode)
    ]
    if len(operations) != 1 or operations[0].name is None or operations[0].name.value != name:
        raise ValueError(f"{name}.graphql must hold exactly one operation, named {name}")
    document = Document(name=name, text=text, result=result, request=request)
    with _lock:
        known = _registry.get(name)
        if known is not None and known.result is not result:
            raise ValueError(f"document {name} is already loaded with {known.result.__name__}")
        _registry[name] = document
    return document


def registered_documents() -> Mapping[str, Document[Any]]:
    """Every document loaded so far, by name (a copy)."""
    with _lock:
        return dict(_registry)
