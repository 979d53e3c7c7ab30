"""b24app: a Bitrix24 application that runs a sales department's routine."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def create_app(config: Any = None, **overrides: Any) -> Any:
    """The Flask application factory (configuration from ``B24APP_*`` unless given)."""
    from b24app.web.app import build_app

    return build_app(config, **overrides)
