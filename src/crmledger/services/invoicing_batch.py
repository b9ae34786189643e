"""Issuing many invoices or bills at once: the rules of one at a time, written set-based.

:meth:`InvoiceService.issue_batch` hands its drafts here. Each draft passes the checks
:meth:`InvoiceService.create` and :meth:`InvoiceService.issue` make (its party, its lines
priced with the tax rates of its date, a total above zero, the rate of its currency, the
customer's credit limit, refused here rather than overridden) and comes out as the same
rows, numbers, entry, audit records and event, in the order given. What changes is how the
work reaches the database: parties, products, scales, tax rules and rates are read once per
batch (per day where they depend on the day), every entry goes through one
:func:`post_batch`, and documents, lines, audit records and events are each written once::

    ids = issue_documents(uow, actor, drafts, at, today)   # inside the caller's uow

The one-at-a-time path (:mod:`crmledger.services.invoicing`) shares :func:`entry_of` and
:func:`audit_of`, and a differential test holds the two to the same result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from crmledger.core.billing.entries import BillingDocument, FxRate, document_entry
from crmledger.core.billing.settlement import InvoiceStatus
from crmledger.core.crm.documents import TaxRule
from crmledger.core.entries import JournalEntry
from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import from_minor, to_minor
from crmledger.services.billing_common import ACCOUNTS, RateBook, event_row, rate_text
from crmledger.services.billing_drafts import (
    Catalogue,
    NewDocument,
    check_document,
    lines_with,
    new_row,
)
from crmledger.services.billing_ports import BillingDocumentRow
from crmledger.services.credit import base_minor, exposures_minor, limit_minor, over_limit
from crmledger.services.crm_ports import PartyRow, ProductRow
from crmledger.services.errors import CreditLimitError
from crmledger.services.ledger import add_iso_commodities
from crmledger.services.party_guard import refuse_merged
from crmledger.services.ports import UnitOfWork
from crmledger.services.posting import post_batch
from crmledger.services.products import book_scales, scale_of
from crmledger.services.sales import rules_of
from crmledger.services.trail import Actor, Change, record_many

#: Document kind → (number series, number prefix).
SERIES = {"invoice": ("invoice", "INV"), "credit_note": ("credit", "CN"), "bill": ("bill", "BILL")}
DEFAULT_TERMS_DAYS = 30


def audit_of(row: BillingDocumentRow) -> dict[str, object]:
    """What the audit log keeps of a document."""
    return {
        "kind": row.kind,
        "number": row.number,
        "party_id": row.party_id,
        "currency": row.currency,
        "status": row.status,
        "gross_minor": row.gross_minor,
        "issued_on": row.issued_on.isoformat() if row.issued_on else None,
    }


def entry_of(
    row: BillingDocumentRow, fx: FxRate, day: date, scales: Mapping[str, int]
) -> tuple[JournalEntry, int]:
    """The entry issuing ``row`` posts, and its open value in minor base units."""
    scale = scale_of(row.currency, scales)
    doc = BillingDocument(
        kind=row.kind,  # type: ignore[arg-type]
        number=row.number or "",
        party=str(row.party_id),
        on=day,
        currency=row.currency,
        lines=tuple((r.account, from_minor(r.net_minor, scale)) for r in row.lines),
        taxes=tuple((r.tax_category, from_minor(r.tax_minor, scale)) for r in row.lines),
        gross=from_minor(row.gross_minor, scale),
        costs=tuple(
            (
                r.cost_account,
                from_minor(r.cost_minor, scale_of(r.cost_currency, scales)),
                r.cost_currency,
            )
            for r in row.lines
            if r.cost_minor and r.cost_account and r.cost_currency
        ),
    )
    entry, base = document_entry(doc, ACCOUNTS, fx)
    return entry, to_minor(base, fx.base_scale)


def due_on(row: BillingDocumentRow, party: PartyRow, day: date) -> date:
    """The due date: the document's own, else ``day`` plus the party's payment terms."""
    terms = party.payment_terms_days
    return row.due_on or day + timedelta(days=DEFAULT_TERMS_DAYS if terms is None else terms)


@contextmanager
def _named(index: int) -> Iterator[None]:
    """Name the document in a refusal (``documents[3].lines[0].quantity``)."""
    try:
        yield
    except InvalidFieldError as error:
        raise InvalidFieldError(f"documents[{index}].{error.field}", str(error)) from error
    except CreditLimitError as error:
        raise CreditLimitError(f"documents[{index}]: {error}") from error


@dataclass(slots=True)
class _Reads:
    """What the batch reads from the book, each thing once."""

    uow: UnitOfWork
    parties: dict[int, PartyRow]
    scales: dict[str, int]
    products: Mapping[int, ProductRow]
    rules: dict[date, Mapping[str, TaxRule]]
    rates: RateBook

    def catalogue(self, day: date) -> Catalogue:
        if day not in self.rules:
            self.rules[day] = rules_of(self.uow.billing.tax_rates_on(day))
        return Catalogue(self.products, self.scales, self.rules[day])

    def fx(self, currency: str, day: date) -> FxRate:
        return self.rates.fx(currency, day)


def _reads(uow: UnitOfWork, drafts: Sequence[NewDocument], until: date) -> _Reads:
    parties = {r.id: r for r in uow.parties.many(sorted({d.party_id for d in drafts}))}
    refuse_merged(uow.parties, parties)
    ids = sorted({line.product_id for d in drafts for line in d.lines if line.product_id})
    products = {p.id: p for p in uow.commerce.products(ids)}
    return _Reads(uow, parties, book_scales(uow), products, {}, RateBook(uow, until))


def _drafts(
    reads: _Reads, drafts: Sequence[NewDocument], days: Sequence[date], at: datetime
) -> list[BillingDocumentRow]:
    """Every draft checked and priced, as the draft row ``create`` would store."""
    rows = []
    for index, (new, day) in enumerate(zip(drafts, days, strict=True)):
        with _named(index):
            check_document(new)
            if new.party_id not in reads.parties:
                raise InvalidFieldError("party_id", f"no party {new.party_id}")
            row = new_row(new, day, lines_with(reads.catalogue(day), new), at)
            if row.gross_minor <= 0:
                raise InvalidFieldError("lines", "a document must total more than 0")
        rows.append(row)
    return rows


def _check_credit(
    reads: _Reads,
    actor: Actor,
    rows: Sequence[BillingDocumentRow],
    rates: Sequence[FxRate],
    at: datetime,
) -> None:
    """Each invoice against its customer's limit, the batch's earlier invoices counted."""
    limited = [
        r.party_id
        for r in rows
        if r.kind == "invoice" and reads.parties[r.party_id].credit_limit_minor is not None
    ]
    if not limited:
        return
    exposure = exposures_minor(reads.uow, limited, rows[0].issued_on or at.date())
    for index, (row, fx) in enumerate(zip(rows, rates, strict=True)):
        party = reads.parties[row.party_id]
        if row.kind != "invoice" or party.credit_limit_minor is None:
            continue
        day = row.issued_on or at.date()
        exposure[row.party_id] += base_minor(reads.uow, row, fx)
        with _named(index):
            limit = limit_minor(reads.uow, party, day, fx, reads.fx)
            if limit is not None and exposure[row.party_id] > limit:
                over_limit(reads.uow, actor, row, exposure[row.party_id] - limit, fx, at, False)


def _numbers(uow: UnitOfWork, rows: Sequence[BillingDocumentRow]) -> list[str]:
    """Gapless numbers per series and year, in the batch's order."""
    wanted: dict[tuple[str, int], int] = defaultdict(int)
    for row in rows:
        assert row.issued_on is not None
        wanted[(SERIES[row.kind][0], row.issued_on.year)] += 1
    following = {
        key: uow.commerce.next_numbers(key[0], key[1], count) for key, count in wanted.items()
    }
    out = []
    for row in rows:
        assert row.issued_on is not None
        series, prefix = SERIES[row.kind]
        key = (series, row.issued_on.year)
        out.append(f"{prefix}-{key[1]}-{following[key]:04d}")
        following[key] += 1
    return out


