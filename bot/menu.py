"""Which commands each role may use: the single source for /help and the command menus.

A role's commands come in the order of ``GROUPS`` (what they are for), so the Telegram menu
and /help list them alike; /help shows them grouped, short enough for one phone screen.
"""

from __future__ import annotations

import unicodedata

from bot.domain.enums import Role
from bot.i18n import t

BASE = ("help", "mute", "lang", "cancel")
PLEDGER = ("pledge", "mypledges", "board", "progress", "record", "rectify", "export")
# rectify: 整改; export: tables and letters (bot/domain/exports.py)
STATS = ("stats",)  # charts: their own figures, or public aggregates (bot/domain/stats.py)
BROADCASTER = ("broadcast", "broadcasts")
REVIEWER = ("review", "ledger")
LEADER_REVIEWER = ("comment", "comments")  # 领导点评
EVALUATOR = ("evaluate", "evaluations")  # 群众评议 (bot/domain/evaluation.py)
SELECTOR = ("ranking", "assess")  # 上评下议 and 年度考评 (bot/domain/selection.py)

ROLE_COMMANDS: dict[Role | None, set[str]] = {
    None: {"start", "help"},  # not yet bound: the client's language serves until they join
    Role.RESIDENT: {"board", "suggest", "phone", *STATS, *BASE},
    Role.MEMBER: {*PLEDGER, "comments", "suggest", *STATS, *BASE},
    Role.LEADER: {*PLEDGER, *LEADER_REVIEWER, "suggest", *STATS, *BASE},
    Role.SECRETARY: {
        *PLEDGER,
        *REVIEWER,
        *STATS,
        *LEADER_REVIEWER,
        *SELECTOR,
        *EVALUATOR,
        "suggestions",  # 调研提诺: residents' suggestions to the branch
        "oral",
        "linkboard",
        *BROADCASTER,
        *BASE,
    },
    Role.COMMITTEE: {
        *PLEDGER,
        *REVIEWER,
        *STATS,
        *LEADER_REVIEWER,
        *SELECTOR,
        *EVALUATOR,
        "awards",  # 组织评选: committee staff confirm the awards
        "suggestions",
        "linkboard",
        *BROADCASTER,
        *BASE,
    },
}

# What the commands are for, in the order of the cycle (定诺 审诺 践诺 … 评诺), then the rest.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pledge", ("pledge", "mypledges", "oral", "board", "suggest", "suggestions")),
    ("review", ("review", "ledger")),
    ("fulfil", ("progress", "record", "rectify")),
    ("notice", ("broadcast", "broadcasts", "linkboard")),
    # 评诺: leader review, mass evaluation, rankings, the year-end assessment, awards
    # 评诺: leader review, mass evaluation, rankings, the year-end assessment, awards
    (
        "evaluate",
        ("comment", "comments", "evaluate", "evaluations", "phone", "ranking", "assess", "awards"),
    ),
    ("figures", ("stats", "export")),
    ("other", ("start", "help", "mute", "lang", "cancel")),
)

# A phone screen's line: about 18 Chinese characters (36 columns, a Chinese character is two).
LINE_COLUMNS = 36


def groups_for(role: Role | None) -> list[tuple[str, tuple[str, ...]]]:
    """The role's commands by what they are for; groups it has none of are left out."""
    mine = ROLE_COMMANDS[role]
    grouped = [(group, tuple(c for c in commands if c in mine)) for group, commands in GROUPS]
    return [(group, commands) for group, commands in grouped if commands]


def commands_for(role: Role | None) -> tuple[str, ...]:
    """The commands of a role, in menu order (the order of /help)."""
    return tuple(c for _, commands in groups_for(role) for c in commands)


def columns(text: str) -> int:
    """How wide ``text`` is on a screen: wide (Chinese) characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def help_lines(role: Role | None, locale: str | None) -> list[str]:
    """/help: a line per group ("承诺　/pledge 填写　/mypledges 我的"), continued under its
    heading when a phone's line is full."""
    gap, indent = t(locale, "help.gap"), t(locale, "help.indent")
    lines: list[str] = []
    for group, commands in groups_for(role):
        prefix, line = t(locale, f"help.group.{group}"), ""
        for command in commands:
            short = t(locale, f"help.short.{command}")
            # An English command often names itself; its label is then left out.
            entry = f"/{command}" if short == command else f"/{command} {short}"
            if line and columns(line + gap + entry) > LINE_COLUMNS:
                lines.append(line)
                prefix, line = indent, ""
            line = (line or prefix) + gap + entry
        lines.append(line)
    return lines
