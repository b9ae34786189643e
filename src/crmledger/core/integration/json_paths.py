"""Small JSON paths: the one place a value sits in a JSON document another system sends.

A path is names joined by dots, with list positions in brackets; nothing more (no
wildcards, no filters, no recursion), so a configuration names exactly one place, and
the same path reads a value and writes it back::

    >>> doc = {"billing": {"address": {"city": "Berlin"}}, "emails": [{"value": "a@b.example"}]}
    >>> value_at(doc, parse_path("billing.address.city"))
    'Berlin'
    >>> value_at(doc, parse_path("emails[0].value"))
    'a@b.example'
    >>> value_at(doc, parse_path("emails[3].value")) is MISSING
    True
    >>> with_value({}, parse_path("emails[0].value"), "x@y.example")
    {'emails': [{'value': 'x@y.example'}]}
    >>> parse_path("emails[0].value")
    ('emails', 0, 'value')

The empty path is the document itself (a page whose body is the list of records).
"""

from __future__ import annotations

import re
from typing import Any, Final

from crmledger.core.errors import InvalidFieldError

Step = str | int
JsonPath = tuple[Step, ...]
_STEP = re.compile(r"([^.\[\]]+)?((?:\[\d{1,6}\])*)")
_INDEX = re.compile(r"\[(\d{1,6})\]")


class _Missing:
    """No value at the path (distinct from a JSON ``null``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def parse_path(text: str, where: str = "path") -> JsonPath:
    """The steps of ``text`` (``billing.address.city``, ``emails[0].value``); refused,
    naming ``where``, when it is not such a path."""
    if text == "":
        return ()
    if len(text) > 200:
        raise InvalidFieldError(where, "a JSON path is at most 200 characters")
    steps: list[Step] = []
    for part in text.split("."):
        found = _STEP.fullmatch(part)
        if found is None or found.group(1) is None:
            raise InvalidFieldError(
                where, f"{text!r} is no path like billing.address.city or emails[0].value"
            )
        steps.append(found.group(1))
        steps.extend(int(i) for i in _INDEX.findall(found.group(2)))
    return tuple(steps)


def value_at(document: Any, path: JsonPath) -> Any:
    """The value at ``path`` in ``document``, or :data:`MISSING`."""
    current = document
    for step in path:
        if isinstance(step, int):
            if not isinstance(current, list) or step >= len(current):
                return MISSING
        elif not isinstance(current, dict) or step not in current:
            return MISSING
        current = current[step]
    return current


def _empty(step: Step) -> Any:
    return [] if isinstance(step, int) else {}


def with_value(document: Any, path: JsonPath, value: Any) -> Any:
    """A copy of ``document`` with ``value`` at ``path`` (objects and lists made on the
    way; a list too short is filled with empty objects up to the position)."""
    if not path:
        return value
    step, rest = path[0], path[1:]
    below = _empty(rest[0]) if rest else None
    if isinstance(step, int):
        items = list(document) if isinstance(document, list) else []
        while len(items) <= step:
            items.append({})
        current = items[step]
        items[step] = with_value(current if rest and current else below, rest, value)
        return items
    mapping = dict(document) if isinstance(document, dict) else {}
    current = mapping.get(step)
    fits = isinstance(current, list) if rest and isinstance(rest[0], int) else True
    mapping[step] = with_value(current if current is not None and fits else below, rest, value)
    return mapping
