"""The app's services for one process: configuration, the store and per-portal clients.

Passed explicitly to everything that needs them (there is no global "current portal").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from b24app.config import Config
from b24app.store import migrations
from b24app.store.db import Database, open_database


@dataclass
class Services:
    config: Config
    db: Database

    @classmethod
    def open(cls, config: Config, *, upgrade: bool = True) -> Services:
        """Open the store named by the configuration and apply pending migrations."""
        config.instance_dir.mkdir(parents=True, exist_ok=True)
        db = open_database(path=config.sqlite_path, url=config.database_url)
        services = cls(config, db)
        if upgrade:
            migrations.upgrade(db)
        return services

    def client(self, member_id: str) -> Any:
        """The per-portal REST client (b24app.portal.client.PortalClient)."""
        from b24app.portal.client import client_for

        return client_for(self.config, self.db, member_id)

    @cached_property
    def secrets(self) -> Any:
        """Encryption of secrets at rest (b24app.secrets.SecretBox)."""
        from b24app.secrets import SecretBox

        return SecretBox(self.config.secret_key)
