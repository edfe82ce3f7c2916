"""Names in the order a Chinese reader expects: by pinyin (拼音), as on a printed roster.

A name sorts character by character: hanzi by their pinyin (syllable, then tone), before Latin
letters, which sort case-blind; digits, spaces and punctuation come first. This is the order of
Unicode's CLDR collation for Chinese, which PostgreSQL applies as the ICU collation
``zh-x-icu`` (storage/ordering.py); on SQLite the database sorts by this key (storage/db.py
registers it as the SQL function name_key), so a page of a roster and its neighbours agree on
both engines.

The readings are pypinyin's table of single characters (Unihan-based, about 42,000 hanzi, the
second-level surnames 闫 邬 岑 蔺 褚 覃 and GBK's 喆 堃 among them). Only that table is read:
importing pypinyin itself loads its phrase dictionary too (about 50 MB and two seconds), which
a sort key does not need. Each character's first reading counts (曾 céng, 单 dān), as in
CLDR; characters of the same reading sort by code point (CLDR has its own order there).
"""

from __future__ import annotations

import importlib.util
import json
import unicodedata
from functools import cache, lru_cache
from pathlib import Path

# Each character becomes KEY_WIDTH bytes, so keys compare character by character.
KEY_WIDTH = 12
_OTHER, _HANZI, _LETTER = b"\x00", b"\x01", b"\x02"
_TONES = {"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4}
_NO_READING = b"\x7f" * 8  # a hanzi pypinyin has no reading for: after every syllable


def readings_path() -> Path:
    """pypinyin's table of single-character readings (JSON: code point → "pīn,yīn")."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pypinyin is not installed (a dependency of jiannuo)")
    return Path(next(iter(spec.submodule_search_locations))) / "pinyin_dict.json"


def _syllable_and_tone(reading: str) -> bytes:
    """'lǚ' → b'lu' in six bytes, then 1 (ü), then tone 3: syllables compare by their letters
    with ü as u (lu, lü, luan, lüe, lun, luo), then u before ü, then the tone (neutral first)."""
    letters: list[str] = []
    umlaut = 0
    tone = 0
    for ch in unicodedata.normalize("NFD", reading):
        if ch in _TONES:
            tone = _TONES[ch]
        elif ch == "\u0308":  # the diaeresis of ü
            umlaut = 1
        elif ch.isascii():
            letters.append(ch)
    return "".join(letters).encode("ascii").ljust(6, b"\x00")[:6] + bytes([umlaut, tone])


@cache
def _han_keys() -> dict[int, bytes]:
    """Code point → its syllable, ü and tone (eight bytes), for every hanzi with a reading."""
    table: dict[str, str] = json.loads(readings_path().read_text(encoding="utf-8"))
    return {
        int(code): _syllable_and_tone(readings.split(",")[0]) for code, readings in table.items()
    }


def _char_key(ch: str, han: dict[int, bytes]) -> bytes:
    code = ord(ch)
    point = code.to_bytes(3, "big")
    reading = han.get(code)
    if reading is not None:
        return _HANZI + reading + point
    if unicodedata.category(ch) == "Lo" and unicodedata.name(ch, "").startswith("CJK"):
        return _HANZI + _NO_READING + point
    if ch.isalpha():
        # Case-blind and accent-blind, as a reader compares Latin letters (a ａ Ä before b).
        base = unicodedata.normalize("NFKD", ch.casefold())[0]
        return _LETTER + ord(base).to_bytes(3, "big") + b"\x00" * 8
    return _OTHER + point + b"\x00" * 8


@lru_cache(maxsize=65536)
def name_key(name: str | None) -> bytes:
    """A name's sort key (see the module's text); None sorts first."""
    han = _han_keys()
    text = unicodedata.normalize("NFKC", name or "")
    return b"".join(_char_key(ch, han) for ch in text)
