"""Errors of the business calendar.

Validation errors carry a list of :class:`Issue` so that the settings UI can point at the exact entry
(which field, which date) and say why, in Russian first and English second.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Issue:
    """One problem found while validating calendar overrides or a work schedule.

    ``field`` is the settings key (``"add_holidays"``, ``"hours"``, ``"exceptions.2026-03-06"``),
    ``value`` the offending entry as written, ``code`` a stable machine code
    (``"invalid_date"``, ``"not_a_holiday"`` ...), ``message`` Russian and ``message_en`` English text.
    """

    field: str
    value: str
    code: str
    message: str
    message_en: str

    def to_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "value": self.value,
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }


class CalendarValidationError(ValueError):
    """Calendar overrides or a work schedule are invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[Issue] | tuple[Issue, ...]):
        self.issues: tuple[Issue, ...] = tuple(issues)
        text = "; ".join(f"{i.field}: {i.value}: {i.message}" for i in self.issues)
        super().__init__(text or "invalid calendar settings")

    def to_list(self) -> list[dict[str, str]]:
        return [i.to_dict() for i in self.issues]


class NaiveDatetimeError(ValueError):
    """A datetime without a time zone was given where an aware one is required."""


class NoWorkingTimeError(ValueError):
    """The schedule has no working time within the search horizon (e.g. no working weekdays)."""
