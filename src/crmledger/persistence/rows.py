"""Conversions between domain values and table rows (no SQL runs here).

Amounts travel as integer minor units; conversion numbers as canonical decimal text; tags,
links and metadata as JSON arrays::

    entry = entry_from_row(row, postings)     # a JournalEntry from a joined row
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from crmledger.core.accounts import Account
from crmledger.core.entries import Conversion, EntryState, JournalEntry, Posting
from crmledger.core.hashing import canonical_number
from crmledger.core.money import from_minor
from crmledger.services.ports import PreparedEntry

ENTRY_COLUMNS = (
    "id",
    "journal",
    "fiscal_year",
    "number",
    "date",
    "narration",
    "payee",
    "party",
    "reference",
    "tags",
    "links",
    "meta",
    "state",
    "reverses_id",
    "import_id",
    "hash",
    "previous_hash",
    "posted_at",
    "chain_seq",
)
COPY_FROM = 50  # rows; below this, INSERT's round trip is cheaper than starting a COPY
POSTING_COLUMNS = (
    "id",
    "entry_id",
    "line_no",
    "account_id",
    "commodity",
    "amount_minor",
    "party",
    "memo",
)
CONVERSION_COLUMNS = (
    "posting_id",
    "weight_commodity",
    "weight_minor",
    "cost_number",
    "cost_commodity",
    "cost_total",
    "price_number",
    "price_commodity",
    "price_total",
)


def conversion_cells(conversion: Conversion | None) -> tuple[str | None, str | None, bool | None]:
    if conversion is None:
        return None, None, None
    return canonical_number(conversion.number), conversion.commodity, conversion.total


def conversion_(number: str | None, commodity: str | None, total: bool | None) -> Conversion | None:
    if number is None or commodity is None:
        return None
    return Conversion(Decimal(number), commodity, bool(total))


def account_(row: Any) -> Account:
    return Account(
        name=row.name,
        code=row.code,
        commodities=tuple(c for c in row.commodities.split(",") if c),
        open_date=row.open_date,
        close_date=row.close_date,
        description=row.description,
    )


def posting_(row: Any, names: dict[int, str], scales: dict[str, int]) -> Posting:
    return Posting(
        account=names[row.p_account_id],
        amount=from_minor(row.p_amount_minor, scales[row.p_commodity]),
        commodity=row.p_commodity,
        cost=conversion_(row.c_cost_number, row.c_cost_commodity, row.c_cost_total),
        price=conversion_(row.c_price_number, row.c_price_commodity, row.c_price_total),
        party=row.p_party,
        memo=row.p_memo or "",
    )


def entry_(row: Any, lines: list[Posting]) -> JournalEntry:
    return JournalEntry(
        id=row.id,
        journal=row.journal,
        number=row.number,
        year=row.fiscal_year,
        date=row.date,
        narration=row.narration,
        payee=row.payee,
        party=row.party,
        reference=row.reference,
        tags=tuple(json.loads(row.tags or "[]")),
        links=tuple(json.loads(row.links or "[]")),
        meta=tuple((k, v) for k, v in json.loads(row.meta or "[]")),
        state=EntryState(row.state),
        hash=row.hash,
        previous_hash=row.previous_hash,
        reverses=row.reverses_id,
        reversed_by=row.reversed_by_id,
        postings=tuple(lines),
    )


def json_list(values: tuple[str, ...]) -> str:
    return json.dumps(list(values)) if values else "[]"


def posting_rows(
    item: PreparedEntry, postings_out: list[tuple[Any, ...]], conversions_out: list[tuple[Any, ...]]
) -> None:
    posting_id = item.first_posting_id
    for line, (p, (amount, weight), account_id) in enumerate(
        zip(item.entry.postings, item.minors, item.account_ids, strict=True)
    ):
        postings_out.append(
            (posting_id, item.id, line, account_id, p.commodity, amount, p.party, p.memo or None)
        )
        if p.cost is not None or p.price is not None:
            conversions_out.append(
                (
                    posting_id,
                    p.weight_commodity,
                    weight,
                    *conversion_cells(p.cost),
                    *conversion_cells(p.price),
                )
            )
        posting_id += 1


def as_item(
    entry: JournalEntry,
    entry_id: int,
    account_ids: Sequence[int],
    minors: Sequence[tuple[int, int]],
    first_posting_id: int = 0,
) -> PreparedEntry:
    return PreparedEntry(
        entry_id, first_posting_id, entry, 0, "", "", tuple(minors), tuple(account_ids)
    )
