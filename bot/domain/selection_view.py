"""Rendering of rankings, awards and assessments: texts under Telegram's limits and buttons.

Callback data (feature:action:args, ≤ 64 bytes):
  rk:pg:<page> · rk:ask:<m|b>:<period> · rk:ok:<m|b>:<period> · rk:no
  aw:pg:<year>:<page> · aw:pr:<year> · aw:ok|rj:<award>:<version>:<page> · aw:an:<year>
  as:l:<page> · as:c:<m|b>:<subject> · as:g|ok:<m|b>:<subject>:<year>:<grade letters> · as:x
"""

from __future__ import annotations

from datetime import date

from bot.chat import features
from bot.chat.actions import Button, Rows, action
from bot.domain.models import Org
from bot.domain.notify import TEXT_LIMIT
from bot.domain.selection import (
    AWARDS_PAGE,
    AssessCard,
    AssessList,
    AwardsView,
    RankingView,
    period_end,
    period_months,
    period_year,
)
from bot.domain.selection_models import (
    DIMENSIONS,
    GRADE_LETTERS,
    LETTER_OF,
    Assessment,
    AssessmentGrade,
    Award,
    AwardKind,
    AwardStatus,
    SubjectFigures,
    SubjectKind,
    Weights,
)
from bot.i18n import t

Buttons = Rows
NAME_CHARS = 16

KIND_LETTER = {SubjectKind.MEMBER: "m", SubjectKind.BRANCH: "b"}
LETTER_KIND = {letter: kind for kind, letter in KIND_LETTER.items()}


def _button(text: str, feature: str, name: str, *args: object) -> Button:
    return Button(text, action=action(feature, name, *args))


def _short(text: str, limit: int = NAME_CHARS) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _fit(lines: list[str]) -> str:
    text = "\n".join(lines)
    if len(text) <= TEXT_LIMIT:
        return text
    cut = text.rfind("\n", 0, TEXT_LIMIT - 2)
    return text[: cut if cut > 0 else TEXT_LIMIT - 2] + "\n…"


def pct(locale: str | None, value: float | None) -> str:
    """87.5%, or 暂无 when there is nothing to measure."""
    return t(locale, "selection.none") if value is None else f"{value:.1f}%"


def score_text(locale: str | None, value: float | None) -> str:
    """92.3, or 暂无."""
    return t(locale, "selection.none") if value is None else f"{value:.1f}"


def grade_text(locale: str | None, grade: str | None) -> str:
    """好 / 较好 / 一般 / 差, or 暂无."""
    return t(locale, "selection.none") if grade is None else t(locale, f"selection.grade.{grade}")


def period_label(locale: str | None, period: str) -> str:
    """2026年10月 / 2026年9–10月 (or 2026-10 / Sep–Oct 2026)."""
    first, last = period_months(period)
    return t(
        locale,
        "selection.period.month" if first == last else "selection.period.pair",
        year=period_year(period),
        first=first,
        last=last,
    )


def weights_line(locale: str | None, w: Weights) -> str:
    """The weights as people read them."""
    total = w.fulfilment + w.on_time + w.grade + w.satisfaction or 1.0
    return t(
        locale,
        "selection.weights",
        f=round(100 * w.fulfilment / total),
        o=round(100 * w.on_time / total),
        g=round(100 * w.grade / total),
        s=round(100 * w.satisfaction / total),
    )


def due_rate(locale: str | None, f: SubjectFigures) -> str:
    """3/4 项 75.0% (fulfilled of the due items), or 暂无 while nothing is due."""
    if not f.due:
        return t(locale, "selection.none")
    return t(
        locale,
        "selection.due_rate",
        fulfilled=f.fulfilled,
        due=f.due,
        rate=pct(locale, f.fulfilment),
    )


def figures_line(locale: str | None, f: SubjectFigures) -> str:
    """兑现 …｜按时 …｜点评 …｜满意度 …."""
    return t(
        locale,
        "selection.figures",
        fulfilment=due_rate(locale, f),
        on_time=pct(locale, f.on_time_rate),
        grade=grade_text(locale, f.grade),
        satisfaction=pct(locale, f.satisfaction),
    )


def _row_lines(locale: str | None, f: SubjectFigures) -> list[str]:
    if f.score is None:  # nothing measured yet: one short line, listed last
        return [t(locale, "selection.rank.row.none", name=_short(f.name))]
    place = str(f.position) if f.position is not None else "—"
    return [
        t(
            locale,
            "selection.rank.row",
            place=place,
            name=_short(f.name),
            score=score_text(locale, f.score),
        ),
        "   " + figures_line(locale, f),
    ]


