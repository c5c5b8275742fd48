"""Authentication with API tokens, store isolation, and what /graphql serves over GET."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from relance.automation.library import TEMPLATES
from relance.runtime import Runtime
from relance.settings import Settings
from relance.store.db import transaction
from relance.store.models import ApiToken, StoreStatus
from relance.store.repositories.stores import get_store
from tests.fixtures.runtime import Clock
from tests.graphql import documents
from tests.graphql.helpers import Api, FakeRenderer, bearer, error_codes, install_store


def create_campaign(api: Api, headers: dict[str, str], name: str) -> dict[str, Any]:
    body = api(documents.CREATE, {"key": "post_purchase", "name": name}, headers)
    payload: dict[str, Any] = body["data"]["campaignCreateFromTemplate"]
    assert payload["errors"] == []
    campaign: dict[str, Any] = payload["campaign"]
    return campaign


def test_without_a_token_every_operation_is_unauthenticated(api: Api) -> None:
    # given no credential at all
    for document, variables in [*documents.QUERIES, *documents.MUTATIONS.values()]:
        # when the operation is sent
        body = api(document, variables)
        # then it is refused with UNAUTHENTICATED and no data (a nullable field is null)
        assert error_codes(body) == ["UNAUTHENTICATED"], document
        assert not any((body["data"] or {}).values())


def test_an_unknown_or_malformed_token_is_unauthenticated(api: Api) -> None:
    for value in [
        "Bearer rl_notarealtoken",
        "Basic dXNlcjpwYXNz",
        "rl_abc",
        "Bearer",
        "Token rl_abc",
    ]:
        body = api(documents.CAMPAIGNS, headers={"Authorization": value})
        assert error_codes(body) == ["UNAUTHENTICATED"], value


def test_me_is_the_tokens_store(api: Api, runtime: Runtime) -> None:
    store_id = install_store(runtime, "https://a.example.com/graphql/")
    body = api(documents.ME, headers=bearer(runtime, store_id))
    assert body == {
        "data": {
            "me": {
                "id": str(store_id),
                "apiUrl": "https://a.example.com/graphql/",
                "name": "https://a.example.com/graphql/",
                "status": "ACTIVE",
            }
        }
    }


def test_a_token_records_its_last_use(api: Api, runtime: Runtime, clock: Clock) -> None:
    store_id = install_store(runtime, "https://a.example.com/graphql/")
    headers = bearer(runtime, store_id)
    clock.advance(minutes=7)
    api(documents.ME, headers=headers)
    with runtime.sessions() as session:
        [token] = session.query(ApiToken).all()
        assert token.last_used_at == clock.now


def test_a_store_sees_only_its_own_campaigns(api: Api, runtime: Runtime) -> None:
    # given stores A and B, each with a campaign, and a token for each
    store_a = install_store(runtime, "https://a.example.com/graphql/")
    store_b = install_store(runtime, "https://b.example.com/graphql/")
    as_a, as_b = bearer(runtime, store_a), bearer(runtime, store_b)
    ours = create_campaign(api, as_a, "A's campaign")
    theirs = create_campaign(api, as_b, "B's campaign")

    # when A lists campaigns, then only A's is there
    listed = api(documents.CAMPAIGNS, headers=as_a)["data"]["campaigns"]
    assert [c["id"] for c in listed] == [ours["id"]]

    # when A asks for B's campaign by id, then it does not exist for A
    assert api(documents.CAMPAIGN, {"id": theirs["id"]}, as_a) == {"data": {"campaign": None}}

    # when A tries to publish B's campaign, then it is NOT_FOUND and B's campaign is untouched
    published = api(documents.PUBLISH, {"id": theirs["id"]}, as_a)["data"]["campaignPublish"]
    assert published["campaign"] is None
    assert [(e["field"], e["code"]) for e in published["errors"]] == [("id", "NOT_FOUND")]
    mine = api(documents.CAMPAIGN, {"id": theirs["id"]}, as_b)["data"]["campaign"]
    assert mine["status"] == "DRAFT"
    assert mine["publishedVersion"] is None
    assert mine["draftVersion"]["number"] == 1


def test_ids_that_are_not_ids_are_not_found(api: Api, runtime: Runtime) -> None:
    headers = bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))
    assert api(documents.CAMPAIGN, {"id": "Q2FtcGFpZ246MQ=="}, headers)["data"] == {
        "campaign": None
    }
    payload = api(documents.PUBLISH, {"id": "1 OR 1=1"}, headers)["data"]["campaignPublish"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("id", "NOT_FOUND")]


def test_a_token_of_an_uninstalled_store_is_refused(api: Api, runtime: Runtime) -> None:
    store_id = install_store(runtime, "https://a.example.com/graphql/")
    headers = bearer(runtime, store_id)
    with transaction(runtime.sessions) as session:
        store = get_store(session, store_id)
        assert store is not None
        store.status = StoreStatus.UNINSTALLED
    assert error_codes(api(documents.ME, headers=headers)) == ["UNAUTHENTICATED"]


def test_templates_are_listed(api: Api, runtime: Runtime) -> None:
    headers = bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))
    templates = api(documents.TEMPLATES, headers=headers)["data"]["campaignTemplates"]
    assert [(t["key"], t["name"]) for t in templates] == [
        (t.key, t.name) for t in TEMPLATES.values()
    ]
    assert ("post_purchase", "Post-purchase thank you") in [
        (t["key"], t["name"]) for t in templates
    ]


def test_graphiql_is_served_outside_production(api: Api) -> None:
    response = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_graphiql_is_not_served_in_production(
    make_api: Callable[..., Api],
    make_runtime: Callable[..., Runtime],
    database_url: str,
    tmp_path: Any,
) -> None:
    settings = Settings(
        env="production",
        database_url=database_url,
        data_dir=tmp_path,
        secret_key="a-production-secret",
    )
    api = make_api(make_runtime(database_url, settings=settings, renderer=FakeRenderer()))
    response = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()


def test_operations_are_never_run_from_a_get(api: Api, runtime: Runtime) -> None:
    headers = bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))
    response = api.client.get("/graphql", params={"query": documents.ME}, headers=headers)
    assert response.status_code >= 400
    assert "apiUrl" not in response.text


def test_unexpected_failures_are_masked(
    make_api: Callable[..., Api], make_runtime: Callable[..., Runtime], database_url: str
) -> None:
    # given a renderer whose library is broken
    class Broken:
        def known_designs(self) -> frozenset[str]:
            raise RuntimeError("disk /srv/designs unreadable")

    class BrokenRenderer:
        library = Broken()

    runtime = make_runtime(database_url, renderer=BrokenRenderer())
    api = make_api(runtime)
    headers = bearer(runtime, install_store(runtime, "https://a.example.com/graphql/"))
    campaign = create_campaign(api, headers, "x")
    # when publishing hits the failure
    body = api(documents.PUBLISH, {"id": campaign["id"]}, headers)
    # then the client learns nothing of the cause
    assert [e["message"] for e in body["errors"]] == ["Unexpected error."]
    assert "/srv/designs" not in str(body)
