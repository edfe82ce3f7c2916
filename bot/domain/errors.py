"""Errors a person can be told about: each carries a catalog key and its parameters."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused action, explained to the user in their language by the handler."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params

    def render(self, locale: str | None) -> str:
        """The message for the user."""
        from bot.i18n import t

        return t(locale, self.key, **self.params)


class NotRegistered(DomainError):
    """The Telegram account is not bound to anyone on the roster."""

    def __init__(self) -> None:
        super().__init__("auth.not_registered")


class Forbidden(DomainError):
    """The person's role does not allow this."""

    def __init__(self, key: str = "auth.forbidden", **params: Any) -> None:
        super().__init__(key, **params)
