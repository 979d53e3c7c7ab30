"""1C passwords at rest: encrypted with the app's secret key (b24app.secrets.SecretBox) in
``sync_1c_credentials``, never inside the settings document.

The settings document shows ``***`` for a base that has a password, so an export never reveals
it and importing the exported file back keeps the stored password. A document may also carry an
already encrypted value (``enc:v1:…``, e.g. written by another tool with the same key): it is
decrypted on use. :func:`take_secrets` is the hook a settings editor calls before saving: it moves
clear-text passwords out of the section into this table and leaves ``***`` behind.
"""

from __future__ import annotations

import copy
from typing import Any

from b24app import clock
from b24app.errors import ConfigError
from b24app.secrets import SecretBox
from b24app.store.db import Database
from b24app.sync_1c.settings_schema import ENC_PREFIX, MASK


def store(db: Database, box: SecretBox, member_id: str, base: str, password: str) -> None:
    """Encrypt and keep ``password`` for ``base`` (an empty password removes it)."""
    if not password:
        db.execute("DELETE FROM sync_1c_credentials WHERE member_id = ? AND base = ?", (member_id, base))
        return
    db.execute(
        """INSERT INTO sync_1c_credentials (member_id, base, password_enc, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (member_id, base) DO UPDATE SET password_enc = excluded.password_enc,
           updated_at = excluded.updated_at""",
        (member_id, base, box.encrypt(password), clock.now()),
    )


def has(db: Database, member_id: str, base: str) -> bool:
    return db.one("SELECT 1 AS x FROM sync_1c_credentials WHERE member_id = ? AND base = ?",
                  (member_id, base)) is not None


def password_for(db: Database, box: SecretBox, member_id: str, base_cfg: dict[str, Any]) -> str:
    """The clear-text password of a configured base (for the HTTP call only; never logged)."""
    value = str(base_cfg.get("password") or "")
    if value.startswith(ENC_PREFIX):
        return box.decrypt(value)
    row = db.one("SELECT password_enc FROM sync_1c_credentials WHERE member_id = ? AND base = ?",
                 (member_id, base_cfg["name"]))
    if row is None:
        if value == MASK:
            raise ConfigError(f"1C base {base_cfg['name']}: the password is marked as set (***) but none is stored; "
                              "set it with `b24app sync set-password` / пароль не сохранён")
        return ""
    return box.decrypt(row["password_enc"])


def masked(section: dict[str, Any]) -> dict[str, Any]:
    """A copy of the section with every password shown as ``***`` (or empty when none)."""
    out = copy.deepcopy(section)
    for base in out.get("bases") or []:
        if base.get("password"):
            base["password"] = MASK
    return out


def take_secrets(db: Database, box: SecretBox, member_id: str, section: dict[str, Any]) -> dict[str, Any]:
    """Before saving a section edited by a person: clear-text passwords go encrypted into the
    credentials table and become ``***``; ``***`` keeps what is stored; ``""`` forgets it."""
    out = copy.deepcopy(section)
    for base in out.get("bases") or []:
        value = str(base.get("password") or "")
        name = str(base.get("name") or "")
        if not name:
            continue
        if value == MASK or value.startswith(ENC_PREFIX):
            continue
        store(db, box, member_id, name, value)
        base["password"] = MASK if value else ""
    return out
