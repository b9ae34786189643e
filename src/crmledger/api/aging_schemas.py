"""Bodies and parameters of the aging report and of party statements.

Money is a decimal string; an aging report's amounts are in the base currency, a
statement's in each section's currency::

    GET /reports/aging?kind=receivable&as_of=2026-06-30&buckets=30,60,90
        {"kind": "receivable", "currency": "EUR", "buckets": [{"label": "Current", ...}],
         "parties": [{"party_id": 7, "name": "Acme GmbH", "buckets": ["119.00", ...],
                      "unapplied_credit": "-10.00", "total": "159.00"}],
         "total": "159.00", "control_balance": "159.00", "difference": "0.00"}
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from crmledger.api.schemas import Day, money
from crmledger.core.aging import AgedItem, AgedParty, AgingReport
from crmledger.core.party_statement import CurrencyStatement, PartyStatement, StatementLine

BUCKETS = r"^[0-9]{1,4}(,[0-9]{1,4}){0,12}$"


def _buckets() -> Any:
    return Field(
        "30,60,90",
        pattern=BUCKETS,
        description="Upper day bounds of the overdue buckets, increasing (a leading `0`, "
        "the end of *current*, may be given): `30,60,90` gives current, 1-30, 31-60, 61-90 "
        "and over 90 days.",
    )


class AgingFilters(BaseModel):
    """What to age, on which day, in which buckets (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["receivable", "payable"] = Field(
        "receivable", description="`receivable` (invoices) or `payable` (bills)."
    )
    as_of: Day | None = Field(None, description="Default: today.", examples=["2026-06-30"])
    buckets: str = _buckets()
    party_id: int | None = Field(
        None, ge=1, le=2**31 - 1, description="Only this party, with its open documents."
    )
    details: bool = Field(False, description="List every party's open documents.")
    fmt: Literal["json", "csv", "xlsx", "pdf"] | None = Field(
        None,
        alias="format",
        description="`csv`, `xlsx` or `pdf` download the report (as does an `Accept` header "
        "naming their media type); `json` (the default) describes it.",
    )


class AgingBucketPublic(BaseModel):
    """A bucket: ``from_days`` to ``to_days`` overdue (null: no bound; current is up to
    0, not yet due)."""

    label: str
    from_days: int | None
    to_days: int | None


class AgedDocumentPublic(BaseModel):
    """An open document or payment: ``open`` in its currency, ``base`` in the base
    currency, negative for the party's credit (whose ``bucket`` is null)."""

    source: Literal["document", "payment"]
    id: int
    kind: str
    number: str
    date: dt.date
    due_on: dt.date | None
    days_overdue: int
    currency: str
    open: str
    base: str
    bucket: int | None

    @classmethod
    def of(cls, item: AgedItem) -> Self:
        """The API view of an aged item."""
        return cls(
            source="document" if item.source == "document" else "payment",
            id=item.id,
            kind=item.kind,
            number=item.number,
            date=item.day,
            due_on=item.due_on,
            days_overdue=item.days_overdue,
            currency=item.currency,
            open=money(item.open),
            base=money(item.base),
            bucket=item.bucket,
        )


class AgedPartyPublic(BaseModel):
    """A party's row: an amount per bucket, its unapplied credit and its total;
    ``documents`` when asked for."""

    party_id: int
    name: str
    buckets: list[str]
    unapplied_credit: str
    total: str
    documents: list[AgedDocumentPublic] | None

    @classmethod
    def of(cls, party: AgedParty, details: bool) -> Self:
        """The API view of a party's row."""
        return cls(
            party_id=party.party_id,
            name=party.name,
            buckets=[money(b) for b in party.buckets],
            unapplied_credit=money(party.credit),
            total=money(party.total),
            documents=[AgedDocumentPublic.of(i) for i in party.items] if details else None,
        )


class AgingPublic(BaseModel):
    """Receivables or payables on ``as_of`` by party and bucket, in the base
    ``currency``; ``control_balance`` is the control account's balance that day and
    ``difference`` what of it is not from open documents (zero when they reconcile)."""

    kind: Literal["receivable", "payable"]
    as_of: dt.date
    currency: str
    buckets: list[AgingBucketPublic]
    parties: list[AgedPartyPublic]
    totals: list[str]
    unapplied_credit: str
    total: str
    control_account: str
    control_balance: str
    difference: str
    notes: list[str]

    @classmethod
    def of(cls, report: AgingReport, details: bool) -> Self:
        """The API view of an aging report."""
        return cls(
            kind="receivable" if report.kind == "receivable" else "payable",
            as_of=report.as_of,
            currency=report.currency,
            buckets=[
                AgingBucketPublic(label=b.label, from_days=b.low, to_days=b.high)
                for b in report.buckets
            ],
            parties=[AgedPartyPublic.of(p, details) for p in report.parties],
            totals=[money(t) for t in report.totals],
            unapplied_credit=money(report.credit),
            total=money(report.total),
            control_account=report.control_account,
            control_balance=money(report.control),
            difference=money(report.difference),
            notes=list(report.notes),
        )


# -- party statements ------------------------------------------------------------------


class StatementFilters(BaseModel):
    """The period of a statement and whose side (unknown parameters are refused)."""

    model_config = ConfigDict(extra="forbid")

    date_from: Day | None = Field(
        None, alias="from", description="Default: 1 January of `to`'s year."
    )
    date_to: Day | None = Field(None, alias="to", description="Default: today.")
    kind: Literal["customer", "vendor"] | None = Field(
        None, description="Default: `vendor` for a party with payables and no receivables."
    )
    buckets: str = _buckets()
    fmt: Literal["pdf", "json"] | None = Field(
        None,
        alias="format",
        description="`json` describes the statement (as does `Accept: application/json`); "
        "the default is the PDF.",
    )


class StatementLinePublic(BaseModel):
    """A document or payment; ``amount`` raises (positive) or lowers the balance."""

    date: dt.date
    kind: str
    number: str
    due_on: dt.date | None
    amount: str
    balance: str

    @classmethod
    def of(cls, line: StatementLine) -> Self:
        """The API view of a line."""
        return cls(
            date=line.day,
            kind=line.kind,
            number=line.number,
            due_on=line.due_on,
            amount=money(line.amount),
            balance=money(line.balance),
        )


class StatementAgingPublic(BaseModel):
    """What is owed at the end in one bucket."""

    label: str
    amount: str


class StatementSectionPublic(BaseModel):
    """The statement in one currency."""

    currency: str
    opening: str
    lines: list[StatementLinePublic]
    closing: str
    aging: list[StatementAgingPublic]
    unapplied_credit: str

    @classmethod
    def of(cls, section: CurrencyStatement, labels: tuple[str, ...]) -> Self:
        """The API view of a section."""
        return cls(
            currency=section.currency,
            opening=money(section.opening),
            lines=[StatementLinePublic.of(line) for line in section.lines],
            closing=money(section.closing),
            aging=[
                StatementAgingPublic(label=label, amount=money(amount))
                for label, amount in zip(labels, section.aging, strict=True)
            ],
            unapplied_credit=money(section.credit),
        )


class PartyStatementPublic(BaseModel):
    """A statement of account: per currency, the opening balance, the period's documents
    and payments with the running balance, the closing balance and the aging."""

    party_id: int
    kind: Literal["customer", "vendor"]
    name: str
    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")
    language: str
    sections: list[StatementSectionPublic]

    @classmethod
    def of(cls, statement: PartyStatement) -> Self:
        """The API view of a statement."""
        return cls(
            party_id=statement.party_id,
            kind="vendor" if statement.kind == "vendor" else "customer",
            name=statement.buyer.name,
            start=statement.start,
            end=statement.end,
            language=statement.language,
            sections=[
                StatementSectionPublic.of(s, statement.bucket_labels) for s in statement.sections
            ],
        )
