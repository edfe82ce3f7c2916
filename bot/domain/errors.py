"""Errors a person can be told about: each carries a catalog key and its parameters."""

from __future__ import annotations

from datetime import date
from typing import Any


class DomainError(Exception):
    """A refused action, explained to the user in their language by the handler."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def render(self, locale: str | None) -> str:
        """The message for the user (roles and states named in the user's language)."""
        from bot.i18n import t

        return t(locale, self.key, **{k: _localized(locale, v) for k, v in self.params.items()})


def _localized(locale: str | None, value: Any) -> Any:
    """A role or a pledge state by its catalog name ('待审核', not 'submitted')."""
    from bot.domain.enums import PledgeStatus, Role
    from bot.i18n import t

    if isinstance(value, Role):
        return t(locale, f"role.{value.value}")
    if isinstance(value, PledgeStatus):
        return t(locale, f"status.{value.value}")
    if isinstance(value, date):  # 2027年6月5日 / 2027-06-05, as the reader writes dates
        from bot.domain.dates import format_date

        return format_date(value, locale)
    if isinstance(value, tuple) and value and all(isinstance(v, Role) for v in value):
        return "/".join(_localized(locale, v) for v in value)
    return value


class NotRegistered(DomainError):
    """The Telegram account is not bound to anyone on the roster."""

    def __init__(self) -> None:
        super().__init__("auth.not_registered")


class Forbidden(DomainError):
    """The person's role does not allow this."""

    def __init__(self, key: str = "auth.forbidden", **params: Any) -> None:
        super().__init__(key, **params)
