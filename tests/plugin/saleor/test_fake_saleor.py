"""The fake Saleor others build on behaves like Saleor where relance depends on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import jwt

from tests.fixtures.saleor import FakeSaleor, SaleorSigner, jwk_thumbprint


def test_dashboard_token_is_an_rs256_jwt_like_saleors_app_token() -> None:
    # given a Saleor key
    signer = SaleorSigner()
    now = datetime.now(UTC)
    # when a Dashboard token is made for an app
    token = signer.dashboard_token(
        iss="https://shop.example.com/graphql/", app="QXBwOjQy", now=now, aud="relance"
    )
    # then it verifies with the published key and carries Saleor's claims
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256"
    assert header["kid"] == signer.kid
    key = jwt.PyJWK(signer.jwk()).key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="relance")
    assert claims["app"] == "QXBwOjQy"
    assert claims["type"] == "thirdparty"
    assert claims["owner"] == "saleor"
    assert claims["iss"] == "https://shop.example.com/graphql/"
    assert claims["exp"] - claims["iat"] == timedelta(minutes=5).total_seconds()
    assert set(claims) >= {"email", "user_id", "is_staff", "permissions", "user_permissions"}


#: RFC 7638 §3.1's example key and its thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
    "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
    "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
    "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_the_kid_is_the_rfc7638_thumbprint() -> None:
    # given the RFC's own example, the thumbprint function agrees with it
    assert jwk_thumbprint({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"}) == RFC7638_THUMBPRINT
    # and a signer's kid is its key's thumbprint
    signer = SaleorSigner()
    assert signer.kid == jwk_thumbprint(signer.jwk())


def test_permission_errors_look_like_saleors(fake_saleor: FakeSaleor) -> None:
    # when the API is asked for the app without a token
    response = httpx.post(fake_saleor.api_url, json={"query": "{ app { id } }"})
    # then Saleor's shape comes back: data with null, an error with a path and a code
    body = response.json()
    assert body["data"] == {"app": None}
    [error] = body["errors"]
    assert error["path"] == ["app"]
    assert error["extensions"] == {"exception": {"code": "PermissionDenied"}}


def test_invalid_documents_are_rejected_by_the_real_schema(fake_saleor: FakeSaleor) -> None:
    response = httpx.post(fake_saleor.api_url, json={"query": "{ app { nope } }"})
    assert "nope" in response.json()["errors"][0]["message"]


def test_a_rotated_key_replaces_the_old_one(fake_saleor: FakeSaleor) -> None:
    old_kid = fake_saleor.signer.kid
    fake_saleor.rotate_key()
    served = httpx.get(f"http://{fake_saleor.domain}/.well-known/jwks.json").json()
    assert [key["kid"] for key in served["keys"]] == [fake_saleor.signer.kid]
    assert fake_saleor.signer.kid != old_kid
