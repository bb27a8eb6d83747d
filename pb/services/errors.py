"""The one error type of the domain: which rule was broken, said per form field.

Services raise :class:`DomainError` with lazy (untranslated) messages; the web layer puts each
message next to its field (``pb.web.domain_errors``), the command line prints them. A service
never evaluates a translation, so it runs without a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FORM = ""  # the key of messages about the whole form rather than one field


class DomainError(ValueError):
    """One or more broken rules, keyed by the field they are about (``FORM`` for the whole form)."""

    def __init__(
        self,
        message: Any = None,
        *,
        field: str = FORM,
        errors: Mapping[str, Iterable[Any]] | None = None,
    ) -> None:
        collected: dict[str, list[Any]] = {}
        if message is not None:
            collected[field] = [message]
        for name, messages in (errors or {}).items():
            collected.setdefault(name, []).extend(messages)
        if not collected:
            raise TypeError("DomainError needs a message or errors")
        self.errors = collected
        first_field = next(iter(collected))
        self.field = first_field
        self.message = collected[first_field][0]
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)

    def messages(self) -> list[str]:
        """Every message, evaluated (in the current language when one is active)."""
        return [str(message) for messages in self.errors.values() for message in messages]


@dataclass(frozen=True)
class Money:
    """An amount in a message's parameters, formatted when the message is shown, in the reader's language."""

    cents: int
    currency: str = "CAD"

    def __str__(self) -> str:
        from flask import has_app_context

        from pb.i18n import money

        if not has_app_context():  # the command line, a test
            return f"{self.cents // 100}.{self.cents % 100:02d} {self.currency}"
        return money(self.cents, self.currency)
