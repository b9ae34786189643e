"""Expense claims on both databases: approving posts expenses and input tax against what the
company owes the employee, reimbursing clears it, nobody approves their own claim, a bad
receipt or line is refused naming it and writes nothing, and each role sees what it may."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from crmledger.bootstrap import App
from crmledger.core.access import PermissionDeniedError, Principal, Role
from crmledger.core.billing.expenses import ClaimLine, SelfApprovalError
from crmledger.core.errors import InvalidFieldError, TransitionError
from crmledger.services.errors import NotFoundError, VersionConflictError
from crmledger.services.expense_ports import ExpenseQuery
from crmledger.services.expense_views import ExpenseClaim
from crmledger.services.expenses import NewClaim, Upload
from crmledger.services.trail import Actor

D = Decimal
LIABILITY = "Liabilities:Employees:Reimbursements"
#: The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def as_user(app: App, email: str, role: Role) -> tuple[App, int]:
    """The book acting for a new user of ``role``, and the user's id."""
    user = app.access.add_user(email, role, "correct horse battery")
    principal = Principal(user.id, f"user:{user.id}", role)
    return app.acting_as(Actor(principal, "test")), user.id


def balance(app: App, account: str, party: str | None = None) -> dict[str, int]:
    """Σ postings of ``account`` per commodity (and party), straight from the tables."""
    sql = (
        "SELECT p.commodity, SUM(p.amount_minor) FROM postings p "
        "JOIN accounts a ON a.id = p.account_id WHERE a.name = :account"
        + (" AND p.party = :party" if party is not None else "")
        + " GROUP BY p.commodity"
    )
    with app.engine.connect() as conn:
        rows = conn.execute(text(sql), {"account": account, "party": party}).all()
    return {c: int(s) for c, s in rows if s}


def events(app: App) -> list[dict[str, object]]:
    with app.engine.connect() as conn:
        sql = "SELECT payload FROM outbox_events WHERE aggregate = 'expense' ORDER BY id"
        return [json.loads(p) for (p,) in conn.execute(text(sql))]


def taxi_and_paper(staff: App, **changes: object) -> ExpenseClaim:
    """A gross claim: a taxi at 119.00 with 19 % input tax, paper at 30.00 without."""
    new = NewClaim(
        description="Trip to the Hamburg trade fair",
        claimed_on=date(2026, 6, 12),
        lines=[
            ClaimLine("Expenses:Travel", D("119.00"), "standard", "Taxi"),
            ClaimLine("Expenses:Office", D("30.00"), None, "Printer paper"),
        ],
    )
    return staff.expenses.create(replace(new, **changes), [Upload("taxi.png", PNG)])


@pytest.fixture
def people(app: App) -> tuple[App, int, App, int]:
    """A sales employee and a finance approver: ``(sam, sam's id, ann, ann's id)``."""
    sam, sam_id = as_user(app, "sam@example.com", Role.SALES)
    ann, ann_id = as_user(app, "ann@example.com", Role.ACCOUNTANT)
    return sam, sam_id, ann, ann_id


def test_an_approved_claim_posts_expenses_and_tax_against_the_employee(
    app: App, people: tuple[App, int, App, int]
) -> None:
    sam, sam_id, ann, _ = people
    draft = taxi_and_paper(sam)
    assert (draft.status, draft.number, draft.employee_id) == ("draft", None, sam_id)
    assert [(x.net, x.tax) for x in draft.lines] == [(D("100.00"), D("19.00")), (D("30.00"), 0)]
    assert (draft.net, draft.tax, draft.gross) == (D("130.00"), D("19.00"), D("149.00"))
    submitted = sam.expenses.submit(draft.id, draft.version)
    assert submitted.status == "submitted"
    assert balance(app, LIABILITY) == {}  # nothing is booked before approval
    posted = ann.expenses.approve(submitted.id, submitted.version)
    assert (posted.status, posted.number) == ("posted", "EXP-2026-0001")
    employee = f"user:{sam_id}"
    assert balance(app, LIABILITY, employee) == {"EUR": -14900}
    assert balance(app, "Expenses:Travel") == {"EUR": 10000}
    assert balance(app, "Expenses:Office") == {"EUR": 3000}
    assert balance(app, "Assets:Tax:Input") == {"EUR": 1900}
    entry = app.ledger.get(posted.entry_id)
    assert (entry.journal, entry.date, entry.reference) == (
        "EX",
        date(2026, 6, 12),
        "EXP-2026-0001",
    )
    assert [e["type"] for e in events(app)] == ["expense.submitted", "expense.approved"]
    actions = [r.action for r in app.audit.log(limit=100, filters={"resource": "expense"})]
    assert sorted(actions) == sorted(
        ["expense.create", "expense.receipt", "expense.submit", "expense.approve"]
    )
    assert app.audit.verify().ok


