"""The domain's errors: one base class, each error carrying a Vietnamese message for people.

Every error names what is wrong in Vietnamese (`message`, shown to officers and citizens)
and, where one field is at fault, that field (`field`), so the HTTP layer and the command
line can report it without parsing text. Code, logs and comments stay in English.
"""

from __future__ import annotations

import unicodedata


class DossierError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        message = unicodedata.normalize("NFC", message)
        super().__init__(message)
        self.message = message
        self.field = field


class UnknownProcedure(DossierError):
    """No procedure with that code (or none in force on that date) is in the catalogue."""


class CatalogueInvalid(DossierError):
    """A catalogue data file breaks its own schema: a packaging or editing mistake."""


class CalendarInvalid(DossierError):
    """An override table for the working-day calendar is malformed."""


class InvalidCode(DossierError):
    """A dossier code (provisional or official) is malformed or cannot be allocated."""


class ValidationFailed(DossierError):
    """Input data failed validation; `errors` lists every field at fault, not just the first."""

    def __init__(self, errors: list[FieldProblem]) -> None:
        self.errors = errors
        super().__init__("; ".join(e.message for e in errors))


class FieldProblem:
    """One field at fault: its machine name, its Vietnamese label and what is wrong."""

    __slots__ = ("field", "label", "message")

    def __init__(self, field: str, label: str, problem: str) -> None:
        self.field = field
        self.label = label
        self.message = unicodedata.normalize("NFC", f"{label}: {problem}")

    def __repr__(self) -> str:
        return f"FieldProblem({self.field!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldProblem) and (self.field, self.message) == (
            other.field,
            other.message,
        )

    def __hash__(self) -> int:
        return hash((self.field, self.message))
