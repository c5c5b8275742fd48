"""Fixtures for the admin API: the /graphql route over real HTTP on a real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from starlette.applications import Starlette

from relance.graphql.auth import JwksFetcher, fetch_store_jwks
from relance.handlers.graphql import routes
from relance.runtime import Runtime
from tests.graphql.helpers import Api, FakeRenderer, serve


@pytest.fixture
def runtime(make_runtime: Callable[..., Runtime], database_url: str) -> Runtime:
    return make_runtime(database_url, renderer=FakeRenderer())


@pytest.fixture
def make_api(runtime: Runtime) -> Iterator[Callable[..., Api]]:
    """Build an :class:`Api` on a runtime (default: the test's) with the /graphql route."""
    with ExitStack() as stack:

        def build(
            target: Runtime | None = None, jwks_fetcher: JwksFetcher = fetch_store_jwks
        ) -> Api:
            app = Starlette(routes=routes(jwks_fetcher=jwks_fetcher))
            app.state.runtime = target or runtime
            return Api(stack.enter_context(serve(app)))

        yield build


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
