"""Channels whose provider is not built yet: their messages fail with a clear reason.

Replaced channel by channel (SMS through Twilio, Web Push, webhooks) as providers arrive; until
then a message of such a channel is recorded ``failed`` — never reported as sent.
"""

from __future__ import annotations

from relance.channels.errors import PermanentDeliveryError
from relance.tasks.outbound import Prepared, SendJob


def prepare(job: SendJob) -> Prepared:
    channel = job.message.channel

    def deliver() -> str | None:
        raise PermanentDeliveryError(f"no {channel} provider is configured")

    return Prepared(deliver=deliver, to_address=None)
