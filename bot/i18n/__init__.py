"""Message catalogs. Chinese (zh_CN) is the product's first language; English follows.

Each feature keeps its strings in ``bot/i18n/catalogs/<feature>.py`` as two dicts, ``ZH`` and
``EN``; they are merged here. A test checks that both languages have the same keys and the
same placeholders.

A count that English must agree with is written ``{count:# item|# items}``: the part before
``|`` is used when the value is 1, the part after otherwise, and ``#`` stands for the number
(a form may leave it out: ``{days:tomorrow|in # days}``). Chinese needs no such choice.
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from typing import Any

from bot.i18n import catalogs as _catalogs_pkg

DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")

CATALOGS: dict[str, dict[str, str]] = {"zh_CN": {}, "en": {}}


def _load() -> None:
    for info in sorted(pkgutil.iter_modules(_catalogs_pkg.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{_catalogs_pkg.__name__}.{info.name}")
        for locale, attr in (("zh_CN", "ZH"), ("en", "EN")):
            part: dict[str, str] = getattr(module, attr)
            clash = CATALOGS[locale].keys() & part.keys()
            if clash:
                raise RuntimeError(f"duplicate catalog keys in {info.name}: {sorted(clash)}")
            CATALOGS[locale].update(part)


_load()


class _Formatter(string.Formatter):
    """str.format, plus the one/other choice of a spec with ``|`` (see the module docstring)."""

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" in format_spec:
            one, other = format_spec.split("|", 1)
            return (one if value == 1 else other).replace("#", str(value))
        return str(super().format_field(value, format_spec))


_FORMATTER = _Formatter()


def normalize_locale(code: str | None) -> str:
    """Map a Telegram language code ('zh-hans', 'en-US', None) to a catalog locale."""
    if not code:
        return DEFAULT_LOCALE
    low = code.lower().replace("-", "_")
    if low.startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def t(locale: str | None, key: str, **params: Any) -> str:
    """Translate ``key`` into ``locale`` and fill its placeholders."""
    loc = locale if locale in CATALOGS else DEFAULT_LOCALE
    # An empty string is a translation too (English has no measure words: "export.unit.*").
    text = CATALOGS[loc].get(key)
    if text is None:
        text = CATALOGS[DEFAULT_LOCALE].get(key)
    if text is None:
        raise KeyError(f"missing message key: {key}")
    return _FORMATTER.vformat(text, (), params) if params else text
