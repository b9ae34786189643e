"""Billing rules as pure functions: entries balance exactly in the document currency and in
the base currency for any amounts and rates; zero- and three-decimal currencies; half-cent
taxes; allocation oldest first, chosen, and base shares that leave nothing behind."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.billing.entries import (
    BillingAccounts,
    BillingDocument,
    FxRate,
    Settlement,
    document_entry,
    fx_difference_entry,
    settlement_entry,
)
from crmledger.core.billing.settlement import (
    Allocation,
    InvoiceStatus,
    OpenItem,
    base_share,
    chosen,
    oldest_first,
    status_of,
)
from crmledger.core.crm.documents import Line, TaxRule, totals
from crmledger.core.entries import check_balanced, residuals
from crmledger.core.errors import InvalidFieldError

D = Decimal
ACCOUNTS = BillingAccounts()
SCALES = {"EUR": 2, "USD": 2, "JPY": 0, "KWD": 3}
DAY = date(2026, 3, 1)


def _doc(
    currency: str, lines: list[tuple[str, Decimal]], taxes: list[tuple[str, Decimal]]
) -> BillingDocument:
    gross = sum((a for _, a in lines), D(0)) + sum((t for _, t in taxes), D(0))
    return BillingDocument(
        kind="invoice",
        number="INV-1",
        party="7",
        on=DAY,
        currency=currency,
        lines=tuple(lines),
        taxes=tuple(taxes),
        gross=gross,
    )


def test_foreign_invoice_balances_exactly_in_the_base() -> None:
    doc = _doc(
        "USD",
        [("Income:Sales:Services", D("100.01")), ("Income:Sales:Products", D("33.33"))],
        [("standard", D("25.33"))],
    )
    entry, base = document_entry(doc, ACCOUNTS, FxRate("USD", "EUR", D("0.91234567"), 2))
    check_balanced(entry.postings, SCALES)
    assert residuals(entry.postings) == {"EUR": 0}
    assert entry.postings[0].amount == D("158.67")
    assert base == D("91.24") + D("30.41") + D("23.11")  # each line rounded once, half-even


def test_zero_decimal_currency_posts_whole_yen() -> None:
    doc = _doc("JPY", [("Income:Sales:Services", D("12345"))], [("standard", D("2346"))])
    entry, base = document_entry(doc, ACCOUNTS, FxRate("JPY", "EUR", D("0.006123"), 2))
    assert [p.amount for p in entry.postings] == [D("14691"), D("-12345"), D("-2346")]
    assert base == D("75.59") + D("14.36")
    check_balanced(entry.postings, SCALES)


def test_three_decimal_currency_keeps_its_fils() -> None:
    lines = [Line(None, "Work", D(3), D("1.005"))]
    added = totals(lines, 3, {"standard": TaxRule(D("0.05"), "line")})
    assert (added.net, added.tax, added.gross) == (D("3.015"), D("0.151"), D("3.166"))
    doc = _doc("KWD", [("Income:Sales:Services", added.net)], [("standard", added.tax)])
    entry, base = document_entry(doc, ACCOUNTS, FxRate("KWD", "EUR", D("2.987"), 2))
    assert base == D("9.01") + D("0.45")
    check_balanced(entry.postings, SCALES)


def test_half_cent_taxes_round_half_even_per_line() -> None:
    rule = {"standard": TaxRule(D("0.10"), "line")}
    added = totals([Line(None, "a", D(1), D("1.05")), Line(None, "b", D(1), D("1.15"))], 2, rule)
    assert [t.tax for t in added.lines] == [D("0.10"), D("0.12")]  # 0.105 → 0.10, 0.115 → 0.12


def test_lines_and_taxes_must_add_up_to_the_gross() -> None:
    doc = _doc("EUR", [("Income:Sales:Services", D("10.00"))], [])
    with pytest.raises(InvalidFieldError):
        document_entry(
            BillingDocument(**{**_fields(doc), "gross": D("10.01")}),
            ACCOUNTS,
            FxRate("EUR", "EUR", D(1), 2),
        )


def _fields(doc: BillingDocument) -> dict[str, object]:
    return {name: getattr(doc, name) for name in BillingDocument.__dataclass_fields__}


amounts = st.decimals(min_value=D("0.01"), max_value=D("99999999.99"), places=2)
rates = st.decimals(min_value=D("0.000001"), max_value=D("1000"), places=8)


@given(
    lines=st.lists(amounts, min_size=1, max_size=6), taxes=st.lists(amounts, max_size=3), rate=rates
)
def test_any_document_balances_in_both_currencies(
    lines: list[Decimal], taxes: list[Decimal], rate: Decimal
) -> None:
    doc = _doc(
        "USD",
        [(f"Income:L{i}", a) for i, a in enumerate(lines)],
        [(f"t{i}", t) for i, t in enumerate(taxes)],
    )
    entry, base = document_entry(doc, ACCOUNTS, FxRate("USD", "EUR", rate, 2))
    sums = residuals(entry.postings)
    assert sums == {"EUR": 0}
    assert sum(p.amount for p in entry.postings) == 0
    assert entry.postings[0].weight == base


def test_receipt_debits_the_bank_and_credits_the_customer() -> None:
    settlement = Settlement(
        kind="receipt",
        number="RC-1",
        party="7",
        on=DAY,
        amount=D("119.00"),
        bank_account="Assets:Bank:Checking",
    )
    entry, base = settlement_entry(settlement, ACCOUNTS, FxRate("USD", "EUR", D("0.95"), 2))
    assert [(p.account, p.amount, p.party) for p in entry.postings] == [
        ("Assets:Bank:Checking", D("119.00"), None),
        ("Assets:Receivables:Customers", D("-119.00"), "7"),
    ]
    assert base == D("113.05")


def test_exchange_difference_goes_to_gain_or_loss() -> None:
    gain = fx_difference_entry(
        on=DAY,
        party="7",
        residual=D("-5.95"),
        control_account=ACCOUNTS.receivable,
        base="EUR",
        accounts=ACCOUNTS,
        reference="INV-1",
    )
    assert gain is not None
    assert [(p.account, p.amount) for p in gain.postings] == [
        ("Income:FX:Gains", D("-5.95")),
        ("Assets:Receivables:Customers", D("5.95")),
    ]
    nothing = fx_difference_entry(
        on=DAY,
        party="7",
        residual=D(0),
        control_account=ACCOUNTS.receivable,
        base="EUR",
        accounts=ACCOUNTS,
        reference="INV-1",
    )
    assert nothing is None


def test_allocation_oldest_first_and_chosen() -> None:
    items = [
        OpenItem(2, date(2026, 2, 1), D(50), D(40)),
        OpenItem(1, date(2026, 1, 1), D(100), D(90)),
    ]
    plan, left = oldest_first(D(120), items)
    assert plan == [Allocation(1, D(100)), Allocation(2, D(20))]
    assert left == 0
    plan, left = chosen(D(60), items, [Allocation(2, D(50))])
    assert left == D(10)
    with pytest.raises(InvalidFieldError) as err:
        chosen(D(60), items, [Allocation(3, D(1))])
    assert err.value.field == "allocations[0].invoice_id"
    with pytest.raises(InvalidFieldError) as err:
        chosen(D(60), items, [Allocation(1, D(70))])
    assert err.value.field == "allocations"


def test_base_shares_leave_nothing_behind() -> None:
    item = OpenItem(1, DAY, D(300), D(271))
    first = base_share(item, D(100), 0)
    rest = base_share(OpenItem(1, DAY, D(200), D(271) - first), D(200), 0)
    assert first == D(90)  # 271/3 = 90.33 → 90
    assert first + rest == D(271)


@pytest.mark.parametrize(
    ("paid", "credited", "status"),
    [
        (0, 0, InvoiceStatus.ISSUED),
        (10, 0, InvoiceStatus.PARTIALLY_PAID),
        (60, 40, InvoiceStatus.PAID),
        (0, 100, InvoiceStatus.VOID),
    ],
)
def test_status_follows_the_money(paid: int, credited: int, status: InvoiceStatus) -> None:
    assert status_of(D(100), D(paid), D(credited)) is status
