"""What a journal declares and what it uses, settled after the last line.

A journal may use a commodity or an account before it declares it, or never declare it at
all, so the reader only notes what it sees (:class:`Declarations`) and decides at the end:

- each commodity's scale: its ``format`` if declared with one, never less than the ISO 4217
  scale for a currency, else the most decimal places any *written* amount of it carries
  (costs and prices count only for a commodity that appears nowhere else);
- with ``strict=True``, the names used but never declared: each is a problem, and the
  transactions using them are dropped.

::

    >>> seen = Declarations()
    >>> seen.declare_commodity("ABC", line=1).scale = 4
    >>> seen.accounts.add("Assets:Cash")
    >>> seen.places.update({"XYZ": 3, "USD": 0})
    >>> seen.first_use.update({"XYZ": 5, "USD": 6})
    >>> commodities, refused = seen.settle_commodities(strict=False)
    >>> [(c.code, c.scale) for c in commodities], refused
    ([('ABC', 4), ('XYZ', 3), ('USD', 2)], [])
    >>> seen.check(header=4, line=5, account="Assets:Bank", codes=["XYZ", "USD"])
    >>> dropped, problems = seen.undeclared_problems()
    >>> dropped, [(line, kind) for line, kind, _ in problems]
    ({4}, [(5, 'account'), (5, 'commodity')])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from crmledger.core.currencies import iso_codes, iso_currency
from crmledger.core.money import MAX_SCALE, Commodity

_ISO = frozenset(iso_codes())


@dataclass(slots=True)
class CommodityDecl:
    """A ``commodity`` directive: its line, the scale its ``format`` gives, its name."""

    line: int
    scale: int | None = None
    name: str = ""


@dataclass(slots=True)
class Declarations:
    """Names declared and used while reading, keyed by commodity code or account name.

    ``places`` and ``conversion_places`` hold the most decimal places seen per commodity in
    written amounts and in costs / prices, ``first_use`` the line a commodity first appears
    on, ``undeclared`` the ``(header line, line, kind, name)`` of every use :meth:`check`
    could not yet match to a declaration.
    """

    commodities: dict[str, CommodityDecl] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    places: dict[str, int] = field(default_factory=dict)
    conversion_places: dict[str, int] = field(default_factory=dict)
    first_use: dict[str, int] = field(default_factory=dict)
    undeclared: list[tuple[int, int, str, str]] = field(default_factory=list)

    def declare_commodity(self, code: str, line: int) -> CommodityDecl:
        """The declaration of ``code``: the first directive for it, reopened by later ones."""
        return self.commodities.setdefault(code, CommodityDecl(line))

    def check(self, header: int, line: int, account: str, codes: Iterable[str]) -> None:
        """Note ``account`` and non-ISO ``codes`` not declared so far (strict mode)."""
        if account not in self.accounts:
            self.undeclared.append((header, line, "account", account))
        for code in codes:
            if code not in self.commodities and code not in _ISO:
                self.undeclared.append((header, line, "commodity", code))

    def settle_commodities(self, strict: bool) -> tuple[list[Commodity], list[tuple[int, str]]]:
        """Declared commodities, then used ones, each at its scale; ``(line, reason)`` refused.

        In strict mode a used commodity that is neither declared nor ISO 4217 is left out
        (:meth:`undeclared_problems` reports it).
        """
        commodities: list[Commodity] = []
        refused: list[tuple[int, str]] = []
        wanted = [(code, d.line, d.scale, d.name) for code, d in self.commodities.items()]
        wanted += [
            (code, line, None, "")
            for code, line in self.first_use.items()
            if code not in self.commodities and not (strict and code not in _ISO)
        ]
        for code, line, declared_scale, declared_name in wanted:
            scale, name = self._scale_and_name(code, declared_scale, declared_name)
            if scale > MAX_SCALE:
                reason = f"{code} has {scale} decimal places; at most {MAX_SCALE} are supported"
                refused.append((line, reason))
            else:
                commodities.append(Commodity(code, scale, name))
        return commodities, refused

    def _scale_and_name(self, code: str, scale: int | None, name: str) -> tuple[int, str]:
        iso = iso_currency(code)
        if iso is not None:
            return (iso.scale if scale is None else max(scale, iso.scale)), name or iso.name
        if scale is None:
            scale = self.places.get(code, self.conversion_places.get(code, 0))
        return scale, name

    def undeclared_problems(self) -> tuple[set[int], list[tuple[int, str, str]]]:
        """Header lines of the transactions to drop, and ``(line, kind, reason)`` problems.

        A use is a problem only if no declaration came later either; each name is reported
        once per line.
        """
        dropped: set[int] = set()
        problems: list[tuple[int, str, str]] = []
        seen: set[tuple[int, str, str]] = set()
        for header, line, kind, name in self.undeclared:
            declared = self.commodities if kind == "commodity" else self.accounts
            if name in declared or (line, kind, name) in seen:
                continue
            seen.add((line, kind, name))
            dropped.add(header)
            problems.append((line, kind, _undeclared_reason(kind, name)))
        return dropped, problems


def _undeclared_reason(kind: str, name: str) -> str:
    if kind == "commodity":
        return f"unknown commodity {name!r}; declare it with a commodity directive"
    return f"undeclared account {name!r}; declare it with an account directive"
