"""The subscriptions and the payload models agree with each other and with Saleor's schema."""

from __future__ import annotations

import json
import typing
from typing import Any

import pytest
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
    validate,
)
from pydantic import BaseModel

from relance.plugin.saleor import payloads
from relance.plugin.saleor.mapping import MAPPERS
from relance.plugin.saleor.schema import saleor_schema
from relance.plugin.saleor.subscriptions import (
    FRAGMENTS,
    SUBSCRIBED_EVENTS,
    load_subscription,
    subscription_for,
)
from tests.plugin.saleor.bodies import TYPENAMES, body_for, event_data, execute

#: Saleor event → the payload model its body is read with.
MODELS: dict[str, type[BaseModel]] = {
    "CHECKOUT_CREATED": payloads.CheckoutPayload,
    "CHECKOUT_UPDATED": payloads.CheckoutPayload,
    "ORDER_CREATED": payloads.OrderPayload,
    "ORDER_FULLY_PAID": payloads.OrderPayload,
    "ORDER_CANCELLED": payloads.OrderPayload,
    "ORDER_FULLY_REFUNDED": payloads.OrderPayload,
    "CUSTOMER_CREATED": payloads.CustomerPayload,
    "CUSTOMER_UPDATED": payloads.CustomerPayload,
    "ACCOUNT_CONFIRMED": payloads.AccountConfirmedPayload,
    "CUSTOMER_DELETED": payloads.CustomerDeletedPayload,
    "ACCOUNT_DELETED": payloads.CustomerDeletedPayload,
    "APP_DELETED": payloads.AppDeletedPayload,
}
EVENTS = sorted(SUBSCRIBED_EVENTS)


def _selected(
    selection_set: SelectionSetNode | None, fragments: dict[str, FragmentDefinitionNode]
) -> dict[str, SelectionSetNode | None]:
    """Response keys selected at this level (fragments flattened) → their sub-selection."""
    found: dict[str, SelectionSetNode | None] = {}
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, InlineFragmentNode):
            found.update(_selected(selection.selection_set, fragments))
        elif isinstance(selection, FragmentSpreadNode):
            found.update(_selected(fragments[selection.name.value].selection_set, fragments))
        elif isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            found[key] = selection.selection_set
    return found


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``X``, ``X | None``, ``tuple[X, ...]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_of(argument)
        if found is not None:
            return found
    return None


def _unselected(
    model: type[BaseModel],
    selection: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    path: str,
) -> list[str]:
    selected = _selected(selection, fragments)
    missing = []
    for name, info in model.model_fields.items():
        if name == "translations":  # gathered from the translation_<CODE> aliases (test below)
            continue
        key = info.alias or name
        if key not in selected:
            missing.append(f"{path}{key}")
            continue
        nested = _model_of(info.annotation)
        if nested is not None:
            missing += _unselected(nested, selected[key], fragments, f"{path}{key}.")
    return missing


def _event_selection(event: str) -> tuple[SelectionSetNode | None, dict[str, Any]]:
    document = parse(subscription_for(event))
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    [operation] = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    root = operation.selection_set.selections[0]
    assert isinstance(root, FieldNode)
    return root.selection_set, fragments


@pytest.mark.parametrize("event", EVENTS)
def test_each_subscription_validates_against_the_real_schema(event: str) -> None:
    # given relance's subscription for the event, with the fragments it spreads
    document = parse(subscription_for(event))
    # when validated against Saleor's schema, then nothing is wrong (unused fragments included)
    assert validate(saleor_schema(), document) == []


@pytest.mark.parametrize("event", EVENTS)
def test_each_event_file_is_one_subscription_on_its_event_type(event: str) -> None:
    # given the event's own file (without fragments)
    document = parse(load_subscription(SUBSCRIBED_EVENTS[event]))
    [operation] = document.definitions
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
    assert fragments == [TYPENAMES[event]]


@pytest.mark.parametrize("event", EVENTS)
def test_every_modelled_field_is_selected_by_the_subscription(event: str) -> None:
    # given the payload model and the subscription relance declares
    selection, fragments = _event_selection(event)
    # when their fields are compared, then the model reads nothing Saleor would never send
    assert _unselected(MODELS[event], selection, fragments, "") == []


def test_every_fragment_file_defines_its_named_fragment() -> None:
    for name, stem in FRAGMENTS.items():
        [definition] = parse(load_subscription(stem)).definitions
        assert isinstance(definition, FragmentDefinitionNode)
        assert definition.name.value == name


def test_checkout_names_are_selected_in_every_translated_language() -> None:
    # given the checkout selection
    selection, fragments = _event_selection("CHECKOUT_UPDATED")
    checkout = _selected(selection, fragments)["checkout"]
    line = _selected(_selected(checkout, fragments)["lines"], fragments)
    variant_keys = _selected(line["variant"], fragments)
    product_keys = _selected(variant_keys["product"], fragments)
    wanted = {f"translation_{code}" for code in payloads.TRANSLATED_LANGUAGES}
    # then variant and product each have one alias per language, and no other
    for keys in (variant_keys, product_keys):
        assert {key for key in keys if key.startswith("translation")} == wanted


def test_every_subscribed_event_has_a_mapper() -> None:
    assert {event.lower() for event in SUBSCRIBED_EVENTS} == set(MAPPERS)


@pytest.mark.parametrize("event", EVENTS)
def test_the_sample_bodies_are_exactly_what_the_subscription_selects(event: str) -> None:
    # given the body built from the research sample for the event
    body = json.loads(body_for(event))
    # when the subscription runs again on that body, then nothing is missing and nothing extra
    assert execute(event, body) == body
    # and the payload model reads it
    MODELS[event].model_validate(body)


def test_the_german_order_keeps_its_translated_names() -> None:
    body = json.loads(body_for("ORDER_CREATED"))
    assert body["order"]["languageCodeEnum"] == "DE"
    assert body["order"]["lines"][0]["translatedProductName"] == "Merinowollpullover"


def test_a_body_missing_a_non_null_field_is_one_saleor_would_never_send() -> None:
    # given checkout data without its (non-null) updatedAt
    data = event_data("CHECKOUT_UPDATED")
    data["checkout"]["updatedAt"] = None
    # then the builder refuses it, as the schema does
    with pytest.raises(AssertionError):
        body_for("CHECKOUT_UPDATED", data)
