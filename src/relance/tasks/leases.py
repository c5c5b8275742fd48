"""Leases: how the sweep and the fast path avoid handing the same id out twice.

When an id is dispatched, its row is leased until ``now + LEASE``. The sweep only dispatches rows
whose lease has expired, so it re-finds work only when a dispatch was lost (a broker restart, a
crash between commit and enqueue). Leases are an optimisation, not the guard: every actor is
idempotent on its own.
"""

from __future__ import annotations

from datetime import timedelta

#: How long a dispatched id is left to its worker before the sweep hands it out again.
LEASE = timedelta(seconds=60)
#: A message still "sending" after this long had its worker die mid-send: its outcome is unknown.
SENDING_TIMEOUT = timedelta(minutes=10)
#: Rows handed out per sweep and kind (the next sweep takes the rest).
SWEEP_BATCH = 500
