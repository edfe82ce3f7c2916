"""Plain-text rendering of pledges for chat: cards, board posts, change lists."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.domain.dates import format_date
from bot.domain.models import Pledge
from bot.i18n import t


def item_lines(locale: str | None, index: int, item: dict[str, Any]) -> list[str]:
    """One pledge item's lines: content, target, deadline and responsible person."""
    deadline = date.fromisoformat(item["deadline"])
    return [
        t(
            locale,
            "card.item",
            n=index,
            category=t(locale, f"category.{item['category']}"),
            content=item["content"],
        ),
        t(locale, "card.item.target", target=item["target"]),
        t(
            locale,
            "card.item.deadline",
            deadline=format_date(deadline, locale or "zh_CN"),
            responsible=item["responsible"],
        ),
    ]


def pledger_line(locale: str | None, pledger_name: str, org_name: str) -> str:
    """Who pledged: a member with their branch, or the branch itself (组织承诺), named once.

    A branch pledge's pledger is its organisation (``access.pledger_name``), so the two names
    are the same; published snapshots keep only the names, so the names decide.
    """
    if pledger_name == org_name:
        return t(locale, "card.pledger.branch", org=org_name)
    return t(locale, "card.pledger", name=pledger_name, org=org_name)


def render_items(locale: str | None, items: list[dict[str, Any]]) -> str:
    """The numbered item list."""
    lines: list[str] = []
    for index, item in enumerate(items, start=1):
        lines.extend(item_lines(locale, index, item))
    return "\n".join(lines) if lines else t(locale, "card.no_items")


def pledge_card(
    locale: str | None,
    pledge: Pledge,
    pledger_name: str,
    org_name: str,
    *,
    show_status: bool = True,
    show_cadre_gaps: bool = False,
) -> str:
    """A pledge as its pledger or reviewer sees it."""
    lines = [
        t(
            locale,
            "card.title",
            number=pledge.number or t(locale, "card.unnumbered"),
            horizon=t(locale, f"horizon.{pledge.horizon.value}")
            if pledge.horizon
            else t(locale, "horizon.unset"),
        ),
        pledger_line(locale, pledger_name, org_name),
    ]
    if pledge.is_oral:
        lines.append(t(locale, "card.oral"))
    if show_status:
        lines.append(t(locale, "card.status", status=t(locale, f"status.{pledge.status.value}")))
    if show_cadre_gaps and pledge.cadre_gaps:
        gaps = "、".join(t(locale, f"cadre.gap.{g}") for g in pledge.cadre_gaps)
        lines.append(t(locale, "card.cadre_flag", gaps=gaps))
    if pledge.last_comment and show_status:
        lines.append(t(locale, "card.comment", comment=pledge.last_comment))
    lines.append("")
    lines.append(render_items(locale, pledge.items_snapshot()))
    return "\n".join(lines)


def board_post(locale: str | None, snapshot: dict[str, Any]) -> str:
    """The publication post (亮诺) from the snapshot taken at approval."""
    lines = [
        t(locale, "board.post.title", number=snapshot["number"]),
        pledger_line(locale, snapshot["pledger_name"], snapshot["org_name"]),
        t(locale, "board.post.horizon", horizon=t(locale, f"horizon.{snapshot['horizon']}")),
    ]
    if snapshot.get("is_oral"):
        lines.append(t(locale, "card.oral"))
    if snapshot.get("amended"):
        lines.append(t(locale, "board.post.amended"))
    lines.append("")
    lines.append(render_items(locale, snapshot["items"]))
    return "\n".join(lines)


def _field_changes(locale: str | None, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    changed = []
    for field in ("category", "content", "target", "deadline", "responsible"):
        if old.get(field) != new.get(field):
            changed.append(t(locale, f"field.{field}"))
    return changed


def describe_changes(
    locale: str | None, old: list[dict[str, Any]] | None, new: list[dict[str, Any]]
) -> str | None:
    """What changed between two submissions, item by item; None at a first submission."""
    if old is None:
        return None
    lines: list[str] = []
    for index in range(max(len(old), len(new))):
        n = index + 1
        if index >= len(old):
            lines.append(t(locale, "changes.added", n=n, content=new[index]["content"]))
        elif index >= len(new):
            lines.append(t(locale, "changes.removed", n=n, content=old[index]["content"]))
        else:
            fields = _field_changes(locale, old[index], new[index])
            if fields:
                lines.append(t(locale, "changes.changed", n=n, fields="、".join(fields)))
    if not lines:
        return t(locale, "changes.none")
    return t(locale, "changes.title") + "\n" + "\n".join(lines)
