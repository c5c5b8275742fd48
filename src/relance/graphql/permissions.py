"""Permission classes of the admin schema.

- :class:`IsAdmin`: the request carries a valid credential (API token or Dashboard token), else
  a GraphQL error with ``extensions.code == "UNAUTHENTICATED"``.
- :class:`CanManage`: the caller may change campaigns and settings (API tokens always;
  Dashboard users with MANAGE_USERS), else ``extensions.code == "FORBIDDEN"``.

Mutations list both, ``[IsAdmin, CanManage]``, so an anonymous caller is told UNAUTHENTICATED.
"""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from relance.graphql.auth import MANAGE_PERMISSION
from relance.graphql.context import Info


class IsAdmin(BasePermission):
    message = (
        "Authentication required: send an API token (Authorization: Bearer rl_…) or a Saleor "
        "Dashboard token (authorization-bearer and saleor-api-url headers)."
    )
    error_extensions = {"code": "UNAUTHENTICATED"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return info.context.principal is not None


class CanManage(BasePermission):
    message = f"Changing campaigns or store settings needs the {MANAGE_PERMISSION} permission."
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.principal
        return principal is not None and principal.can_manage
