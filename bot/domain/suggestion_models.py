"""Models of residents' suggestions (调研提诺), apart from the service to avoid import cycles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class SuggestionStatus(StrEnum):
    """A suggestion is open until the secretary marks it solved."""

    OPEN = "open"
    SOLVED = "solved"


class Suggestion(BaseModel):
    """One suggestion of a resident (or member) to a branch."""

    model_config = ConfigDict(frozen=True)

    id: int
    org_id: int
    author_id: int
    text: str
    status: SuggestionStatus = SuggestionStatus.OPEN
    item_id: int | None = None
    solved_by: int | None = None
    solved_at: datetime | None = None
    created_at: datetime
