"""``python -m bench`` (``make bench``): the end-to-end benchmark with same-run baselines.

Options: ``--n`` webhooks (default 1000), ``--concurrency`` (default 16), ``--stack``
``embedded`` (SQLite + in-process worker), ``production`` (PostgreSQL + Redis + a worker
process) or ``both`` (default; production is skipped when PostgreSQL/Redis are unreachable).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import UTC, datetime

import redis
import sqlalchemy as sa

from bench.e2e import Stack, bench_bare_starlette, bench_raw_smtp, bench_relance, free_port
from bench.sink import start_sink

PG_ADMIN = os.environ.get(
    "RELANCE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("RELANCE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def production_stack() -> Stack | None:
    try:
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text('DROP DATABASE IF EXISTS "relance_bench" WITH (FORCE)'))
            connection.execute(sa.text('CREATE DATABASE "relance_bench"'))
        admin.dispose()
        client = redis.Redis.from_url(REDIS)
        client.flushdb()
        client.close()
    except Exception as error:
        print(f"production stack skipped: {type(error).__name__}: {error}")
        return None
    url = sa.engine.make_url(PG_ADMIN).set(database="relance_bench").render_as_string(False)
    return Stack("production (PostgreSQL + Redis + 1 worker process)", url, REDIS)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--stack", choices=["embedded", "production", "both"], default="both")
    args = parser.parse_args()

    print(f"# relance end-to-end benchmark — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"# {platform.node()} · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    print(f"# n={args.n} webhooks, concurrency={args.concurrency}")
    sink_port = free_port()
    sink, controller = start_sink(sink_port)
    try:
        bare = bench_bare_starlette(args.n, args.concurrency)
        raw = bench_raw_smtp(sink, sink_port, args.n)
        print(f"baseline  bare Starlette endpoint: {bare:8.0f} req/s")
        print(f"baseline  raw smtplib, 1 connection: {raw:6.0f} emails/s")
        stacks = []
        if args.stack in ("embedded", "both"):
            stacks.append(
                Stack("embedded (SQLite + in-process worker)", "sqlite:///{tmp}/relance.db", "")
            )
        if args.stack in ("production", "both"):
            stack = production_stack()
            if stack is not None:
                stacks.append(stack)
        for stack in stacks:
            result = bench_relance(stack, sink, sink_port, args.n, args.concurrency)
            print(f"\n{result['stack']}:")
            print(
                f"  accepted {result['ok']}/{args.n} webhooks, {result['emails']} emails"
                f"{'' if result['complete'] else ' (INCOMPLETE)'}"
            )
            print(
                f"  webhooks/s {result['webhooks_per_s']:8.0f}   = "
                f"{result['webhooks_per_s'] / bare:5.2f} x bare Starlette"
            )
            print(
                f"  emails/s   {result['emails_per_s']:8.0f}   = "
                f"{result['emails_per_s'] / raw:5.2f} x raw smtplib"
            )
            print(
                f"  webhook → email accepted: p50 {result['p50_ms']:.0f} ms, "
                f"p95 {result['p95_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms"
            )
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
