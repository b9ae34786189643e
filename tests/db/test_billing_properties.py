"""Property: for any sequence of invoices, payments, credit notes and allocations, in any
currency, the receivable control account agrees with the documents, on both databases.

After every generated sequence, per customer:

* per currency, Σ receivable postings = Σ open invoices - unapplied receipts and credit notes;
* in the base currency, Σ receivable weights = Σ open base values of the same documents
  (the realised exchange differences close the gap between rates exactly);
* each invoice's status is what its payments and credits make it, and a settled document or
  payment has nothing left open in the base currency either;
* each issued document's entry posts exactly the document's gross, net and tax;
* no invoice is credited more net or tax than it invoiced, and one credited in full (in one
  note, or a part then the rest) is credited exactly its net and tax.

Each example uses fresh customers in one book, so the examples also check that nothing
leaks between customers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.billing.settlement import status_of
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment

D = Decimal
SCALES = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
ISSUE_DAY, PAY_DAY = date(2026, 3, 2), date(2026, 4, 15)

invoice_op = st.tuples(
    st.just("invoice"),
    st.integers(0, 1),  # customer
    st.sampled_from(sorted(SCALES)),
    st.integers(1, 5_000_000),  # unit price in minor units
    st.sampled_from(["standard", "reduced", "zero"]),
    st.integers(1, 3),  # quantity
)
pay_op = st.tuples(
    st.just("pay"),
    st.integers(0, 1),
    st.sampled_from(sorted(SCALES)),
    st.integers(1, 8_000_000),
    st.booleans(),  # keep it all as credit instead of allocating
)
credit_op = st.tuples(
    st.just("credit"),
    st.integers(0, 20),
    st.booleans(),  # all that is left (else a part of the line)
    st.integers(1, 3),  # quantity of a part
)
allocate_op = st.tuples(st.just("allocate"), st.integers(0, 20))
operations = st.lists(st.one_of(invoice_op, pay_op, credit_op, allocate_op), max_size=10)


def _setup_rates(app: App) -> None:
    if app.rates.rates(limit=1):
        return
    for currency, first, later in (
        ("USD", "0.91234567", "0.95"),
        ("JPY", "0.006123", "0.0058"),
        ("KWD", "2.987", "3.0011"),
    ):
        app.rates.set_rate(currency, ISSUE_DAY, D(first))
        app.rates.set_rate(currency, PAY_DAY, D(later))


def _credit(app: App, invoices: list[int], left: dict[int, int], op: tuple[object, ...]) -> None:
    """Credit all that is left of an invoice's one line, or a part of it."""
    _, index, whole, quantity = op
    target = invoices[int(index) % len(invoices)]  # type: ignore[call-overload]
    if left[target] == 0:
        return
    part = min(int(quantity), left[target])  # type: ignore[call-overload]
    app.invoices.credit(target, None if whole else [(1, D(part))])
    left[target] = 0 if whole else left[target] - part


def _run(app: App, customers: list[int], ops: list[tuple[object, ...]]) -> dict[int, int]:
    """Run ``ops``; return the quantity each invoice has left to credit."""
    invoices: list[int] = []
    left: dict[int, int] = {}
    payments: list[int] = []
    for op in ops:
        kind = op[0]
        if kind == "invoice":
            _, who, currency, price, category, quantity = op
            scale = SCALES[str(currency)]
            line = DocumentLine(
                description="Work",
                quantity=D(int(quantity)),  # type: ignore[call-overload]
                unit_price=D(int(price)).scaleb(-scale),  # type: ignore[call-overload]
                tax_category=str(category),
            )
            draft = app.invoices.create(
                NewDocument(
                    party_id=customers[int(who)],  # type: ignore[call-overload]
                    currency=str(currency),
                    lines=[line],
                    issued_on=ISSUE_DAY,
                )
            )
            invoices.append(app.invoices.issue(draft.id).id)
            left[invoices[-1]] = int(quantity)  # type: ignore[call-overload]
        elif kind == "pay":
            _, who, currency, amount, keep = op
            new = NewPayment(
                party_id=customers[int(who)],  # type: ignore[call-overload]
                amount=D(int(amount)).scaleb(-SCALES[str(currency)]),  # type: ignore[call-overload]
                currency=str(currency),
                paid_on=PAY_DAY,
            )
            payments.append(app.payments.record(new, [] if keep else None).id)
        elif kind == "credit" and invoices:
            _credit(app, invoices, left, op)
        elif kind == "allocate" and payments:
            payment = payments[int(op[1]) % len(payments)]  # type: ignore[call-overload]
            app.payments.allocate(payment)  # nothing open in its currency: nothing happens
    return left


