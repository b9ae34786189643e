"""Which line of the income statement an income or expense account lands on.

A layout is an ordered list of rules; the first rule that matches an account places it in
a section (revenue, cost of sales, operating expenses, other income and expenses) and,
when the rule names one, on a line of its own name that sums every account it matches.
A rule matches an account and its sub-accounts by name, or accounts by code: one code, a
prefix (``code:6*``) or a range (``code:6000-6999``)::

    >>> layout = parse_layout("management", [
    ...     {"match": "code:5000-5999", "section": "cost_of_sales", "line": "Materials"},
    ...     {"match": "Expenses:Salaries", "section": "operating_expenses", "line": "Staff"},
    ... ])
    >>> layout.place(Account("Expenses:COGS", code="5000"))
    ('cost_of_sales', 'Materials')
    >>> layout.place(Account("Expenses:Rent", code="6100"))
    ('operating_expenses', None)

An account no rule matches goes by its type: income to revenue, expenses to operating
expenses, each on a line of its own (or of its group, see ``depth`` in
:mod:`crmledger.core.statements`). So every income and expense account is on the statement
exactly once, whatever the layout says, and the net result never depends on the layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crmledger.core.accounts import Account, AccountType, account_type
from crmledger.core.errors import InvalidAccountNameError, InvalidFieldError

#: The sections of the income statement, in order, with their titles.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("revenue", "Revenue"),
    ("cost_of_sales", "Cost of sales"),
    ("operating_expenses", "Operating expenses"),
    ("other", "Other income and expenses"),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)
MAX_RULES = 200
MAX_LINE = 200


@dataclass(frozen=True, slots=True)
class LayoutRule:
    """``match`` (an account name, or ``code:...``) goes to ``section``, on ``line`` when
    given."""

    match: str
    section: str
    line: str | None = None

    def matches(self, account: Account) -> bool:
        """Whether this rule places ``account``."""
        if not self.match.startswith("code:"):
            return account.name == self.match or account.name.startswith(self.match + ":")
        return account.code is not None and _code_matches(self.match[5:], account.code)


def _code_matches(pattern: str, code: str) -> bool:
    if pattern.endswith("*"):
        return code.startswith(pattern[:-1])
    low, sep, high = pattern.partition("-")
    if not sep:
        return code == pattern
    if low.isdigit() and high.isdigit() and code.isdigit():
        return int(low) <= int(code) <= int(high)
    return low <= code <= high


@dataclass(frozen=True, slots=True)
class Layout:
    """A named, ordered list of rules."""

    name: str
    rules: tuple[LayoutRule, ...]

    def place(self, account: Account) -> tuple[str, str | None]:
        """The section and the named line (``None``: the account's own) of ``account``."""
        for rule in self.rules:
            if rule.matches(account):
                return rule.section, rule.line
        return ("revenue" if account.type is AccountType.INCOME else "operating_expenses"), None

    def document(self) -> list[dict[str, str]]:
        """The rules as plain data (what :func:`parse_layout` reads)."""
        return [
            {"match": r.match, "section": r.section} | ({"line": r.line} if r.line else {})
            for r in self.rules
        ]


def _rules(section: str, *prefixes: str) -> tuple[LayoutRule, ...]:
    return tuple(LayoutRule(prefix, section) for prefix in prefixes)


#: Sections by the names of the default chart and the usual names of other charts.
DEFAULT_LAYOUT = Layout(
    "default",
    _rules("other", "Income:Other", "Income:FX", "Income:Interest", "Income:Financial")
    + _rules(
        "cost_of_sales",
        "Expenses:COGS",
        "Expenses:CostOfSales",
        "Expenses:Cost of Sales",
        "Expenses:Purchases",
    )
    + _rules(
        "other",
        "Expenses:Interest",
        "Expenses:FX",
        "Expenses:Tax:Income",
        "Expenses:Financial",
    ),
)


def _text(rule: Mapping[str, object], key: str, where: str, required: bool) -> str | None:
    value = rule.get(key)
    if value is None or value == "":
        if required:
            raise InvalidFieldError(f"{where}.{key}", "is required")
        return None
    if not isinstance(value, str) or len(value) > MAX_LINE or "\x00" in value:
        raise InvalidFieldError(f"{where}.{key}", f"must be text of at most {MAX_LINE} chars")
    return value.strip()


def _check_match(match: str, where: str) -> None:
    if match.startswith("code:"):
        if not match[5:].strip() or match[5:] in ("*", "-"):
            raise InvalidFieldError(f"{where}.match", "name a code, CODE*, or LOW-HIGH")
        return
    try:
        kind = account_type(match)
    except InvalidAccountNameError as error:
        raise InvalidFieldError(f"{where}.match", str(error)) from None
    if kind not in (AccountType.INCOME, AccountType.EXPENSES):
        raise InvalidFieldError(f"{where}.match", f"{match!r} is not an income or expense account")


def parse_layout(name: str, rules: Sequence[Mapping[str, object]]) -> Layout:
    """A layout from plain rules ``{"match", "section", "line"?}``; a bad rule raises
    :class:`InvalidFieldError` naming it (``rules[2].section``)."""
    if not name.strip() or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise InvalidFieldError("name", "a layout name is 1-64 letters, digits, - or _")
    if len(rules) > MAX_RULES:
        raise InvalidFieldError("rules", f"at most {MAX_RULES} rules")
    parsed = []
    for index, rule in enumerate(rules):
        where = f"rules[{index}]"
        if not isinstance(rule, Mapping):
            raise InvalidFieldError(where, "a rule is an object with match, section, line")
        unknown = set(rule) - {"match", "section", "line"}
        if unknown:
            raise InvalidFieldError(where, f"unknown field(s): {', '.join(sorted(unknown))}")
        match = _text(rule, "match", where, required=True)
        section = _text(rule, "section", where, required=True)
        assert match is not None
        assert section is not None
        _check_match(match, where)
        if section not in SECTION_KEYS:
            raise InvalidFieldError(
                f"{where}.section", f"{section!r} is not one of {', '.join(SECTION_KEYS)}"
            )
        parsed.append(LayoutRule(match, section, _text(rule, "line", where, required=False)))
    return Layout(name, tuple(parsed))
