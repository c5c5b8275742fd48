"""Calling a store's Saleor GraphQL API with gql, the shipped schema loaded.

Because the client holds the schema, every document is validated locally before it is sent: a
query that Saleor would reject fails in relance's tests, not in a merchant's store.

:class:`SaleorApi` is the one client layer: it sends the named documents of
:mod:`relance.plugin.saleor.documents`, parses ``data`` into each document's pydantic model, and
retries what is worth retrying:

==========================================  ====================================================
Saleor's answer                             what happens
==========================================  ====================================================
network error, timeout, HTTP 5xx or 429     retried with exponential backoff and jitter, at most
                                            ``RetryPolicy.attempts`` in all; then
                                            :class:`SaleorUnreachable` (``transient``)
HTTP 401 / 403, a JWT error code            :class:`SaleorTokenRefused`, no retry
GraphQL ``PermissionDenied``                ``{ app { id } }`` is asked: no app →
                                            :class:`SaleorTokenRefused`, else
                                            :class:`SaleorPermissionDenied`
other GraphQL errors, other HTTP 4xx        :class:`SaleorQueryError`, no retry
not GraphQL, or data not fitting the model  :class:`UnexpectedAnswer`, no retry
==========================================  ====================================================

Every document relance sends is safe to repeat (reads, or mutations whose repeat is detected:
see :mod:`relance.plugin.saleor.discounts`), which is what makes retrying after a timeout safe.
Neither the token nor variables (e-mail addresses…) are ever logged or put in error messages.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import urlsplit

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport
from gql.transport.transport import Transport
from graphql import ExecutionResult
from pydantic import BaseModel, ValidationError

from relance.discounts import PlatformAccess
from relance.plugin.saleor.documents import Document, SaleorModel, load_document
from relance.plugin.saleor.errors import (
    GraphQLErrorDetail,
    SaleorApiError,
    SaleorPermissionDenied,
    SaleorQueryError,
    SaleorTokenRefused,
    SaleorUnreachable,
    UnexpectedAnswer,
)
from relance.plugin.saleor.schema import saleor_schema

logger = logging.getLogger(__name__)

#: Seconds allowed for one API call (connect, read, write, pool each).
DEFAULT_TIMEOUT = 10.0

#: HTTP statuses by which Saleor (or a proxy in front of it) refuses a token.
TOKEN_REFUSED = frozenset({401, 403})

#: HTTP statuses worth another attempt besides 5xx: 429 Too Many Requests (a rate limit in front
#: of Saleor says "later", with ``Retry-After``).
RETRIED_STATUSES = frozenset({429})

#: ``extensions.exception.code`` values Saleor gives when the token itself is bad: PyJWT's
#: exception names (``saleor/graphql/utils/__init__.py::format_error`` uses ``type(exc).__name__``).
TOKEN_ERROR_CODES = frozenset(
    {"ExpiredSignatureError", "InvalidSignatureError", "DecodeError", "InvalidTokenError"}
)

#: The code of Saleor's ``PermissionDenied`` error: a missing token and a missing permission look
#: alike, so it is told apart with :data:`APP_ID`.
PERMISSION_DENIED = "PermissionDenied"

R = TypeVar("R", bound=BaseModel)


class _App(SaleorModel):
    id: str


class AppIdResult(SaleorModel):
    app: _App | None = None


#: ``query AppId { app { id } }``: the install check and the token probe.
APP_ID = load_document("AppId", AppIdResult)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a call is repeated after a transient failure.

    The wait before retry ``n`` (1 = the second attempt) is ``min(max_delay, base_delay *
    2**(n-1))``, half of it fixed and half random ("equal jitter", so stores failing together do
    not retry together), and never less than a ``Retry-After`` the server sent (capped at
    ``max_delay``). Times in seconds.
    """

    attempts: int = 4  #: in all, the first included
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, retry: int, jitter: float, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``retry`` (1-based); ``jitter`` is uniform in [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        wait: float = ceiling / 2 + ceiling / 2 * jitter
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_delay))
        return wait


#: The default: 4 attempts, waiting about 0.5, 1 and 2 s in between (≤ 3.5 s of sleep in all).
DEFAULT_RETRY = RetryPolicy()
#: A single attempt (interactive calls such as the install check).
NO_RETRY = RetryPolicy(attempts=1)


