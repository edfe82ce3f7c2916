"""The archive's tables in the reader's language: monthly records, leader reviews, evaluation
results, rectifications, rankings and awards (rows as storage/archive_repo.py reads them).

Every moment is shown as a date in the campaign's time zone. An evaluation subject under the
publication threshold shows no figure, only that it is not published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from bot.domain import dates
from bot.domain.ledger import percent
from bot.exports.models import Table
from bot.i18n import t
from storage.secrecy import MIN_PUBLISHED_VOTES


@dataclass(frozen=True)
class Context:
    """Who the tables are for: language, zone, the archive's organisation, its year, and the
    names of the organisations the rows belong to."""

    locale: str
    tz: tzinfo
    org_name: str
    year: int
    as_of: date
    org_names: dict[int, str]


def _day(moment: datetime | None, tz: tzinfo) -> date | None:
    return dates.local_date(moment, tz) if moment is not None else None


def _cols(loc: str, keys: Sequence[str]) -> list[str]:
    return [t(loc, f"archive.col.{key}") for key in keys]


def _subtitle(c: Context, count: int) -> str:
    return t(c.locale, "archive.subtitle", year=c.year, date=c.as_of.isoformat(), count=count)


def _title(c: Context, key: str) -> str:
    return t(c.locale, "archive.title", org=c.org_name, what=t(c.locale, key))


def monthly_records(c: Context, rows: Sequence[dict[str, Any]]) -> Table:
    """月度记实: each progress record of the year, by organisation, month and member."""
    loc = c.locale
    body = [
        [
            n,
            c.org_names.get(int(r["org_id"]), ""),
            r["month"],
            r["author"],
            r["number"] or "",
            r["content"],
            r["text"],
            t(loc, f"archive.verdict.{r['verdict']}")
            if r["claims_fulfilled"]
            else t(loc, "archive.verdict.note"),
            _day(r["created_at"], c.tz),
        ]
        for n, r in enumerate(rows, start=1)
    ]
    keys = ("n", "org", "month", "member", "number", "item", "record", "kind", "date")
    return Table(
        t(loc, "archive.sheet.records"),
        _title(c, "archive.what.records"),
        _subtitle(c, len(body)),
        _cols(loc, keys),
        (6, 16, 9, 10, 16, 30, 40, 14, 12),
        body,
    )


def monthly_summary(c: Context, rows: Sequence[dict[str, Any]]) -> Table:
    """月度记实汇总 (a committee's): records per organisation and month."""
    loc = c.locale
    body = [
        [
            n,
            c.org_names.get(int(r["org_id"]), ""),
            r["month"],
            int(r["entries"]),
            int(r["authors"]),
            int(r["claims"]),
        ]
        for n, r in enumerate(rows, start=1)
    ]
    keys = ("n", "org", "month", "entries", "authors", "claims")
    return Table(
        t(loc, "archive.sheet.records"),
        _title(c, "archive.what.records_summary"),
        _subtitle(c, len(body)),
        _cols(loc, keys),
        (6, 24, 10, 12, 12, 12),
        body,
    )


def leader_reviews(c: Context, rows: Sequence[dict[str, Any]]) -> Table:
    """领导点评: who reviewed whom, for which period, the grade, comment, points to rectify
    and the reviewed's statement."""
    loc = c.locale
    body = [
        [
            n,
            c.org_names.get(int(r["org_id"]), ""),
            r["subject"] or c.org_names.get(int(r["org_id"]), ""),
            r["reviewer"],
            r["period"],
            t(loc, f"lr.grade.{r['grade']}"),
            r["comment"],
            r["rectify_points"] or "",
            r["response"] or "",
            t(loc, "archive.yes") if r["published"] else t(loc, "archive.no"),
            _day(r["created_at"], c.tz),
        ]
        for n, r in enumerate(rows, start=1)
    ]
    keys = (
        "n",
        "org",
        "subject",
        "reviewer",
        "period",
        "grade",
        "comment",
        "rectify",
        "response",
        "published",
        "date",
    )
    return Table(
        t(loc, "archive.sheet.reviews"),
        _title(c, "archive.what.reviews"),
        _subtitle(c, len(body)),
        _cols(loc, keys),
        (6, 16, 12, 10, 10, 8, 36, 28, 28, 8, 12),
        body,
    )


def evaluation_results(c: Context, rows: Sequence[dict[str, Any]]) -> Table:
    """群众评议结果: per subject the tally and verdict when published; a subject under the
    threshold says so and shows nothing else."""
    loc = c.locale
    body: list[list[Any]] = []
    for n, r in enumerate(rows, start=1):
        org = c.org_names.get(int(r["org_id"]), "")
        subject = r["member"] or org
        base = [n, org, _day(r["closed_at"], c.tz), subject, r["valid_voters"] or 0]
        if not r["published"]:
            hidden = t(loc, "archive.eval.hidden", min=MIN_PUBLISHED_VOTES)
            body.append([*base, None, None, None, None, hidden])
            continue
        rate = percent((r["rate_permille"] or 0) / 1000)
        verdict = t(loc, "archive.eval.passed" if r["passed"] else "archive.eval.failed")
        body.append(
            [*base, int(r["satisfied"]), int(r["basic"]), int(r["unsatisfied"]), rate, verdict]
        )
    keys = (
        "n",
        "org",
        "closed",
        "subject",
        "voters",
        "satisfied",
        "basic",
        "unsatisfied",
        "rate",
        "verdict",
    )
    return Table(
        t(loc, "archive.sheet.evaluations"),
        _title(c, "archive.what.evaluations"),
        t(loc, "archive.eval.subtitle", year=c.year, min=MIN_PUBLISHED_VOTES),
        _cols(loc, keys),
        (6, 16, 12, 14, 10, 8, 8, 8, 10, 24),
        body,
    )


def rectifications(c: Context, rows: Sequence[dict[str, Any]]) -> Table:
    """整改: each plan (goals, measures, deadline), its status and the decision on it."""
    loc = c.locale
    body = [
        [
            n,
            c.org_names.get(int(r["org_id"]), ""),
            r["member"] or c.org_names.get(int(r["org_id"]), ""),
            t(loc, f"archive.rect.kind.{r['kind']}"),
            int(r["round"]),
            t(loc, f"archive.rect.status.{r['status']}"),
            r["goals"] or "",
            r["measures"] or "",
            r["deadline"],
            r["reviewer"] or "",
            r["review_comment"] or "",
            _day(r["created_at"], c.tz),
            _day(r["submitted_at"], c.tz),
            _day(r["accepted_at"] or r["closed_at"], c.tz),
        ]
        for n, r in enumerate(rows, start=1)
    ]
    keys = (
        "n",
        "org",
        "subject",
        "rect_kind",
        "round",
        "status",
        "goals",
        "measures",
        "deadline",
        "reviewer",
        "decision",
        "begun",
        "submitted",
        "decided",
    )
    return Table(
        t(loc, "archive.sheet.rectifications"),
        _title(c, "archive.what.rectifications"),
        _subtitle(c, len(body)),
        _cols(loc, keys),
        (6, 16, 12, 12, 6, 12, 30, 30, 12, 10, 28, 12, 12, 12),
        body,
    )


def rankings_and_awards(
    c: Context, rankings: Sequence[dict[str, Any]], awards: Sequence[dict[str, Any]]
) -> list[Table]:
    """排名与评选: the published rankings row by row, then the awards and their decisions."""
    loc = c.locale
    ranked: list[list[Any]] = []
    for r in rankings:
        kind = t(loc, f"archive.ranking.{r['kind']}")
        scope = c.org_names.get(int(r["org_id"]), "")
        for row in r["rows"]:
            due = int(row.get("due") or 0)
            fulfilled = int(row.get("fulfilled") or 0)
            satisfaction = row.get("satisfaction_permille")
            ranked.append(
                [
                    len(ranked) + 1,
                    scope,
                    kind,
                    r["period"],
                    row.get("position"),
                    row.get("name", ""),
                    row.get("org_name", ""),
                    percent(fulfilled / due if due else None),
                    percent(satisfaction / 1000 if satisfaction is not None else None),
                    row.get("score"),
                ]
            )
    awarded = [
        [
            n,
            t(loc, f"selection.award.kind.{a['kind']}"),
            a["member"] or a["branch"],
            a["branch"],
            t(loc, f"selection.awards.status.{a['status']}"),
            a["decider"] or "",
            _day(a["decided_at"], c.tz),
        ]
        for n, a in enumerate(awards, start=1)
    ]
    rank_keys = (
        "n",
        "scope",
        "ranking",
        "period",
        "position",
        "subject",
        "org",
        "fulfilment",
        "satisfaction",
        "score",
    )
    award_keys = ("n", "award", "subject", "org", "status", "decider", "decided")
    return [
        Table(
            t(loc, "archive.sheet.rankings"),
            _title(c, "archive.what.rankings"),
            _subtitle(c, len(ranked)),
            _cols(loc, rank_keys),
            (6, 16, 12, 10, 6, 14, 16, 10, 10, 8),
            ranked,
        ),
        Table(
            t(loc, "archive.sheet.awards"),
            _title(c, "archive.what.awards"),
            _subtitle(c, len(awarded)),
            _cols(loc, award_keys),
            (6, 14, 14, 16, 10, 10, 12),
            awarded,
        ),
    ]
