"""Saleor's public keys (JWKS), served at ``<origin of the API URL>/.well-known/jwks.json``.

Saleor publishes only its current key (``saleor/core/views.py::jwks``); rotating it means the
old key disappears at once. relance stores the JWKS with the store at install and refetches it
when a webhook's signature does not verify (see :mod:`relance.plugin.saleor.webhooks`).
"""

from __future__ import annotations

from typing import Any

import httpx

from relance.plugin.saleor.errors import JwksUnavailable

JWKS_PATH = "/.well-known/jwks.json"
#: Seconds: connect timeout, then the whole read. Saleor answers JWKS from memory.
JWKS_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


def jwks_url(api_url: str) -> str:
    """``https://shop.example.com/graphql/`` → ``https://shop.example.com/.well-known/jwks.json``.

    The path of the API URL is dropped, as app-sdk does (``new URL(apiUrl).origin``).

    Raises:
        ValueError: ``api_url`` is not an absolute http(s) URL.
    """
    try:
        url = httpx.URL(api_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"not a URL: {api_url!r}") from exc
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"not an absolute http(s) URL: {api_url!r}")
    return str(url.copy_with(path=JWKS_PATH, query=None, fragment=None))


def _check_shape(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise JwksUnavailable("the JWKS is not an object with a 'keys' list")
    usable = [
        key
        for key in data["keys"]
        if isinstance(key, dict)
        and key.get("kty") == "RSA"
        and all(isinstance(key.get(name), str) and key[name] for name in ("kid", "n", "e"))
    ]
    if not usable:
        raise JwksUnavailable("the JWKS holds no RSA key with a kid")
    return data


def fetch_jwks(
    api_url: str, client: httpx.Client, *, timeout: httpx.Timeout = JWKS_TIMEOUT
) -> dict[str, Any]:
    """GET the JWKS of the Saleor at ``api_url``. Safe to retry (a read).

    Redirects are not followed: the keys must come from the API's own origin.

    Raises:
        JwksUnavailable: unreachable, non-2xx, not JSON, or no RSA key with a ``kid``.

    Returns:
        The JWKS as Saleor served it, ``{"keys": [...]}``.
    """
    try:
        url = jwks_url(api_url)
    except ValueError as exc:
        raise JwksUnavailable(str(exc)) from exc
    try:
        response = client.get(url, timeout=timeout, follow_redirects=False)
        response.raise_for_status()
        data = response.json()
    except httpx.HTTPStatusError as exc:
        raise JwksUnavailable(f"{url} answered {exc.response.status_code}") from exc
    except httpx.HTTPError as exc:
        raise JwksUnavailable(f"{url} could not be reached ({type(exc).__name__})") from exc
    except ValueError as exc:
        raise JwksUnavailable(f"{url} did not answer JSON") from exc
    return _check_shape(data)