class _HttpStatus(Exception):
    """Saleor answered an HTTP status that decides the outcome whatever the body says."""

    def __init__(self, status: int, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.retry_after = retry_after


class _NotGraphQL(Exception):
    """The answer is not a GraphQL response (no JSON object with ``data`` or ``errors``)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}, not a GraphQL answer")
        self.status = status


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # absent, or an HTTP date: the backoff decides


class _SaleorTransport(Transport):
    """POSTs a GraphQL request with an httpx client owned by :class:`SaleorApi`.

    Unlike gql's ``HTTPXTransport`` it lets the HTTP status win over the body (a 503 or 401 with
    a JSON error body must not pass for a GraphQL error) and does not wrap httpx's exceptions,
    so that :class:`SaleorApi` can tell a timeout from a refusal.
    """

    def __init__(self, url: str, http: httpx.Client) -> None:
        self.url = url
        self.http = http

    def connect(self) -> None:
        """Nothing to open: the httpx client (and its connection pool) outlives sessions."""

    def close(self) -> None:
        """Nothing to close here: :meth:`SaleorApi.close` closes the httpx client."""

    def execute(self, request: GraphQLRequest, *args: Any, **kwargs: Any) -> ExecutionResult:
        response = self.http.post(self.url, json=request.payload)
        status = response.status_code
        if status in TOKEN_REFUSED:
            raise _HttpStatus(status)
        if status >= 500 or status in RETRIED_STATUSES:
            raise _HttpStatus(status, _retry_after(response))
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
            raise _NotGraphQL(status)
        return ExecutionResult(
            data=body.get("data"), errors=body.get("errors"), extensions=body.get("extensions")
        )


def _details(errors: list[Any] | None) -> list[GraphQLErrorDetail]:
    details = []
    for error in errors or []:
        if not isinstance(error, dict):
            details.append(GraphQLErrorDetail(str(error)))
            continue
        extensions = error.get("extensions")
        exception = extensions.get("exception") if isinstance(extensions, dict) else None
        code = exception.get("code") if isinstance(exception, dict) else None
        details.append(GraphQLErrorDetail(str(error.get("message", "")), code))
    return details


def _summary(details: list[GraphQLErrorDetail]) -> str:
    return "; ".join(f"{d.code}: {d.message}" if d.code else d.message for d in details)


def _shape_problems(exc: ValidationError) -> str:
    """Where an answer does not fit its model, without the values (they may be personal)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['type']}"
        for error in exc.errors()[:5]
    )