def issue_documents(
    uow: UnitOfWork, actor: Actor, drafts: Sequence[NewDocument], at: datetime, today: date
) -> list[int]:
    """Create and issue ``drafts`` in ``uow``; returns their ids (see the module docstring)."""
    if not drafts:
        return []
    days = [new.issued_on or today for new in drafts]
    reads = _reads(uow, drafts, max(days))
    rows = _drafts(reads, drafts, days, at)
    rates = []
    for index, (row, day) in enumerate(zip(rows, days, strict=True)):
        with _named(index):
            rates.append(reads.fx(row.currency, day))
    _check_credit(reads, actor, rows, rates, at)
    issued = []
    entries = []
    for row, fx, day, number in zip(rows, rates, days, _numbers(uow, rows), strict=True):
        entry, base = entry_of(replace(row, number=number), fx, day, reads.scales)
        entries.append(entry)
        issued.append(
            replace(
                row,
                number=number,
                status=InvoiceStatus.ISSUED.value,
                issued_on=day,
                issued_at=at,
                due_on=due_on(row, reads.parties[row.party_id], day),
                rate=rate_text(fx.rate) if fx.converts else None,
                open_minor=row.gross_minor,
                open_base_minor=base,
                version=row.version + 1,
                updated_at=at,
            )
        )
    add_iso_commodities(uow.ledger, entries)
    refs = post_batch(uow.ledger, entries, at)
    issued = [replace(row, entry_id=ref.id) for row, ref in zip(issued, refs, strict=True)]
    ids = uow.billing.insert_documents(issued)
    changes = []
    events = []
    for draft, row, new_id in zip(rows, issued, ids, strict=True):
        kind = row.kind
        changes.append(Change(f"{kind}.create", kind, new_id, None, audit_of(draft)))
        changes.append(Change(f"{kind}.issue", kind, new_id, audit_of(draft), audit_of(row)))
        events.append(
            event_row(kind, new_id, f"{kind}.issued", at, party_id=row.party_id, number=row.number)
        )
    record_many(uow, actor, at, changes)
    uow.billing.append_events(events)
    return ids
