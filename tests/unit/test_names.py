"""Names by pinyin (bot/domain/names.py)."""

from __future__ import annotations

from bot.domain.names import name_key

ROSTER = [
    "周杰",
    "阿明",
    "黄勇",
    "张伟",
    "蔡小芸",
    "王芳",
    "陈静",
    "李娜",
    "沈宝方",
    "刘洋",
    "吴静",
]


def test_common_surnames_sort_by_pinyin() -> None:
    assert sorted(ROSTER, key=name_key) == [
        "阿明",  # a
        "蔡小芸",  # cai
        "陈静",  # chen
        "黄勇",  # huang
        "李娜",  # li
        "刘洋",  # liu
        "沈宝方",  # shen
        "王芳",  # wang
        "吴静",  # wu
        "张伟",  # zhang
        "周杰",  # zhou
    ]


def test_latin_names_first_rare_characters_after_common_ones_and_none_is_fine() -> None:
    assert sorted(["张伟", "Anna", "龘龘", ""], key=name_key) == ["", "Anna", "张伟", "龘龘"]
    assert name_key(None) == b""
    assert name_key("ＡＢ") == name_key("AB")  # full-width letters as typed on a phone
