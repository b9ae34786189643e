"""The pure rules of expense claims and recurring bills: receipts judged by their bytes, tax
taken out of gross amounts or added to net ones, the claim's states, entries that balance
in every currency, and billing dates that respect the schedule's end and the calendar's."""

from __future__ import annotations

import doctest
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmledger.core.billing import expenses, recurring
from crmledger.core.billing.entries import FxRate
from crmledger.core.billing.expenses import (
    ApprovedClaim,
    ClaimStatus,
    ExpenseAccounts,
    Reimbursement,
    advance,
    check_receipt,
    claim_entry,
    receipt_name,
    reimbursement_entry,
    split_tax,
)
from crmledger.core.billing.recurring import BillSchedule, Frequency, due_dates, ended_after
from crmledger.core.entries import check_balanced
from crmledger.core.errors import InvalidFieldError, TransitionError

D = Decimal
SCALES = {"EUR": 2, "USD": 2, "JPY": 0}


def test_the_docstrings_hold() -> None:
    assert doctest.testmod(expenses).failed == 0
    assert doctest.testmod(recurring).failed == 0


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00", "image/png"),
        (b"\xff\xd8\xff\xe1", "image/jpeg"),
    ],
)
def test_receipts_are_known_by_their_first_bytes(data: bytes, kind: str) -> None:
    assert check_receipt("scan.bin", data).content_type == kind


@pytest.mark.parametrize(
    "data", [b"GIF89a", b"PK\x03\x04", b"<svg/>", b"%PD", b"\x89PNG", b"MZ\x90\x00"]
)
def test_anything_else_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidFieldError) as refused:
        check_receipt("receipt.pdf", data, "receipts[2]")
    assert refused.value.field == "receipts[2]"


@pytest.mark.parametrize(
    ("given_name", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\sam\\taxi.pdf", "taxi.pdf"),
        ('in"voice\r\n.pdf', "in_voice_.pdf"),
        ("", "receipt.pdf"),
        ("...", "receipt.pdf"),
    ],
)
def test_stored_names_carry_no_path_and_nothing_a_header_would_break_on(
    given_name: str, stored: str
) -> None:
    assert receipt_name(given_name, "application/pdf") == stored


def test_tax_is_taken_out_of_gross_and_added_to_net() -> None:
    assert split_tax(D("119.00"), D("0.19"), 2, gross=True) == (D("100.00"), D("19.00"))
    assert split_tax(D("10.00"), D("0.19"), 2, gross=True) == (D("8.40"), D("1.60"))
    assert split_tax(D("100.00"), D("0.07"), 2, gross=False) == (D("100.00"), D("7.00"))
    assert split_tax(D("999"), D("0.10"), 0, gross=True) == (D("908"), D("91"))


@given(
    amount=st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
    rate=st.sampled_from([D("0"), D("0.07"), D("0.19"), D("0.2"), D("0.255")]),
)
def test_a_gross_amount_splits_into_net_and_tax_exactly(amount: Decimal, rate: Decimal) -> None:
    net, tax = split_tax(amount, rate, 2, gross=True)
    assert net + tax == amount
    assert abs(tax - amount * rate / (1 + rate)) <= D("0.005")


def test_claims_move_only_along_their_states() -> None:
    assert advance("draft", "submit") is ClaimStatus.SUBMITTED
    assert advance("submitted", "approve") is ClaimStatus.POSTED
    assert advance("submitted", "reject") is ClaimStatus.REJECTED
    assert advance("posted", "reimburse") is ClaimStatus.REIMBURSED
    for status, action in [
        ("draft", "approve"),
        ("draft", "reimburse"),
        ("submitted", "submit"),
        ("posted", "reject"),
        ("rejected", "approve"),
        ("reimbursed", "reimburse"),
    ]:
        with pytest.raises(TransitionError):
            advance(status, action)


def _claim(currency: str = "USD") -> ApprovedClaim:
    return ApprovedClaim(
        number="EXP-2026-0007",
        employee_id=3,
        on=date(2026, 6, 3),
        currency=currency,
        description="Conference",
        lines=(("Expenses:Travel", D("100.33")), ("Expenses:Office", D("20.01"))),
        taxes=(("standard", D("19.06")), ("reduced", D("1.40"))),
    )


def test_a_foreign_claim_and_its_reimbursement_balance_in_both_currencies() -> None:
    fx = FxRate("USD", "EUR", D("0.9173"), 2)
    entry, base = claim_entry(_claim(), ExpenseAccounts(), fx)
    check_balanced(entry.postings, SCALES)
    owed = entry.postings[-1]
    assert (owed.account, owed.amount, owed.party) == (
        "Liabilities:Employees:Reimbursements",
        D("-140.80"),
        "user:3",
    )
    assert base == sum(fx.to_base(a) for a in (D("100.33"), D("20.01"), D("19.06"), D("1.40")))
    paid = reimbursement_entry(
        Reimbursement(
            number="EXP-2026-0007",
            employee_id=3,
            on=date(2026, 6, 30),
            currency="USD",
            gross=D("140.80"),
            base=base,
            base_currency="EUR",
            bank_account="Assets:Bank:Checking",
        ),
        ExpenseAccounts(),
    )
    check_balanced(paid.postings, SCALES)
    assert [p.weight for p in paid.postings] == [base, -base]


def test_a_claim_in_the_base_currency_carries_no_conversion() -> None:
    entry, base = claim_entry(_claim("EUR"), ExpenseAccounts(), FxRate("EUR", "EUR", D(1), 2))
    assert base == D("140.80")
    assert all(p.price is None for p in entry.postings)
    assert entry.journal == "EX"


def test_a_schedule_bills_up_to_its_end_and_the_calendars() -> None:
    yearly = BillSchedule(
        frequency=Frequency.YEARLY,
        starts_on=date(9997, 12, 31),
        ends_on=None,
        next_on=date(9997, 12, 31),
    )
    assert due_dates(yearly, date.max) == [
        date(9997, 12, 31),
        date(9998, 12, 31),
        date(9999, 12, 31),
    ]
    assert ended_after(yearly, date(9999, 12, 31))
    monthly = BillSchedule(
        frequency=Frequency.MONTHLY,
        starts_on=date(2026, 1, 31),
        ends_on=date(2026, 2, 28),
        next_on=date(2026, 1, 31),
    )
    assert due_dates(monthly, date(2026, 12, 31)) == [date(2026, 1, 31), date(2026, 2, 28)]
    assert ended_after(monthly, date(2026, 2, 28))
    assert not ended_after(monthly, date(2026, 1, 31))
