"""Dunning: which reminder an overdue invoice is due for, and the letter that says so.

Levels escalate by days overdue: a first reminder from 7 days, a second from 21, a final
notice from 45 (:data:`DEFAULT_LEVELS`). An invoice only ever moves up, and a run sends the
*highest* level that is due and not yet sent, so an invoice found 50 days late that was
never reminded gets the final notice at once, not three letters on three days::

    >>> level_due(10, 0, DEFAULT_LEVELS).level      # 10 days late, nothing sent yet
    1
    >>> level_due(10, 1, DEFAULT_LEVELS) is None    # the first was sent; the second waits
    True
    >>> level_due(50, 1, DEFAULT_LEVELS).level      # jumps over level 2 to the final notice
    3

Each level has a title and a letter template per language (``en``, ``de``; any other
falls back to English). Templates are :class:`string.Template` text with ``$number``,
``$due_on``, ``$open``, ``$currency`` and ``$days``, filled in the customer's language::

    >>> values = LetterValues("INV-2026-0007", date(2026, 6, 15), Decimal("1190.00"), "EUR", 9)
    >>> "1.190,00 EUR" in letter_text(DEFAULT_LEVELS[0], values, "de")
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from string import Template
from types import MappingProxyType
from typing import Any

from crmledger.core.errors import InvalidFieldError

#: Placeholders a template may use.
PLACEHOLDERS = ("number", "due_on", "open", "currency", "days")
#: Longest title, in characters.
TITLE_MAX = 100
#: Longest letter template, in characters.
TEMPLATE_MAX = 10_000
FALLBACK_LANGUAGE = "en"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _frozen(texts: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(texts))


@dataclass(frozen=True, slots=True)
class DunningLevel:
    """One step of escalation: sent once an invoice is ``min_days_overdue`` days late.

    ``title`` and ``template`` map a language (``"en"``) to its text.
    """

    level: int
    min_days_overdue: int
    title: Mapping[str, str] = field(hash=False)
    template: Mapping[str, str] = field(hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "title", _frozen(self.title))
        object.__setattr__(self, "template", _frozen(self.template))

    def title_in(self, language: str | None) -> str:
        """The title in ``language`` (English when there is none in it)."""
        return text_in(self.title, language)


@dataclass(frozen=True, slots=True)
class LetterValues:
    """What a letter names: the invoice, its due date, what is open and how late it is."""

    number: str
    due_on: date
    open: Decimal
    currency: str
    days: int


_EN_1 = """Dear customer,

according to our records, invoice $number, due on $due_on, is still open: $open $currency, \
now $days days overdue.

This may simply have been overlooked. Please transfer the amount within the next 7 days. \
If you have paid in the meantime, please disregard this letter.

Kind regards"""

_DE_1 = """Sehr geehrte Damen und Herren,

nach unseren Unterlagen ist die Rechnung $number, fällig am $due_on, noch offen: \
$open $currency, seit $days Tagen überfällig.

Sicher handelt es sich um ein Versehen. Bitte überweisen Sie den Betrag innerhalb der \
nächsten 7 Tage. Sollten Sie inzwischen gezahlt haben, betrachten Sie dieses Schreiben \
bitte als gegenstandslos.

Mit freundlichen Grüßen"""

_EN_2 = """Dear customer,

despite our reminder we have not received payment of invoice $number, due on $due_on. \
$open $currency are now $days days overdue.

Please transfer the amount within 7 days. If there is a problem with the invoice, \
please contact us straight away.

Kind regards"""

_DE_2 = """Sehr geehrte Damen und Herren,

trotz unserer Zahlungserinnerung ist die Rechnung $number, fällig am $due_on, noch nicht \
beglichen. $open $currency sind seit $days Tagen überfällig.

Bitte überweisen Sie den Betrag innerhalb von 7 Tagen. Sollte es ein Problem mit der \
Rechnung geben, melden Sie sich bitte umgehend bei uns.

Mit freundlichen Grüßen"""

_EN_3 = """Dear customer,

invoice $number, due on $due_on, remains unpaid despite our reminders: $open $currency, \
$days days overdue.

This is our final notice. Unless the amount reaches us within 7 days, we will take \
further steps to collect it without further warning.

Kind regards"""

_DE_3 = """Sehr geehrte Damen und Herren,

die Rechnung $number, fällig am $due_on, ist trotz unserer Mahnungen weiterhin offen: \
$open $currency, seit $days Tagen überfällig.

Dies ist unsere letzte Mahnung. Geht der Betrag nicht innerhalb von 7 Tagen bei uns ein, \
leiten wir ohne weitere Ankündigung Schritte zur Einziehung der Forderung ein.

