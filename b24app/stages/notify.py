"""Notifications and field writes collected and sent in batches of 50 under one effect key each.

A notification carries a ``TAG`` derived from its effect key: if an answer is lost and the notification
is sent again, the portal replaces the first one instead of showing two (``im.notify.system.add``:
"TAG ... replaces older notification with same tag").
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from b24app.store import effects

log = logging.getLogger("b24app.stages")


def tag_of(key: str) -> str:
    return "b24app|" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:24]


@dataclass
class Outbox:
    """Pending writes of one scan page: notifications (once per key) and item updates (idempotent)."""

    ctx: Any
    notes: list[tuple[str, int, str]] = field(default_factory=list)  # (effect key, user, message)
    updates: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (method, params)
    sent: int = 0
    written: int = 0

    def notify(self, key: str, user_id: int | None, message: str) -> bool:
        """Queue a notification unless this key was sent already; False when skipped."""
        if not user_id:
            return False
        state = effects.get(self.ctx.db, self.ctx.member_id, key)
        if state is not None and state[0] == effects.DONE:
            return False
        if any(k == key for k, _u, _m in self.notes):
            return False
        self.notes.append((key, int(user_id), message))
        return True

    def update(self, method: str, params: dict[str, Any]) -> None:
        self.updates.append((method, params))

    def flush(self) -> None:
        db, member_id = self.ctx.db, self.ctx.member_id
        if self.notes:
            for key, _u, _m in self.notes:
                effects.mark_pending(db, member_id, key)
            res = self.ctx.client.batch([(f"n{i}", "im.notify.system.add",
                                          {"USER_ID": user, "MESSAGE": message, "TAG": tag_of(key)})
                                         for i, (key, user, message) in enumerate(self.notes)])
            for i, (key, user, _m) in enumerate(self.notes):
                if f"n{i}" in res.errors:
                    log.warning("notification not sent", extra={"member_id": member_id, "user_id": user,
                                                                "error": str(res.errors[f"n{i}"])})
                    continue
                effects.mark_done(db, member_id, key, res.results.get(f"n{i}"))
                self.sent += 1
            self.notes = []
        if self.updates:
            res = self.ctx.client.batch([(f"u{i}", m, p) for i, (m, p) in enumerate(self.updates)])
            for key, err in res.errors.items():
                log.warning("item update failed", extra={"member_id": member_id, "command": key, "error": str(err)})
            self.written += len(self.updates) - len(res.errors)
            self.updates = []
