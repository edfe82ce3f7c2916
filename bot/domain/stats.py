"""统计图 (/stats): who sees which figures, read as SQL aggregates, drawn as charts.

A secretary gets their branch (items by status, fulfilment per pledger, monthly progress,
satisfaction per evaluation); a committee clerk their whole subtree with fulfilment per
branch. Members, liaison leaders and residents get the public aggregates of their own
organisation only (三公开: the board already shows every item and its progress, and evaluation
results are posted in the group) — never the per-person fulfilment chart, which, like the
ledger, is for those who verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, tzinfo
from enum import StrEnum

from bot import charts
from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.chat.actor import Actor
from bot.domain import access
from bot.domain.clock import Clock
from bot.domain.enums import OrgType, Role
from bot.domain.errors import DomainError, Forbidden
from bot.domain.models import Org, Person
from bot.domain.stats_models import EvaluationResult, PledgerFulfilment, StatusCounts
from bot.i18n import t
from storage.db import Database
from storage.uow import UnitOfWork

MONTHS = 12
EVALUATIONS_SHOWN = 20
CHOICES_SHOWN = 8
QUERY_CHARS = 40
CAPTION_LIMIT = 1024
ORG_TITLE_CHARS = 14


class Audience(StrEnum):
    """Which set of charts a person gets."""

    BRANCH = "branch"  # a secretary: their branch, per pledger
    DISTRICT = "district"  # a committee clerk: their subtree, per branch
    PUBLIC = "public"  # members, leaders, residents: public aggregates of their organisation


@dataclass(frozen=True)
class StatsFigures:
    """Everything the charts of one /stats need, read in one unit of work."""

    org: Org
    audience: Audience
    today: date
    tz: tzinfo
    status: StatusCounts
    fulfilment: list[PledgerFulfilment]
    months: list[tuple[int, int, int]]  # (year, month, progress entries), oldest first
    evaluations: list[EvaluationResult]  # oldest first, the latest EVALUATIONS_SHOWN
    evaluations_total: int


@dataclass(frozen=True)
class Chart:
    """One image to send, with its caption (≤ 1024 characters)."""

    kind: str
    png: bytes
    caption: str


def last_months(today: date, count: int = MONTHS) -> list[tuple[int, int]]:
    """(year, month) of the last ``count`` months, this month last."""
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return out[::-1]


def audience_of(me: Person) -> Audience:
    """Secretaries see their branch, committee staff (and admins) their subtree, everyone
    else the public aggregates of their organisation."""
    if me.role is Role.COMMITTEE or me.is_admin:
        return Audience.DISTRICT
    if me.role is Role.SECRETARY:
        return Audience.BRANCH
    return Audience.PUBLIC


@dataclass(frozen=True)
class OrgChoice:
    """Several organisations match a committee's ``/stats <name>``: pick one."""

    query: str
    matches: list[Org]
    total: int


def _is_committee(me: Person) -> bool:
    return me.role is Role.COMMITTEE or me.is_admin


