"""Callback data: ``feature:action:id[:extra]``, built and parsed here, ≤ 64 bytes."""

from __future__ import annotations

from dataclasses import dataclass

MAX_BYTES = 64


@dataclass(frozen=True)
class Callback:
    """A parsed callback: feature, action and up to two arguments."""

    feature: str
    action: str
    args: tuple[str, ...]

    def int_arg(self, index: int) -> int:
        """An integer argument; ValueError if missing or malformed."""
        return int(self.args[index])


def build(feature: str, action: str, *args: object) -> str:
    """Join the parts; refuse anything Telegram would refuse."""
    data = ":".join([feature, action, *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def parse(data: str | None) -> Callback | None:
    """Split callback data; None for anything malformed."""
    if not data:
        return None
    parts = data.split(":")
    if len(parts) < 2:
        return None
    return Callback(parts[0], parts[1], tuple(parts[2:]))


def pattern(feature: str) -> str:
    """The regex that routes a feature's callbacks to its handler."""
    return rf"^{feature}:"


def actions_pattern(feature: str, *actions: str) -> str:
    """The regex that routes some of a feature's actions to one handler."""
    return rf"^{feature}:({'|'.join(actions)})(:|$)"


# Features
DRAFT = "pd"
REVIEW = "rv"
LANG = "lg"
LEADER_REVIEW = "lr"  # leader review (领导点评) and the rectification statement
RESIDENT_PHONE = "rp"  # a resident asks for the share-contact keyboard
EVALUATION = "ev"  # mass evaluation (群众评议)
RECTIFY = "rc"  # rectification (整改)
RANKING = "rk"  # rankings (上评下议)
AWARDS = "aw"  # organisational selection (组织评选)
ASSESS = "as"  # year-end assessment (年度考评)
STATS = "st"  # statistics and charts (/stats): st:o:<org id> picks an organisation
EXPORTS = "ex"  # exports (/export): tables, ledger, letters, statistics form
SUGGEST = "sg"  # residents' suggestions (调研提诺): /suggest and /suggestions
