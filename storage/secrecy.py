"""The ballot's secrecy in aggregates: one rule for every figure built from evaluation tallies.

A subject's result is published only from ``MIN_PUBLISHED_VOTES`` valid votes. A hidden result
must not be recoverable by subtraction either: every sum, count or rate over subjects (the
statistics form, charts, rankings, awards, assessments, the web board) takes only published
subjects, so a total minus the published per-subject results it covers is always zero.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, func

MIN_PUBLISHED_VOTES = 5  # fewer valid votes for a subject: its result is never shown


def valid_votes(subjects: Table | Any) -> ColumnElement[Any]:
    """满意 + 基本满意 + 不满意 of an ``evaluation_subjects`` row (NULL counts as 0)."""
    c = subjects.c
    return (
        func.coalesce(c.satisfied, 0) + func.coalesce(c.basic, 0) + func.coalesce(c.unsatisfied, 0)
    )


def favourable_votes(subjects: Table | Any) -> ColumnElement[Any]:
    """满意 + 基本满意 of an ``evaluation_subjects`` row."""
    c = subjects.c
    return func.coalesce(c.satisfied, 0) + func.coalesce(c.basic, 0)


def is_published(subjects: Table | Any) -> ColumnElement[bool]:
    """Whether the subject's result may be shown (and counted in any aggregate)."""
    return valid_votes(subjects) >= MIN_PUBLISHED_VOTES
