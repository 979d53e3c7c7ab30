"""The one catalogue of user-facing texts (Russian first, English second).

Each feature keeps its entries in a module of this package (``core.py``, ``leads.py`` ...) as a
dict ``TEXTS = {key: {"ru": ..., "en": ...}}``; they are merged here into one catalogue, and a
key defined twice is an error at import time. Texts use ``str.format`` placeholders.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

LANGS = ("ru", "en")
CATALOGUE: dict[str, dict[str, str]] = {}


def _load() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for key, texts in getattr(module, "TEXTS", {}).items():
            if key in CATALOGUE:
                raise RuntimeError(f"message key defined twice: {key} (in {info.name})")
            missing = [lang for lang in LANGS if lang not in texts]
            if missing:
                raise RuntimeError(f"message {key} lacks {missing}")
            CATALOGUE[key] = texts


def normalize_lang(lang: str | None) -> str:
    """Bitrix24 passes LANG like ``ru``, ``en``, ``ua``, ``de``: Russian-speaking ones get ru."""
    lang = (lang or "ru").lower()[:2]
    if lang in ("ru", "ua", "by", "kz"):
        return "ru"
    return "en" if lang in LANGS or lang else "ru"


def t(key: str, lang: str | None = "ru", **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``params`` filled in."""
    texts = CATALOGUE[key]
    text = texts.get(normalize_lang(lang)) or texts["ru"]
    return text.format(**params) if params else text


def both(key: str, **params: Any) -> dict[str, str]:
    """``{"ru": ..., "en": ...}`` for places that take a language map (robot names, widgets)."""
    return {lang: t(key, lang, **params) for lang in LANGS}


_load()
