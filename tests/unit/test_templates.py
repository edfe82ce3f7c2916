"""Suggested pledge topics and category labels."""

from __future__ import annotations

import string
from types import ModuleType

import pytest

from bot.domain.enums import BRANCH_CATEGORIES, MEMBER_CATEGORIES, Category, OrgType, PledgerKind
from bot.domain.templates import TOPIC_SLUGS, category_label, suggested_topics, topic_keys
from bot.i18n.catalogs import categories as categories_catalog
from bot.i18n.catalogs import templates as templates_catalog

CASES = [(o, k) for o in OrgType for k in PledgerKind]


@pytest.mark.parametrize(("org_type", "kind"), CASES)
def test_every_type_and_kind_has_topics_in_both_languages(
    org_type: OrgType, kind: PledgerKind
) -> None:
    zh = suggested_topics(org_type, kind, "zh_CN")
    en = suggested_topics(org_type, kind, "en")
    assert 4 <= len(zh) <= 6
    assert len(en) == len(zh)
    assert len(set(zh)) == len(zh)
    for topic in zh:
        assert 4 <= len(topic) <= 40, topic
        assert not topic.isascii()
    for topic in en:
        assert topic.isascii() or "–" in topic, topic
        assert 10 <= len(topic) <= 100, topic
        assert topic[0].isupper()


def test_locale_fallbacks() -> None:
    zh = suggested_topics(OrgType.RURAL, PledgerKind.BRANCH, "zh_CN")
    assert suggested_topics(OrgType.RURAL, PledgerKind.BRANCH, None) == zh
    assert suggested_topics(OrgType.RURAL, PledgerKind.BRANCH, "fr") == zh


def test_topics_follow_the_seeds() -> None:
    rural_branch = "".join(suggested_topics(OrgType.RURAL, PledgerKind.BRANCH, "zh_CN"))
    for phrase in ("惠农政策", "增收致富", "集体经济", "文明乡风", "新型农民", "稳定"):
        assert phrase in rural_branch
    rural_member = "".join(suggested_topics(OrgType.RURAL, PledgerKind.MEMBER, "zh_CN"))
    for phrase in ("致富带富", "服务农民群众", "公益事业"):
        assert phrase in rural_member
    community_member = "".join(suggested_topics(OrgType.COMMUNITY, PledgerKind.MEMBER, "zh_CN"))
    assert "志愿服务" in community_member
    private_member = "".join(suggested_topics(OrgType.PRIVATE, PledgerKind.MEMBER, "zh_CN"))
    for phrase in ("技术攻关", "安全生产", "产品质量"):
        assert phrase in private_member
    health_branch = "".join(suggested_topics(OrgType.HEALTH, PledgerKind.BRANCH, "zh_CN"))
    assert "医德医风" in health_branch


def test_committee_gets_general_topics() -> None:
    keys = topic_keys(OrgType.COMMITTEE, PledgerKind.BRANCH)
    assert keys and all(k.startswith("topic.general.branch.") for k in keys)
    member = suggested_topics(OrgType.COMMITTEE, PledgerKind.MEMBER, "zh_CN")
    assert all(topic.startswith("带头") for topic in member)


def test_topic_catalog_has_exactly_the_offered_keys() -> None:
    offered = {k for o, kind in CASES for k in topic_keys(o, kind)}
    assert offered == set(templates_catalog.ZH)
    assert templates_catalog.ZH.keys() == templates_catalog.EN.keys()
    assert len(TOPIC_SLUGS) == len(OrgType) * len(PledgerKind)


def test_accepts_plain_strings() -> None:
    assert suggested_topics("school", "member", "en") == suggested_topics(  # type: ignore[arg-type]
        OrgType.SCHOOL, PledgerKind.MEMBER, "en"
    )


@pytest.mark.parametrize(
    ("category", "zh"),
    [
        (Category.STUDY, "带头学习提高"),
        (Category.EXCELLENCE, "带头争创佳绩"),
        (Category.SERVE, "带头服务群众"),
        (Category.DISCIPLINE, "带头遵纪守法"),
        (Category.INTEGRITY, "带头弘扬正气"),
        (Category.LEADERSHIP, "领导班子好"),
        (Category.TEAM, "党员队伍好"),
        (Category.MECHANISM, "工作机制好"),
        (Category.PERFORMANCE, "工作业绩好"),
        (Category.REPUTATION, "群众反映好"),
    ],
)
def test_category_labels(category: Category, zh: str) -> None:
    assert category_label(category, "zh_CN") == zh
    en = category_label(category, "en")
    assert en and en.isascii()


def test_category_catalog_covers_every_category() -> None:
    keys = {f"category.{c.value}" for c in Category}
    assert set(categories_catalog.ZH) == keys == set(categories_catalog.EN)
    assert {category_label(c, "en") for c in MEMBER_CATEGORIES}.isdisjoint(
        {category_label(c, "en") for c in BRANCH_CATEGORIES}
    )


@pytest.mark.parametrize("module", [templates_catalog, categories_catalog])
def test_catalogs_have_no_placeholders_mismatch(module: ModuleType) -> None:
    zh: dict[str, str] = module.ZH
    en: dict[str, str] = module.EN
    for key, text in zh.items():
        assert _fields(text) == _fields(en[key]), key


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