class SaleorApi:
    """A client for one store's Saleor API, authenticated as the app (``Authorization: Bearer``).

    Parameters:
        api_url(str): the store's GraphQL endpoint, as installed (``https://…/graphql/``).
        token(str): the app token. Sent to ``api_url`` only: redirects are not followed.
        timeout(float): seconds for each of connect, read, write and pool, per attempt.
        retry(RetryPolicy): attempts and backoff for transient failures.
        sleep(Callable[[float], None]): how to wait between attempts (tests pass a recorder).
        jitter(Callable[[], float]): uniform random numbers in [0, 1) for the backoff.
        transport(httpx.BaseTransport | None): an httpx transport to use instead of the network
            (e.g. ``httpx.MockTransport`` in tests).

    Not thread-safe: use one per task or thread. Use it as a context manager, or call
    :meth:`close`, to release its connections.

    Example:
        >>> with SaleorApi(api_url, token) as api:  # doctest: +SKIP
        ...     app_id = api.app_id()
    """

    def __init__(
        self,
        api_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry: RetryPolicy = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.api_url = api_url
        self.retry = retry
        self._sleep = sleep
        self._jitter = jitter
        self._where = urlsplit(api_url).netloc or api_url
        self._http = httpx.Client(
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
        )
        self._client = Client(
            schema=saleor_schema(),
            transport=_SaleorTransport(api_url, self._http),
            fetch_schema_from_transport=False,
        )

    @classmethod
    def for_access(cls, access: PlatformAccess, **options: Any) -> SaleorApi:
        """A client for the store ``access`` describes (``options`` as for the constructor).

        Raises:
            SaleorTokenRefused: the store has no token (never installed, or uninstalled).
        """
        if not access.token:
            raise SaleorTokenRefused(f"store {access.store_id} has no Saleor app token")
        return cls(access.api_url, access.token, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connections. Idempotent."""
        self._http.close()

    def execute(self, document: Document[R], variables: Mapping[str, Any] | None = None) -> R:
        """Send ``document`` with ``variables``; its ``data`` parsed into ``document.result``.

        Safe to call again after any error: relance's documents are reads or repeat-safe writes.

        Raises:
            graphql.GraphQLError: the document does not validate against the shipped schema
                (raised before anything is sent: a bug in relance).
            SaleorUnreachable: network error, timeout, 5xx or 429 on every attempt.
            SaleorTokenRefused: Saleor no longer accepts the token.
            SaleorPermissionDenied: the app lacks a permission for what was asked.
            SaleorQueryError: Saleor answered GraphQL errors (or another 4xx).
            UnexpectedAnswer: not a GraphQL answer, or ``data`` does not fit the model.
        """
        request = GraphQLRequest(
            document.request,
            variable_values=dict(variables) if variables is not None else None,
            operation_name=document.name,
        )
        data = self._send(document.name, request)
        try:
            return document.result.model_validate(data)
        except ValidationError as exc:
            raise UnexpectedAnswer(
                f"{self._where} answered {document.name} in an unexpected shape "
                f"({_shape_problems(exc)})"
            ) from None

    def app_id(self) -> str | None:
        """The id of the app the token belongs to; ``None`` when Saleor does not know the token.

        Raises:
            SaleorUnreachable, SaleorQueryError, UnexpectedAnswer: as :meth:`execute`.
        """
        try:
            result = self.execute(APP_ID)
        except SaleorTokenRefused:
            return None
        return result.app.id if result.app is not None else None

    # -- internals -------------------------------------------------------------------------

    def _send(self, name: str, request: GraphQLRequest) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            retry_after: float | None = None
            try:
                return self._client.execute(request)
            except TransportQueryError as exc:
                raise self._query_failed(name, _details(exc.errors)) from None
            except _HttpStatus as exc:
                if exc.status in TOKEN_REFUSED:
                    raise SaleorTokenRefused(
                        f"{self._where} refused the app token (HTTP {exc.status} to {name})"
                    ) from None
                reason, retry_after = f"HTTP {exc.status}", exc.retry_after
            except _NotGraphQL as exc:
                raise UnexpectedAnswer(
                    f"{self._where} did not answer {name} as a GraphQL API (HTTP {exc.status})"
                ) from None
            except httpx.UnsupportedProtocol as exc:
                raise SaleorUnreachable(f"{self._where}: {exc}") from None
            except httpx.TransportError as exc:
                reason = type(exc).__name__
            if attempt >= self.retry.attempts:
                raise SaleorUnreachable(
                    f"{self._where} did not answer {name} "
                    f"({reason}, {attempt} attempt{'s' if attempt > 1 else ''})"
                )
            delay = self.retry.delay(attempt, self._jitter(), retry_after)
            logger.warning(
                "Saleor at %s: %s failed (%s), attempt %d of %d, retrying in %.1fs",
                self._where,
                name,
                reason,
                attempt,
                self.retry.attempts,
                delay,
            )
            self._sleep(delay)

    def _query_failed(self, name: str, details: list[GraphQLErrorDetail]) -> SaleorApiError:
        codes = {detail.code for detail in details}
        summary = _summary(details)
        if codes & TOKEN_ERROR_CODES:
            return SaleorTokenRefused(f"{self._where} refused the app token ({summary})")
        if PERMISSION_DENIED in codes:
            if name == APP_ID.name or self.app_id() is None:
                return SaleorTokenRefused(
                    f"{self._where} no longer recognises the app token ({name}: {summary})"
                )
            return SaleorPermissionDenied(f"{self._where} denied {name}: {summary}")
        return SaleorQueryError(f"{self._where} answered {name} with errors: {summary}", details)


def saleor_client(api_url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT) -> Client:
    """A bare gql client for ``api_url`` that authenticates as the app (``Authorization: Bearer``).

    Prefer :class:`SaleorApi`, which adds retries, typed results and relance's error tree.
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


def fetch_app_id(api_url: str, token: str, *, timeout: float = DEFAULT_TIMEOUT) -> str | None:
    """The global id of the app ``token`` belongs to, asked of the Saleor at ``api_url``.

    This proves the token works against that URL (app-sdk's ``getAppId``). A read: safe to retry.
    One attempt only: the install handshake is interactive and Saleor waits for it.

    Raises:
        SaleorUnreachable: network error, timeout, an HTTP error other than 401/403, or an answer
            that is not GraphQL (e.g. a redirect, or the URL is not Saleor's API).

    Returns:
        The app id, or ``None`` when Saleor answered but did not recognise the token (a GraphQL
        permission or other error, ``app: null``, or HTTP 401/403).
    """
    with SaleorApi(api_url, token, timeout=timeout, retry=NO_RETRY) as api:
        try:
            return api.app_id()
        except SaleorQueryError:
            return None
        except UnexpectedAnswer as exc:
            raise SaleorUnreachable(str(exc)) from exc
