"""SMTP servers with scripted behaviour, for what the shared ``smtp_sink`` cannot do."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.fixtures.smtp import free_port


@pytest.fixture
def smtp_server() -> Iterator[Callable[[Any], str]]:
    """Start an aiosmtpd server around a handler object; returns its ``smtp://`` URL."""
    controllers: list[Controller] = []

    def start(handler: Any) -> str:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        controllers.append(controller)
        return f"smtp://127.0.0.1:{port}"

    yield start
    for controller in controllers:
        controller.stop()
