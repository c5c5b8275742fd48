"""A minimal HTTP/1.1 keep-alive load generator on asyncio streams.

httpx's async client tops out near 350 requests/s on this machine, far below what a Starlette
endpoint serves, so it would measure itself. This client pre-encodes every request and parses only
the status line and Content-Length of each response: the cheapest honest client we can write in
Python. It is for benchmarks only (no chunked responses, no TLS, no redirects).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class Timings:
    """Per request: when it was written, when its response was read, and the status code."""

    sent: list[float]
    done: list[float]
    codes: list[int]


def encode_post(host: str, port: int, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _run(host: str, port: int, requests: list[bytes], concurrency: int) -> Timings:
    timings = Timings([0.0] * len(requests), [0.0] * len(requests), [0] * len(requests))
    next_index = 0

    async def connection() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < len(requests):
                index = next_index
                next_index += 1
                timings.sent[index] = time.perf_counter()
                writer.write(requests[index])
                timings.codes[index] = await _read_response(reader)
                timings.done[index] = time.perf_counter()
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return timings


def post_all(
    host: str, port: int, path: str, bodies: list[tuple[bytes, dict[str, str]]], concurrency: int
) -> Timings:
    """POST every (body, headers) over ``concurrency`` keep-alive connections."""
    encoded = [encode_post(host, port, path, body, headers) for body, headers in bodies]
    return asyncio.run(_run(host, port, encoded, concurrency))
