"""Which errors stop a scan and which are recorded for one item while the scan goes on."""

from __future__ import annotations

from b24app.errors import Action, B24AppError


def permanent(exc: B24AppError) -> bool:
    """Errors retrying will not fix (bad data, settings): recorded for the item, the scan goes on.
    Transient ones (network, rate limits, expired tokens) fail the job, which is retried as a whole —
    every step is keyed, so nothing done is done again."""
    return exc.action in (Action.FAIL_DATA, Action.FAIL_CONFIG)
