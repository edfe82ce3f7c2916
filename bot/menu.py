"""Which commands each role may use: the single source for /help and the command menus."""

from __future__ import annotations

from bot.domain.enums import Role

BASE = ("help", "mute", "lang", "cancel")
PLEDGER = ("pledge", "mypledges", "board", "progress", "record", "rectify", "export")
# rectify: 整改; export: tables and letters (bot/domain/exports.py)
STATS = ("stats",)  # charts: their own figures, or public aggregates (bot/domain/stats.py)
BROADCASTER = ("broadcast", "broadcasts")
REVIEWER = ("review", "ledger")
LEADER_REVIEWER = ("comment", "comments")  # 领导点评
EVALUATOR = ("evaluate", "evaluations")  # 群众评议 (bot/domain/evaluation.py)
SELECTOR = ("ranking", "assess")  # 上评下议 and 年度考评 (bot/domain/selection.py)

COMMANDS: dict[Role | None, tuple[str, ...]] = {
    None: ("start", "help"),  # not yet bound: the client's language serves until they join
    Role.RESIDENT: ("board", "suggest", "phone", *STATS, *BASE),
    Role.MEMBER: (*PLEDGER, "comments", "suggest", *STATS, *BASE),
    Role.LEADER: (*PLEDGER, *LEADER_REVIEWER, "suggest", *STATS, *BASE),
    Role.SECRETARY: (
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
    ),
    Role.COMMITTEE: (
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
    ),
}


def commands_for(role: Role | None) -> tuple[str, ...]:
    """The commands of a role, in menu order."""
    return COMMANDS[role]
