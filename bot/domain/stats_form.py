"""统计表: the campaign statistics form (seed 002, piece 12, attachment 2) for a branch or a
committee's whole subtree: pledging organisations and members, items and their fulfilment,
residents' issues collected and solved, mass evaluations held and their satisfaction.

Figures are aggregated in SQL, grouped per organisation (``ExportRepo.per_org_figures``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.domain.ledger import percent
from bot.domain.models import Org
from bot.domain.progress_models import Figures
from bot.i18n import t
from storage.secrecy import MIN_PUBLISHED_VOTES
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class StatsLine:
    """The figures of one organisation (or of the whole scope)."""

    name: str
    code: str
    branches: int = 0
    pledging_orgs: int = 0
    members: int = 0
    pledging_members: int = 0
    figures: Figures = field(default_factory=Figures)
    suggestions: int = 0
    solved: int = 0
    evaluations: int = 0
    voters: int = 0
    subjects: int = 0
    passed: int = 0
    favourable: int = 0
    votes: int = 0
    hidden: int = 0  # subjects under 5 votes: not published, and in no figure above

    @property
    def satisfaction(self) -> float | None:
        """满意率: (满意 + 基本满意) ÷ valid votes over the published subjects of the closed
        evaluations (a subject under 5 votes is in no sum, so no subtraction recovers it)."""
        return self.favourable / self.votes if self.votes else None

    @property
    def pledging_share(self) -> float | None:
        """The share of members who made a public pledge."""
        return self.pledging_members / self.members if self.members else None


@dataclass(frozen=True)
class StatsForm:
    """The form: totals over the scope, and one line per organisation when it has several."""

    locale: str
    org_name: str
    subtree: bool
    as_of: date
    total: StatsLine
    lines: list[StatsLine] = field(default_factory=list)


def _line(row: dict[str, Any]) -> StatsLine:
    return StatsLine(
        name=str(row.get("name", "")),
        code=str(row.get("code", "")),
        branches=int(row["branches"]),
        pledging_orgs=int(row["pledging_orgs"]),
        members=int(row["members"]),
        pledging_members=int(row["pledging_members"]),
        figures=row["figures"],
        suggestions=int(row["suggestions"]),
        solved=int(row["solved"]),
        evaluations=int(row["evaluations"]),
        voters=int(row["voters"]),
        subjects=int(row["subjects"]),
        passed=int(row["passed"]),
        favourable=int(row["favourable"]),
        votes=int(row["votes"]),
        hidden=int(row.get("hidden", 0)),
    )


async def gather(uow: UnitOfWork, org: Org, today: date, locale: str) -> StatsForm:
    """The form for ``org`` and everything below it."""
    rows = await uow.exports.per_org_figures(org.id, today)
    totals = await uow.exports.scope_totals(org.id, rows)
    total = _line({**totals, "name": org.name, "code": org.code})
    lines = [_line(r) for r in rows] if len(rows) > 1 else []
    return StatsForm(locale, org.name, len(rows) > 1, today, total, lines)


def render_message(locale: str | None, form: StatsForm) -> str:
    """The form as a chat message (the totals; the file has the per-branch lines)."""
    total = form.total
    f = total.figures
    return "\n".join(
        [
            t(locale, "export.stats.title", org=form.org_name, date=form.as_of.isoformat()),
            t(
                locale,
                "export.stats.orgs",
                branches=total.branches,
                pledging=total.pledging_orgs,
            ),
            t(
                locale,
                "export.stats.members",
                members=total.members,
                pledging=total.pledging_members,
                share=percent(total.pledging_share),
            ),
            t(
                locale,
                "export.stats.items",
                items=f.items,
                fulfilled=f.fulfilled,
                rate=percent(f.rate),
                on_time=percent(f.on_time_rate),
                overdue=f.overdue,
            ),
            t(locale, "export.stats.issues", collected=total.suggestions, solved=total.solved),
            t(
                locale,
                "export.stats.evaluations",
                held=total.evaluations,
                voters=total.voters,
                satisfaction=percent(total.satisfaction),
                passed=total.passed,
                subjects=total.subjects,
            ),
            *(
                [t(locale, "export.stats.hidden", hidden=total.hidden, min=MIN_PUBLISHED_VOTES)]
                if total.hidden
                else []
            ),
        ]
    )
