"""Webhook calls against a real local HTTP(S) server: what is sent, refused and answered.

The server listens on 127.0.0.1, so the calls that must reach it allow-list ``127.0.0.0/8``; the
refusal tests use the default policy and check the server heard nothing. Host names are
resolved by a counting fake resolver where a test needs a name that real DNS does not know.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relance import __version__
from relance.channels.errors import (
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from relance.channels.webhooks import (
    AddressPolicy,
    WebhookAnswer,
    WebhookClient,
    WebhookRequest,
    classify_allow_entry,
    parse_target,
    refusal,
    summarise,
)
from relance.settings import Settings

LOOPBACK = AddressPolicy(("127.0.0.0/8",))

# --- a scriptable HTTP server -----------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})
    delay: float = 0.0


@dataclass
class HookServer:
    """Answers each request with the next scripted :class:`Reply` (the last one repeats)."""

    port: int
    scheme: str = "http"
    received: list[Received] = field(default_factory=list)
    replies: list[Reply] = field(default_factory=lambda: [Reply()])
    sni: list[str | None] = field(default_factory=list)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def next_reply(self) -> Reply:
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def _handler(hooks: HookServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            hooks.received.append(
                Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
            reply = hooks.next_reply()
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (timeout tests)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def start_hook_server(tls: ssl.SSLContext | None = None) -> tuple[HookServer, Callable[[], None]]:
    """A :class:`HookServer` on 127.0.0.1 (HTTPS with ``tls``) and the function that stops it."""
    hooks = HookServer(port=0, scheme="https" if tls else "http")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hooks))
    server.daemon_threads = True
    if tls is not None:
        tls.sni_callback = lambda _sock, name, _ctx: hooks.sni.append(name)
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    hooks.port = server.server_address[1]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="hooks"
    )
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return hooks, stop


@pytest.fixture
def hooks() -> Iterator[HookServer]:
    server, stop = start_hook_server()
    yield server
    stop()


@dataclass
class FakeDns:
    """Resolves the names it knows; counts lookups."""

    records: dict[str, list[str]]
    lookups: list[str] = field(default_factory=list)

    def __call__(self, host: str) -> list[str]:
        self.lookups.append(host)
        if host not in self.records:
            raise OSError("Name or service not known")
        return self.records[host]


def post(url: str, **more: Any) -> WebhookRequest:
    return WebhookRequest(method=more.pop("method", "POST"), url=url, **more)


# --- what is sent ------------------------------------------------------------------------------


def test_a_call_sends_method_headers_query_and_body(hooks: HookServer) -> None:
    client = WebhookClient(LOOPBACK)
    answer = client.call(
        post(
            hooks.url("/orders?token=s3cret"),
            headers=[("Authorization", "Bearer abc"), ("X-Shop", " shop-1 ")],
            params=[("event", "order.placed"), ("token", "again")],
            body='{"number": "1001"}',
            delivery_id="m-1",
        )
    )
    assert answer == WebhookAnswer(status=200, body="ok")
    [request] = hooks.received
    assert (request.method, request.path) == ("POST", "/orders")
    # the URL's own parameters come first, the step's are added (never replaced)
    assert request.query == [("token", "s3cret"), ("event", "order.placed"), ("token", "again")]
    assert request.json() == {"number": "1001"}
    assert request.headers["authorization"] == "Bearer abc"
    assert request.headers["x-shop"] == "shop-1"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == f"relance/{__version__} (+webhook)"
    assert request.headers["x-relance-delivery"] == "m-1"
    assert request.headers["host"] == f"127.0.0.1:{hooks.port}"


def test_a_text_body_is_sent_as_text_and_a_step_may_set_its_own_user_agent(
    hooks: HookServer,
) -> None:
    WebhookClient(LOOPBACK).call(
        post(hooks.url(), body="hello", headers=[("User-Agent", "shop-bot/2")], method="PUT")
    )
    [request] = hooks.received
    assert request.method == "PUT"
    assert request.headers["content-type"] == "text/plain; charset=utf-8"
    assert request.headers["user-agent"] == "shop-bot/2"
    assert "x-relance-delivery" not in request.headers  # no delivery id given


def test_proxies_from_the_environment_are_ignored(
    hooks: HookServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a proxy would connect to the destination by name itself, bypassing the vetted address
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://192.0.2.1:9")
    assert WebhookClient(LOOPBACK).call(post(hooks.url())).status == 200
    assert len(hooks.received) == 1


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("Host", "evil.example", "header Host cannot be set"),
        ("Content-Length", "5", "header Content-Length cannot be set"),
        ("Transfer-Encoding", "chunked", "header Transfer-Encoding cannot be set"),
        ("X-Relance-Delivery", "forged", "header X-Relance-Delivery cannot be set"),
        ("X-Note", "a\r\nX-Injected: 1", "header X-Note: line breaks are not allowed"),
    ],
)
def test_headers_that_frame_or_forge_the_request_are_refused(
    hooks: HookServer, name: str, value: str, message: str
) -> None:
    with pytest.raises(PermanentDeliveryError, match=message):
        WebhookClient(LOOPBACK).call(post(hooks.url(), headers=[(name, value)]))
    assert hooks.received == []


# --- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://localhost:{port}/hook", "localhost is 127.0.0.1, a loopback address"),
        ("http://127.0.0.1:{port}/hook", "127.0.0.1 is a loopback address"),
        ("http://127.8.9.10/", "a loopback address"),
        ("http://[::1]:{port}/hook", "::1 is a loopback address"),
        ("http://0.0.0.0:{port}/hook", "an unspecified address"),
        ("http://[::]/", "an unspecified address"),
        ("http://2130706433:{port}/hook", "2130706433 is 127.0.0.1, a loopback address"),
        ("http://0x7f.1:{port}/hook", "is 127.0.0.1, a loopback address"),
        ("http://017700000001:{port}/hook", "is 127.0.0.1, a loopback address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://[fe80::1]/", "a link-local address"),
        ("http://10.0.0.1/", "a private address"),
        ("http://172.16.5.4/", "a private address"),
        ("http://192.168.1.1/", "a private address"),
        ("http://[fd12:3456::1]/", "a private address"),
        ("http://100.64.0.1/", "a reserved address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://[ff02::1]/", "a multicast address"),
        ("http://240.0.0.1/", "a reserved address"),
        ("http://255.255.255.255/", "a reserved address"),
        ("http://[::ffff:127.0.0.1]:{port}/hook", "a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "a link-local address"),
        ("http://[64:ff9b::a00:1]/", "a private address"),  # NAT64 of 10.0.0.1
        ("http://[2002:7f00:1::]/", "a loopback address"),  # 6to4 of 127.0.0.1
    ],
)
def test_non_public_destinations_are_refused_unless_allow_listed(
    hooks: HookServer, url: str, reason: str
) -> None:
    # given the default policy (nothing allowed) and a server really listening on loopback
    client = WebhookClient()
    # when the URL points at a non-public address, in whatever spelling
    with pytest.raises(PermanentDeliveryError, match="refused") as refused:
        client.call(post(url.format(port=hooks.port)))
    # then nothing was sent, and the error says why and how to allow it
    assert reason in str(refused.value)
    assert "RELANCE_WEBHOOK_ALLOWED_NETWORKS" in str(refused.value)
    assert hooks.received == []


def test_an_octal_dotted_ipv4_is_not_a_valid_url(hooks: HookServer) -> None:
    with pytest.raises(PermanentDeliveryError, match="invalid webhook URL"):
        WebhookClient().call(post(f"http://0177.0.0.1:{hooks.port}/"))
    assert hooks.received == []


def test_a_name_is_refused_when_any_of_its_addresses_is_private() -> None:
    dns = FakeDns(
        {
            "internal.example": ["10.1.2.3"],
            "mixed.example": ["93.184.216.34", "2606:2800:220:1::1", "192.168.0.7"],
            "metadata.example": ["169.254.169.254"],
        }
    )
    client = WebhookClient(resolver=dns)
    for host, shown in [
        ("internal.example", "10.1.2.3, a private address"),
        ("mixed.example", "192.168.0.7, a private address"),
        ("metadata.example", "169.254.169.254, a link-local address"),
    ]:
        with pytest.raises(PermanentDeliveryError, match=re.escape(f"{host} is {shown}")):
            client.call(post(f"https://{host}/hook"))


def test_public_destinations_may_use_only_ports_80_and_443() -> None:
    client = WebhookClient(resolver=FakeDns({"hooks.example": ["93.184.216.34"]}))
    with pytest.raises(PermanentDeliveryError, match="refused: port 8080"):
        client.call(post("https://hooks.example:8080/hook"))
    with pytest.raises(PermanentDeliveryError, match="refused: port 25"):
        client.call(post("http://93.184.216.34:25/"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.216.34/", "must start with http:// or https://"),
        ("file:///etc/passwd", "must start with http:// or https://"),
        ("gopher://93.184.216.34/", "must start with http:// or https://"),
        ("https://user:pass@93.184.216.34/", "credentials in the webhook URL are refused"),
        ("https://token@93.184.216.34/", "credentials in the webhook URL are refused"),
        ("/relative/path", "must start with http"),
        ("http:///nohost", "has no host"),
        ("http://exa mple.com/", "invalid webhook URL"),
    ],
)
def test_urls_of_other_schemes_or_with_credentials_are_refused(url: str, message: str) -> None:
    with pytest.raises(PermanentDeliveryError, match=message):
        WebhookClient().call(post(url))


def test_an_unresolvable_name_is_a_transient_failure() -> None:
    with pytest.raises(TransientDeliveryError, match=r"could not resolve nowhere\.example"):
        WebhookClient(resolver=FakeDns({})).call(post("https://nowhere.example/"))


def test_the_allow_list_admits_networks_addresses_and_host_names(hooks: HookServer) -> None:
    # a network
    assert WebhookClient(LOOPBACK).call(post(hooks.url())).status == 200
    # a single address
    assert WebhookClient(AddressPolicy(("127.0.0.1",))).call(post(hooks.url())).status == 200
    # a host name: whatever it resolves to (localhost → 127.0.0.1 and maybe ::1)
    local_only = WebhookClient(
        AddressPolicy(("localhost",)), resolver=FakeDns({"localhost": ["127.0.0.1"]})
    )
    assert local_only.call(post(hooks.url(host="localhost"))).status == 200
    # a wildcard: subdomains only
    dns = FakeDns({"a.corp.example": ["127.0.0.1"], "corp.example": ["127.0.0.1"]})
    corp = WebhookClient(AddressPolicy(("*.corp.example",)), resolver=dns)
    assert corp.call(post(hooks.url(host="a.corp.example"))).status == 200
    with pytest.raises(PermanentDeliveryError, match="loopback"):
        corp.call(post(hooks.url(host="corp.example")))
    # another network does not admit loopback
    with pytest.raises(PermanentDeliveryError, match="loopback"):
        WebhookClient(AddressPolicy(("10.0.0.0/8", "::1/128"))).call(post(hooks.url()))
    # an IPv4-mapped address is judged by the IPv4 address it stands for
    assert AddressPolicy(("10.0.0.0/8",)).address_allowed(ipaddress.ip_address("::ffff:10.1.2.3"))
    assert len(hooks.received) == 4


def test_allow_list_entries_are_checked() -> None:
    assert classify_allow_entry("10.0.0.0/8") == ("network", "10.0.0.0/8")
    assert classify_allow_entry("10.1.2.3/8") == ("network", "10.0.0.0/8")
    assert classify_allow_entry("[::1]") == ("network", "::1/128")
    assert classify_allow_entry("Hooks.Internal.") == ("host", "hooks.internal")
    assert classify_allow_entry("*.corp.example") == ("suffix", ".corp.example")
    for bad in ("http://x/", "10.0.0.0/33", "-bad.example", "a b", ""):
        with pytest.raises(ValueError, match="not a network"):
            classify_allow_entry(bad)


def test_the_setting_is_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "RELANCE_WEBHOOK_ALLOWED_NETWORKS", " 10.0.0.0/8, fd00::/8 ,hooks.internal,*.corp.example,"
    )
    assert Settings().webhook_allowed_networks == [
        "10.0.0.0/8",
        "fd00::/8",
        "hooks.internal",
        "*.corp.example",
    ]
    monkeypatch.setenv("RELANCE_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,http://x/")
    with pytest.raises(ValueError, match="not a network, address or host name"):
        Settings()
    monkeypatch.delenv("RELANCE_WEBHOOK_ALLOWED_NETWORKS")
    assert Settings().webhook_allowed_networks == []


def test_the_recorded_url_keeps_scheme_host_and_path_only() -> None:
    target = parse_target("https://Hooks.Example.com:8443/a/b?token=secret#frag")
    assert (target.host, target.port) == ("hooks.example.com", 8443)
    assert target.display == "https://hooks.example.com:8443/a/b"
    assert parse_target("http://[::1]/x?y=1").display == "http://[::1]/x"
    assert parse_target("https://bücher.example").display == "https://xn--bcher-kva.example/"


# --- the vetted address is the one connected to ------------------------------------------------


def test_the_connection_goes_to_the_vetted_address_without_a_second_lookup(
    hooks: HookServer,
) -> None:
    # a rebinding resolver: an allowed address first, loopback on any later lookup
    answers = iter([["192.0.2.1"]])

    def rebinding(host: str) -> list[str]:
        return next(answers, ["127.0.0.1"])

    client = WebhookClient(AddressPolicy(("192.0.2.1",)), resolver=rebinding)
    # the name is vetted as 192.0.2.1 and the connection goes there (TEST-NET-1, unreachable:
    # a transient failure), never to the loopback server a second lookup would give
    with pytest.raises(TransientDeliveryError, match="could not connect"):
        client.call(post(f"http://rebind.example:{hooks.port}/hook", timeout=0.5))
    assert hooks.received == []


def test_the_host_header_keeps_the_name_while_connecting_to_its_address(
    hooks: HookServer,
) -> None:
    dns = FakeDns({"hooks.example.test": ["127.0.0.1"]})
    client = WebhookClient(LOOPBACK, resolver=dns)
    assert client.call(post(hooks.url(host="hooks.example.test"))).status == 200
    assert dns.lookups == ["hooks.example.test"]
    assert hooks.received[0].headers["host"] == f"hooks.example.test:{hooks.port}"


def test_an_address_refusing_connections_gives_way_to_the_next(hooks: HookServer) -> None:
    # the server listens on 127.0.0.1 only: 127.0.0.2 refuses at once
    dns = FakeDns({"two.example": ["127.0.0.2", "127.0.0.1"]})
    answer = WebhookClient(LOOPBACK, resolver=dns).call(post(hooks.url(host="two.example")))
    assert answer.status == 200
    assert dns.lookups == ["two.example"]
    assert len(hooks.received) == 1


def _certificates(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A CA, a server certificate for ``name`` signed by it; (server context, client context)."""
    now = dt.datetime.now(dt.UTC)

    def build(subject: str, key: Any, issuer: x509.Name, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relance test CA")])
    ca_cert = build("relance test CA", ca_key, ca_name, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(name, key, ca_name, ca_key, ca=False)
    cert_file, key_file, ca_file = (tmp_path / n for n in ("cert.pem", "key.pem", "ca.pem"))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(ca_file))
    return server, client


def test_tls_uses_the_url_name_for_sni_and_certificate_checks(tmp_path: Path) -> None:
    # given an HTTPS endpoint with a certificate for hooks.example.test, reached at 127.0.0.1
    server_tls, client_tls = _certificates(tmp_path, "hooks.example.test")
    hooks, stop = start_hook_server(server_tls)
    try:
        dns = FakeDns({"hooks.example.test": ["127.0.0.1"], "other.example.test": ["127.0.0.1"]})
        client = WebhookClient(LOOPBACK, resolver=dns, ssl_context=client_tls)
        # when it is called by name
        answer = client.call(post(hooks.url(host="hooks.example.test"), body="{}"))
        # then the TLS handshake named it and its certificate was accepted for that name
        assert answer.status == 200
        assert hooks.sni == ["hooks.example.test"]
        assert hooks.received[0].headers["host"] == f"hooks.example.test:{hooks.port}"
        # and a name the certificate does not cover fails verification, although the address
        # connected to is the same
        with pytest.raises(TransientDeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
            client.call(post(hooks.url(host="other.example.test")))
        assert len(hooks.received) == 1
    finally:
        stop()


# --- answers and failures ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kind", "text"),
    [
        (200, None, None),
        (201, None, None),
        (204, None, None),
        (408, TransientDeliveryError, "HTTP 408 Request Timeout"),
        (429, TransientDeliveryError, "HTTP 429 Too Many Requests"),
        (500, TransientDeliveryError, "HTTP 500 Internal Server Error"),
        (503, TransientDeliveryError, "HTTP 503 Service Unavailable"),
        (400, PermanentDeliveryError, "HTTP 400 Bad Request"),
        (401, PermanentDeliveryError, "HTTP 401 Unauthorized"),
        (404, PermanentDeliveryError, "HTTP 404 Not Found"),
        (410, PermanentDeliveryError, "HTTP 410 Gone"),
    ],
)
def test_each_status_is_returned_and_classified(
    hooks: HookServer, status: int, kind: type[Exception] | None, text: str | None
) -> None:
    body = b"" if status == 204 else b'{"error": "nope"}'
    hooks.script(Reply(status, body, {"Content-Type": "application/json"}))
    answer = WebhookClient(LOOPBACK).call(post(hooks.url()))
    assert answer.status == status
    assert answer.body == body.decode()
    error = refusal(answer)
    if kind is None:
        assert error is None
    else:
        assert isinstance(error, kind)
        assert str(error) == f"the endpoint answered {text}"


def test_a_redirect_is_the_answer_and_is_not_followed(hooks: HookServer) -> None:
    hooks.script(Reply(302, b"moved", {"Location": "/elsewhere?token=secret"}))
    answer = WebhookClient(LOOPBACK).call(post(hooks.url()))
    assert (answer.status, answer.body) == (302, "moved")
    assert answer.location == f"http://127.0.0.1:{hooks.port}/elsewhere"
    assert [r.path for r in hooks.received] == ["/hook"]
    error = refusal(answer)
    assert isinstance(error, PermanentDeliveryError)
    assert "302 Found" in str(error)
    assert "redirects are not followed" in str(error)
    assert "secret" not in str(error)


def test_a_refused_connection_is_transient() -> None:
    # given a port nobody listens on any more
    stopped, stop = start_hook_server()
    stop()
    port = stopped.port
    with pytest.raises(TransientDeliveryError, match=r"could not connect to 127\.0\.0\.1"):
        WebhookClient(LOOPBACK).call(post(f"http://127.0.0.1:{port}/hook"))


@pytest.mark.parametrize(
    ("method", "kind"),
    [
        ("POST", DeliveryOutcomeUnknown),
        ("PATCH", DeliveryOutcomeUnknown),
        ("GET", TransientDeliveryError),
        ("PUT", TransientDeliveryError),
        ("DELETE", TransientDeliveryError),
    ],
)
def test_no_answer_after_sending_is_unknown_only_for_non_idempotent_methods(
    hooks: HookServer, method: str, kind: type[Exception]
) -> None:
    hooks.script(Reply(200, delay=1.5))
    with pytest.raises(kind, match=r"no answer within 0\.5 s after the request was sent"):
        WebhookClient(LOOPBACK).call(post(hooks.url(), method=method, timeout=0.5))
    assert len(hooks.received) == 1  # it did arrive


def test_long_text_answers_are_cut_and_binary_ones_summarised(hooks: HookServer) -> None:
    client = WebhookClient(LOOPBACK)
    hooks.script(Reply(200, ("é" * 5000).encode(), {"Content-Type": "text/plain; charset=utf-8"}))
    assert client.call(post(hooks.url())).body == "é" * 2000
    hooks.script(Reply(200, b"\x89PNG\r\n\x1a\n" + bytes(100), {"Content-Type": "image/png"}))
    assert client.call(post(hooks.url())).body == "<108 bytes>"
    hooks.script(
        Reply(500, "café".encode("latin-1"), {"Content-Type": "text/html; charset=latin-1"})
    )
    assert client.call(post(hooks.url())).body == "café"
    hooks.script(Reply(200, b"\xff\xfe\x00garbage", {}))
    assert client.call(post(hooks.url())).body == "<10 bytes>"


def test_summaries() -> None:
    assert summarise(b"", content_type=None) == ""
    assert summarise(b"plain", content_type=None) == "plain"
    assert summarise(b'{"a":1}', content_type="application/problem+json") == '{"a":1}'
    assert summarise(b"abc", content_type="application/octet-stream") == "<3 bytes>"
    assert summarise(b"abc", content_type="text/plain", content_encoding="gzip") == "<3 bytes>"
    assert summarise(b"abc", content_type="text/plain; charset=nope") == "<3 bytes>"
    assert summarise(b"nul\x00", content_type="text/plain") == "<4 bytes>"
    # an answer only partly read: text is cut, binary gives its full size; a split character
    # at the end of what was read is not an error
    assert summarise("ab€".encode()[:-1], content_type="text/plain", total=10**6) == "ab"
    assert summarise(b"\x00" * 10, content_type="image/gif", total=5_000_000) == "<5000000 bytes>"