class StatsService:
    """Reads the figures; permissions decided here by role and organisation."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def _today(self) -> date:
        return self.clock.now().astimezone(self.clock.tz).date()

    async def figures(self, actor: Actor, query: str | None = None) -> StatsFigures | OrgChoice:
        """``/stats [name]``: the figures the person may see. A committee clerk may name an
        organisation below them (part of its name, or its code) to see its charts; several
        matches come back as an OrgChoice. DomainError('stats.empty') when there is nothing
        to draw yet (no published items, no progress, no closed evaluation)."""
        query = " ".join((query or "").split())[:QUERY_CHARS]
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            own = await uow.orgs.get(me.org_id)
            if own is None:
                raise DomainError("stats.no_org")
            if not query or query in (own.name, own.code):
                return await self._read(uow, own, audience_of(me))
            if not _is_committee(me):
                raise Forbidden("stats.only_own")
            total, matches = await uow.stats.find_in_scope(own.id, query, CHOICES_SHOWN)
            if total == 0:
                raise DomainError("stats.no_match", query=query)
            if total > 1:
                return OrgChoice(query, matches, total)
            return await self._read(uow, matches[0], _audience_below(matches[0]))

    async def figures_of(self, actor: Actor, org_id: int) -> StatsFigures:
        """A committee clerk's chosen organisation below them (re-checked: buttons can be
        forged or stale)."""
        async with self.db.read() as uow:
            me = await access.person_of(uow, actor)
            if not _is_committee(me):
                raise Forbidden("stats.only_own")
            org = await uow.orgs.get(org_id)
            if org is None:
                raise DomainError("stats.no_such_org")
            if org.id == me.org_id:
                return await self._read(uow, org, audience_of(me))
            if not await uow.stats.in_scope(me.org_id, org.id):
                raise Forbidden("stats.not_in_scope")
            return await self._read(uow, org, _audience_below(org))

    async def _read(self, uow: UnitOfWork, org: Org, audience: Audience) -> StatsFigures:
        today = self._today()
        repo = uow.stats
        status = await repo.status_counts(org.id, today)
        if audience is Audience.DISTRICT:
            fulfilment = await repo.fulfilment_by_branch(org.id)
        elif audience is Audience.BRANCH:
            fulfilment = await repo.fulfilment_by_pledger(org.id)
        else:
            fulfilment = []
        ym = last_months(today)
        per_month = await repo.entries_per_month(org.id, [f"{y:04d}-{m:02d}" for y, m in ym])
        evaluations = await repo.closed_evaluations(org.id, charts.MIN_VOTES, EVALUATIONS_SHOWN)
        evaluations_total = (
            await repo.closed_evaluation_count(org.id)
            if len(evaluations) >= EVALUATIONS_SHOWN
            else len(evaluations)
        )
        months = [(y, m, per_month.get(f"{y:04d}-{m:02d}", 0)) for y, m in ym]
        if status.total == 0 and not any(c for _, _, c in months) and not evaluations:
            raise DomainError("stats.empty", org=org.name)
        return StatsFigures(
            org=org,
            audience=audience,
            today=today,
            tz=self.clock.tz,
            status=status,
            fulfilment=fulfilment,
            months=months,
            evaluations=evaluations[::-1],
            evaluations_total=evaluations_total,
        )


def _audience_below(org: Org) -> Audience:
    """What a committee clerk sees of an organisation below them: a branch per pledger, a
    lower committee per branch."""
    return Audience.DISTRICT if org.type is OrgType.COMMITTEE else Audience.BRANCH


def choice_buttons(locale: str | None, choice: OrgChoice) -> Rows:
    """One button per matching organisation (``st:o:<org id>``)."""
    return [
        [Button(charts.shorten(org.name, 20), action=action(features.STATS, "o", org.id))]
        for org in choice.matches
    ]


def choice_text(locale: str | None, choice: OrgChoice) -> str:
    """Which organisations match, and what to do when there are more than shown."""
    text = t(locale, "stats.choose", query=choice.query, count=choice.total)
    if choice.total > len(choice.matches):
        text += "\n" + t(locale, "stats.choose.more", shown=len(choice.matches))
    return text


# ---- drawing (pure: runs in a worker thread) ----------------------------------------------


def _percent(part: int, whole: int) -> str:
    return "—" if whole == 0 else f"{100 * part / whole:.1f}%"


def _fit(caption: str) -> str:
    return caption if len(caption) <= CAPTION_LIMIT else caption[: CAPTION_LIMIT - 1] + "…"


def _evaluation_label(
    locale: str | None, ev: EvaluationResult, audience: Audience, tz: tzinfo
) -> str:
    """Two lines: the branch (for a committee) or the kind of evaluation, then the day."""
    day = ev.closed_at.astimezone(tz).date() if ev.closed_at else None
    when = t(locale, "stats.eval.when", year=day.year, month=day.month, day=day.day) if day else ""
    if audience is Audience.DISTRICT:
        first = ev.org_name
    else:
        first = t(locale, f"stats.eval.kind.{ev.subject_kind}")
    return f"{first}\n{when}"


def render(locale: str | None, f: StatsFigures, pass_percent: float) -> list[Chart]:
    """The charts of /stats as PNG images with captions, in reading order."""
    org = charts.shorten(f.org.name, ORG_TITLE_CHARS)
    asof = t(locale, "stats.asof", date=f.today.isoformat())
    out: list[Chart] = []
    s = f.status
    if s.total:
        out.append(
            Chart(
                "status",
                charts.status_chart(
                    t(locale, "stats.title.status", org=org),
                    fulfilled=s.fulfilled,
                    in_progress=s.in_progress,
                    overdue=s.overdue,
                    claimed=s.claimed,
                    subtitle=asof,
                    locale=locale,
                ),
                _fit(
                    t(
                        locale,
                        "stats.caption.status",
                        org=f.org.name,
                        total=s.total,
                        fulfilled=s.fulfilled,
                        rate=_percent(s.fulfilled, s.total),
                        claimed=s.claimed,
                        in_progress=s.in_progress,
                        overdue=s.overdue,
                    )
                ),
            )
        )
    rows = [(r.name, r.fulfilled, r.total) for r in f.fulfilment]
    with_items = [r for r in rows if r[2] > 0]
    if with_items:
        district = f.audience is Audience.DISTRICT
        key = "branches" if district else "pledgers"
        cut = len(with_items) > charts.MAX_ROWS
        out.append(
            Chart(
                "fulfilment",
                charts.fulfilment_chart(
                    t(locale, f"stats.title.{key}", org=org), rows, subtitle=asof, locale=locale
                ),
                _fit(
                    t(locale, f"stats.caption.{key}", count=len(with_items))
                    + (t(locale, "stats.caption.cut", shown=charts.MAX_ROWS) if cut else "")
                    + (
                        t(locale, "stats.caption.no_items", count=len(rows) - len(with_items))
                        if len(rows) > len(with_items)
                        else ""
                    )
                ),
            )
        )
    total_entries = sum(c for _, _, c in f.months)
    if total_entries:
        this_month = f.months[-1][2] if f.months else 0
        out.append(
            Chart(
                "monthly",
                charts.monthly_activity_chart(
                    t(locale, "stats.title.monthly", org=org),
                    f.months,
                    subtitle=asof,
                    locale=locale,
                ),
                _fit(
                    t(
                        locale,
                        "stats.caption.monthly",
                        total=total_entries,
                        current=this_month,
                    )
                ),
            )
        )
    if f.evaluations:
        rows_ev = [
            (_evaluation_label(locale, ev, f.audience, f.tz), ev.good, ev.votes)
            for ev in f.evaluations
        ]
        older = f.evaluations_total - len(f.evaluations)
        out.append(
            Chart(
                "evaluations",
                charts.evaluations_chart(
                    t(locale, "stats.title.evaluations", org=org),
                    rows_ev,
                    pass_percent=pass_percent,
                    subtitle=asof,
                    locale=locale,
                ),
                _fit(
                    t(
                        locale,
                        "stats.caption.evaluations",
                        count=len(f.evaluations),
                        rate=f"{pass_percent:g}%",
                        min=charts.MIN_VOTES,
                    )
                    + (t(locale, "stats.caption.older", count=older) if older > 0 else "")
                ),
            )
        )
    return out


_ORG_SUFFIXES = ("党总支", "党支部", "党工委", "党委", "支部")


def _short_name(name: str) -> str:
    """A branch's name as people type it: 黄思村党总支 → 黄思村."""
    for suffix in _ORG_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def intro(locale: str | None, f: StatsFigures, count: int) -> str:
    """The text before the images: whose figures, as of when, what is missing."""
    lines = [t(locale, f"stats.intro.{f.audience.value}", org=f.org.name, count=count)]
    named = [r.name for r in sorted(f.fulfilment, key=lambda r: -r.total) if r.name]
    if f.audience is Audience.DISTRICT and named:
        lines.append(t(locale, "stats.hint.district", example=_short_name(named[0])))
    if not f.status.total:
        lines.append(t(locale, "stats.missing.items"))
    if not f.evaluations:
        lines.append(t(locale, "stats.missing.evaluations"))
    return "\n".join(lines)