def _ledger(app: App, party: int) -> tuple[dict[str, int], int]:
    """Σ receivable amounts per commodity and Σ weights in the base currency."""
    sql = text(
        "SELECT p.commodity, SUM(p.amount_minor), SUM(COALESCE(c.weight_minor, p.amount_minor)) "
        "FROM postings p JOIN accounts a ON a.id = p.account_id "
        "LEFT JOIN posting_conversions c ON c.posting_id = p.id "
        "WHERE a.name = 'Assets:Receivables:Customers' AND p.party = :party "
        "GROUP BY p.commodity"
    )
    with app.engine.connect() as conn:
        rows = conn.execute(sql, {"party": str(party)}).all()
    return {c: int(a) for c, a, _ in rows}, sum(int(w) for _, _, w in rows)


def _documents(app: App, party: int) -> tuple[dict[str, int], int]:
    """Σ open per currency (invoices less credits) and Σ open base, from the documents."""
    sql = text(
        "SELECT kind, currency, open_minor, open_base_minor, gross_minor, paid_minor, "
        "credited_minor, status, entry_id FROM billing_documents WHERE party_id = :party "
        "UNION ALL SELECT 'payment', currency, open_minor, open_base_minor, amount_minor, 0, 0, "
        "'n/a', entry_id FROM payments WHERE party_id = :party"
    )
    per_currency: dict[str, int] = defaultdict(int)
    base = 0
    with app.engine.connect() as conn:
        for kind, currency, open_, open_base, gross, paid, credited, status, _ in conn.execute(
            sql, {"party": party}
        ):
            sign = 1 if kind == "invoice" else -1
            per_currency[currency] += sign * int(open_)
            base += sign * int(open_base)
            assert (int(open_) == 0) <= (int(open_base) == 0), "settled but base left open"
            if kind == "invoice":
                assert int(open_) == int(gross) - int(paid) - int(credited)
                assert status == status_of(D(gross), D(paid), D(credited)).value
    return {c: v for c, v in per_currency.items() if v}, base


def _entries_match_documents(app: App, party: int) -> None:
    sql = text(
        "SELECT d.gross_minor, d.tax_minor, d.kind, "
        "SUM(CASE WHEN a.name = 'Assets:Receivables:Customers' THEN p.amount_minor END), "
        "SUM(CASE WHEN a.name = 'Liabilities:Tax:Output' THEN p.amount_minor END) "
        "FROM billing_documents d JOIN postings p ON p.entry_id = d.entry_id "
        "JOIN accounts a ON a.id = p.account_id WHERE d.party_id = :party "
        "GROUP BY d.id, d.gross_minor, d.tax_minor, d.kind"
    )
    with app.engine.connect() as conn:
        for gross, tax, kind, receivable, tax_posted in conn.execute(sql, {"party": party}):
            sign = 1 if kind == "invoice" else -1
            assert int(receivable) == sign * int(gross)
            assert int(tax_posted or 0) == -sign * int(tax)


def _credits_within_invoices(app: App, party: int, left: dict[int, int]) -> None:
    sql = text(
        "SELECT i.id, i.net_minor, i.tax_minor, "
        "COALESCE(SUM(c.net_minor), 0), COALESCE(SUM(c.tax_minor), 0) "
        "FROM billing_documents i LEFT JOIN billing_documents c "
        "ON c.refers_to = i.id AND c.kind = 'credit_note' "
        "WHERE i.party_id = :party AND i.kind = 'invoice' "
        "GROUP BY i.id, i.net_minor, i.tax_minor"
    )
    with app.engine.connect() as conn:
        for invoice, net, tax, net_back, tax_back in conn.execute(sql, {"party": party}):
            assert int(net_back) <= int(net), invoice
            assert int(tax_back) <= int(tax), invoice
            if left[invoice] == 0:
                assert (int(net_back), int(tax_back)) == (int(net), int(tax)), invoice


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_receivable_agrees_with_open_documents(app: App, ops: list[tuple[object, ...]]) -> None:
    _setup_rates(app)
    customers = [
        int(app.parties.add(Party(kind=PartyKind.ORGANISATION, display_name=f"C{i}")).id or 0)
        for i in range(2)
    ]
    left = _run(app, customers, ops)
    for party in customers:
        amounts, weight = _ledger(app, party)
        open_by_currency, open_base = _documents(app, party)
        foreign = {c: v for c, v in amounts.items() if c != "EUR" and v}
        assert foreign == {c: v for c, v in open_by_currency.items() if c != "EUR"}
        assert weight == open_base
        _entries_match_documents(app, party)
        _credits_within_invoices(app, party, left)
