"""An aiosmtpd sink that records when each recipient's email was accepted."""

from __future__ import annotations

import threading
import time
from typing import Any

from aiosmtpd.controller import Controller


class TimingSink:
    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.condition = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.perf_counter()
        with self.condition:
            for rcpt in envelope.rcpt_tos:
                self.accepted.setdefault(rcpt, now)
            self.condition.notify_all()
        return "250 OK"

    def reset(self) -> None:
        with self.condition:
            self.accepted.clear()

    def wait_for(self, count: int, timeout: float) -> bool:
        with self.condition:
            return self.condition.wait_for(lambda: len(self.accepted) >= count, timeout)


def start_sink(port: int) -> tuple[TimingSink, Controller]:
    sink = TimingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return sink, controller
