"""Calling a merchant's HTTP endpoint (the ``call_webhook`` step, "forward to URL"), safely.

The URL comes from a merchant, so every call is guarded against server-side request forgery:

- only ``http`` and ``https``; no credentials in the URL (``user:pass@``: use a header);
- the host is resolved once, and *every* address it resolves to must be public: loopback,
  private (RFC 1918, ``fc00::/7``), link-local (``169.254.0.0/16`` — cloud metadata —,
  ``fe80::/10``), multicast, unspecified (``0.0.0.0``, ``::``), reserved, shared (CGNAT
  ``100.64.0.0/10``) and documentation addresses are refused, also when written as decimal or
  hex IPv4 (``http://2130706433/``) or embedded in IPv6 (``::ffff:127.0.0.1``, 6to4, NAT64);
- only ports 80 and 443;
- the connection goes to the vetted address itself (:class:`PinnedTransport`), never through a
  second DNS lookup (no DNS rebinding), while the ``Host`` header, TLS SNI and certificate
  verification keep the URL's name; proxies from the environment are ignored;
- redirects are not followed: a 3xx is the answer.

:class:`AddressPolicy` lifts the address and port rules for what the operator allow-lists
(``RELANCE_WEBHOOK_ALLOWED_NETWORKS``): networks (``10.0.0.0/8``, ``fd00::/8``), single addresses
and host names (``hooks.internal``, ``*.corp.example``). An allow-listed destination may use any
port.

Failures are the errors of :mod:`relance.channels.errors`. :meth:`WebhookClient.call` raises them
only when there is no HTTP answer; an answer of any status is returned as a
:class:`WebhookAnswer`, and :func:`refusal` says which error a non-2xx answer amounts to:

- destination refused, invalid URL or header: :class:`PermanentDeliveryError`;
- no connection (DNS failure, refused, unreachable, connect or TLS timeout), or the request not
  written in full: :class:`TransientDeliveryError`;
- the request written, then no answer (read timeout, connection closed): for POST and PATCH
  :class:`DeliveryOutcomeUnknown` (the receiver may have acted; resending could do it twice);
  for GET, PUT and DELETE, idempotent by HTTP semantics, :class:`TransientDeliveryError`;
- answers: 2xx accepted; 408, 429 and 5xx transient; 3xx and other 4xx permanent.
"""

from __future__ import annotations

import codecs
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message as _HeaderParser
from typing import Literal
from urllib.parse import urlencode

import httpx

from relance import __version__
from relance.channels.errors import (
    DeliveryError,
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
#: ``host`` (ASCII, IDNA-encoded) → every address it resolves to.
Resolver = Callable[[str], Sequence[str]]

#: Ports any public destination may use; others need the destination allow-listed.
DEFAULT_PORTS = frozenset({80, 443})
#: Characters of the answer's body kept on the message.
MAX_RECORDED_CHARS = 2000
#: At most this much of an answer is read (a binary one is recorded as its size).
MAX_READ_BYTES = 1 << 20
#: Headers a step may not set: they frame the request or route it.
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
        "proxy-connection",
        "x-relance-delivery",
    }
)
#: Read timeouts of these methods leave the outcome unknown (not idempotent).
NON_IDEMPOTENT: frozenset[str] = frozenset({"POST", "PATCH"})

_EXTRA_BLOCKED: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network": 0.0.0.0 reaches the local host
        "100.64.0.0/10",  # shared address space (CGNAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "255.255.255.255/32",
        "fec0::/10",  # deprecated site-local
        "::/96",  # deprecated IPv4-compatible
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_BINARY_TYPES = ("image/", "audio/", "video/", "font/", "model/")
_BINARY_APPLICATION = frozenset(
    {
        "application/octet-stream",
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/x-tar",
        "application/x-protobuf",
        "application/protobuf",
        "application/grpc",
        "application/wasm",
        "application/msgpack",
        "application/cbor",
    }
)


def user_agent() -> str:
    """What relance calls itself on webhook calls."""
    return f"relance/{__version__} (+webhook)"