def test_reimbursing_clears_what_the_company_owes(
    app: App, people: tuple[App, int, App, int]
) -> None:
    sam, sam_id, ann, _ = people
    claim = taxi_and_paper(sam)
    claim = sam.expenses.submit(claim.id)
    with pytest.raises(TransitionError):
        ann.expenses.reimburse(claim.id)  # not approved yet
    claim = ann.expenses.approve(claim.id)
    with pytest.raises(InvalidFieldError) as bad:
        ann.expenses.reimburse(claim.id, bank_account="Expenses:Office")
    assert bad.value.field == "bank_account"
    paid = ann.expenses.reimburse(claim.id, claim.version, paid_on=date(2026, 6, 20))
    assert (paid.status, paid.reimbursed_on) == ("reimbursed", date(2026, 6, 20))
    assert balance(app, LIABILITY, f"user:{sam_id}") == {}
    assert balance(app, "Assets:Bank:Checking") == {"EUR": -14900}
    assert app.ledger.get(paid.reimbursement_entry_id).journal == "BK"
    with pytest.raises(TransitionError):
        ann.expenses.reimburse(claim.id)
    assert events(app)[-1]["type"] == "expense.reimbursed"
    assert app.audit.verify().ok


def test_nobody_approves_their_own_claim_and_roles_are_obeyed(
    app: App, people: tuple[App, int, App, int]
) -> None:
    sam, _, ann, ann_id = people
    own = ann.expenses.submit(taxi_and_paper(ann).id)
    with pytest.raises(SelfApprovalError):
        ann.expenses.approve(own.id)
    sams = sam.expenses.submit(taxi_and_paper(sam).id)
    with pytest.raises(PermissionDeniedError):
        sam.expenses.approve(sams.id)  # sales may claim, not approve
    with pytest.raises(NotFoundError):
        sam.expenses.get(own.id)  # nor see a colleague's claim
    assert [c.id for c in sam.expenses.page(ExpenseQuery(limit=10))] == [sams.id]
    assert {c.id for c in ann.expenses.page(ExpenseQuery(limit=10))} == {own.id, sams.id}
    auditor, _ = as_user(app, "aud@example.com", Role.AUDITOR)
    assert len(auditor.expenses.page(ExpenseQuery(limit=10))) == 2
    with pytest.raises(PermissionDeniedError):
        auditor.expenses.create(NewClaim(description="x", lines=[]))
    viewer, _ = as_user(app, "vic@example.com", Role.VIEWER)
    with pytest.raises(PermissionDeniedError):
        viewer.expenses.page(ExpenseQuery(limit=10))
    with pytest.raises(PermissionDeniedError):
        taxi_and_paper(sam, employee_id=ann_id)  # claiming for somebody else
    approved = app.expenses.approve(own.id)  # the operator is not the employee
    assert approved.status == "posted"
    assert balance(app, LIABILITY, f"user:{ann_id}") == {"EUR": -14900}


def test_a_rejected_claim_books_nothing(app: App, people: tuple[App, int, App, int]) -> None:
    sam, _, ann, _ = people
    claim = sam.expenses.submit(taxi_and_paper(sam).id)
    with pytest.raises(InvalidFieldError) as no_reason:
        ann.expenses.reject(claim.id, "  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(VersionConflictError):
        ann.expenses.reject(claim.id, "Private trip", if_version=claim.version - 1)
    rejected = ann.expenses.reject(claim.id, "Private trip", if_version=claim.version)
    assert (rejected.status, rejected.reason) == ("rejected", "Private trip")
    with pytest.raises(TransitionError):
        ann.expenses.approve(claim.id)
    assert balance(app, LIABILITY) == {}
    assert [e["type"] for e in events(app)] == ["expense.submitted", "expense.rejected"]


def _claim_count(app: App) -> int:
    with app.engine.connect() as conn:
        counts = [
            conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("expense_claims", "expense_lines", "expense_receipts")
        ]
    return sum(counts)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("notes.txt", b"just some text", "not a PDF, PNG or JPEG"),
        ("fake.png", b"GIF89a" + b"\x00" * 20, "not a PDF, PNG or JPEG"),
        ("empty.pdf", b"", "is empty"),
        ("huge.pdf", b"%PDF-" + b"\x00" * (10 * 1024 * 1024), "larger than 10 MB"),
    ],
)
def test_a_bad_receipt_is_refused_and_nothing_written(
    app: App, people: tuple[App, int, App, int], name: str, content: bytes, reason: str
) -> None:
    sam = people[0]
    audit_before = len(app.audit.log())
    new = NewClaim(description="Lunch", lines=[ClaimLine("Expenses:Travel", D("12.00"))])
    with pytest.raises(InvalidFieldError) as refused:
        sam.expenses.create(new, [Upload("ok.pdf", PDF), Upload(name, content)])
    assert refused.value.field == "receipts[1]"
    assert reason in str(refused.value)
    assert _claim_count(app) == 0
    assert len(app.audit.log()) == audit_before


