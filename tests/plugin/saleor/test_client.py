from __future__ import annotations

import pytest
from gql import gql
from graphql import GraphQLError

from relance.plugin.saleor.client import fetch_app_id, saleor_client
from relance.plugin.saleor.errors import SaleorUnreachable
from tests.fixtures.saleor import FakeSaleor


def test_fetch_app_id_with_the_app_token(fake_saleor: FakeSaleor) -> None:
    # when relance asks who it is with the token Saleor gave it
    app_id = fetch_app_id(fake_saleor.api_url, fake_saleor.valid_token)
    # then Saleor names the app, and the token went as a bearer token to the API URL
    assert app_id == fake_saleor.app_id
    [request] = fake_saleor.requests_to("/graphql/")
    assert request.headers["Authorization"] == f"Bearer {fake_saleor.valid_token}"
    assert b"app" in request.body


def test_fetch_app_id_with_a_token_saleor_does_not_know(fake_saleor: FakeSaleor) -> None:
    # given Saleor answers a PermissionDenied error for an unknown token
    # then there is no app id (not an exception: Saleor did answer)
    assert fetch_app_id(fake_saleor.api_url, "forged-token") is None


def test_fetch_app_id_when_saleor_cannot_be_reached() -> None:
    with pytest.raises(SaleorUnreachable):
        fetch_app_id("http://127.0.0.1:1/graphql/", "token", timeout=2)


def test_fetch_app_id_when_the_url_is_not_a_graphql_api(fake_saleor: FakeSaleor) -> None:
    # given a URL on the right host that is not the API (404 page)
    with pytest.raises(SaleorUnreachable):
        fetch_app_id(f"http://{fake_saleor.domain}/not-graphql/", fake_saleor.valid_token)


def test_documents_are_validated_locally_before_being_sent(fake_saleor: FakeSaleor) -> None:
    # given a query Saleor's schema does not allow
    client = saleor_client(fake_saleor.api_url, fake_saleor.valid_token)
    # when it is executed, then gql refuses it without calling Saleor
    with pytest.raises(GraphQLError, match="noSuchField"):
        client.execute(gql("query { app { id noSuchField } }"))
    assert fake_saleor.requests == []
