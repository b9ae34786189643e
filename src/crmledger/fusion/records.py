"""The values that travel between the fusion stages.

A source yields :class:`SourceRecord` values (the row as read, every cell text or
``None``); mapping turns each into a :class:`FusedRecord` of canonical fields; cleaning
makes those values canonical; every stage reports what it refused or changed as an
:class:`Issue` naming the source, the row and the field::

    >>> record = SourceRecord("crm", 2, {"NAME": "Acme GmbH", "ZIP": "10115"})
    >>> str(Issue("crm", 2, "postcode", "problem", "not a valid postcode for DE"))
    'crm:2: postcode: not a valid postcode for DE'

Issues of kind ``problem`` name values that were refused (the value is dropped, or the
whole row when ``field`` is ``"*"`` or a required field); ``fix`` names values that were
changed into their canonical form (``before`` -> ``after``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

#: One cell as read from a source: text, or ``None`` for an empty or NULL cell.
Cell = str | None
#: A canonical value: text, a date, a whole number or a decimal.
Value = str | date | int | Decimal

IssueKind = Literal["problem", "fix"]

#: The source name the book's own parties take part under.
BOOK_SOURCE = "crmledger"


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One row of a source: its name, the row number a person finds it under (the line
    of a CSV file, the row of a sheet, the position in a JSON array or a query result)
    and the cells by column name."""

    source: str
    row: int
    raw: dict[str, Cell]


@dataclass(frozen=True, slots=True)
class Issue:
    """A problem with a value (refused) or a fix made to it (changed), by location."""

    source: str
    row: int
    field: str
    kind: IssueKind
    reason: str
    before: str = ""
    after: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.row}: {self.field}: {self.reason}"


@dataclass(slots=True)
class FusedRecord:
    """A record in canonical fields (see :data:`crmledger.fusion.mapping.FIELDS`).

    ``system`` and ``external_id`` name it in its source system: the key under which it is
    attached to its golden party and remembered by review decisions. ``priority`` is its
    source's rank for survivorship (lower wins); ``party_id`` is set on the book's own
    parties.
    """

    source: str
    row: int
    system: str
    external_id: str
    values: dict[str, Value] = field(default_factory=dict)
    priority: int = 100
    party_id: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.system, self.external_id)
