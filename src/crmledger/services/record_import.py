"""Importing records (parties, interactions, products) from spreadsheet rows.

Columns are matched to fields by name, ignoring case, spaces and punctuation and knowing
common spellings (``E-Mail``, ``Company``, ``VAT ID``); ``--map column=field`` says the rest.
Each row becomes a domain value or a :class:`~crmledger.core.imports.Problem` naming its
line, field and reason. Nothing is written unless every row is good::

    mapping = map_headers(table.headers, PARTY_FIELDS, {"Firma": "display_name"})
    items, problems = build_rows(table.rows, mapping, party_from_row, "customers.csv")
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from crmledger.core.errors import InvalidFieldError
from crmledger.core.imports import Problem

T = TypeVar("T")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
#: How many problems a report lists at most (the count is always exact).
MAX_PROBLEMS = 1000


def header_key(text: str) -> str:
    """``"E-Mail Address"`` → ``"emailaddress"``: how headers and aliases are compared."""
    return _NOT_ALNUM.sub("", text.casefold())


def map_headers(
    headers: list[str],
    fields: Mapping[str, tuple[str, ...]],
    explicit: Mapping[str, str],
) -> dict[str, str]:
    """``{header: field}`` for the headers that name a field (or an alias of one), with
    ``explicit`` (``{header: field}``) taking precedence; an explicit column or field that
    does not exist is an error, as is two columns for one field."""
    known = {header_key(f): f for f in fields} | {
        header_key(a): f for f, aliases in fields.items() for a in aliases
    }
    for column, wanted in explicit.items():
        if column not in headers:
            raise InvalidFieldError("--map", f"the file has no column {column!r}")
        if wanted not in fields:
            raise InvalidFieldError(
                "--map", f"{wanted!r} is not a field; fields: {', '.join(fields)}"
            )
    mapping: dict[str, str] = {}
    for header in headers:
        target = explicit.get(header) or known.get(header_key(header))
        if target is None:
            continue
        if target in mapping.values():
            other = next(h for h, f in mapping.items() if f == target)
            raise InvalidFieldError(
                "--map", f"columns {other!r} and {header!r} both map to {target}"
            )
        mapping[header] = target
    return mapping


@dataclass
class ImportReport:
    """What an import did: rows read, records written, and every problem found."""

    source: str
    rows: int = 0
    written: int = 0
    dry_run: bool = False
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        """Count a problem (and keep it, up to :data:`MAX_PROBLEMS`)."""
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


def build_rows(
    rows: Iterable[tuple[int, dict[str, str]]],
    mapping: Mapping[str, str],
    build: Callable[[dict[str, str]], T],
    report: ImportReport,
) -> list[tuple[int, T]]:
    """Each row as ``(line, value)``; a row ``build`` refuses becomes a problem instead."""
    out: list[tuple[int, T]] = []
    for line, cells in rows:
        report.rows += 1
        values = {mapping[h]: v for h, v in cells.items() if h in mapping and v != ""}
        try:
            out.append((line, build(values)))
        except InvalidFieldError as error:
            report.add(Problem(report.source, line, error.field, str(error)))
    return out
