"""Configuration behaviour of the emulated bases (fill, post, unpost) and their business facade."""

from __future__ import annotations

from typing import Any

from .bp30 import Bp30
from .common import ProfileLogic
from .unf import Unf
from .ut11 import Ut11

LOGIC: dict[str, type[ProfileLogic]] = {"bp30": Bp30, "ut11": Ut11, "unf": Unf}


def logic_for(profile: str, base: Any) -> ProfileLogic:
    return LOGIC[profile](base)


__all__ = ["LOGIC", "Bp30", "ProfileLogic", "Unf", "Ut11", "logic_for"]