def _rows(locale: str | None, rows: list[SubjectFigures]) -> list[str]:
    """The ranked rows, then apart under their own heading those with nothing to score."""
    lines: list[str] = []
    apart = False
    for f in rows:
        if f.score is None and not apart:
            lines += ["", t(locale, "selection.rank.unscored")]
            apart = True
        lines += _row_lines(locale, f)
    return lines


def _title(locale: str | None, kind: SubjectKind, org: Org, period: str) -> str:
    return t(
        locale,
        f"selection.rank.title.{kind.value}",
        org=org.name,
        period=period_label(locale, period),
    )


# ---- rankings ------------------------------------------------------------------------------


def ranking_text(locale: str | None, view: RankingView) -> tuple[str, Buttons]:
    """/ranking: the current figures, one page, with the publish button."""
    lines = [
        _title(locale, view.kind, view.org, view.period),
        t(
            locale,
            "selection.rank.asof",
            date=period_end(view.period).isoformat(),
            year=period_year(view.period),
            page=view.page + 1,
            pages=view.pages,
        ),
        weights_line(locale, view.weights),
        "",
    ]
    if not view.rows:
        lines.append(t(locale, f"selection.rank.empty.{view.kind.value}"))
    lines += _rows(locale, view.rows)
    buttons: Buttons = []
    nav = []
    if view.page > 0:
        nav.append(_button(t(locale, "selection.btn.prev"), features.RANKING, "pg", view.page - 1))
    if view.page < view.pages - 1:
        nav.append(_button(t(locale, "selection.btn.next"), features.RANKING, "pg", view.page + 1))
    if nav:
        buttons.append(nav)
    lines.append("")
    if view.published is not None:
        when = view.published.published_at.strftime("%Y-%m-%d")
        lines.append(t(locale, "selection.rank.published", date=when))
    elif view.total:
        lines.append(t(locale, "selection.rank.can_publish"))
        buttons.append(
            [
                _button(
                    t(locale, "selection.btn.publish"),
                    features.RANKING,
                    "ask",
                    KIND_LETTER[view.kind],
                    view.period,
                )
            ]
        )
    return _fit(lines), buttons


def publish_confirm(locale: str | None, kind: SubjectKind, period: str) -> tuple[str, Buttons]:
    """The question before publishing."""
    text = t(locale, f"selection.rank.confirm.{kind.value}", period=period_label(locale, period))
    return text, [
        [
            _button(
                t(locale, "selection.btn.confirm_publish"),
                features.RANKING,
                "ok",
                KIND_LETTER[kind],
                period,
            ),
            _button(t(locale, "selection.btn.cancel"), features.RANKING, "no"),
        ]
    ]


def board_text(
    locale: str | None,
    kind: SubjectKind,
    org: Org,
    period: str,
    rows: list[SubjectFigures],
    today: date,
    limit: int,
) -> str:
    """The published ranking as posted in the board group (long lists are split on send)."""
    shown = rows if kind is SubjectKind.MEMBER else rows[:limit]
    lines = [
        "📊 " + _title(locale, kind, org, period),
        t(locale, "selection.board.asof", date=period_end(period).isoformat()),
        "",
    ]
    lines += _rows(locale, shown)
    if len(shown) < len(rows):
        lines += ["", t(locale, "selection.board.more", shown=len(shown), total=len(rows))]
    return "\n".join(lines)


def secretary_place_text(
    locale: str | None, committee: Org, period: str, row: SubjectFigures, total: int
) -> str:
    """A branch secretary hears the branch's place in the committee's ranking."""
    place = str(row.position) if row.position is not None else "—"
    return "\n".join(
        [
            t(
                locale,
                "selection.board.your_place",
                committee=committee.name,
                period=period_label(locale, period),
                branch=row.name,
                place=place,
                total=total,
                score=score_text(locale, row.score),
            ),
            figures_line(locale, row),
        ]
    )


# ---- awards --------------------------------------------------------------------------------


def award_name(locale: str | None, kind: AwardKind) -> str:
    """践诺明星党员 / 优秀党员 / 先进党组织."""
    return t(locale, f"selection.award.kind.{kind.value}")


def _award_figures(locale: str | None, award: Award) -> str:
    figures = SubjectFigures(
        subject_id=int(award.figures.get("id", 0)),
        name=str(award.figures.get("name", "")),
        org_id=award.org_id,
        org_name=str(award.figures.get("org_name", "")),
        items=int(award.figures.get("items", 0)),
        due=int(award.figures.get("due", award.figures.get("items", 0))),
        fulfilled=int(award.figures.get("fulfilled", 0)),
        on_time=int(award.figures.get("on_time", 0)),
        grade=award.figures.get("grade"),
        satisfaction_permille=(
            round(award.figures["satisfaction"] * 10)
            if award.figures.get("satisfaction") is not None
            else None
        ),
    )
    return figures_line(locale, figures)


