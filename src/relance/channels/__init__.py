"""Delivery channels: one module per provider behind one protocol per medium.

Email: :class:`EmailTransport` is what the send actor calls; :class:`SmtpTransport` implements
it for any SMTP server, and :class:`MailSink` is the embedded mode's local server whose Maildir
the ``/mailbox`` pages read (:func:`list_messages`, :func:`get_message`). Failures derive from
:class:`DeliveryError` (see errors.py for which ones to retry).
"""

from relance.channels.email import (
    EmailTransport,
    OutgoingEmail,
    address_of,
    build_mime,
    make_message_id,
)
from relance.channels.errors import (
    DeliveryError,
    DeliveryOutcomeUnknown,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from relance.channels.mailbox import StoredMail, get_message, list_messages
from relance.channels.sink import MailSink
from relance.channels.smtp import SmtpEndpoint, SmtpTransport, parse_smtp_url

__all__ = [
    "DeliveryError",
    "DeliveryOutcomeUnknown",
    "EmailTransport",
    "MailSink",
    "OutgoingEmail",
    "PermanentDeliveryError",
    "SmtpEndpoint",
    "SmtpTransport",
    "StoredMail",
    "TransientDeliveryError",
    "address_of",
    "build_mime",
    "get_message",
    "list_messages",
    "make_message_id",
    "parse_smtp_url",
]