def test_receipts_are_kept_byte_for_byte_and_only_on_drafts(
    app: App, people: tuple[App, int, App, int]
) -> None:
    sam, _, ann, _ = people
    new = NewClaim(description="Hotel", lines=[ClaimLine("Expenses:Travel", D("80.00"))])
    draft = sam.expenses.create(new)
    with pytest.raises(InvalidFieldError) as no_receipt:
        sam.expenses.submit(draft.id)
    assert no_receipt.value.field == "receipts"
    claim, receipt = sam.expenses.add_receipt(draft.id, Upload("../../etc/hotel.pdf", PDF))
    assert claim.version == draft.version + 1
    assert (receipt.name, receipt.content_type, receipt.size) == (
        "hotel.pdf",
        "application/pdf",
        len(PDF),
    )
    assert receipt.sha256 == hashlib.sha256(PDF).hexdigest()
    stored = ann.expenses.receipt(claim.id, receipt.id)
    assert stored.content == PDF
    with pytest.raises(NotFoundError):
        ann.expenses.receipt(claim.id, receipt.id + 100)
    sam.expenses.submit(claim.id)
    with pytest.raises(TransitionError):
        sam.expenses.add_receipt(claim.id, Upload("later.png", PNG))
    assert len(sam.expenses.get(claim.id).receipts) == 1


@pytest.mark.parametrize(
    ("line", "field"),
    [
        (ClaimLine("Expenses:Nowhere", D("10.00")), "lines[0].account"),
        (ClaimLine("Income:Other", D("10.00")), "lines[0].account"),
        (ClaimLine("Expenses:Travel", D("10.001")), "lines[0].amount"),
        (ClaimLine("Expenses:Travel", D("-5")), "lines[0].amount"),
        (ClaimLine("Expenses:Travel", D("10"), "luxury"), "lines[0].tax_category"),
    ],
)
def test_a_bad_line_is_refused_naming_its_field(
    app: App, people: tuple[App, int, App, int], line: ClaimLine, field: str
) -> None:
    new = NewClaim(description="Lunch", lines=[line])
    with pytest.raises(InvalidFieldError) as refused:
        people[0].expenses.create(new, [Upload("r.png", PNG)])
    assert refused.value.field == field
    assert _claim_count(app) == 0


def test_net_amounts_in_a_foreign_currency_are_booked_at_the_days_rate(
    app: App, people: tuple[App, int, App, int]
) -> None:
    sam, sam_id, ann, _ = people
    app.rates.set_rate("USD", date(2026, 6, 1), D("0.92"))
    new = NewClaim(
        description="Conference in Boston",
        currency="USD",
        claimed_on=date(2026, 6, 3),
        gross=False,
        lines=[ClaimLine("Expenses:Travel", D("100.00"), "standard")],
    )
    claim = sam.expenses.submit(sam.expenses.create(new, [Upload("r.jpg", b"\xff\xd8\xff\xe0")]).id)
    assert (claim.net, claim.tax, claim.gross) == (D("100.00"), D("19.00"), D("119.00"))
    posted = ann.expenses.approve(claim.id)
    assert posted.rate == D("0.92")
    assert balance(app, LIABILITY, f"user:{sam_id}") == {"USD": -11900}
    with app.engine.connect() as conn:
        weights = conn.execute(
            text(
                "SELECT SUM(c.weight_minor) FROM postings p"
                " JOIN posting_conversions c ON c.posting_id = p.id"
                " JOIN accounts a ON a.id = p.account_id WHERE a.name = :name"
            ),
            {"name": LIABILITY},
        ).scalar_one()
    assert weights == -10948  # 92.00 + 17.48 EUR
    ann.expenses.reimburse(claim.id)
    assert balance(app, LIABILITY) == {}
    assert app.audit.verify().ok
