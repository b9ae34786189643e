"""Beancount files in and out: beancount parses and books, crmledger maps.

Reading hands the file to beancount's own loader (parser, booking, plugins, validation), so
the entries imported are the booked entries ``bean-check`` sees; the reader only maps them
to core values and reports what it could not map. Writing emits plain directives that
``bean-check`` accepts::

    >>> parsed = read_beancount_string('''
    ... 2024-01-01 open Assets:Cash USD
    ... 2024-01-01 open Expenses:Food
    ... 2024-01-02 * "Bakery" "Bread" #food
    ...   Expenses:Food   3.5 USD
    ...   Assets:Cash
    ... ''', "example.beancount")
    >>> [(p.account, p.amount, p.commodity) for p in parsed.entries[0].entry.postings]
    [('Expenses:Food', Decimal('3.5'), 'USD'), ('Assets:Cash', Decimal('-3.50'), 'USD')]
    >>> import io
    >>> out = io.StringIO()
    >>> write_beancount(out, parsed.commodities, parsed.accounts,
    ...                 [s.entry for s in parsed.entries])
    >>> print(out.getvalue().split("\\n\\n")[-1].strip())
    2024-01-02 * "Bakery" "Bread" #food
      Expenses:Food   3.50 USD
      Assets:Cash    -3.50 USD

This module is the format's description and its front door; the code lives in three modules
whose public names it re-exports:

- :mod:`~crmledger.formats.beancount_reader`: :func:`read_beancount` and
  :func:`read_beancount_string`, one pass over beancount's booked directives;
- :mod:`~crmledger.formats.beancount_writer`: :func:`write_beancount` and the name mapping
  (:func:`beancount_account_name`, :func:`beancount_currency_names`);
- :mod:`~crmledger.formats.beancount_lots`: how a lot's date and label travel in a posting's
  memo from the reader to the writer.

What maps to what when reading:

- ``open`` / ``close`` → one :class:`Account` (allowed currencies, open and close dates;
  metadata ``code`` and ``description`` fill those fields). The booking method is not kept.
- ``transaction`` → :class:`SourceEntry` with a draft :class:`JournalEntry`: tags and links
  sorted, user metadata as ``(key, str(value))``, a flag other than ``*`` as
  ``("flag", flag)`` (``P`` marks the entry beancount generated for a ``pad``). Entry
  metadata ``journal``, ``reference`` and ``party`` and posting metadata ``party`` and
  ``memo`` fill those fields. A booked cost becomes ``Posting.cost`` (per unit), a price
  ``Posting.price`` (per unit: beancount turns ``@@`` into ``@``); the lot's date and label
  are kept in the memo as ``cost-date=2020-01-01 label="x"`` for the writer to restore.
- ``balance`` → :class:`BalanceAssertion` (at the start of its date, as in beancount).
- ``pad``, ``price``, ``event``, ``note``, ``document``, ``query``, ``custom`` and posting
  flags or other posting metadata → ``ParsedFile.skipped``, each with its line.
- A transaction whose postings are all zero (or that has none) moves nothing and core
  refuses it (:func:`check_shape`): it goes to ``skipped`` as well.
- Loader errors → ``ParsedFile.problems``; the directive an error names is not imported.
  Entries that break a core rule (:func:`check_shape`, :func:`check_balanced`, amounts that
  do not fit their scale, account names core refuses) become problems too.

Scales: beancount declares no precision, so a commodity's scale is the most decimal places
any *written* amount of it carries (posting units and ``balance`` amounts, as written, so
``10.50`` counts 2), raised to the ISO 4217 scale for ISO currencies and to an
``option "display_precision"`` if the file sets one. Costs and prices do not widen a scale
(a unit price of ``1.2345 USD`` says nothing about how USD amounts are counted); a commodity
that only appears in costs, prices or declarations takes beancount's display context maximum.
Amounts beancount *interpolated* for postings written without one are rounded half-even to
that scale (``{{1000 USD}}`` for 3 shares would otherwise leave ``-999.99...9 USD``); the
entry must then still balance within core's tolerance or it is reported.

Names when writing: beancount currencies cannot be ``$ € £ ¥``; they are written as
:data:`BEANCOUNT_NAMES` (``$`` → ``USD`` ...) unless the book already uses that code, then as
:data:`FALLBACK_NAMES` (``$`` → ``DOLLAR``). Core allows spaces and punctuation inside account
segments and an account that is only a root (``Income``); beancount allows letters, digits and
``-`` only, and at least two segments. The writer replaces every other character by ``-``
(runs collapsed) and writes a root-only account as ``Income:Root``
(:func:`beancount_account_name`); two accounts that would get one name raise
:class:`BeancountExportError`. Core in turn refuses segments that start with a non-ASCII
capital (``Assets:Épargne``) and roots renamed by beancount options; those are reported.
Tags and links keep ``A-Z a-z 0-9 - _ / .`` only; metadata keys become ``[a-z][a-zA-Z0-9_-]+``.
"""

from __future__ import annotations

from crmledger.formats.beancount_reader import read_beancount, read_beancount_string
from crmledger.formats.beancount_writer import (
    BEANCOUNT_NAMES,
    FALLBACK_NAMES,
    ROOT_LEAF,
    BeancountExportError,
    beancount_account_name,
    beancount_currency_names,
    write_beancount,
)

__all__ = [
    "BEANCOUNT_NAMES",
    "FALLBACK_NAMES",
    "ROOT_LEAF",
    "BeancountExportError",
    "beancount_account_name",
    "beancount_currency_names",
    "read_beancount",
    "read_beancount_string",
    "write_beancount",
]
