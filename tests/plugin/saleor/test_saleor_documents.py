"""Every GraphQL document relance sends to Saleor validates against Saleor's real schema."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse, validate

# importing the modules that send documents registers them
import relance.plugin.saleor.client
import relance.plugin.saleor.customers
import relance.plugin.saleor.discounts  # noqa: F401
from relance.plugin.saleor.documents import document_names, registered_documents
from relance.plugin.saleor.schema import saleor_schema

NAMES = document_names()


def test_there_are_documents() -> None:
    assert {"AppId", "VoucherCreate", "VoucherChannelListingUpdate", "CustomerDetails"} <= set(
        NAMES
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_document_validates_against_the_schema(name: str) -> None:
    document = registered_documents()[name]
    assert validate(saleor_schema(), parse(document.text)) == []


@pytest.mark.parametrize("name", NAMES)
def test_each_file_holds_one_operation_named_like_the_file(name: str) -> None:
    operations = [
        node
        for node in parse(registered_documents()[name].text).definitions
        if isinstance(node, OperationDefinitionNode)
    ]
    assert [op.name.value for op in operations if op.name] == [name]


def test_every_file_is_used_and_every_document_is_a_file() -> None:
    assert sorted(registered_documents()) == NAMES
