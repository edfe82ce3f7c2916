"""Which commands each role may use: the single source for /help and the command menus."""

from __future__ import annotations

from bot.domain.enums import Role

BASE = ("help", "mute", "lang", "cancel")
PLEDGER = ("pledge", "mypledges", "board", "progress", "record")
BROADCASTER = ("broadcast", "broadcasts")
REVIEWER = ("review", "ledger")

COMMANDS: dict[Role | None, tuple[str, ...]] = {
    None: ("start", "help"),  # not yet bound: the client's language serves until they join
    Role.RESIDENT: ("board", *BASE),
    Role.MEMBER: (*PLEDGER, *BASE),
    Role.LEADER: (*PLEDGER, *BASE),
    Role.SECRETARY: (*PLEDGER, *REVIEWER, "oral", "linkboard", *BROADCASTER, *BASE),
    Role.COMMITTEE: (*PLEDGER, *REVIEWER, "linkboard", *BROADCASTER, *BASE),
}


def commands_for(role: Role | None) -> tuple[str, ...]:
    """The commands of a role, in menu order."""
    return COMMANDS[role]
