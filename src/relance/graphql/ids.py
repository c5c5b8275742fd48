"""Object ids in the admin schema: the row's UUID as a string."""

from __future__ import annotations

from uuid import UUID


def parse_id(value: str) -> UUID | None:
    """The UUID an ``ID`` argument holds, or None when it is not one (treated as "not found")."""
    try:
        return UUID(value)
    except ValueError:
        return None