def awards_text(locale: str | None, view: AwardsView) -> tuple[str, Buttons]:
    """/awards: counts, one page of candidates with ✅ / ❌ per undecided one."""
    c = view.counts
    lines = [
        t(locale, "selection.awards.title", org=view.org.name, year=view.year),
        t(
            locale,
            "selection.awards.counts",
            proposed=c.get(AwardStatus.PROPOSED, 0),
            confirmed=c.get(AwardStatus.CONFIRMED, 0),
            rejected=c.get(AwardStatus.REJECTED, 0),
        ),
        "",
    ]
    buttons: Buttons = []
    if not view.awards:
        lines.append(t(locale, "selection.awards.empty"))
    start = view.page * AWARDS_PAGE
    for n, award in enumerate(view.awards, start=start + 1):
        name = str(award.figures.get("name", ""))
        org_name = str(award.figures.get("org_name", ""))
        where = "" if award.kind is AwardKind.ADVANCED_BRANCH else f"（{_short(org_name, 14)}）"
        lines.append(
            t(
                locale,
                "selection.awards.row",
                n=n,
                award=award_name(locale, award.kind),
                name=_short(name),
                where=where,
                status=t(locale, f"selection.awards.status.{award.status.value}"),
            )
        )
        lines.append(
            "   "
            + _award_figures(locale, award)
            + t(
                locale,
                "selection.awards.score",
                score=score_text(locale, award.figures.get("score")),
            )
        )
        if award.status is AwardStatus.PROPOSED:
            buttons.append(
                [
                    _button(
                        t(locale, "selection.btn.confirm_n", n=n, name=_short(name, 8)),
                        features.AWARDS,
                        "ok",
                        award.id,
                        award.version,
                        view.page,
                    ),
                    _button(
                        t(locale, "selection.btn.reject_n", n=n),
                        features.AWARDS,
                        "rj",
                        award.id,
                        award.version,
                        view.page,
                    ),
                ]
            )
    nav = []
    if view.page > 0:
        nav.append(
            _button(
                t(locale, "selection.btn.prev"), features.AWARDS, "pg", view.year, view.page - 1
            )
        )
    if view.page < view.pages - 1:
        nav.append(
            _button(
                t(locale, "selection.btn.next"), features.AWARDS, "pg", view.year, view.page + 1
            )
        )
    if nav:
        buttons.append(nav)
    actions = [_button(t(locale, "selection.btn.propose"), features.AWARDS, "pr", view.year)]
    if view.to_announce:
        actions.append(
            _button(
                t(locale, "selection.btn.announce", count=view.to_announce),
                features.AWARDS,
                "an",
                view.year,
            )
        )
    buttons.append(actions)
    lines += ["", t(locale, "selection.awards.hint")]
    return _fit(lines), buttons


def award_board_text(locale: str | None, committee: str, year: int, awards: list[Award]) -> str:
    """The announcement (喜报) in a board group."""
    lines = [t(locale, "selection.award.board.title", committee=committee, year=year)]
    for kind in AwardKind:
        names = [
            str(a.figures.get("name", ""))
            + ("" if kind is AwardKind.ADVANCED_BRANCH else f"（{a.figures.get('org_name', '')}）")
            for a in awards
            if a.kind is kind
        ]
        if names:
            lines += ["", f"【{award_name(locale, kind)}】", "、".join(names)]
    lines += ["", t(locale, "selection.award.board.end")]
    return "\n".join(lines)


# ---- assessments --------------------------------------------------------------------------


def assessment_grade(locale: str | None, grade: str) -> str:
    """优秀 / 合格 / 基本合格 / 不合格."""
    return t(locale, f"selection.assess.grade.{grade}")


def assess_list_text(locale: str | None, view: AssessList) -> tuple[str, Buttons]:
    """/assess: the subjects, a button each (✓ with the grade when already assessed)."""
    lines = [
        t(
            locale,
            f"selection.assess.title.{view.kind.value}",
            org=view.org.name,
            year=view.year,
            page=view.page + 1,
            pages=view.pages,
        ),
        t(
            locale,
            "selection.assess.progress",
            done=sum(1 for _, _, g in view.subjects if g),
            shown=len(view.subjects),
            total=view.total,
        ),
    ]
    if not view.subjects:
        lines.append(t(locale, f"selection.assess.empty.{view.kind.value}"))
    buttons: Buttons = []
    for subject_id, name, grade in view.subjects:
        label = (
            t(
                locale,
                "selection.btn.assessed",
                name=_short(name),
                grade=assessment_grade(locale, grade),
            )
            if grade
            else t(locale, "selection.btn.assess", name=_short(name))
        )
        buttons.append([_button(label, features.ASSESS, "c", KIND_LETTER[view.kind], subject_id)])
    nav = []
    if view.page > 0:
        nav.append(_button(t(locale, "selection.btn.prev"), features.ASSESS, "l", view.page - 1))
    if view.page < view.pages - 1:
        nav.append(_button(t(locale, "selection.btn.next"), features.ASSESS, "l", view.page + 1))
    if nav:
        buttons.append(nav)
    return _fit(lines), buttons


