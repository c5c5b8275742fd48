"""The real commands, as an operator runs them: ``relance migrate / demo setup / serve / worker``.

Embedded: SQLite, in-process worker, the embedded SMTP sink and its /mailbox page.
Production: PostgreSQL, Redis, a separate ``relance worker`` process, a real SMTP server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fixtures.services import _truncate_all
from tests.fixtures.smtp import SmtpSink, free_port

RELANCE = [sys.executable, "-m", "relance"]


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*RELANCE, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen([*RELANCE, *args], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_until_healthy(base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"relance did not start:\n{log.read_text()}")


def base_env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELANCE_")}
    env.update(
        RELANCE_DATA_DIR=str(tmp_path / "data"),
        RELANCE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        RELANCE_SWEEP_INTERVAL="0.2",
    )
    return env


def test_embedded_mode_delivers_the_german_email_to_the_mailbox(tmp_path: Path) -> None:
    # given relance set up the way `make run` does it, with its own SMTP sink
    port = free_port()
    env = base_env(tmp_path, port)
    env.update(
        RELANCE_DATABASE_URL=f"sqlite:///{tmp_path}/relance.db",
        RELANCE_SINK_PORT=str(free_port()),
    )
    run(["migrate"], env)
    assert "post-purchase campaign published" in run(["demo", "setup"], env)
    base = f"http://127.0.0.1:{port}"
    with running(["serve", "--port", str(port)], env, tmp_path / "serve.log"):
        wait_until_healthy(base, tmp_path / "serve.log")
        # when the documented command sends a sample order
        assert "200" in run(["demo", "order"], env)
        # then the German customer's German email is in the mailbox within seconds
        deadline = time.monotonic() + 15
        page = ""
        while time.monotonic() < deadline:
            page = httpx.get(f"{base}/mailbox").text
            if "jonas.becker@example.de" in page:
                break
            time.sleep(0.2)
        assert "jonas.becker@example.de" in page, (tmp_path / "serve.log").read_text()
        maildir = tmp_path / "data" / "mailbox" / "new"
        [stored] = list(maildir.iterdir())
        raw = stored.read_bytes()
        assert b"Merinowollpullover" in raw or b"Merinowoll" in raw.replace(b"=\r\n", b"")


@pytest.mark.postgres
@pytest.mark.redis
def test_production_mode_on_postgres_and_redis_with_a_worker_process(
    tmp_path: Path, postgres_database: str, redis_url: str, smtp_sink: SmtpSink
) -> None:
    # given relance migrated on PostgreSQL, a web process and a worker process on Redis
    _truncate_all(postgres_database)
    port = free_port()
    env = base_env(tmp_path, port)
    env.update(
        RELANCE_DATABASE_URL=postgres_database,
        RELANCE_BROKER_URL=redis_url,
        RELANCE_SMTP_URL=smtp_sink.url,
    )
    run(["migrate"], env)
    run(["demo", "setup"], env)
    base = f"http://127.0.0.1:{port}"
    with (
        running(["serve", "--port", str(port)], env, tmp_path / "serve.log"),
        running(["worker", "--processes", "1", "--threads", "2"], env, tmp_path / "worker.log"),
    ):
        wait_until_healthy(base, tmp_path / "serve.log")
        # when a signed order arrives, then arrives again (a Saleor retry)
        assert '"duplicate":false' in run(["demo", "order", "--same"], env)
        assert '"duplicate":true' in run(["demo", "order", "--same"], env)
        # then the worker sends exactly one German email through the SMTP server
        try:
            [mail] = smtp_sink.wait_for(1, timeout=30)
        except AssertionError:
            raise AssertionError((tmp_path / "worker.log").read_text()) from None
        assert mail.rcpt_tos == ["jonas.becker@example.de"]
        assert "Merinowollpullover" in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        time.sleep(1.0)
        assert len(smtp_sink.received) == 1
