"""The webhook channel: a ``call_webhook`` step's HTTP call ("forward to URL").

Inside the claim transaction the step's URL, header values, query values and body are rendered
(strict sandboxed Jinja2, not escaped: :func:`relance.templates.text.render_text`); a template
that does not compile, or prints a missing value, fails the message for good with a ``render:``
error naming the field. After commit, :mod:`relance.channels.webhooks` makes the call under the
operator's allow-list and the answer — status and start of the body — is recorded on the message
whether it was accepted or not (:class:`~relance.tasks.outbound.DeliveryReceipt`).

The message records ``to_address`` = the URL's scheme, host and path (never its query string,
which may hold secrets) and ``subject`` = the method. Every call carries
``X-Relance-Delivery: <message id>``, the same on each retry, so receivers can deduplicate.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from relance.automation.definitions import CallWebhookStep
from relance.channels.errors import PermanentDeliveryError
from relance.channels.webhooks import (
    AddressPolicy,
    WebhookClient,
    WebhookRequest,
    display_url,
    refusal,
)
from relance.tasks.outbound import DeliveryReceipt, Prepared, SendJob
from relance.templates.errors import TemplateRenderError
from relance.templates.text import render_text

#: A rendered body larger than this is refused (1 MiB).
MAX_BODY_BYTES = 1 << 20


@lru_cache(maxsize=8)
def client_for(allowed: tuple[str, ...]) -> WebhookClient:
    """The client of an allow-list (``RELANCE_WEBHOOK_ALLOWED_NETWORKS``), built once."""
    return WebhookClient(AddressPolicy(allowed))


def _failing(error: str, to_address: str | None = None, **recorded: Any) -> Prepared:
    def deliver() -> str | None:
        raise PermanentDeliveryError(error)

    return Prepared(deliver=deliver, to_address=to_address, **recorded)


def _render(template: str, context: dict[str, Any], language: str, where: str) -> str:
    try:
        return render_text(template, context, language, strict=True)
    except TemplateRenderError as error:
        raise TemplateRenderError(f"webhook {where}: {error}") from error


def prepare(job: SendJob) -> Prepared:
    """Render the call (raises :class:`TemplateRenderError`, recorded as a failed message)."""
    step = job.step
    if not isinstance(step, CallWebhookStep):
        return _failing("the campaign version has no such webhook step")
    message = job.message
    message.response_status = None  # the answer recorded is the last attempt's
    message.response_body = None
    language = job.contact.language or job.definition.default_language or job.store.default_language
    context = {**job.context, "message": {"id": str(message.id)}}

    url = _render(step.url, context, language, "url")
    headers = [
        (name, _render(value, context, language, f"header {name}"))
        for name, value in step.headers.items()
    ]
    params = [
        (name, _render(value, context, language, f"query parameter {name}"))
        for name, value in step.query.items()
    ]
    body = _render(step.body, context, language, "body") if step.body is not None else None

    to_address = display_url(url)[:320] or None
    recorded: dict[str, Any] = {"subject": step.method, "language": language}
    if body is not None and len(body.encode("utf-8")) > MAX_BODY_BYTES:
        return _failing(
            f"the rendered body is larger than {MAX_BODY_BYTES} bytes", to_address, **recorded
        )
    request = WebhookRequest(
        method=step.method,
        url=url,
        headers=headers,
        params=params,
        body=body,
        timeout=float(step.timeout_seconds),
        delivery_id=str(message.id),
    )
    client = client_for(tuple(job.runtime.settings.webhook_allowed_networks))

    def deliver() -> DeliveryReceipt:
        answer = client.call(request)
        return DeliveryReceipt(
            response_status=answer.status, response_body=answer.body, failure=refusal(answer)
        )

    return Prepared(deliver=deliver, to_address=to_address, **recorded)
