"""Entry module for Dramatiq worker processes (``relance worker`` runs ``dramatiq`` on it).

Importing it builds this process's runtime from the environment, declares the actors on the Redis
broker, and starts the sweep once the worker has booted.
"""

from __future__ import annotations

from typing import Any

import dramatiq

from relance.bootstrap import build_process
from relance.settings import get_settings
from relance.tasks.sweep import SweepThread


class SweepMiddleware(dramatiq.Middleware):
    """Runs the sweep in every worker process while it is up."""

    def __init__(self, thread: SweepThread) -> None:
        self._thread = thread

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._thread.start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        self._thread.stop()


settings = get_settings()
process = build_process(settings)
broker = process.broker
broker.add_middleware(SweepMiddleware(SweepThread(process.runtime, settings.sweep_interval)))
