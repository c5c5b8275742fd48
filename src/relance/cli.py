"""The ``relance`` command: serve, worker, migrate, token, demo."""

from __future__ import annotations

import logging
import os
import sys

import click

from relance.settings import Settings, get_settings


def _configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("RELANCE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # chatty at INFO: aiosmtpd logs every connection of the embedded sink (with peer addresses),
    # alembic each of its plugins, httpx every request the CLI makes
    for name in ("mail.log", "alembic.runtime.plugins", "httpx"):
        logging.getLogger(name).setLevel(logging.WARNING)


@click.group()
@click.version_option(package_name="relance")
def main() -> None:
    """relance: triggered, personalised, multilingual campaigns for headless stores."""
    _configure_logging()


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (RELANCE_DATABASE_URL). Idempotent."""
    from relance.store.migrate import upgrade

    settings = get_settings()
    upgrade(settings.database_url)
    click.echo("database is up to date")


@main.command()
def schema() -> None:
    """Print relance's GraphQL schema (SDL), as documented in docs/schema.graphql."""
    from relance.graphql.schema import schema as graphql_schema

    click.echo(graphql_schema.as_str())


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=1, show_default=True, type=int, help="web processes (production only)"
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the web process (webhooks, GraphQL; embedded worker when RELANCE_BROKER_URL is empty)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and settings.embedded_broker:
        raise click.UsageError("--workers > 1 needs RELANCE_BROKER_URL (a shared Redis broker)")
    _print_banner(settings, host, port)
    uvicorn.run(
        "relance.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )


def _print_banner(settings: Settings, host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    click.echo(f"relance on {base}  (GraphQL: {base}/graphql, manifest: {base}/api/manifest)")
    if settings.embedded_broker:
        click.echo("  background work: in-process worker (set RELANCE_BROKER_URL for Redis)")
    if settings.embedded_smtp:
        click.echo(f"  emails: local SMTP sink, read them at {base}/mailbox")
        click.echo("  send a sample order: make demo-order   (or: relance demo order)")


@main.command()
@click.option("--processes", "-p", default=2, show_default=True, type=int)
@click.option("--threads", "-t", default=8, show_default=True, type=int)
def worker(processes: int, threads: int) -> None:
    """Run Dramatiq worker processes on RELANCE_BROKER_URL (Redis); each also runs the sweep."""
    settings = get_settings()
    if settings.embedded_broker:
        raise click.UsageError(
            "relance worker needs RELANCE_BROKER_URL (embedded mode runs its worker inside serve)"
        )
    args = [
        sys.executable, "-m", "dramatiq", "relance.tasks.entry",
        "--processes", str(processes), "--threads", str(threads),
    ]  # fmt: skip
    os.execv(sys.executable, args)  # noqa: S606 (replaces this process with the worker)


@main.group()
def token() -> None:
    """Admin API tokens."""


@token.command("create")
@click.option("--store", "store_ref", required=True, help="the store's API URL")
@click.option("--name", default="cli", show_default=True)
def token_create(store_ref: str, name: str) -> None:
    """Create an admin API token for a store and print it (it is shown only once)."""
    from relance.bootstrap import build_process
    from relance.store.repositories.api_tokens import create_api_token
    from relance.store.repositories.stores import get_store_by_api_url

    runtime = build_process(get_settings()).runtime
    with runtime.sessions() as session, session.begin():
        store = get_store_by_api_url(session, store_ref)
        if store is None:
            raise click.ClickException(f"no store installed from {store_ref}")
        value, _ = create_api_token(session, store.id, name)
    click.echo(value)


@main.group()
def store() -> None:
    """Stores: generic stores, webhook signing secrets."""


@store.command("create-generic")
@click.argument("key")
@click.option("--name", default="", help="a display name (defaults to the key)")
def store_create_generic(key: str, name: str) -> None:
    """Create the generic store KEY and print its signing secret (shown only once)."""
    from relance.bootstrap import build_process
    from relance.plugin.generic.stores import GenericStoreError, create_generic_store

    runtime = build_process(get_settings()).runtime
    try:
        with runtime.sessions() as session, session.begin():
            _, secret = create_generic_store(
                session, key, secrets=runtime.secrets, now=runtime.clock(), name=name
            )
    except GenericStoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"generic store {key}: POST {runtime.settings.public_url}/api/webhooks/generic/{key}"
    )
    click.echo(f"  signing secret: {secret}")


@store.command("set-webhook-secret")
@click.option("--store", "store_ref", required=True, help="the store's API URL")
@click.option("--clear", is_flag=True, help="remove the secret instead")
def store_set_webhook_secret(store_ref: str, clear: bool) -> None:
    """Set a Saleor store's legacy webhook secretKey (HMAC signatures), read from the prompt."""
    from relance.bootstrap import build_process
    from relance.store.repositories.stores import get_store_by_api_url

    secret = None if clear else click.prompt("secretKey", hide_input=True)
    runtime = build_process(get_settings()).runtime
    with runtime.sessions() as session, session.begin():
        found = get_store_by_api_url(session, store_ref)
        if found is None:
            raise click.ClickException(f"no store installed from {store_ref}")
        found.webhook_secret_encrypted = runtime.secrets.encrypt(secret) if secret else None
    click.echo("webhook secret " + ("removed" if clear else "set"))


@main.group()
def demo() -> None:
    """The demo store (embedded mode)."""


@demo.command("setup")
def demo_setup() -> None:
    """Install the demo store with a published post-purchase campaign. Idempotent."""
    from relance.bootstrap import build_process
    from relance.demo.store import DEMO_API_URL, setup_demo

    runtime = build_process(get_settings()).runtime
    result = setup_demo(runtime)
    click.echo(f"demo store {DEMO_API_URL} ready, post-purchase campaign published")
    click.echo(
        f"  admin API token: {result.api_token}  (also in {runtime.settings.data_dir}/demo/)"
    )


@demo.command("order")
@click.option("--same", is_flag=True, help="resend the same order (a duplicate delivery)")
@click.option("--email", default=None, help="send the order as this customer instead")
def demo_order(same: bool, email: str | None) -> None:
    """POST a Saleor-signed ORDER_CREATED for the demo store to the running relance."""
    from relance.demo.order import post_order, sample_order
    from relance.demo.store import DEMO_API_URL, demo_signer

    settings = get_settings()
    order = sample_order(fresh=not same, email=email)
    signer = demo_signer(settings.data_dir)
    response = post_order(settings.public_url, signer, order, api_url=DEMO_API_URL)
    click.echo(f"order #{order['order']['number']} → {response.status_code} {response.text}")
    if response.status_code != 200:
        raise SystemExit(1)
    if settings.embedded_smtp:
        click.echo(f"read the email at {settings.public_url}/mailbox")
