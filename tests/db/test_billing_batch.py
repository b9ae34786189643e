"""Differential property: the bulk paths (``issue_batch``, ``record_batch``) write exactly
what the one-at-a-time paths write, on both databases.

For any list of invoices (several currencies, prices and tax categories) and any list of
receipts (some over- or under-paying, some in a currency with nothing open), one customer
set goes through ``create`` + ``issue`` and ``record`` one document at a time and a twin
set through ``issue_batch`` and ``record_batch``. Per customer, the documents (status,
open, paid, base values, settlement day), payments (open and base), allocations (amounts,
exchange differences) and every posting of their entries must be the same, as must the
audit actions and outbox events they leave.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment

D = Decimal
SCALES = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
ISSUE_DAY, PAY_DAY = date(2026, 3, 2), date(2026, 4, 15)

invoices = st.lists(
    st.tuples(
        st.integers(0, 1),  # customer
        st.sampled_from(sorted(SCALES)),
        st.integers(1, 5_000_000),  # unit price in minor units
        st.sampled_from(["standard", "reduced", "zero"]),
        st.integers(1, 3),  # quantity
        st.integers(0, 20),  # days after ISSUE_DAY
    ),
    min_size=1,
    max_size=6,
)
receipts = st.lists(
    st.tuples(
        st.integers(0, 1),
        st.sampled_from(sorted(SCALES)),
        st.integers(1, 8_000_000),
        st.integers(0, 30),  # days after PAY_DAY
    ),
    max_size=6,
)


def _rates(app: App) -> None:
    for day, usd, jpy, kwd in (
        (ISSUE_DAY, "0.9137", "0.00613", "2.9871"),
        (PAY_DAY, "0.9412", "0.00587", "3.0044"),
    ):
        app.rates.set_rate("USD", day, D(usd))
        app.rates.set_rate("JPY", day, D(jpy))
        app.rates.set_rate("KWD", day, D(kwd))


def _customers(app: App, tag: str) -> list[int]:
    stored = app.parties.add_many(
        [Party(kind=PartyKind.ORGANISATION, display_name=f"{tag} {i}") for i in range(2)]
    )
    return [p.id for p in stored if p.id is not None]


def _documents(
    customers: list[int], items: list[tuple[int, str, int, str, int, int]]
) -> list[NewDocument]:
    return [
        NewDocument(
            party_id=customers[who],
            currency=ccy,
            issued_on=date.fromordinal(ISSUE_DAY.toordinal() + days),
            lines=[
                DocumentLine(
                    description="Work",
                    quantity=D(qty),
                    unit_price=D(minor).scaleb(-SCALES[ccy]),
                    tax_category=tax,
                )
            ],
        )
        for who, ccy, minor, tax, qty, days in items
    ]


def _payments(customers: list[int], items: list[tuple[int, str, int, int]]) -> list[NewPayment]:
    return [
        NewPayment(
            party_id=customers[who],
            amount=D(minor).scaleb(-SCALES[ccy]),
            currency=ccy,
            paid_on=date.fromordinal(PAY_DAY.toordinal() + days),
        )
        for who, ccy, minor, days in items
    ]


def _rows(app: App, sql: str, party: int) -> list[tuple[Any, ...]]:
    with app.engine.connect() as conn:
        params = {"party": party, "party_text": str(party)}
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _snapshot(app: App, party: int) -> dict[str, object]:
    """What a customer's documents, payments, allocations and entries hold, free of ids and
    numbers that depend on what else the book holds."""
    documents = _rows(
        app,
        "SELECT kind, currency, status, issued_on, due_on, settled_on, net_minor, tax_minor, "
        "gross_minor, paid_minor, open_minor, open_base_minor, rate, version "
        "FROM billing_documents WHERE party_id = :party ORDER BY id",
        party,
    )
    payments = _rows(
        app,
        "SELECT kind, currency, amount_minor, paid_on, rate, base_minor, open_minor, "
        "open_base_minor FROM payments WHERE party_id = :party ORDER BY id",
        party,
    )
    allocations = _rows(
        app,
        "SELECT a.amount_minor, a.allocated_on, a.fx_entry_id IS NULL, d.gross_minor "
        "FROM allocations a JOIN billing_documents d ON d.id = a.invoice_id "
        "WHERE d.party_id = :party ORDER BY a.id",
        party,
    )
    postings = Counter(
        _rows(
            app,
            "SELECT e.date, a.name, p.commodity, p.amount_minor, c.weight_minor "
            "FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
            "JOIN accounts a ON a.id = p.account_id "
            "LEFT JOIN posting_conversions c ON c.posting_id = p.id "
            "WHERE p.entry_id IN (SELECT entry_id FROM postings WHERE party = :party_text)",
            party,
        )
    )
    return {
        "documents": documents,
        "payments": payments,
        "allocations": allocations,
        "postings": postings,
    }


def _trail(
    app: App, invoices: list[int], payments: list[int]
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """The audit actions and outbox events about these invoices and payments."""
    ours = {("invoice", str(i)) for i in invoices} | {("payment", str(i)) for i in payments}
    with app.engine.connect() as conn:
        audit = Counter(
            (action, resource)
            for action, resource, rid in conn.execute(
                text("SELECT action, resource, resource_id FROM audit_log")
            )
            if (resource, rid) in ours
        )
        events = Counter(
            (aggregate, kind)
            for aggregate, kind, aid in conn.execute(
                text("SELECT aggregate, type, aggregate_id FROM outbox_events")
            )
            if (aggregate, str(aid)) in ours
        )
    return audit, events


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(invoice_items=invoices, receipt_items=receipts)
def test_bulk_paths_write_what_one_at_a_time_writes(
    app: App,
    invoice_items: list[tuple[int, str, int, str, int, int]],
    receipt_items: list[tuple[int, str, int, int]],
) -> None:
    _rates(app)
    single, bulk = _customers(app, "single"), _customers(app, "bulk")
    single_ids = []
    for draft in _documents(single, invoice_items):
        created = app.invoices.create(draft)
        single_ids.append(app.invoices.issue(created.id, override_credit=True).id)
    single_payments = [app.payments.record(p).id for p in _payments(single, receipt_items)]
    bulk_ids = app.invoices.issue_batch(_documents(bulk, invoice_items))
    bulk_payments = app.payments.record_batch(_payments(bulk, receipt_items))
    for one, other in zip(single, bulk, strict=True):
        assert _snapshot(app, one) == _snapshot(app, other)
    assert _trail(app, single_ids, single_payments) == _trail(app, bulk_ids, bulk_payments)
