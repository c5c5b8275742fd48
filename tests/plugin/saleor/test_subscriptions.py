"""The ORDER_CREATED subscription and the payload model agree with each other and with Saleor."""

from __future__ import annotations

import copy
import typing
from typing import Any

from graphql import (
    FieldNode,
    InlineFragmentNode,
    SelectionSetNode,
    execute_sync,
    parse,
    validate,
)
from pydantic import BaseModel

from relance.plugin.saleor.mapping import MAPPERS
from relance.plugin.saleor.payloads import OrderCreatedPayload
from relance.plugin.saleor.schema import saleor_schema
from relance.plugin.saleor.subscriptions import SUBSCRIBED_EVENTS, load_subscription
from tests.fixtures.saleor import sample_payload


def _selected(selection_set: SelectionSetNode | None) -> dict[str, SelectionSetNode | None]:
    """Response keys selected at this level (inline fragments flattened) → their sub-selection."""
    found: dict[str, SelectionSetNode | None] = {}
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, InlineFragmentNode):
            found.update(_selected(selection.selection_set))
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


def _unselected(model: type[BaseModel], selection: SelectionSetNode | None, path: str) -> list[str]:
    selected = _selected(selection)
    missing = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in selected:
            missing.append(f"{path}{key}")
            continue
        nested = _model_of(info.annotation)
        if nested is not None:
            missing += _unselected(nested, selected[key], f"{path}{key}.")
    return missing


def _event_selection(name: str) -> SelectionSetNode | None:
    document = parse(load_subscription(name))
    operation = document.definitions[0]
    root = operation.selection_set.selections[0]  # type: ignore[attr-defined]
    selection: SelectionSetNode | None = root.selection_set
    return selection


def test_every_modelled_field_is_selected_by_the_subscription() -> None:
    # given the ORDER_CREATED payload model and the subscription relance declares
    # when their fields are compared
    missing = _unselected(OrderCreatedPayload, _event_selection("order_created"), "")
    # then the model reads nothing Saleor would never send
    assert missing == []


def test_every_subscribed_event_has_a_mapper() -> None:
    assert {event.lower() for event in SUBSCRIBED_EVENTS} == set(MAPPERS)


def _resolve(source: Any, info: Any, **_: Any) -> Any:
    if isinstance(source, dict):
        return source.get(info.path.key, source.get(info.field_name))
    return getattr(source, info.field_name, None)


def test_the_sample_body_fits_the_subscription_on_the_real_schema() -> None:
    # given Saleor's sample ORDER_CREATED body, plus the one field relance selects beyond the
    # research query (user.languageCode)
    body = sample_payload("order_created")
    body["order"]["user"]["languageCode"] = "DE"
    event = copy.deepcopy(body)
    event["__typename"] = "OrderCreated"
    document = parse(load_subscription("order_created"))
    schema = saleor_schema()
    assert validate(schema, document) == []
    # when the subscription is executed with that body as the `event` value
    result = execute_sync(schema, document, root_value={"event": event}, field_resolver=_resolve)
    # then every selected field is there with a schema-valid value
    assert result.errors is None
    assert result.data is not None
    order = result.data["event"]["order"]
    assert order["languageCodeEnum"] == "DE"
    assert order["lines"][0]["translatedProductName"] == "Merinowollpullover"
