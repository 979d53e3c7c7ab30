"""Configuration profiles: БП 3.0 (``bp30``), УТ 11 (``ut11``), УНФ 3.0 (``unf``)."""

from __future__ import annotations

from b24app.errors import ConfigError
from b24app.sync_1c.profiles.base import Profile
from b24app.sync_1c.profiles.bp30 import Bp30
from b24app.sync_1c.profiles.unf import Unf
from b24app.sync_1c.profiles.ut11 import Ut11

PROFILES: dict[str, type[Profile]] = {"bp30": Bp30, "ut11": Ut11, "unf": Unf}


def profile(name: str) -> Profile:
    """A fresh profile object (it caches per-base lookups such as VAT rates)."""
    cls = PROFILES.get(name)
    if cls is None:
        raise ConfigError(f"unknown 1C configuration profile {name!r}: use one of {sorted(PROFILES)}")
    return cls()


__all__ = ["PROFILES", "Profile", "profile"]
