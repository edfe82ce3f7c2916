"""Catalogs: same keys and placeholders in both languages; every key the code uses exists."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import CATALOGS, normalize_locale, t

ROOT = Path(__file__).resolve().parents[2]


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys() -> None:
    assert CATALOGS["zh_CN"].keys() == CATALOGS["en"].keys()


@pytest.mark.parametrize("key", sorted(CATALOGS["zh_CN"]))
def test_placeholders_match(key: str) -> None:
    assert _fields(CATALOGS["zh_CN"][key]) == _fields(CATALOGS["en"][key])


def test_every_literal_key_used_in_code_exists() -> None:
    pattern = re.compile(
        r"""\bt\(\s*[\w.]+,\s*"([a-z_]+(?:\.[a-z_0-9]+)+)"|DomainError\(\s*"([a-z_.0-9]+)"|Forbidden\(\s*"([a-z_.0-9]+)\""""
    )
    missing = set()
    for folder in ("bot", "handlers"):
        for path in (ROOT / folder).rglob("*.py"):
            for match in pattern.finditer(path.read_text(encoding="utf-8")):
                key = next(g for g in match.groups() if g)
                if key not in CATALOGS["zh_CN"]:
                    missing.add((path.name, key))
    assert not missing


def test_locale_normalisation_and_fallback() -> None:
    assert normalize_locale("en-US") == "en"
    assert normalize_locale("zh-hans") == "zh_CN"
    assert normalize_locale(None) == "zh_CN"
    assert t("fr", "status.published") == t("zh_CN", "status.published")
    with pytest.raises(KeyError):
        t("zh_CN", "no.such.key")
