"""API tokens: shown once, stored as SHA-256 only, authenticated by hash."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

import pytest

from relance.runtime import Runtime
from relance.store.db import transaction
from relance.store.models import ApiToken, Store, StoreKind
from relance.store.repositories.api_tokens import (
    TOKEN_PREFIX,
    UnknownStoreError,
    authenticate_api_token,
    create_api_token,
    create_token_for_store,
)
from tests.fixtures.runtime import Clock


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime], database_url: str) -> Runtime:
    return make_runtime(database_url)


def make_store(runtime: Runtime, api_url: str = "https://a.example.com/graphql/") -> uuid.UUID:
    with transaction(runtime.sessions) as session:
        store = Store(kind=StoreKind.GENERIC, api_url=api_url, name="A")
        session.add(store)
        session.flush()
        return store.id


def test_only_the_hash_of_a_new_token_is_stored(runtime: Runtime) -> None:
    # given a store
    store_id = make_store(runtime)
    # when a token is made for it
    with transaction(runtime.sessions) as session:
        token, row = create_api_token(session, store_id, "  CI  ")
    # then the token is rl_ + 43 URL-safe characters, and only its SHA-256 is stored
    assert token.startswith(TOKEN_PREFIX)
    assert len(token) == len(TOKEN_PREFIX) + 43
    with runtime.sessions() as session:
        stored = session.get(ApiToken, row.id)
        assert stored is not None
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in (stored.token_hash, stored.name)
        assert stored.name == "CI"
        assert stored.store_id == store_id
        assert stored.last_used_at is None


def test_two_tokens_are_different(runtime: Runtime) -> None:
    store_id = make_store(runtime)
    with transaction(runtime.sessions) as session:
        first, _ = create_api_token(session, store_id, "one")
        second, _ = create_api_token(session, store_id, "two")
    assert first != second


def test_a_valid_token_authenticates_and_records_its_use(runtime: Runtime, clock: Clock) -> None:
    # given a token
    store_id = make_store(runtime)
    with transaction(runtime.sessions) as session:
        token, row = create_api_token(session, store_id, "CI")
    # when it is presented
    with transaction(runtime.sessions) as session:
        found = authenticate_api_token(session, token, clock.now)
    # then its row is found and last_used_at is now
    assert found is not None
    assert found.id == row.id
    with runtime.sessions() as session:
        stored = session.get(ApiToken, row.id)
        assert stored is not None
        assert stored.last_used_at == clock.now


@pytest.mark.parametrize(
    "attempt",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),
        lambda token: token.removeprefix(TOKEN_PREFIX),
        lambda token: hashlib.sha256(token.encode()).hexdigest(),
        lambda token: "",
        lambda token: TOKEN_PREFIX,
    ],
    ids=["one-character-off", "no-prefix", "the-stored-hash", "empty", "prefix-only"],
)
def test_anything_but_the_token_is_refused(
    runtime: Runtime, clock: Clock, attempt: Callable[[str], str]
) -> None:
    store_id = make_store(runtime)
    with transaction(runtime.sessions) as session:
        token, row = create_api_token(session, store_id, "CI")
    with transaction(runtime.sessions) as session:
        assert authenticate_api_token(session, attempt(token), clock.now) is None
    with runtime.sessions() as session:
        stored = session.get(ApiToken, row.id)
        assert stored is not None
        assert stored.last_used_at is None


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_a_token_needs_a_name_of_1_to_200_characters(runtime: Runtime, name: str) -> None:
    store_id = make_store(runtime)
    with transaction(runtime.sessions) as session, pytest.raises(ValueError, match="name"):
        create_api_token(session, store_id, name)


def test_create_token_for_store_commits_a_working_token(runtime: Runtime, clock: Clock) -> None:
    # given a store
    store_id = make_store(runtime)
    # when the CLI makes a token
    token = create_token_for_store(runtime, store_id, "laptop")
    # then it authenticates later, in another session, for that store
    clock.advance(minutes=3)
    with transaction(runtime.sessions) as session:
        found = authenticate_api_token(session, token, clock.now)
        assert found is not None
        assert found.store_id == store_id
        assert found.last_used_at == clock.now


def test_create_token_for_store_refuses_an_unknown_store(runtime: Runtime) -> None:
    with pytest.raises(UnknownStoreError):
        create_token_for_store(runtime, uuid.uuid4(), "laptop")
    with runtime.sessions() as session:
        assert session.query(ApiToken).count() == 0
