"""``/graphql``: the admin GraphQL API over HTTP.

``POST /graphql`` runs queries and mutations (JSON body, at most :data:`MAX_BODY_BYTES`).
``GET /graphql`` serves GraphiQL from a browser, except when ``RELANCE_ENV=production`` (404);
operations are never run from a GET (no query in URLs, logs or browser history). Authentication
is done once per request, off the event loop, before the operation runs
(:func:`relance.graphql.auth.authenticate`). Expects ``request.app.state.runtime``.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from relance.graphql.auth import JwksFetcher, authenticate, fetch_store_jwks
from relance.graphql.context import Context
from relance.graphql.schema import schema
from relance.runtime import Runtime

#: Largest request body accepted, in bytes.
MAX_BODY_BYTES = 1_000_000


class AdminGraphQL(GraphQL[Context, None]):
    """Strawberry's ASGI view with relance's context and a production switch for GraphiQL."""

    def __init__(self, *, jwks_fetcher: JwksFetcher = fetch_store_jwks) -> None:
        super().__init__(schema, graphql_ide="graphiql", allow_queries_via_get=False)
        self._jwks_fetcher = jwks_fetcher

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        if not isinstance(request, Request):  # the route is HTTP only
            raise TypeError("the /graphql route serves HTTP only")
        runtime: Runtime = request.app.state.runtime
        principal = await run_in_threadpool(
            authenticate, runtime, request.headers, jwks_fetcher=self._jwks_fetcher
        )
        return Context(runtime=runtime, request=request, principal=principal)

    async def render_graphql_ide(self, request: Request) -> Response:
        runtime: Runtime = request.app.state.runtime
        if runtime.settings.env == "production":
            return PlainTextResponse("Not Found", status_code=404)
        return await super().render_graphql_ide(request)


def routes(*, jwks_fetcher: JwksFetcher = fetch_store_jwks) -> list[BaseRoute]:
    """The ``/graphql`` route. ``jwks_fetcher`` replaces the HTTP JWKS fetch (tests, proxies)."""
    return [
        Route(
            "/graphql",
            AdminGraphQL(jwks_fetcher=jwks_fetcher),
            methods=["GET", "POST"],
            name="graphql",
            max_body_size=MAX_BODY_BYTES,
        )
    ]
