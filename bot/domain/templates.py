"""Pledge templates: suggested topics by branch type (seed 002) and category labels."""

from __future__ import annotations

from bot.domain.enums import Category, OrgType, PledgerKind
from bot.i18n import t

__all__ = ["TOPIC_SLUGS", "category_label", "suggested_topics", "topic_keys"]

# Which topics each kind of organisation is offered, in the order shown; the words live in
# bot/i18n/catalogs/templates.py under topic.<group>.<branch|member>.<slug>.
TOPIC_SLUGS: dict[tuple[str, PledgerKind], tuple[str, ...]] = {
    ("rural", PledgerKind.BRANCH): (
        "policy",
        "income",
        "economy",
        "farmers",
        "civility",
        "stability",
    ),
    ("rural", PledgerKind.MEMBER): ("wealth", "poverty", "serve", "public", "customs", "mediate"),
    ("community", PledgerKind.BRANCH): ("serve", "unite", "facilities", "stability", "care"),
    ("community", PledgerKind.MEMBER): (
        "service",
        "interests",
        "mediate",
        "civility",
        "volunteer",
    ),
    ("organ", PledgerKind.BRANCH): ("centre", "team", "style", "window", "livelihood"),
    ("organ", PledgerKind.MEMBER): ("study", "innovate", "duty", "integrity", "example"),
    ("soe", PledgerKind.BRANCH): ("decisions", "ideology", "teams", "reform", "responsibility"),
    ("soe", PledgerKind.MEMBER): ("skills", "tackle", "energy", "unite", "clean"),
    ("private", PledgerKind.BRANCH): ("policy", "unite", "rights", "growth", "society"),
    ("private", PledgerKind.MEMBER): ("tech", "energy", "market", "safety", "quality", "charity"),
    ("school", PledgerKind.BRANCH): ("policy", "ethics", "ideology", "quality", "satisfied"),
    ("school", PledgerKind.MEMBER): ("dedication", "clean", "model", "care", "teaching"),
    ("health", PledgerKind.BRANCH): ("reform", "service", "ethics", "harmony", "norms"),
    ("health", PledgerKind.MEMBER): ("dedication", "study", "innovate", "quality", "outreach"),
    ("research", PledgerKind.BRANCH): ("innovation", "talent", "grassroots", "culture", "norms"),
    ("research", PledgerKind.MEMBER): ("dedication", "study", "innovate", "service", "rigour"),
    ("social", PledgerKind.BRANCH): ("policy", "unite", "rights", "growth", "public"),
    ("social", PledgerKind.MEMBER): ("skills", "service", "honest", "harmony", "public"),
    ("general", PledgerKind.BRANCH): (
        "centre",
        "leadership",
        "team",
        "mechanism",
        "serve",
        "listen",
    ),
    ("general", PledgerKind.MEMBER): ("study", "excellence", "serve", "discipline", "integrity"),
}


def _group(org_type: OrgType) -> str:
    """Committees (党委/工委) get the general topics; every other type has its own."""
    return "general" if org_type is OrgType.COMMITTEE else org_type.value


def topic_keys(org_type: OrgType, pledger: PledgerKind) -> list[str]:
    """Catalog keys of the topics suggested to this kind of pledger in this kind of org."""
    group = _group(OrgType(org_type))
    kind = PledgerKind(pledger)
    return [f"topic.{group}.{kind.value}.{slug}" for slug in TOPIC_SLUGS[(group, kind)]]


def suggested_topics(org_type: OrgType, pledger: PledgerKind, locale: str | None) -> list[str]:
    """Suggested pledge topics (4 to 6, short and concrete) for drafting, in ``locale``."""
    return [t(locale, key) for key in topic_keys(org_type, pledger)]


def category_label(category: Category, locale: str | None) -> str:
    """The label of a 五带头 or 五个好 category, e.g. 带头服务群众."""
    return t(locale, f"category.{Category(category).value}")
