"""``GET /api/manifest`` and ``POST /api/register`` against a real (fake) Saleor over HTTP."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from relance.runtime import Runtime
from relance.settings import Settings
from relance.store.models import Store, StoreKind, StoreStatus
from tests.fixtures.runtime import Clock
from tests.fixtures.saleor import FakeSaleor, saleor_app, serve, unreachable_database_url

MakeRuntime = Callable[..., Runtime]


def stores(runtime: Runtime) -> list[Store]:
    with runtime.sessions() as session:
        return list(session.scalars(select(Store)))


def register(client: httpx.Client, fake: FakeSaleor, token: str | None = None) -> httpx.Response:
    """POST the token exchange exactly as Saleor's ``send_app_token`` does."""
    return client.post(
        "/api/register",
        json={"auth_token": token if token is not None else fake.valid_token},
        headers={
            "Saleor-Domain": fake.domain,
            "X-Saleor-Domain": fake.domain,
            "Saleor-Api-Url": fake.api_url,
            "Saleor-Schema-Version": "3.24",
        },
    )


def test_manifest_endpoint_serves_the_manifest(
    database_url: str, make_runtime: MakeRuntime
) -> None:
    # given relance running at http://relance.test
    runtime = make_runtime(database_url)
    # when Saleor fetches the manifest
    with serve(saleor_app(runtime)) as client:
        response = client.get("/api/manifest", headers={"Saleor-Schema-Version": "3.24"})
    # then it is JSON pointing Saleor back at this instance
    assert response.status_code == 200
    manifest = response.json()
    assert manifest["id"] == "app.relance"
    assert manifest["tokenTargetUrl"] == "http://relance.test/api/register"
    assert manifest["webhooks"][0]["targetUrl"] == "http://relance.test/api/webhooks/saleor"


def test_register_stores_the_installation(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor, clock: Clock
) -> None:
    # given a Saleor handing relance its app token
    runtime = make_runtime(database_url)
    with serve(saleor_app(runtime)) as client:
        # when it POSTs the token
        response = register(client, fake_saleor)
    # then relance accepts
    assert response.status_code == 200
    assert response.json() == {"success": True}
    # and it proved the token against that Saleor, then fetched its keys
    [graphql] = fake_saleor.requests_to("/graphql/")
    assert graphql.headers["Authorization"] == f"Bearer {fake_saleor.valid_token}"
    assert len(fake_saleor.requests_to("/.well-known/jwks.json")) == 1
    # and the store is saved, active, token encrypted, keys kept
    [store] = stores(runtime)
    assert store.kind == StoreKind.SALEOR
    assert store.status == StoreStatus.ACTIVE
    assert store.api_url == fake_saleor.api_url
    assert store.app_id == fake_saleor.app_id
    assert store.auth_token_encrypted is not None
    assert fake_saleor.valid_token not in store.auth_token_encrypted
    assert runtime.secrets.decrypt(store.auth_token_encrypted) == fake_saleor.valid_token
    assert store.jwks == fake_saleor.signer.jwks()
    assert store.jwks_fetched_at == clock.now
    assert store.installed_at == clock.now


def test_registering_again_keeps_one_store(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> None:
    # given relance installed, then the merchant reinstalls after Saleor rotated its key
    runtime = make_runtime(database_url)
    with serve(saleor_app(runtime)) as client:
        assert register(client, fake_saleor).status_code == 200
        fake_saleor.rotate_key()
        fake_saleor.valid_token = "a-new-app-token-9876"
        assert register(client, fake_saleor).status_code == 200
    # then there is still one store, with the new token and keys
    [store] = stores(runtime)
    assert store.auth_token_encrypted is not None
    assert runtime.secrets.decrypt(store.auth_token_encrypted) == "a-new-app-token-9876"
    assert store.jwks == fake_saleor.signer.jwks()


def test_register_from_a_saleor_that_is_not_allowed(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor, tmp_path: Path
) -> None:
    # given relance accepts only Saleor Cloud stores
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        public_url="http://relance.test",
        allowed_saleor_urls=["https://*.saleor.cloud/graphql/"],
    )
    runtime = make_runtime(database_url, settings=settings)
    with serve(saleor_app(runtime)) as client:
        # when another Saleor registers
        response = register(client, fake_saleor)
    # then it is refused before relance calls that Saleor at all
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "SALEOR_URL_PROHIBITED"
    assert response.json()["error"]["message"]
    assert fake_saleor.requests == []
    assert stores(runtime) == []


def test_register_with_a_token_saleor_does_not_recognise(
    database_url: str,
    make_runtime: MakeRuntime,
    fake_saleor: FakeSaleor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given someone POSTs a made-up token naming this Saleor
    runtime = make_runtime(database_url)
    caplog.set_level(logging.DEBUG)
    with serve(saleor_app(runtime)) as client:
        response = register(client, fake_saleor, token="forged-token-123")
    # then it is refused, nothing is stored and the token is not logged
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNKNOWN_APP_ID"
    assert fake_saleor.api_url in response.json()["error"]["message"]
    assert stores(runtime) == []
    assert fake_saleor.requests_to("/.well-known/jwks.json") == []
    assert "forged-token-123" not in caplog.text


def test_register_when_saleor_serves_no_keys(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor
) -> None:
    # given the Saleor's JWKS endpoint is failing
    fake_saleor.jwks_status = 500
    runtime = make_runtime(database_url)
    with serve(saleor_app(runtime)) as client:
        response = register(client, fake_saleor)
    # then the install fails (Saleor shows the message) and nothing is stored
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "JWKS_NOT_AVAILABLE"
    assert stores(runtime) == []


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({}, b'{"auth_token": "x"}', "MISSING_SALEOR_API_URL"),
        ({"Saleor-Api-Url": "http://127.0.0.1:1/graphql/"}, b"{}", "MISSING_AUTH_TOKEN"),
        (
            {"Saleor-Api-Url": "http://127.0.0.1:1/graphql/"},
            b'{"auth_token": 5}',
            "MISSING_AUTH_TOKEN",
        ),
        ({"Saleor-Api-Url": "http://127.0.0.1:1/graphql/"}, b"auth_token=x", "INVALID_REQUEST"),
        ({"Saleor-Api-Url": "http://127.0.0.1:1/graphql/"}, b'["x"]', "MISSING_AUTH_TOKEN"),
    ],
)
def test_register_requests_missing_parts_are_bad_requests(
    database_url: str,
    make_runtime: MakeRuntime,
    headers: dict[str, str],
    body: bytes,
    code: str,
) -> None:
    runtime = make_runtime(database_url)
    with serve(saleor_app(runtime)) as client:
        response = client.post("/api/register", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert stores(runtime) == []


def test_register_when_the_database_is_down(
    database_url: str, make_runtime: MakeRuntime, fake_saleor: FakeSaleor, tmp_path: Path
) -> None:
    # given relance's database cannot be reached
    runtime = make_runtime(unreachable_database_url(database_url, tmp_path))
    with serve(saleor_app(runtime)) as client:
        response = register(client, fake_saleor)
    # then the install fails with a message Saleor can show, not a crash
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "DATABASE_UNAVAILABLE"
