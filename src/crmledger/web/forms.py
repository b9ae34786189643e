"""Reading posted forms and putting the services' errors next to the fields that caused them.

A service refuses a value with :class:`InvalidFieldError` whose ``field`` is a path into
the value it was given (``phones[0].number``, ``lines[2].quantity``). Each form names how
its paths map onto its inputs; :func:`place` puts the message there, or at the top of the
form when no input matches::

    errors = Errors()
    place(errors, InvalidFieldError("phones[1].number", "not a valid phone number"),
          {r"phones\\[(\\d+)\\]\\..*": r"phone-\\1"}, labels={"phone-1": "Phone"})
    errors["phone-1"]   # 'Not a valid phone number.'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData

from crmledger.core.errors import LedgerError
from crmledger.web.params import sentence

#: Where an error that names no input goes (shown at the top of the form).
FORM = "form"
MAX_FIELD = 2000
_NUMBER = re.compile(r"^[+-]?(\d{1,15}(\.\d{0,12})?|\.\d{1,12})$")
_INTEGER = re.compile(r"^\d{1,9}$")
#: Messages that continue the field's name: "is required", "must be ...".
_FRAGMENT = re.compile(r"^(is|are|must|has|have|holds|cannot|only) ")


class Errors(dict[str, str]):
    """Messages by input name; the first message for an input wins."""

    def add(self, name: str, message: str) -> None:
        """Keep ``message`` for ``name`` unless the input already has one."""
        self.setdefault(name, message)


@dataclass
class Draft:
    """A small form's values as typed and what is wrong with them."""

    values: dict[str, str]
    errors: Errors = field(default_factory=Errors)

    @classmethod
    def read(cls, form: FormData, limits: Mapping[str, int]) -> Draft:
        """The fields of ``limits`` (name -> longest length) as typed."""
        return cls({name: value(form, name, limit) for name, limit in limits.items()})

    def get(self, name: str) -> str:
        """One value ('' when absent)."""
        return self.values.get(name, "")


def value(form: FormData, name: str, limit: int = 400) -> str:
    """A trimmed text field ('' when absent), cut at ``limit`` characters."""
    found = form.get(name, "")
    return found.strip()[:limit] if isinstance(found, str) else ""


def values(form: FormData, name: str, limit: int = 400, most: int = 100) -> list[str]:
    """Every value of a repeated field, trimmed."""
    return [v.strip()[:limit] if isinstance(v, str) else "" for v in form.getlist(name)][:most]


def decimal(raw: str, name: str, errors: Errors, label: str) -> Decimal | None:
    """A decimal number typed as ``1 200.50`` or ``1200.5``; blank is None; a bad one sets
    ``errors[name]``."""
    text = re.sub(r"[\s_,]", "", raw) if raw.count(",") == 0 or "." in raw else raw.strip()
    if not text:
        return None
    if not _NUMBER.match(text):
        errors.add(name, f"{label}: {raw!r} is not a number, e.g. 1200.50.")
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        errors.add(name, f"{label}: {raw!r} is not a number.")
        return None


def integer(raw: str, name: str, errors: Errors, label: str) -> int | None:
    """A whole number of at most nine digits; blank is None."""
    text = raw.strip()
    if not text:
        return None
    if not _INTEGER.match(text):
        errors.add(name, f"{label}: {raw!r} is not a whole number.")
        return None
    return int(text)


def message(error: LedgerError, label: str | None) -> str:
    """The error as a sentence; a fragment ("is required") is completed with the label."""
    text = str(error).strip()
    if label and _FRAGMENT.match(text):
        return sentence(f"{label} {text}")
    return sentence(text)


def input_for(path: str, rules: Mapping[str, str]) -> str | None:
    """The input a service's field path belongs to: the first rule (a regex matched
    against the whole path) whose replacement names it."""
    for pattern, replacement in rules.items():
        found = re.fullmatch(pattern, path)
        if found:
            return found.expand(replacement)
    return None


def place(
    errors: Errors,
    error: LedgerError,
    rules: Mapping[str, str],
    labels: Mapping[str, str] | None = None,
) -> str:
    """Put ``error`` under its input (or under :data:`FORM`); returns the input's name."""
    path = str(getattr(error, "field", "") or "")
    name = input_for(path, rules) or FORM
    label = (labels or {}).get(re.sub(r"-\d+$", "", name))
    errors.add(name, message(error, label))
    return name
