"""Verification of the Saleor Dashboard's token: who is using relance inside the Dashboard.

The Dashboard hands the app frontend ``App.accessToken``, an RS256 JWT made by Saleor's
``create_access_token_for_app``; the frontend sends it to relance in the ``authorization-bearer``
header with the store's ``saleor-api-url``. Claims (``saleor/core/jwt.py``): ``iat``, ``exp``
(5 minutes), ``iss`` (the API URL), ``owner`` ("saleor"), ``type`` ("thirdparty"), ``token``,
``email``, ``user_id``, ``is_staff``, ``app`` (the App's global id), ``permissions`` (app ∩ user),
``user_permissions`` (the user's), optionally ``aud``.

:func:`verify_dashboard_token` applies app-sdk's ``verifyJWT`` rules plus a few of Saleor's own
(steps 1 to 4 are :func:`relance.plugin.saleor.jwt_verify.verify_rs256`, shared with customer
tokens):

1. the header says ``alg: RS256`` and names a ``kid``; no other algorithm is ever accepted;
2. the ``kid`` is in the store's JWKS, else :class:`UnknownDashboardKey` (the caller refetches the
   JWKS once with :func:`relance.plugin.saleor.jwks.fetch_jwks` and tries again: Saleor publishes
   only its current key);
3. the signature verifies with that key;
4. ``exp`` is present and after ``now``; ``nbf``, when present, is not after ``now``;
5. ``iss``, when present, equals the store's API URL; ``type``, when present, is "thirdparty"
   (Saleor's staff access tokens, signed with the same key, are refused);
6. ``app`` equals the store's App id;
7. every required permission is in ``user_permissions``.

``aud`` is not checked (relance's manifest declares no audience; the ``app`` claim already binds
the token to this installation). Nothing here logs the token or the user's email.

Errors, all carrying a machine ``code`` (:class:`DashboardAuthErrorCode`) and a message; the root
is a :class:`~relance.plugin.saleor.errors.SaleorPluginError`::

    DashboardAuthError
    ├── InvalidDashboardToken      malformed, bad signature, wrong issuer / type / app, bad claims
    ├── UnknownDashboardKey        the kid is not in the JWKS (refetch it once, then retry)
    ├── DashboardTokenExpired      exp passed (or nbf not reached)
    └── MissingDashboardPermission a required permission is not in user_permissions
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from relance.plugin.saleor.errors import SaleorPluginError
from relance.plugin.saleor.jwt_verify import InvalidJwt, JwtExpired, UnknownJwtKey, verify_rs256

#: ``type`` claim of tokens made for apps (``saleor.core.jwt.JWT_THIRDPARTY_ACCESS_TYPE``).
THIRDPARTY_TOKEN_TYPE = "thirdparty"  # noqa: S105 (a claim value, not a secret)


class DashboardAuthErrorCode(StrEnum):
    INVALID_TOKEN = "invalid_token"  # noqa: S105 (an error code)
    UNKNOWN_KEY = "unknown_key"
    EXPIRED = "expired"
    MISSING_PERMISSION = "missing_permission"


class DashboardAuthError(SaleorPluginError):
    """Root of every Dashboard-token failure. ``code`` is stable; ``message`` is for humans."""

    def __init__(self, code: DashboardAuthErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidDashboardToken(DashboardAuthError):
    def __init__(self, message: str) -> None:
        super().__init__(DashboardAuthErrorCode.INVALID_TOKEN, message)


class UnknownDashboardKey(DashboardAuthError):
    """The token's ``kid`` is not in the JWKS given; ``kid`` is the key id asked for."""

    def __init__(self, kid: str) -> None:
        super().__init__(DashboardAuthErrorCode.UNKNOWN_KEY, f"no key {kid!r} in the store's JWKS")
        self.kid = kid


class DashboardTokenExpired(DashboardAuthError):
    def __init__(self, message: str = "the Dashboard token has expired") -> None:
        super().__init__(DashboardAuthErrorCode.EXPIRED, message)


class MissingDashboardPermission(DashboardAuthError):
    """``missing`` lists the required permissions the user lacks, sorted."""

    def __init__(self, missing: Collection[str]) -> None:
        self.missing = tuple(sorted(missing))
        super().__init__(
            DashboardAuthErrorCode.MISSING_PERMISSION,
            "missing permission(s): " + ", ".join(self.missing),
        )


@dataclass(frozen=True, slots=True)
class DashboardUser:
    """The Dashboard user a verified token speaks for.

    ``user_id`` is Saleor's global id (``User:…``); ``permissions`` are the user's own
    (``user_permissions``), e.g. ``MANAGE_USERS``. ``email`` is personal data: never log it.
    """

    user_id: str
    email: str
    is_staff: bool
    permissions: frozenset[str]


def verify_dashboard_token(
    token: str,
    *,
    jwks: Mapping[str, Any],
    app_id: str,
    api_url: str,
    required_permissions: Collection[str],
    now: datetime | None = None,
) -> DashboardUser:
    """Verify a Dashboard token against the store's keys and identity (see the module docstring).

    Parameters:
        token(str): the JWT from the ``authorization-bearer`` header.
        jwks(Mapping): the store's JWKS, ``{"keys": [...]}``.
        app_id(str): the App global id Saleor gave this installation.
        api_url(str): the store's API URL, as stored at install.
        required_permissions(Collection[str]): Saleor permission names, e.g. ``{"MANAGE_USERS"}``.
        now(datetime): the time to check ``exp`` against (timezone-aware); defaults to now.

    Returns:
        The user the token speaks for.

    Raises:
        UnknownDashboardKey: refetch the JWKS once and call again.
        DashboardAuthError: any other reason to refuse (see the tree in the module docstring).

    Pure apart from the clock; safe to call repeatedly.
    """
    try:
        claims = verify_rs256(
            token, jwks=jwks, now=now or datetime.now(UTC), noun="the Dashboard token"
        )
    except UnknownJwtKey as error:
        raise UnknownDashboardKey(error.kid) from None
    except JwtExpired as error:
        raise DashboardTokenExpired(error.message) from error
    except InvalidJwt as error:
        raise InvalidDashboardToken(error.message) from error
    if "iss" in claims and claims["iss"] != api_url:
        raise InvalidDashboardToken("the Dashboard token was issued by another Saleor")
    if "type" in claims and claims["type"] != THIRDPARTY_TOKEN_TYPE:
        raise InvalidDashboardToken("the token is not a Dashboard app token")
    if claims.get("app") != app_id:
        raise InvalidDashboardToken("the Dashboard token was made for another app")

    user_permissions = claims.get("user_permissions", [])
    if not isinstance(user_permissions, list) or not all(
        isinstance(p, str) for p in user_permissions
    ):
        raise InvalidDashboardToken("the user_permissions claim is not a list of names")
    granted = frozenset(user_permissions)
    missing = set(required_permissions) - granted
    if missing:
        raise MissingDashboardPermission(missing)

    user_id = claims.get("user_id")
    email = claims.get("email", "")
    if not isinstance(user_id, str) or not user_id or not isinstance(email, str):
        raise InvalidDashboardToken("the Dashboard token names no user")
    return DashboardUser(
        user_id=user_id,
        email=email,
        is_staff=claims.get("is_staff") is True,
        permissions=granted,
    )