# --- the destination --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed webhook URL: ``host`` is ASCII (IDNA), without brackets for IPv6."""

    url: httpx.URL
    scheme: str
    host: str
    port: int
    #: scheme://host[:port]/path — what the message records (the query may hold secrets).
    display: str


def parse_target(url: str) -> Target:
    """Check a rendered URL's form. Raises :class:`PermanentDeliveryError` (not echoing it)."""
    text = url.strip()
    try:
        parsed = httpx.URL(text)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise PermanentDeliveryError("invalid webhook URL") from None
    scheme = parsed.scheme.lower()
    if scheme not in ("http", "https"):
        raise PermanentDeliveryError("webhook URL must start with http:// or https://")
    if parsed.userinfo:
        raise PermanentDeliveryError(
            "credentials in the webhook URL are refused: send them in a header"
        )
    host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    if not host:
        raise PermanentDeliveryError("webhook URL has no host")
    if ":" not in host and not all(_valid_label(label) for label in host.split(".")):
        raise PermanentDeliveryError("invalid webhook URL")
    port = parsed.port or (443 if scheme == "https" else 80)
    shown_host = f"[{host}]" if ":" in host else host
    shown_port = f":{parsed.port}" if parsed.port is not None else ""
    display = f"{scheme}://{shown_host}{shown_port}{parsed.path or '/'}"
    return Target(url=parsed, scheme=scheme, host=host, port=port, display=display)


def display_url(url: str) -> str:
    """scheme://host[:port]/path of ``url``, or ``""`` when it does not parse."""
    try:
        return parse_target(url).display
    except PermanentDeliveryError:
        return ""


def _effective(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def forbidden_reason(address: IPAddress) -> str | None:
    """Why ``address`` may not be called without an allow-list entry (``None``: public)."""
    checked = _effective(address)
    if checked.is_loopback:
        return "a loopback address"
    if checked.is_unspecified:
        return "an unspecified address"
    if checked.is_link_local:
        return "a link-local address"
    if checked.is_multicast:
        return "a multicast address"
    if checked.is_reserved or any(checked in net for net in _EXTRA_BLOCKED):
        return "a reserved address"
    if checked.is_private:
        return "a private address"
    if not checked.is_global:
        return "a non-public address"
    return None


def _parse_address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.partition("%")[0])


@dataclass(frozen=True)
class AddressPolicy:
    """Which non-public destinations (and other ports) the operator allows.

    ``allowed`` entries: a network (``10.0.0.0/8``), an address (``192.168.1.20``, ``::1``), a
    host name (``hooks.internal``) or a wildcard (``*.corp.example``: its subdomains).
    """

    allowed: tuple[str, ...] = ()
    networks: tuple[IPNetwork, ...] = field(init=False, default=())
    hosts: frozenset[str] = field(init=False, default=frozenset())
    suffixes: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        suffixes: list[str] = []
        for entry in self.allowed:
            kind, value = classify_allow_entry(entry)
            if kind == "network":
                networks.append(ipaddress.ip_network(value, strict=False))
            elif kind == "suffix":
                suffixes.append(value)
            else:
                hosts.add(value)
        object.__setattr__(self, "networks", tuple(networks))
        object.__setattr__(self, "hosts", frozenset(hosts))
        object.__setattr__(self, "suffixes", tuple(suffixes))

    def host_allowed(self, host: str) -> bool:
        """Whether the URL's host name itself is allow-listed (whatever it resolves to)."""
        name = host.lower().rstrip(".")
        return name in self.hosts or any(name.endswith(suffix) for suffix in self.suffixes)

    def address_allowed(self, address: IPAddress) -> bool:
        """Whether ``address`` (or the IPv4 address it embeds) is inside an allowed network."""
        candidates = {address, _effective(address)}
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.networks
        )