def _card_head(locale: str | None, card: AssessCard) -> list[str]:
    f = card.figures
    who = f.name if card.kind is SubjectKind.BRANCH else f"{f.name}（{f.org_name}）"
    grade_line = grade_text(locale, f.grade)
    if f.grade is not None and f.grade_period:
        grade_line += f"（{f.grade_period}）"
    return [
        t(locale, "selection.assess.card", name=who, year=card.year),
        t(
            locale,
            "selection.assess.card.items",
            items=f.items,
            due=f.due,
            fulfilled=f.fulfilled,
            fulfilment=pct(locale, f.fulfilment),
            on_time=pct(locale, f.on_time_rate),
        ),
        t(locale, "selection.assess.card.grade", grade=grade_line),
        t(locale, "selection.assess.card.satisfaction", satisfaction=pct(locale, f.satisfaction)),
        t(locale, "selection.assess.card.score", score=score_text(locale, f.score)),
    ]


def _chosen_lines(locale: str | None, letters: str) -> list[str]:
    lines = []
    for index, letter in enumerate(letters):
        label = (
            t(locale, f"selection.assess.dim.{DIMENSIONS[index].value}")
            if index < len(DIMENSIONS)
            else t(locale, "selection.assess.overall")
        )
        lines.append(f"✔ {label}：{assessment_grade(locale, GRADE_LETTERS[letter].value)}")
    return lines


def assess_card_text(locale: str | None, card: AssessCard, letters: str) -> tuple[str, Buttons]:
    """The card with the figures and the next step (a grade per dimension, then overall)."""
    lines = _card_head(locale, card)
    k = KIND_LETTER[card.kind]
    sid = card.figures.subject_id
    if card.existing is not None:
        lines += ["", t(locale, "selection.assess.already")]
        lines.append(assessment_summary(locale, card.existing))
        return _fit(lines), []
    lines += ["", *_chosen_lines(locale, letters)]
    steps = len(DIMENSIONS) + 1
    if len(letters) < steps:
        step = len(letters)
        label = (
            t(locale, f"selection.assess.dim.{DIMENSIONS[step].value}")
            if step < len(DIMENSIONS)
            else t(locale, "selection.assess.overall")
        )
        lines.append(t(locale, "selection.assess.ask", step=step + 1, steps=steps, label=label))
        choices = [
            _button(
                assessment_grade(locale, grade.value),
                features.ASSESS,
                "g",
                k,
                sid,
                card.year,
                letters + LETTER_OF[grade],
            )
            for grade in AssessmentGrade
        ]
        return _fit(lines), [choices[:2], choices[2:], [_cancel(locale)]]
    lines.append(t(locale, "selection.assess.check"))
    return _fit(lines), [
        [
            _button(
                t(locale, "selection.btn.save"), features.ASSESS, "ok", k, sid, card.year, letters
            ),
            _button(t(locale, "selection.btn.redo"), features.ASSESS, "c", k, sid),
        ],
        [_cancel(locale)],
    ]


def _cancel(locale: str | None) -> Button:
    return _button(t(locale, "selection.btn.cancel"), features.ASSESS, "x")


def assessment_summary(locale: str | None, a: Assessment) -> str:
    """The four dimensions and the overall grade."""
    parts = [
        t(locale, f"selection.assess.dim.{d.value}")
        + "："
        + assessment_grade(locale, a.dimensions[d.value].value)
        for d in DIMENSIONS
        if d.value in a.dimensions
    ]
    overall = t(locale, "selection.assess.overall")
    return "\n".join([*parts, f"{overall}：{assessment_grade(locale, a.grade.value)}"])


def assessment_text(locale: str | None, a: Assessment, *, for_subject: bool) -> str:
    """What the assessed member (or the branch's secretary) is told, or the saved summary."""
    name = str(a.figures.get("name", ""))
    key = "selection.assess.told" if for_subject else "selection.assess.saved"
    return "\n".join(
        [
            t(locale, key, name=name, year=a.year, grade=assessment_grade(locale, a.grade.value)),
            assessment_summary(locale, a),
        ]
    )
