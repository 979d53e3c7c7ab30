"""The store: one database (SQLite by default, PostgreSQL when scaled out) behind a small adapter,
versioned migrations, and small repository modules. Features call repository functions; no
feature writes SQL against another feature's tables."""

from b24app.store.db import Database, open_database

__all__ = ["Database", "open_database"]
