"""verify_dashboard_token: app-sdk's verifyJWT rules plus RS256-only and Saleor's token type."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from relance.plugin.saleor.dashboard_auth import (
    DashboardAuthError,
    DashboardAuthErrorCode,
    DashboardTokenExpired,
    DashboardUser,
    InvalidDashboardToken,
    MissingDashboardPermission,
    UnknownDashboardKey,
    verify_dashboard_token,
)
from relance.plugin.saleor.errors import SaleorPluginError
from tests.graphql.dashboard import APP_ID, USER_ID, SigningKey, dashboard_claims, jwks

API_URL = "https://shop.example.com/graphql/"
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEY = SigningKey("key-2026")
OTHER_KEY = SigningKey("key-other")


def verify(token: str, **kwargs: object) -> DashboardUser:
    arguments: dict[str, object] = {
        "jwks": jwks(KEY),
        "app_id": APP_ID,
        "api_url": API_URL,
        "required_permissions": (),
        "now": NOW,
    }
    arguments.update(kwargs)
    return verify_dashboard_token(token, **arguments)  # type: ignore[arg-type]


def claims(**overrides: Any) -> dict[str, Any]:
    return dashboard_claims(api_url=API_URL, now=NOW, **overrides)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_made_like_saleors_is_accepted() -> None:
    # given a token Saleor would give the app frontend
    token = KEY.sign(claims())
    # when it is verified
    user = verify(token, required_permissions={"MANAGE_USERS"})
    # then the user it speaks for is returned
    assert user == DashboardUser(
        user_id=USER_ID,
        email="staff@example.com",
        is_staff=True,
        permissions=frozenset({"MANAGE_USERS", "MANAGE_ORDERS"}),
    )


def test_an_expired_token_is_refused() -> None:
    # given a token that expired one second ago
    token = KEY.sign(claims(ttl=timedelta(minutes=5)))
    # when it is verified 5 minutes and 1 second after it was issued
    # then it is refused as expired
    with pytest.raises(DashboardTokenExpired) as caught:
        verify(token, now=NOW + timedelta(minutes=5, seconds=1))
    assert caught.value.code == DashboardAuthErrorCode.EXPIRED


def test_a_token_is_expired_at_its_exp_second() -> None:
    token = KEY.sign(claims(ttl=timedelta(minutes=5)))
    with pytest.raises(DashboardTokenExpired):
        verify(token, now=NOW + timedelta(minutes=5))


def test_a_token_without_exp_is_refused() -> None:
    body = claims()
    del body["exp"]
    with pytest.raises(InvalidDashboardToken, match="exp"):
        verify(KEY.sign(body))


def test_a_token_not_valid_yet_is_refused() -> None:
    token = KEY.sign(claims(nbf=int((NOW + timedelta(minutes=1)).timestamp())))
    with pytest.raises(DashboardTokenExpired):
        verify(token)


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"app": "QXBwOjk5"}, "another app"),
        ({"iss": "https://other.example.com/graphql/"}, "another Saleor"),
        ({"type": "access"}, "not a Dashboard app token"),
        ({"user_permissions": "MANAGE_USERS"}, "user_permissions"),
        ({"user_id": None}, "names no user"),
        ({"exp": "tomorrow"}, "exp claim is not a number"),
    ],
)
def test_claims_that_do_not_match_the_installation_are_refused(
    override: dict[str, object], reason: str
) -> None:
    body = claims()
    body.update(override)
    token = KEY.sign(body)
    with pytest.raises(InvalidDashboardToken, match=reason) as caught:
        verify(token)
    assert caught.value.code == DashboardAuthErrorCode.INVALID_TOKEN


def test_a_token_without_iss_is_accepted() -> None:
    # app-sdk checks iss only when present; Saleor always sends it, older ones may not
    body = claims()
    del body["iss"]
    assert verify(KEY.sign(body)).user_id == USER_ID


def test_missing_permissions_are_listed() -> None:
    token = KEY.sign(claims(user_permissions=("MANAGE_ORDERS",)))
    with pytest.raises(MissingDashboardPermission) as caught:
        verify(token, required_permissions={"MANAGE_USERS", "MANAGE_DISCOUNTS", "MANAGE_ORDERS"})
    assert caught.value.missing == ("MANAGE_DISCOUNTS", "MANAGE_USERS")
    assert caught.value.code == DashboardAuthErrorCode.MISSING_PERMISSION


def test_the_app_permissions_claim_does_not_count_as_the_users() -> None:
    # given a user without MANAGE_USERS even though the "permissions" claim says otherwise
    token = KEY.sign(claims(user_permissions=(), permissions=["MANAGE_USERS"]))
    with pytest.raises(MissingDashboardPermission):
        verify(token, required_permissions={"MANAGE_USERS"})


def test_an_unknown_kid_asks_for_a_jwks_refetch() -> None:
    # given a token signed with a key the saved JWKS does not hold (Saleor rotated its key)
    token = OTHER_KEY.sign(claims())
    # when it is verified, then the caller is told which kid to look for
    with pytest.raises(UnknownDashboardKey) as caught:
        verify(token)
    assert caught.value.kid == "key-other"
    # and with the refreshed JWKS it verifies
    assert verify(token, jwks=jwks(OTHER_KEY)).user_id == USER_ID


def test_a_signature_by_another_key_under_a_known_kid_is_refused() -> None:
    token = OTHER_KEY.sign(claims(), kid=KEY.kid)
    with pytest.raises(InvalidDashboardToken, match="signature"):
        verify(token)


def test_a_tampered_payload_is_refused() -> None:
    header, _payload, signature = KEY.sign(claims()).split(".")
    forged = ".".join([header, _b64(claims(user_permissions=("MANAGE_STAFF",))), signature])
    with pytest.raises(InvalidDashboardToken, match="signature"):
        verify(forged)


def test_hs256_signed_with_the_public_key_is_refused() -> None:
    # the classic algorithm-confusion attack: HMAC keyed with the public key's PEM
    pem = KEY.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": KEY.kid})
    payload = _b64(claims())
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    token = f"{header}.{payload}." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    with pytest.raises(InvalidDashboardToken, match="RS256"):
        verify(token)


def test_an_unsigned_token_is_refused() -> None:
    token = jwt.encode(claims(), key="", algorithm="none", headers={"kid": KEY.kid})
    with pytest.raises(InvalidDashboardToken, match="RS256"):
        verify(token)


def test_a_token_without_kid_is_refused() -> None:
    token = jwt.encode(claims(), KEY.private, algorithm="RS256")
    with pytest.raises(InvalidDashboardToken, match="kid"):
        verify(token)


@pytest.mark.parametrize("garbage", ["", "not-a-jwt", "a.b.c", "Bearer xyz"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(InvalidDashboardToken):
        verify(garbage)


def test_a_non_rsa_key_under_the_kid_is_refused() -> None:
    token = KEY.sign(claims())
    with pytest.raises(InvalidDashboardToken, match="not an RS256 key"):
        verify(token, jwks={"keys": [{"kty": "oct", "kid": KEY.kid, "k": "c2VjcmV0"}]})


def test_every_error_belongs_to_the_plugins_tree() -> None:
    assert issubclass(DashboardAuthError, SaleorPluginError)
    for error in (InvalidDashboardToken, UnknownDashboardKey, DashboardTokenExpired):
        assert issubclass(error, DashboardAuthError)
