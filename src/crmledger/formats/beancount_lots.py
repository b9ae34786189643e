"""A beancount lot's date and label, carried in the posting memo from reader to writer.

A core :class:`~crmledger.core.entries.Conversion` holds a number and a commodity; a
beancount lot also holds the date it was acquired on and an optional label
(``{80.55 USD, 2020-01-05, "first"}``). So that a book read from beancount writes back the
same lots, the reader puts both at the front of the posting's memo and the writer takes them
out again; the two halves of that convention live here, side by side::

    >>> from datetime import date
    >>> memo = lot_memo(date(2020, 1, 5), 'first "lot"', "bought at the open")
    >>> memo
    'cost-date=2020-01-05 label="first \\\\"lot\\\\"" bought at the open'
    >>> split_lot_memo(memo)
    ('2020-01-05', 'first "lot"', 'bought at the open')
    >>> split_lot_memo("just a memo")
    (None, None, 'just a memo')
"""

from __future__ import annotations

import json
import re
from datetime import date

_LOT_MEMO = re.compile(
    r'^(?:cost-date=(?P<date>\d{4}-\d{2}-\d{2}))?\s*(?:label=(?P<label>"(?:[^"\\]|\\.)*"))?'
    r"\s*(?P<rest>.*)$",
    re.DOTALL,
)


def lot_memo(lot_date: date | None, label: str | None, memo: object) -> str:
    """``cost-date=DATE label="LABEL" MEMO``, each part left out when it is empty."""
    parts = []
    if lot_date is not None:
        parts.append(f"cost-date={lot_date.isoformat()}")
    if label:
        parts.append(f"label={json.dumps(label, ensure_ascii=False)}")
    if memo:
        parts.append(str(memo))
    return " ".join(parts)


def split_lot_memo(memo: str) -> tuple[str | None, str | None, str]:
    """The lot date (ISO text), the label and the rest of a memo :func:`lot_memo` wrote."""
    match = _LOT_MEMO.match(memo)
    assert match is not None  # every group is optional
    label = match["label"]
    return match["date"], (None if label is None else json.loads(label)), match["rest"]
