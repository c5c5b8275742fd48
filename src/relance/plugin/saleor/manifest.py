"""relance's Saleor App manifest, served at ``GET /api/manifest``.

Saleor fetches it when a merchant installs the app (``saleor/app/installation_utils.py``), then
POSTs the app token to ``tokenTargetUrl`` and starts delivering the declared webhooks to
``targetUrl``. Every URL is derived from ``Settings.public_url``, so the manifest is only right if
that is the address Saleor reaches relance at.
"""

from __future__ import annotations

from typing import Any

from saleor_sdk.schemas.manifest import Manifest

from relance import __version__
from relance.plugin.saleor.subscriptions import SUBSCRIBED_EVENTS, subscription_for
from relance.settings import Settings

#: ``App.identifier`` in Saleor: unique among a store's installed apps. Never change it.
APP_ID = "app.relance"
APP_NAME = "relance"
ABOUT = (
    "Personalised, multilingual campaigns triggered by your store's events: post-purchase "
    "follow-ups, abandoned carts, welcome series."
)
#: What relance reads and writes in Saleor (``MANAGE_APPS`` would be refused by Saleor).
PERMISSIONS = ("MANAGE_ORDERS", "MANAGE_CHECKOUTS", "MANAGE_USERS", "MANAGE_DISCOUNTS")
#: npm-semver range; Saleor refuses the install (``UNSUPPORTED_SALEOR_VERSION``) outside it.
REQUIRED_SALEOR_VERSION = ">=3.20"

APP_PATH = "/app"
REGISTER_PATH = "/api/register"
WEBHOOK_PATH = "/api/webhooks/saleor"


def build_manifest(
    settings: Settings, *, homepage_url: str | None = None, support_url: str | None = None
) -> dict[str, Any]:
    """The manifest as Saleor reads it (camelCase keys), checked by saleor-sdk's model.

    Parameters:
        settings(Settings): ``public_url`` is the base of every URL in the manifest.
        homepage_url(str | None): defaults to ``public_url`` (the operator's relance instance).
        support_url(str | None): defaults to the homepage.

    Raises:
        pydantic.ValidationError: the manifest would be invalid (e.g. ``public_url`` is not an
            http(s) URL).

    Returns:
        A JSON-ready dict. Pure: the same settings give the same manifest.
    """
    base = settings.public_url.rstrip("/")
    homepage = homepage_url or base
    manifest: dict[str, Any] = {
        "id": APP_ID,
        "name": APP_NAME,
        "version": __version__,
        "about": ABOUT,
        "author": APP_NAME,
        "permissions": list(PERMISSIONS),
        "appUrl": base + APP_PATH,
        "tokenTargetUrl": base + REGISTER_PATH,
        "homepageUrl": homepage,
        "supportUrl": support_url or homepage,
        "requiredSaleorVersion": REQUIRED_SALEOR_VERSION,
        "extensions": [],
        "webhooks": [
            {
                "name": f"relance {event.lower().replace('_', ' ')}",
                "targetUrl": base + WEBHOOK_PATH,
                "query": subscription_for(event),
                "asyncEvents": [event],
                "isActive": True,
            }
            for event in SUBSCRIBED_EVENTS
        ],
    }
    Manifest.model_validate(manifest)
    return manifest
