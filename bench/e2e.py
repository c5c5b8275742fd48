"""End to end: N signed ORDER_CREATED webhooks in, N emails accepted by an SMTP sink.

Measures, in one run and on the same machine:
- relance: webhooks/s (HTTP intake), emails/s (first webhook sent → last email accepted), and the
  latency from "webhook sent" to "email accepted by the sink" (p50/p95/p99);
- baseline 1: a bare Starlette endpoint (same uvicorn, same client, same bodies) — req/s;
- baseline 2: raw smtplib sends of the same rendered emails from one process over one connection
  to the same sink — emails/s.
"""

from __future__ import annotations

import json
import os
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.loadgen import post_all
from bench.sink import TimingSink

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Stack:
    name: str
    database_url: str
    broker_url: str


def wait_healthy(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} never became healthy")


def run_process(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def bench_relance(
    stack: Stack, sink: TimingSink, sink_port: int, n: int, concurrency: int
) -> dict[str, Any]:
    from relance.demo.order import sample_order, signed_headers
    from relance.demo.store import DEMO_API_URL, demo_signer

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="relance-bench-") as tmp:
        env = {
            **os.environ,
            "RELANCE_DATABASE_URL": stack.database_url.replace("{tmp}", tmp),
            "RELANCE_BROKER_URL": stack.broker_url,
            "RELANCE_SMTP_URL": f"smtp://127.0.0.1:{sink_port}",
            "RELANCE_DATA_DIR": f"{tmp}/data",
            "RELANCE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "RELANCE_LOG_LEVEL": "WARNING",
            "RELANCE_SWEEP_INTERVAL": "1",
        }
        relance = [sys.executable, "-m", "relance"]
        run_process([*relance, "migrate"], env)
        run_process([*relance, "demo", "setup"], env)
        signer = demo_signer(Path(f"{tmp}/data"))
        requests = []
        for index in range(n):
            body = json.dumps(sample_order(email=f"bench-{index}@example.de")).encode()
            requests.append(
                (body, signed_headers(signer, body, api_url=DEMO_API_URL, event="order_created"))
            )
        procs = [
            subprocess.Popen(
                [*relance, "serve", "--port", str(port)],
                env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
        ]  # fmt: skip
        if stack.broker_url:
            procs.append(
                subprocess.Popen(
                    [*relance, "worker", "--processes", "1", "--threads", "8"],
                    env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
            )  # fmt: skip
        try:
            wait_healthy(f"http://127.0.0.1:{port}/health")
            time.sleep(1.0)  # let the worker boot
            sink.reset()
            timings = post_all("127.0.0.1", port, "/api/webhooks/saleor", requests, concurrency)
            sent, done, codes = timings.sent, timings.done, timings.codes
            complete = sink.wait_for(n, timeout=max(60.0, n / 20))
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        accepted = dict(sink.accepted)
    latencies = [
        accepted[f"bench-{i}@example.de"] - sent[i]
        for i in range(n)
        if f"bench-{i}@example.de" in accepted
    ]
    first = min(sent)
    return {
        "stack": stack.name,
        "ok": sum(1 for c in codes if c == 200),
        "emails": len(accepted),
        "complete": complete,
        "webhooks_per_s": n / (max(done) - first),
        "emails_per_s": len(accepted) / (max(accepted.values()) - first) if accepted else 0.0,
        "p50_ms": 1000 * statistics.median(latencies) if latencies else float("nan"),
        "p95_ms": 1000 * percentile(latencies, 95) if latencies else float("nan"),
        "p99_ms": 1000 * percentile(latencies, 99) if latencies else float("nan"),
    }


def bench_bare_starlette(n: int, concurrency: int) -> float:
    from relance.demo.order import sample_order

    port = free_port()
    bodies = [
        (json.dumps(sample_order(email=f"bench-{i}@example.de")).encode(), {
            "Content-Type": "application/json"})
        for i in range(n)
    ]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bench.bare_app:app", "--port", str(port),
         "--log-level", "warning"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.post(f"http://127.0.0.1:{port}/api/webhooks/saleor", content=b"{}")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        timings = post_all("127.0.0.1", port, "/api/webhooks/saleor", bodies, concurrency)
        sent, done = timings.sent, timings.done
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return n / (max(done) - min(sent))


def bench_raw_smtp(sink: TimingSink, sink_port: int, n: int) -> float:
    """Prebuilt MIME messages (the same German email relance renders), sent over one connection."""
    from relance.channels.email import OutgoingEmail, build_mime, make_message_id
    from relance.demo.order import sample_order
    from relance.templates.library import DesignLibrary
    from relance.templates.renderer import EmailRenderer

    renderer = EmailRenderer(DesignLibrary())
    order = sample_order()["order"]
    from relance.plugin.saleor.mapping import order_created_event

    snapshot = order_created_event({"order": order}).order
    assert snapshot is not None
    rendered = renderer.render(
        "post_purchase",
        language="de",
        default_language="en",
        context={
            "contact": {"first_name": "Jonas", "email": "x@example.de"},
            "order": snapshot.model_dump(mode="json"),
            "store": {"name": "Maison Exemple"},
        },
    )
    messages = []
    for index in range(n):
        email = OutgoingEmail(
            sender="relance <no-reply@relance.localhost>",
            to=f"raw-{index}@example.de",
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            message_id=make_message_id("relance.localhost"),
        )
        messages.append((email.to, build_mime(email)))
    sink.reset()
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink_port) as smtp:
        for to, data in messages:
            smtp.sendmail("no-reply@relance.localhost", [to], data)
    sink.wait_for(n, timeout=60)
    return n / (max(sink.accepted.values()) - start)
