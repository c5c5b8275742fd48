from __future__ import annotations

import httpx
import pytest

from relance.plugin.saleor.errors import JwksUnavailable
from relance.plugin.saleor.jwks import fetch_jwks, jwks_url
from tests.fixtures.saleor import FakeSaleor


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("https://shop.example.com/graphql/", "https://shop.example.com/.well-known/jwks.json"),
        ("https://x.saleor.cloud/graphql/?a=1", "https://x.saleor.cloud/.well-known/jwks.json"),
        ("http://127.0.0.1:8000/api/graphql/", "http://127.0.0.1:8000/.well-known/jwks.json"),
    ],
)
def test_jwks_url_is_the_origin_of_the_api_url(api_url: str, expected: str) -> None:
    assert jwks_url(api_url) == expected


@pytest.mark.parametrize("api_url", ["", "shop.example.com/graphql/", "ftp://shop/graphql/"])
def test_jwks_url_refuses_what_is_not_an_http_url(api_url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        jwks_url(api_url)


def test_fetch_jwks_from_a_saleor(fake_saleor: FakeSaleor) -> None:
    # given a Saleor serving its key
    # when relance fetches its JWKS
    with httpx.Client() as client:
        jwks = fetch_jwks(fake_saleor.api_url, client)
    # then it is the key Saleor signs with
    assert jwks == fake_saleor.signer.jwks()
    assert [r.path for r in fake_saleor.requests] == ["/.well-known/jwks.json"]


def test_fetch_jwks_when_saleor_fails(fake_saleor: FakeSaleor) -> None:
    fake_saleor.jwks_status = 503
    with httpx.Client() as client, pytest.raises(JwksUnavailable, match="503"):
        fetch_jwks(fake_saleor.api_url, client)


def test_fetch_jwks_when_nothing_listens() -> None:
    with httpx.Client() as client, pytest.raises(JwksUnavailable, match="could not be reached"):
        fetch_jwks("http://127.0.0.1:1/graphql/", client)


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (httpx.Response(200, text="<html>"), "JSON"),
        (httpx.Response(200, json=[]), "'keys'"),
        (httpx.Response(200, json={"keys": []}), "no RSA key"),
        (httpx.Response(200, json={"keys": [{"kty": "EC", "kid": "1"}]}), "no RSA key"),
        (httpx.Response(302, headers={"Location": "https://elsewhere.example/"}), "302"),
    ],
)
def test_fetch_jwks_refuses_what_is_not_a_jwks(answer: httpx.Response, problem: str) -> None:
    # given a server answering something else than a JWKS (redirects are not followed)
    client = httpx.Client(transport=httpx.MockTransport(lambda request: answer))
    with client, pytest.raises(JwksUnavailable, match=problem):
        fetch_jwks("https://shop.example.com/graphql/", client)
