"""Carrying out an ``update_contact`` step's actions on a contact row.

Every action is idempotent (setting a value, adding a present tag, removing an absent one…), so an
advance that is retried after a crash changes nothing more. The caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, assert_never

from sqlalchemy import delete
from sqlalchemy.orm import Session

from relance.automation.conditions import ConsentStatus
from relance.automation.contacts import normalise_language
from relance.automation.definitions import (
    ContactAction,
    CopyEventProperty,
    ListAction,
    SetCustomField,
    SetField,
    TagAction,
    Unsubscribe,
)
from relance.store.models import Contact, ListMember
from relance.store.repositories.contacts import set_consent
from relance.store.upsert import insert_ignoring_conflict

#: Most tags one contact keeps.
MAX_TAGS = 200
#: Most custom fields one contact keeps.
MAX_CUSTOM_FIELDS = 200


@dataclass(frozen=True, slots=True)
class Applied:
    """What :func:`apply_contact_actions` did: a short description of each action (no personal
    data), and the lists the contact actually entered or left (for ``list.entered`` /
    ``list.exited`` events)."""

    done: list[str] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)


def apply_contact_actions(
    session: Session,
    contact: Contact,
    actions: Sequence[ContactAction],
    *,
    context: Mapping[str, Any],
    source: str,
    now: datetime,
) -> Applied:
    """Apply ``actions`` in order.

    ``context`` is the enrollment's context (for ``copy_event_property``); ``source`` names the
    campaign in consent records.
    """
    applied = Applied()
    done = applied.done
    for action in actions:
        match action:
            case SetField():
                value = action.value.strip() if action.value else None
                if action.field == "language":
                    value = normalise_language(value)
                setattr(contact, action.field, value or None)
                done.append(f"set {action.field}")
            case SetCustomField():
                _set_custom(contact, action.key, _json_scalar(action.value))
                done.append(f"set custom field {action.key}")
            case CopyEventProperty():
                found = _lookup(context, action.path)
                if isinstance(found, str | int | float | bool) or found is None:
                    _set_custom(contact, action.key, found)
                    done.append(f"copied {action.path} to {action.key}")
                else:
                    done.append(f"nothing to copy at {action.path}")
            case TagAction():
                tags = set(contact.tags or [])
                if action.op == "add_tag" and len(tags) < MAX_TAGS:
                    tags.add(action.tag)
                elif action.op == "remove_tag":
                    tags.discard(action.tag)
                contact.tags = sorted(tags)
                done.append(f"{action.op} {action.tag}")
            case ListAction():
                if _change_list(session, contact, action, now):
                    changed = applied.entered if action.op == "add_to_list" else applied.left
                    changed.append(action.list_id)
                done.append(f"{action.op} {action.list_id}")
            case Unsubscribe():
                set_consent(contact, action.channel, ConsentStatus.UNSUBSCRIBED, source, now)
                done.append(f"unsubscribed from {action.channel}")
            case _:
                assert_never(action)
    contact.updated_at = now
    return applied


def _set_custom(contact: Contact, key: str, value: object) -> None:
    fields = dict(contact.custom_fields or {})
    if value is None:
        fields.pop(key, None)
    elif key in fields or len(fields) < MAX_CUSTOM_FIELDS:
        fields[key] = value
    contact.custom_fields = fields


def _json_scalar(value: object) -> object:
    """Decimals are kept as strings in JSON (exact), other scalars as they are."""
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _lookup(context: Mapping[str, Any], path: str) -> object:
    current: object = context
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _change_list(session: Session, contact: Contact, action: ListAction, now: datetime) -> bool:
    """Add or remove the membership; whether it changed."""
    if action.op == "add_to_list":
        return insert_ignoring_conflict(
            session,
            ListMember,
            {
                "store_id": contact.store_id,
                "list_key": action.list_id,
                "contact_id": contact.id,
                "added_at": now,
            },
            ["list_key", "contact_id"],
        )
    if action.op == "remove_from_list":
        removed = session.execute(
            delete(ListMember).where(
                ListMember.list_key == action.list_id, ListMember.contact_id == contact.id
            )
        ).rowcount  # type: ignore[attr-defined]
        return bool(removed)
    assert_never(action.op)
