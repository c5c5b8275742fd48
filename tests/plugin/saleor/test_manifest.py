from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    parse,
    validate,
)
from pydantic import ValidationError
from saleor_sdk.schemas.manifest import Manifest

from relance import __version__
from relance.plugin.saleor.manifest import build_manifest
from relance.plugin.saleor.schema import saleor_schema
from relance.settings import Settings
from tests.plugin.saleor.bodies import TYPENAMES

#: Saleor async event → the GraphQL type its subscription fragment must be on.
EVENT_TYPES = TYPENAMES


def manifest(public_url: str = "https://relance.example.com") -> dict[str, Any]:
    return build_manifest(Settings(public_url=public_url))


def test_manifest_is_valid_for_saleor_sdk() -> None:
    # given relance's public URL
    # when the manifest is built
    data = manifest()
    # then saleor-sdk's model accepts it and reads the camelCase keys
    parsed = Manifest.model_validate(data)
    assert parsed.id == "app.relance"
    assert parsed.name == "relance"
    assert parsed.version == __version__
    assert str(parsed.app_url) == "https://relance.example.com/app"
    assert str(parsed.token_target_url) == "https://relance.example.com/api/register"
    assert set(data["permissions"]) == {
        "MANAGE_ORDERS",
        "MANAGE_CHECKOUTS",
        "MANAGE_USERS",
        "MANAGE_DISCOUNTS",
    }
    assert data["requiredSaleorVersion"] == ">=3.20"
    assert data["homepageUrl"]
    assert data["supportUrl"]
    assert "app_url" not in data
    assert "token_target_url" not in data


def test_every_url_follows_the_public_url_without_double_slashes() -> None:
    # given a public URL with a trailing slash
    data = manifest("https://relance.example.com/")
    # then URLs are joined cleanly
    assert data["appUrl"] == "https://relance.example.com/app"
    assert {w["targetUrl"] for w in data["webhooks"]} == {
        "https://relance.example.com/api/webhooks/saleor"
    }


def test_each_webhook_query_is_a_valid_subscription_on_its_event() -> None:
    # given the declared webhooks
    webhooks = manifest()["webhooks"]
    assert sorted(event for w in webhooks for event in w["asyncEvents"]) == sorted(EVENT_TYPES)
    schema = saleor_schema()
    for webhook in webhooks:
        assert webhook["isActive"] is True
        # when the query is checked against Saleor's real schema
        document = parse(webhook["query"])
        # then it validates
        assert validate(schema, document) == []
        # and it is one subscription whose root field is `event`, with a fragment on the event
        # (plus the named fragments it spreads)
        [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        assert all(
            isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
            for d in document.definitions
        )
        assert isinstance(operation, OperationDefinitionNode)
        assert operation.operation.value == "subscription"
        [root] = operation.selection_set.selections
        assert isinstance(root, FieldNode)
        assert root.name.value == "event"
        fragments = [
            s.type_condition.name.value
            for s in root.selection_set.selections  # type: ignore[union-attr]
            if isinstance(s, InlineFragmentNode) and s.type_condition is not None
        ]
        [event] = webhook["asyncEvents"]
        assert fragments == [EVENT_TYPES[event]]


def test_a_public_url_saleor_cannot_reach_is_refused() -> None:
    # given a public URL that is not an http(s) URL
    # when the manifest is built, then validation fails loudly instead of serving garbage
    with pytest.raises(ValidationError):
        manifest("relance.example.com")


def test_every_event_of_the_issue_is_declared_once() -> None:
    # given the events issue 3 asks for
    wanted = {
        "CHECKOUT_CREATED",
        "CHECKOUT_UPDATED",
        "ORDER_CREATED",
        "ORDER_FULLY_PAID",
        "ORDER_CANCELLED",
        "ORDER_FULLY_REFUNDED",
        "CUSTOMER_CREATED",
        "CUSTOMER_UPDATED",
        "ACCOUNT_CONFIRMED",
        "CUSTOMER_DELETED",
        "ACCOUNT_DELETED",
        "APP_DELETED",
    }
    # when the manifest is built, then each has exactly one webhook
    events = [event for w in manifest()["webhooks"] for event in w["asyncEvents"]]
    assert sorted(events) == sorted(wanted)
