"""ledger-cli / hledger plain-text journals in and out, as pure functions over text.

A journal is a list of transactions: a dated header line and indented postings, one of which
may leave its amount out for the reader to fill in::

    >>> parsed = read_ledger('''
    ... 2024-01-02 * (R7) Bakery | Bread  ; food:
    ...     Expenses:Food    3.50 USD
    ...     Assets:Cash
    ... ''', "example.journal")
    >>> entry = parsed.entries[0].entry
    >>> entry.payee, entry.narration, entry.reference, entry.tags, entry.meta
    ('Bakery', 'Bread', 'R7', ('food',), (('status', '*'),))
    >>> [(p.account, p.amount, p.commodity) for p in entry.postings]
    [('Expenses:Food', Decimal('3.50'), 'USD'), ('Assets:Cash', Decimal('-3.50'), 'USD')]

Writing gives text that ledger 3.3 and hledger 1.25 both read and :func:`read_ledger` reads
back as the same entries::

    >>> import io
    >>> out = io.StringIO()
    >>> write_ledger(out, parsed.inferred_commodities, parsed.accounts, [entry])
    >>> print(out.getvalue(), end="")
    commodity USD
        format 1000.00 USD
    <BLANKLINE>
    2024-01-02 * (R7) Bakery | Bread
        ; food:
        Expenses:Food                       3.50 USD
        Assets:Cash                        -3.50 USD

This module is the format's description and its front door; the code lives in four modules
whose public names it re-exports:

- :mod:`~crmledger.formats.ledger_reader`: :func:`read_ledger` and :func:`read_ledger_file`,
  one pass over the lines that keeps what belongs together (a transaction, an ``account`` or
  ``commodity`` block), then settles what only the whole file tells;
- :mod:`~crmledger.formats.ledger_syntax`: the pure parsers of one line's pieces (header,
  comment, account, cost / price / assertion, amount) that the reader calls;
- :mod:`~crmledger.formats.ledger_declarations`: what the file declares and uses, and what
  that settles after the last line (commodity scales, undeclared names in strict mode);
- :mod:`~crmledger.formats.ledger_writer`: :func:`write_ledger`.

What maps to what when reading:

- ``account NAME`` → :class:`Account` (an indented ``note`` becomes its description; other
  sub-directives are ignored). ``commodity`` with a ``format`` (``commodity USD`` +
  ``format 1,000.00 USD``, ``commodity 1,000.00 USD``, ``commodity $1000.``) →
  :class:`Commodity` whose scale is the format's decimal places; ISO currencies keep their
  ISO scale unless the format says more; without a format the scale is the most decimal
  places any *written* posting amount of it carries (prices and costs do not count).
  Commodities used but never declared are in ``ParsedFile.inferred_commodities``.
- Header ``DATE[=AUX] [*|!] [(CODE)] PAYEE | NARRATION  ; comment``: the mark becomes meta
  ``("status", mark)``, the auxiliary date meta ``("aux_date", ISO date)``, CODE the
  reference; without ``|`` the whole description is the narration (hledger's convention).
- Comments of the transaction (on its header or on indented ``;`` lines before the first
  posting): ``tag:`` and ``:tag1:tag2:`` become tags, ``key: value`` meta pairs (several
  hledger tags may share a line, separated by commas), anything else ``("comment", text)``.
  Meta keeps the order status, aux_date, then comments as they appear.
- Postings ``ACCOUNT  AMOUNT [{COST} | {{TOTAL}}] [@ PRICE | @@ TOTAL] [= ASSERTION]  ; memo``:
  ``@``/``{}`` are per unit, ``@@``/``{{}}`` totals (kept as absolute values); a price equal
  to the cost is dropped (the writer adds it, see below). A comment after a posting, inline
  or on following ``;`` lines, is its memo (lines joined by newlines).
- One posting may omit its amount: it gets the negated sum of the other weights, one posting
  per weight commodity, rounded half-even to that commodity's scale (as ledger displays it).
- ``ACCOUNT  AMOUNT = BALANCE`` → :class:`BalanceAssertion` dated the day *after* the
  transaction: ledger checks the balance right after the posting, the book at the start of a
  day, so other transactions of the same day must not move the account for both to agree.

Refused, each as a :class:`Problem` naming its line (the reader then goes on, so one run lists
every problem of a file): malformed or impossible dates, unparseable amounts, decimal commas,
amounts without a commodity, virtual postings ``(A)`` / ``[A]``, balance assignments, lot
dates and notes, fixated lot prices ``{=...}``, two postings without an amount, an omitted
amount beside a cost without a price (ledger would fill it in the lot's commodity, not at
its cost), transactions with fewer than two postings.
With ``strict=True`` also a commodity that is neither declared nor ISO 4217 and an account
without an ``account`` directive (declarations may appear anywhere in the file). Other
directives (``P``, ``include``, ``alias``, ``year``, ``D``, ``apply``, periodic ``~`` and
automated ``=`` transactions ...) land in ``ParsedFile.skipped``.

Writing emits ``commodity`` directives with a ``format`` that both ledger 3.3 and hledger 1.25
accept, ``account`` directives, then each entry with suffix amounts at the commodity's scale.
A scale-0 format is written prefix (``format JPY 1000.``): hledger refuses a format without a
decimal mark (``1000 JPY``) and ledger one with a bare trailing mark (``1000. JPY``).
A cost without a price is written ``{C} @ C``: ledger weighs a bare ``{C}`` only when the
transaction has exactly two commodities, and hledger ignores braces. The journal carries no
state, journal code, party or links: posted and reversed entries are written ``*`` (like a
``("status", "*")`` meta), drafts without a mark.
"""

from __future__ import annotations

from crmledger.formats.ledger_reader import read_ledger, read_ledger_file
from crmledger.formats.ledger_writer import write_ledger

__all__ = ["read_ledger", "read_ledger_file", "write_ledger"]