def classify_allow_entry(entry: str) -> tuple[Literal["network", "host", "suffix"], str]:
    """One ``RELANCE_WEBHOOK_ALLOWED_NETWORKS`` entry, normalised. Raises ``ValueError``."""
    text = entry.strip().lower()
    try:
        return "network", str(ipaddress.ip_network(text.strip("[]"), strict=False))
    except ValueError:
        pass
    name = text.removeprefix("*.").rstrip(".")
    labels = name.split(".")
    if not name or len(name) > 253 or not all(_valid_label(label) for label in labels):
        raise ValueError(f"not a network, address or host name: {entry!r}")
    if text.startswith("*."):
        return "suffix", "." + name
    return "host", name


def _valid_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in label)
    )


def system_resolver(host: str) -> list[str]:
    """Every address ``host`` resolves to (an IP literal, in any form the OS accepts, to itself).

    Raises ``OSError`` when it does not resolve.
    """
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


# --- the request and the answer ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One rendered call. ``params`` are added to the URL's own query string."""

    method: Method
    url: str
    headers: Sequence[tuple[str, str]] = ()
    params: Sequence[tuple[str, str]] = ()
    body: str | None = None
    timeout: float = 10.0
    #: Sent as ``X-Relance-Delivery`` so receivers can tell retries of one delivery apart.
    delivery_id: str | None = None


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """The endpoint's HTTP answer: its status and the start of its body (see :func:`summarise`)."""

    status: int
    body: str
    #: For a 3xx: where it pointed (scheme://host/path only).
    location: str | None = None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


def refusal(answer: WebhookAnswer) -> DeliveryError | None:
    """The delivery error a non-2xx answer amounts to; ``None`` when it was accepted."""
    if answer.accepted:
        return None
    status = f"HTTP {answer.status} {httpx.codes.get_reason_phrase(answer.status)}".rstrip()
    if answer.status in (408, 429) or answer.status >= 500:
        return TransientDeliveryError(f"the endpoint answered {status}")
    if 300 <= answer.status < 400:
        to = f" to {answer.location}" if answer.location else ""
        return PermanentDeliveryError(
            f"the endpoint answered {status}{to}: redirects are not followed, "
            "use the final URL in the step"
        )
    return PermanentDeliveryError(f"the endpoint answered {status}")


def summarise(
    data: bytes,
    *,
    content_type: str | None,
    content_encoding: str | None = None,
    total: int | None = None,
) -> str:
    """What is recorded of a body: its first characters when it is text, else ``<n bytes>``.

    ``total`` is the body's full size when more than ``data`` exists (``None``: ``data`` is all).
    """
    size = len(data) if total is None else total
    if not data:
        return "" if size == 0 else f"<{size} bytes>"
    text = _as_text(data, content_type, content_encoding, complete=total is None)
    if text is None:
        return f"<{size} bytes>"
    return text[:MAX_RECORDED_CHARS]


def _as_text(
    data: bytes, content_type: str | None, content_encoding: str | None, *, complete: bool
) -> str | None:
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        return None
    charset = "utf-8"
    if content_type:
        parser = _HeaderParser()
        parser["content-type"] = content_type
        media = parser.get_content_type()
        if media.startswith(_BINARY_TYPES) or media in _BINARY_APPLICATION:
            return None
        param = parser.get_param("charset")
        if isinstance(param, str) and param:
            charset = param
    try:
        decoder = codecs.getincrementaldecoder(charset)(errors="strict")
        text = decoder.decode(data[: MAX_RECORDED_CHARS * 4 + 4], final=complete)
    except (LookupError, UnicodeDecodeError):
        return None
    if "\x00" in text:
        return None
    return text


# --- the transport ----------------------------------------------------------------------------


class PinnedTransport(httpx.BaseTransport):
    """Sends every request to ``address`` whatever its URL's host, keeping the ``Host`` header
    (set by the client from the URL) and using the URL's host name for TLS SNI and certificate
    verification — so the address vetted is the address connected to."""

    def __init__(self, address: IPAddress, *, inner: httpx.HTTPTransport | None = None) -> None:
        self.address = address
        self._inner = inner or httpx.HTTPTransport(trust_env=False)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        hostname = request.url.raw_host.decode("ascii")
        request.url = request.url.copy_with(host=str(self.address))
        request.extensions = {**request.extensions, "sni_hostname": hostname}
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


