"""Enumerations of the domain: roles, organisation types, pledge horizon, category, status."""

from __future__ import annotations

from enum import StrEnum


class OrgType(StrEnum):
    """Kind of organisation; shapes what its members pledge (seed 002)."""

    COMMITTEE = "committee"
    RURAL = "rural"
    COMMUNITY = "community"
    ORGAN = "organ"
    SOE = "soe"
    PRIVATE = "private"
    SCHOOL = "school"
    HEALTH = "health"
    RESEARCH = "research"
    SOCIAL = "social"


class Role(StrEnum):
    """What a person does in the campaign."""

    MEMBER = "member"
    SECRETARY = "secretary"
    COMMITTEE = "committee"
    LEADER = "leader"
    RESIDENT = "resident"


class Horizon(StrEnum):
    """三位一体: long-term, annual, instant pledges."""

    LONG_TERM = "long_term"
    ANNUAL = "annual"
    INSTANT = "instant"


class Category(StrEnum):
    """Item categories: the member's 五带头 and the branch's 五个好."""

    # 五带头 (member)
    STUDY = "study"  # 带头学习提高
    EXCELLENCE = "excellence"  # 带头争创佳绩
    SERVE = "serve"  # 带头服务群众
    DISCIPLINE = "discipline"  # 带头遵纪守法
    INTEGRITY = "integrity"  # 带头弘扬正气
    # 五个好 (branch)
    LEADERSHIP = "leadership"  # 领导班子好
    TEAM = "team"  # 党员队伍好
    MECHANISM = "mechanism"  # 工作机制好
    PERFORMANCE = "performance"  # 工作业绩好
    REPUTATION = "reputation"  # 群众反映好


MEMBER_CATEGORIES: tuple[Category, ...] = (
    Category.STUDY,
    Category.EXCELLENCE,
    Category.SERVE,
    Category.DISCIPLINE,
    Category.INTEGRITY,
)
BRANCH_CATEGORIES: tuple[Category, ...] = (
    Category.LEADERSHIP,
    Category.TEAM,
    Category.MECHANISM,
    Category.PERFORMANCE,
    Category.REPUTATION,
)


class PledgerKind(StrEnum):
    """党员承诺 or 组织承诺."""

    MEMBER = "member"
    BRANCH = "branch"


class PledgeStatus(StrEnum):
    """Where a pledge stands in 定诺 → 审诺 → 亮诺."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PUBLISHED = "published"
    AMENDING = "amending"


class ReviewAction(StrEnum):
    """A reviewer's decision."""

    APPROVE = "approve"
    RETURN = "return"
