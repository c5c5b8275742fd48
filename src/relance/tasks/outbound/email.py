"""The email channel: render the design in the contact's language, send over SMTP."""

from __future__ import annotations

from email.utils import formataddr, parseaddr

from relance.channels.email import OutgoingEmail, make_message_id
from relance.tasks.outbound import Prepared, SendJob


def sender_of(job: SendJob) -> str:
    """``From:``: the store's sender with its name, else the operator's default sender."""
    store = job.store
    if store.sender and store.sender_name:
        return formataddr((store.sender_name, store.sender))
    return store.sender or job.runtime.settings.default_sender


def prepare(job: SendJob) -> Prepared:
    """Render the email (raises :class:`relance.templates.errors.TemplatesError`)."""
    default_language = job.definition.default_language or job.store.default_language
    rendered = job.runtime.renderer.render(
        job.message.design,
        language=job.contact.language,
        default_language=default_language,
        context=job.context,
    )
    sender = sender_of(job)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "relance.localhost"
    outgoing = OutgoingEmail(
        sender=sender,
        to=job.contact.email,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        message_id=make_message_id(domain),
    )
    transport = job.runtime.email_transport

    def deliver() -> str | None:
        transport.send(outgoing)
        return outgoing.message_id

    return Prepared(
        deliver=deliver,
        to_address=job.contact.email,
        subject=rendered.subject,
        language=rendered.language,
        provider_message_id=outgoing.message_id,
    )
