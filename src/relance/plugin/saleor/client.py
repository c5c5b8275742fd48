"""Calling a store's Saleor GraphQL API with gql, the shipped schema loaded.

Because the client holds the schema, every document is validated locally before it is sent: a
query that Saleor would reject fails in relance's tests, not in a merchant's store.
"""

from __future__ import annotations

import httpx
from gql import Client, gql
from gql.transport.exceptions import TransportError, TransportQueryError, TransportServerError
from gql.transport.httpx import HTTPXTransport
from pydantic import BaseModel, ValidationError

from relance.plugin.saleor.errors import SaleorUnreachable
from relance.plugin.saleor.schema import saleor_schema

#: Seconds allowed for one API call (connect, read, write, pool each).
DEFAULT_TIMEOUT = 10.0

#: HTTP statuses by which Saleor (or a proxy in front of it) refuses a token.
TOKEN_REFUSED = frozenset({401, 403})

APP_ID_QUERY = gql("query RelanceAppId { app { id } }")


def saleor_client(api_url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT) -> Client:
    """A gql client for ``api_url`` that authenticates as the app (``Authorization: Bearer``).

    Redirects are not followed (the token must only go to ``api_url``). The client opens a
    connection per ``execute``; use ``with client as session`` to send several documents.
    """
    transport = HTTPXTransport(
        url=api_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
    )
    return Client(schema=saleor_schema(), transport=transport, fetch_schema_from_transport=False)


class _App(BaseModel):
    id: str


class _AppIdResult(BaseModel):
    app: _App | None = None


def fetch_app_id(api_url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """The global id of the app ``token`` belongs to, asked of the Saleor at ``api_url``.

    This proves the token works against that URL (app-sdk's ``getAppId``). A read: safe to retry.

    Raises:
        SaleorUnreachable: network error, timeout, an HTTP error other than 401/403, or an answer
            that is not GraphQL (e.g. a redirect, or the URL is not Saleor's API).

    Returns:
        The app id, or ``None`` when Saleor answered but did not recognise the token (a GraphQL
        permission error, ``app: null``, or HTTP 401/403).
    """
    try:
        data = saleor_client(api_url, token, timeout=timeout).execute(APP_ID_QUERY)
    except TransportQueryError:
        return None
    except TransportServerError as exc:
        if exc.code in TOKEN_REFUSED:
            return None
        raise SaleorUnreachable(f"{api_url} answered HTTP {exc.code}") from exc
    except (TransportError, httpx.HTTPError) as exc:
        raise SaleorUnreachable(f"{api_url} could not be reached ({type(exc).__name__})") from exc
    try:
        result = _AppIdResult.model_validate(data)
    except ValidationError as exc:
        raise SaleorUnreachable(f"{api_url} answered an unexpected shape") from exc
    return result.app.id if result.app is not None else None