# --- the client -------------------------------------------------------------------------------


class WebhookClient:
    """Makes webhook calls under an :class:`AddressPolicy`. Thread-safe; one per process is fine.

    ``resolver`` and ``ssl_context`` exist for tests (a fake DNS, a test certificate authority).
    """

    def __init__(
        self,
        policy: AddressPolicy | None = None,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.policy = policy or AddressPolicy()
        self.resolver = resolver
        self.ssl_context = ssl_context

    def vet(self, target: Target) -> list[IPAddress]:
        """The addresses ``target`` may be called at, in resolver order. Raises
        :class:`PermanentDeliveryError` when any is forbidden, :class:`TransientDeliveryError`
        when the name does not resolve."""
        host_listed = self.policy.host_allowed(target.host)
        try:
            literal: IPAddress | None = _parse_address(target.host)
        except ValueError:
            literal = None
        resolved = [literal] if literal is not None else self._resolve(target.host)
        addresses: list[IPAddress] = []
        for address in resolved:
            if address in addresses:
                continue
            listed = host_listed or self.policy.address_allowed(address)
            if not listed:
                reason = forbidden_reason(address)
                if reason is not None:
                    raise PermanentDeliveryError(
                        f"refused: {target.host} is {address}, {reason} "
                        "(RELANCE_WEBHOOK_ALLOWED_NETWORKS can allow it)"
                        if literal is None
                        else f"refused: {address} is {reason} "
                        "(RELANCE_WEBHOOK_ALLOWED_NETWORKS can allow it)"
                    )
                if target.port not in DEFAULT_PORTS:
                    raise PermanentDeliveryError(
                        f"refused: port {target.port} (only 80 and 443 unless the destination "
                        "is in RELANCE_WEBHOOK_ALLOWED_NETWORKS)"
                    )
            addresses.append(address)
        if not addresses:
            raise TransientDeliveryError(f"{target.host} resolves to no address")
        return addresses

    def _resolve(self, host: str) -> list[IPAddress]:
        try:
            found = self.resolver(host)
        except (OSError, UnicodeError) as error:
            raise TransientDeliveryError(
                f"could not resolve {host} ({type(error).__name__})"
            ) from error
        addresses: list[IPAddress] = []
        for text in found:
            try:
                addresses.append(_parse_address(text))
            except ValueError:
                raise PermanentDeliveryError(f"{host} resolved to an invalid address") from None
        return addresses

    def call(self, request: WebhookRequest) -> WebhookAnswer:
        """Make the call; return the answer, whatever its status (see the module docstring)."""
        target = parse_target(request.url)
        headers = _headers(request)
        # the step's parameters follow the URL's own query string, which is kept as written
        query = "&".join(
            part for part in (target.url.query.decode("ascii"), urlencode(request.params)) if part
        )
        url = target.url.copy_with(query=query.encode("ascii") or None, fragment=None)
        last: TransientDeliveryError | None = None
        for address in self.vet(target):
            try:
                return self._send(request, url, headers, address)
            except _NotConnected as error:
                last = TransientDeliveryError(f"could not connect to {target.host}: {error}")
                continue
        assert last is not None
        raise last

    def _send(
        self,
        request: WebhookRequest,
        url: httpx.URL,
        headers: list[tuple[str, str]],
        address: IPAddress,
    ) -> WebhookAnswer:
        started = time.monotonic()
        inner = httpx.HTTPTransport(
            verify=self.ssl_context if self.ssl_context is not None else True, trust_env=False
        )
        transport = PinnedTransport(address, inner=inner)
        content = request.body.encode("utf-8") if request.body is not None else None
        with httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(request.timeout),
            follow_redirects=False,
            trust_env=False,
        ) as client:
            built = client.build_request(request.method, url, headers=headers, content=content)
            try:
                response = client.send(built, stream=True)
            except httpx.ConnectTimeout as error:
                # no time left to try another address: a timeout takes the step's whole budget
                host = url.raw_host.decode("ascii")
                raise TransientDeliveryError(
                    f"could not connect to {host} within {request.timeout:g} s"
                ) from error
            except httpx.ConnectError as error:  # refused, unreachable, TLS: try the next one
                raise _NotConnected(_describe(error)) from error
            except (httpx.WriteError, httpx.WriteTimeout, httpx.PoolTimeout) as error:
                raise TransientDeliveryError(
                    f"the request could not be sent in full ({_describe(error)})"
                ) from error
            except (httpx.ReadTimeout, httpx.ReadError, httpx.RemoteProtocolError) as error:
                raise _no_answer(request, error) from error
            except httpx.LocalProtocolError as error:
                raise PermanentDeliveryError(
                    f"the request is not valid HTTP ({_describe(error)})"
                ) from error
            except httpx.TransportError as error:
                raise TransientDeliveryError(_describe(error)) from error
            try:
                return _answer(response, url, deadline=started + request.timeout)
            finally:
                response.close()


