"""Setting up the demo store: an installation with its own signing key and a live campaign."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from sqlalchemy import select

from relance.automation.library import POST_PURCHASE
from relance.demo.signing import WebhookSigner
from relance.runtime import Runtime
from relance.store.models import Campaign, StoreKind
from relance.store.repositories.api_tokens import create_api_token
from relance.store.repositories.campaigns import create_from_template, publish
from relance.store.repositories.stores import get_store_by_api_url, save_installation
from relance.templates.catalog import DesignLanguages

#: The API URL the demo store signs its webhooks as (it is never called).
DEMO_API_URL = "http://demo.relance.localhost/graphql/"
DEMO_STORE_NAME = "Maison Exemple"


@dataclass(frozen=True)
class DemoStore:
    store_id: UUID
    campaign_id: UUID
    signer: WebhookSigner
    api_token: str


def demo_dir(data_dir: Path) -> Path:
    return data_dir / "demo"


def demo_signer(data_dir: Path) -> WebhookSigner:
    """The demo store's RS256 key, kept in ``<data_dir>/demo/saleor-key.pem``."""
    return WebhookSigner.load_or_create(demo_dir(data_dir) / "saleor-key.pem")


def setup_demo(runtime: Runtime) -> DemoStore:
    """Install the demo store with a published post-purchase campaign. Idempotent.

    The admin API token is written to ``<data_dir>/demo/api-token`` (mode 0600) the first time,
    and read back afterwards.
    """
    signer = demo_signer(runtime.settings.data_dir)
    token_path = demo_dir(runtime.settings.data_dir) / "api-token"
    now = runtime.clock()
    with runtime.sessions() as session, session.begin():
        store = get_store_by_api_url(session, DEMO_API_URL)
        if store is None or store.jwks != signer.jwks():
            store = save_installation(
                session,
                kind=StoreKind.DEMO,
                api_url=DEMO_API_URL,
                app_id="demo",
                auth_token=None,
                jwks=signer.jwks(),
                secrets=runtime.secrets,
                now=now,
                name=DEMO_STORE_NAME,
            )
        campaign = session.scalars(
            select(Campaign).where(
                Campaign.store_id == store.id, Campaign.template_key == POST_PURCHASE.key
            )
        ).first()
        if campaign is None:
            campaign = create_from_template(
                session, store_id=store.id, template=POST_PURCHASE, name=None, now=now
            )
            violations = publish(
                session,
                campaign=campaign,
                now=now,
                designs=DesignLanguages(runtime.renderer.library),
            )
            if violations:
                raise RuntimeError(f"demo campaign does not validate: {violations}")
        if token_path.exists():
            token = token_path.read_text().strip()
        else:
            token, _ = create_api_token(session, store.id, "demo")
            token_path.parent.mkdir(parents=True, exist_ok=True)
            token_path.write_text(token + "\n")
            token_path.chmod(0o600)
    return DemoStore(store.id, campaign.id, signer, token)
