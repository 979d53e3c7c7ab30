"""Secrets at rest (1C passwords and the like): encrypted with a key derived from
``B24APP_SECRET_KEY`` (Fernet: AES-128-CBC + HMAC-SHA256). Never shown back to users."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from b24app.errors import ConfigError

PREFIX = "enc:v1:"


class SecretBox:
    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            self._fernet = None
        else:
            digest = hashlib.sha256(("b24app-secrets:" + secret_key).encode()).digest()
            self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def _require(self) -> Fernet:
        if self._fernet is None:
            raise ConfigError("B24APP_SECRET_KEY is not set: secrets cannot be stored")
        return self._fernet

    def encrypt(self, plain: str) -> str:
        return PREFIX + self._require().encrypt(plain.encode()).decode()

    def decrypt(self, stored: str) -> str:
        if not stored.startswith(PREFIX):
            raise ConfigError("stored secret is not encrypted by this app")
        try:
            return self._require().decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken as exc:
            raise ConfigError("stored secret cannot be decrypted: B24APP_SECRET_KEY changed?") from exc

    @staticmethod
    def is_encrypted(value: str) -> bool:
        return isinstance(value, str) and value.startswith(PREFIX)