Mit freundlichen Grüßen"""

#: Reminder from 7 days, second reminder from 21, final notice from 45 days overdue.
DEFAULT_LEVELS: tuple[DunningLevel, ...] = (
    DunningLevel(
        1, 7, {"en": "Payment reminder", "de": "Zahlungserinnerung"}, {"en": _EN_1, "de": _DE_1}
    ),
    DunningLevel(2, 21, {"en": "Second reminder", "de": "Mahnung"}, {"en": _EN_2, "de": _DE_2}),
    DunningLevel(3, 45, {"en": "Final notice", "de": "Letzte Mahnung"}, {"en": _EN_3, "de": _DE_3}),
)


def level_due(
    days_overdue: int, last_level_sent: int, levels: Sequence[DunningLevel]
) -> DunningLevel | None:
    """The highest level due at ``days_overdue`` above ``last_level_sent`` (0: none sent),
    or ``None`` when nothing new is due."""
    due = [
        level
        for level in levels
        if level.min_days_overdue <= days_overdue and level.level > last_level_sent
    ]
    return max(due, key=lambda level: level.level) if due else None


def text_in(texts: Mapping[str, str], language: str | None) -> str:
    """The text of ``language`` (``"de-AT"`` reads ``"de"``), else English, else any."""
    wanted = (language or "").lower()
    for key in (wanted, wanted.split("-")[0], FALLBACK_LANGUAGE):
        if key in texts:
            return texts[key]
    return texts[min(texts)]


def _amount(value: Decimal, language: str) -> str:
    text = format(value, ",f")
    return text.translate(str.maketrans(",.", ".,")) if language == "de" else text


def _day(value: date, language: str) -> str:
    if language == "de":
        return f"{value.day:02d}.{value.month:02d}.{value.year}"
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def letter_text(level: DunningLevel, values: LetterValues, language: str | None = "en") -> str:
    """The letter of ``level`` in ``language`` with ``values`` filled in; dates and amounts
    are written the way that language writes them (``15.06.2026``, ``1.190,00``)."""
    template = text_in(level.template, language)
    lang = "de" if (language or "").lower().split("-")[0] == "de" else "en"
    return Template(template).substitute(
        number=values.number,
        due_on=_day(values.due_on, lang),
        open=_amount(values.open, lang),
        currency=values.currency,
        days=str(values.days),
    )


_SAMPLE = LetterValues("INV-2000-0001", date(2000, 1, 1), Decimal("1.00"), "EUR", 1)


def _check_texts(where: str, texts: Mapping[str, str], limit: int) -> None:
    if not texts:
        raise InvalidFieldError(where, "give a text for at least one language")
    for language, text in texts.items():
        if not isinstance(text, str) or not text.strip():
            raise InvalidFieldError(f"{where}.{language}", "the text must not be empty")
        if len(text) > limit:
            raise InvalidFieldError(f"{where}.{language}", f"longer than {limit} characters")


def _check_template(where: str, level: DunningLevel) -> None:
    for language in level.template:
        try:
            letter_text(level, _SAMPLE, language)
        except KeyError as unknown:
            raise InvalidFieldError(
                f"{where}.{language}",
                f"unknown placeholder ${unknown.args[0]}: use {', '.join(PLACEHOLDERS)}",
            ) from None
        except ValueError:
            raise InvalidFieldError(
                f"{where}.{language}", "a lone $ (write $$ for a dollar sign)"
            ) from None


def check_levels(levels: Sequence[DunningLevel]) -> tuple[DunningLevel, ...]:
    """``levels`` if they are numbered 1, 2, 3 ... with days overdue rising from at least 1,
    and every title and template is filled and fills in; else :class:`InvalidFieldError`."""
    if not levels:
        raise InvalidFieldError("dunning_levels", "give at least one level")
    previous = 0
    for index, level in enumerate(levels):
        where = f"dunning_levels[{index}]"
        if level.level != index + 1:
            raise InvalidFieldError(f"{where}.level", f"levels are numbered from 1: {index + 1}")
        if level.min_days_overdue <= previous:
            raise InvalidFieldError(
                f"{where}.min_days_overdue", f"must be more than {previous} days"
            )
        previous = level.min_days_overdue
        _check_texts(f"{where}.title", level.title, TITLE_MAX)
        _check_texts(f"{where}.template", level.template, TEMPLATE_MAX)
        _check_template(f"{where}.template", level)
    return tuple(levels)


def _texts(where: str, value: Any) -> dict[str, str]:
    if isinstance(value, str):
        return {FALLBACK_LANGUAGE: value}
    if isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        return dict(value)
    raise InvalidFieldError(where, "a text, or an object of texts by language")


def _whole(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidFieldError(where, "must be a whole number")
    return value


def levels_from_data(data: Any) -> tuple[DunningLevel, ...]:
    """Levels from decoded JSON: a list of ``{"level", "min_days_overdue", "title",
    "template"}`` objects, where a title or template is a text (English) or an object of
    texts by language; checked by :func:`check_levels`."""
    if not isinstance(data, list):
        raise InvalidFieldError("dunning_levels", "a list of levels")
    levels = []
    for index, item in enumerate(data):
        where = f"dunning_levels[{index}]"
        if not isinstance(item, dict):
            raise InvalidFieldError(
                where, "an object with level, min_days_overdue, title, template"
            )
        levels.append(
            DunningLevel(
                level=_whole(f"{where}.level", item.get("level")),
                min_days_overdue=_whole(f"{where}.min_days_overdue", item.get("min_days_overdue")),
                title=_texts(f"{where}.title", item.get("title")),
                template=_texts(f"{where}.template", item.get("template")),
            )
        )
    return check_levels(levels)


def levels_to_data(levels: Sequence[DunningLevel]) -> list[dict[str, Any]]:
    """``levels`` as JSON-ready data (what :func:`levels_from_data` reads back)."""
    return [
        {
            "level": level.level,
            "min_days_overdue": level.min_days_overdue,
            "title": dict(level.title),
            "template": dict(level.template),
        }
        for level in levels
    ]