class _NotConnected(Exception):
    """No connection to one address, failing at once (the next address is tried)."""


def _describe(error: Exception) -> str:
    text = str(error).strip()
    name = type(error).__name__
    return f"{name}: {text}"[:300] if text else name


def _no_answer(request: WebhookRequest, error: Exception) -> DeliveryError:
    what = (
        f"no answer within {request.timeout:g} s"
        if isinstance(error, httpx.TimeoutException)
        else f"the connection closed without an answer ({type(error).__name__})"
    )
    if request.method in NON_IDEMPOTENT:
        return DeliveryOutcomeUnknown(
            f"{what} after the request was sent: the endpoint may have processed it "
            f"({request.method} is not retried)"
        )
    return TransientDeliveryError(f"{what} after the request was sent")


def _headers(request: WebhookRequest) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = [
        ("User-Agent", user_agent()),
        ("Accept-Encoding", "identity"),
    ]
    given = {name.lower() for name, _ in request.headers}
    for name, value in request.headers:
        lowered = name.lower()
        if lowered in RESERVED_HEADERS or lowered.startswith("proxy-"):
            raise PermanentDeliveryError(f"header {name} cannot be set by a webhook step")
        if any(c in value for c in "\r\n\x00"):
            raise PermanentDeliveryError(f"header {name}: line breaks are not allowed")
    headers = [(n, v) for n, v in headers if n.lower() not in given]
    headers.extend((name, value.strip()) for name, value in request.headers)
    if request.body is not None and "content-type" not in given:
        headers.append(("Content-Type", _guess_content_type(request.body)))
    if request.delivery_id is not None:
        headers.append(("X-Relance-Delivery", request.delivery_id))
    return headers


def _guess_content_type(body: str) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def _answer(response: httpx.Response, url: httpx.URL, *, deadline: float) -> WebhookAnswer:
    chunks: list[bytes] = []
    size = 0
    complete = True
    try:
        for chunk in response.iter_raw():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_READ_BYTES or time.monotonic() > deadline:
                complete = False
                break
    except httpx.TransportError:
        complete = False  # the status is what matters; keep what arrived
    data = b"".join(chunks)
    declared = response.headers.get("content-length")
    total: int | None = None
    if not complete:
        total = int(declared) if declared and declared.isdigit() else size
    location = response.headers.get("location")
    return WebhookAnswer(
        status=response.status_code,
        body=summarise(
            data,
            content_type=response.headers.get("content-type"),
            content_encoding=response.headers.get("content-encoding"),
            total=total,
        ),
        location=_location(url, location),
    )


def _location(url: httpx.URL, location: str | None) -> str | None:
    """Where a redirect pointed, relative to the URL called (scheme://host/path only)."""
    if not location:
        return None
    try:
        joined = url.join(location)
    except (httpx.InvalidURL, ValueError):
        return None
    return display_url(str(joined)) or None
