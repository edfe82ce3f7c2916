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


def test_second_level_surnames_and_gbk_characters_sort_by_pinyin_too() -> None:
    # GB18030's byte order put these after 周 (level-2 hanzi) or before 阿 (GBK's extension).
    names = ["周杰", "闫华", "邬强", "岑波", "蔺军", "褚明", "覃丽", "喆", "堃", "阿明", "张伟"]
    assert sorted(names, key=name_key) == [
        "阿明",  # a
        "岑波",  # cen
        "褚明",  # chu
        "堃",  # kun
        "蔺军",  # lin
        "覃丽",  # tan
        "邬强",  # wu
        "闫华",  # yan
        "张伟",  # zhang
        "喆",  # zhe
        "周杰",  # zhou
    ]


def test_syllables_compare_letter_by_letter_then_u_before_u_umlaut_then_tone() -> None:
    # 卢 lú, 鲁 lǔ, 驴 lǘ, 吕 lǚ, 乱 luàn, 略 lüè, 论 lùn, 罗 luó: CLDR's (and ICU's) order.
    assert sorted("罗论略乱吕驴鲁卢", key=name_key) == list("卢鲁驴吕乱略论罗")
    assert sorted(["李明", "黎明", "李", "李敏"], key=name_key) == ["黎明", "李", "李敏", "李明"]


def test_hanzi_before_latin_letters_digits_first_and_none_is_fine() -> None:
    # ICU's Chinese collation puts Han before Latin; Latin letters compare case-blind.
    assert sorted(["张伟", "anna", "Bob", "龘龘", "", "1号"], key=name_key) == [
        "",
        "1号",
        "龘龘",  # dá
        "张伟",
        "anna",
        "Bob",
    ]
    assert name_key(None) == b""
    assert name_key("ＡＢ") == name_key("AB")  # full-width letters as typed on a phone
