"""The demo's trade, month by month, read off each customer's traits.

Every month of the demo, in date order and through the services a user calls:

1. the month's exchange rates (a random walk around a realistic level);
2. the active customers' invoices (issued in batches through ``issue_batch``), skipping a
   customer whose open balance would pass four fifths of its credit limit, as a credit
   controller would hold further orders;
3. the receipts that fall in the month, by each customer's payment habit: *punctual* pays
   up to ten days before the due date, *late* ten to forty days after, *slow* two months
   after, *partial* half at the due date and the rest a month later, *unpaid* never;
   friction adds days to every habit; foreign-currency receipts settle at the day's rate,
   so realised gains and losses appear;
4. calls, emails and meetings, and complaints at a rate that grows with friction, answered
   and resolved faster for calm customers; one complaint in five is settled by a credit
   note on the invoice it is about;
5. satisfaction answers (NPS every half year, CSAT after a resolved complaint) whose
   scores fall with friction, late dunning and complaints, so satisfaction correlates
   with how each customer is treated;
6. the company's side: monthly vendor bills (paid two weeks later) and payroll with its
   withholding paid the next month.

Dunning runs on the last day, so overdue customers have letters on their timelines.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from crmledger.core.crm.deals import Deal
from crmledger.core.crm.interactions import (
    Channel,
    Direction,
    Interaction,
    InteractionKind,
    Priority,
    Status,
)
from crmledger.core.crm.satisfaction import Response, SurveyKind
from crmledger.core.entries import JournalEntry, Posting
from crmledger.services.billing_views import BillingDoc
from crmledger.services.deals import DealMove, DealService
from crmledger.services.demo_world import Customer
from crmledger.services.dunning import DunningService
from crmledger.services.interactions import InteractionService
from crmledger.services.invoicing import DocumentLine, InvoiceService, NewDocument
from crmledger.services.ledger import LedgerService
from crmledger.services.rates import RateService
from crmledger.services.sales import DraftLine, SalesService
from crmledger.services.satisfaction import SatisfactionService
from crmledger.services.settling import NewPayment, PaymentService

#: Euros per unit of each foreign currency at the start of the demo.
RATES = {
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "CHF": Decimal("1.04"),
    "JPY": Decimal("0.0062"),
}
#: Decimal places of the demo's currencies (from the locale data, as the book knows them).
PLACES = {"EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0}

BATCH = 2000
TOPICS = ("renewal", "new project", "pricing", "onboarding", "feedback", "training")
COMPLAINTS = (
    ("Invoice sent to the wrong address", Priority.HIGH),
    ("Delivery arrived damaged", Priority.URGENT),
    ("Support reply took too long", Priority.NORMAL),
    ("Workshop room was double-booked", Priority.LOW),
    ("Billed twice for the same month", Priority.HIGH),
    ("Consultant left early", Priority.NORMAL),
)
#: (vendor name, what, monthly amount in EUR, expense account)
VENDORS = (
    ("Papierhaus Nord KG", "Office supplies", "184.50", "Expenses:Office"),
    ("Stadtwerke Hamburg", "Electricity and heating", "612.00", "Expenses:Utilities"),
    ("CloudSuite GmbH", "Software subscriptions", "349.00", "Expenses:Software"),
    ("Kanzlei Brandt & Partner", "Bookkeeping and payroll", "980.00", "Expenses:Professional"),
    ("Reisewelt GmbH", "Travel", "1250.00", "Expenses:Travel"),
)
#: The hardware supplier, and the account its deliveries go to.
SUPPLIER = "Sensorik Nord GmbH"
STOCK = "Assets:Inventory"
SALARY = Decimal("4800.00")


@dataclass(frozen=True, slots=True)
class TradeServices:
    """The services the demo's trade goes through."""

    ledger: LedgerService
    interactions: InteractionService
    satisfaction: SatisfactionService
    invoices: InvoiceService
    payments: PaymentService
    rates: RateService
    dunning: DunningService
    deals: DealService
    sales: SalesService


@dataclass(slots=True)
class Account:
    """A customer in the trade: its party, its traits and what happened to it so far."""

    customer: Customer
    party_id: int
    contacts: tuple[int, ...]
    products: tuple[tuple[int, Decimal, Decimal], ...]
    open_eur: Decimal = Decimal(0)
    complaints: int = 0
    last_invoice: int | None = None
    trued: date | None = None


@dataclass(slots=True)
class _OpenDeal:
    """A deal in the pipeline and the stage it has reached."""

    deal_id: int
    account: Account
    stage: int
    version: int
    lines: tuple[DraftLine, ...]
    amount_eur: Decimal


#: The open stages of the default pipeline, in order.
STAGES = ("lead", "qualified", "proposal", "negotiation")
LOSS_REASONS = ("price", "went with a competitor", "no budget", "timing", "no decision")


@dataclass(order=True, slots=True)
class _Due:
    """A receipt waiting for its day."""

    day: date
    seq: int
    party_id: int = field(compare=False)
    amount: Decimal = field(compare=False)
    currency: str = field(compare=False)
    eur: Decimal = field(compare=False)


@dataclass(slots=True)
class Tally:
    """What the trade loaded."""

    invoices: int = 0
    payments: int = 0
    credit_notes: int = 0
    bills: int = 0
    interactions: int = 0
    complaints: int = 0
    responses: int = 0
    dunning_notices: int = 0
    payroll_entries: int = 0
    deals: int = 0
    deals_won: int = 0
    orders: int = 0


def months(first: date, count: int) -> Iterator[date]:
    """The first day of each of ``count`` months from ``first``."""
    index = first.year * 12 + first.month - 1
    for n in range(count):
        yield date((index + n) // 12, (index + n) % 12 + 1, 1)


def _month_end(first: date) -> date:
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _price(eur: Decimal, currency: str, rate: Decimal) -> Decimal:
    """A list price in EUR as a round price in ``currency``."""
    places = PLACES[currency]
    value = eur if currency == "EUR" else eur / rate
    step = Decimal(1).scaleb(-places) if places else Decimal(10)
    return (value / step).quantize(Decimal(1), ROUND_HALF_EVEN) * step


class Trade:
    """Runs the demo's months; see the module docstring."""

    def __init__(
        self,
        services: TradeServices,
        accounts: Sequence[Account],
        seed: int,
        today: date,
        advance: Callable[[datetime], None],
    ) -> None:
        self.s = services
        self.accounts = list(accounts)
        self.by_party = {a.party_id: a for a in self.accounts}
        self.rng = random.Random(seed * 7919 + 17)  # noqa: S311 (demo data, not security)
        self.today = today
        self.advance = advance
        self.rates = dict(RATES)
        self.receipts: list[_Due] = []
        self.seq = 0
        self.tally = Tally()
        self.vendors: list[int] = []
        self.payroll_due = Decimal(0)
        self.stock_used = Decimal(0)
        self.supplier: int | None = None
        self.open_deals: list[_OpenDeal] = []
        self.current: date | None = None
        #: The book's exposures while the month's invoices are drafted (None: not read).
        self.exposures: dict[int, Decimal] | None = None
        self.drafting = False

    # -- one month -----------------------------------------------------------------------

    def month(self, first: date, then: Callable[[date, date], None] | None = None) -> None:
        """Trade through the month of ``first``; ``then(first, last)`` runs what else
        happens in it (the staff's claims), before the month's end."""
        last = min(_month_end(first), self.today)
        self.current = first
        self.advance(_at(first, 8))
        self._rates(first)
        self._invoices(first, last)
        self._receipts(last)
        self._contacts(first, last)
        self._surveys(first)
        self._company(first, last)
        self._pipeline(first, last)
        if then is not None:
            then(first, last)
        self.advance(_at(last, 18))

    def finish(self) -> Tally:
        """Dunning on the last day; returns what the trade loaded."""
        self.advance(_at(self.today, 17))
        self.tally.dunning_notices = len(self.s.dunning.run(self.today))
        return self.tally

    # -- rates ---------------------------------------------------------------------------

    def _rates(self, first: date) -> None:
        for currency, rate in self.rates.items():
            drift = Decimal(self.rng.gauss(0, 0.012)).quantize(Decimal("0.0001"))
            self.rates[currency] = (rate * (1 + drift)).quantize(Decimal("0.000001"))
        self.s.rates.set_rates([(c, first, rate) for c, rate in self.rates.items()])

    # -- invoices and receipts -----------------------------------------------------------

    def _invoices(self, first: date, last: date) -> None:
        drafts: list[tuple[NewDocument, Account]] = []
        self.drafting = True
        for account in self.accounts:
            customer = account.customer
            if not customer.active_in(first):
                continue
            low, high = customer.invoices_per_year
            count = 1 if low >= 10 else int(self.rng.random() < (low + high) / 24)
            for _ in range(count):
                draft = self._draft(account, first, last)
                if draft is not None:
                    drafts.append((draft, account))
        self.drafting, self.exposures = False, None
        drafts.sort(key=lambda pair: pair[0].issued_on or first)
        for start in range(0, len(drafts), BATCH):
            chunk = drafts[start : start + BATCH]
            ids = self.s.invoices.issue_batch([d for d, _ in chunk])
            docs = self.s.invoices.many(ids)
            for doc, (_, account) in zip(docs, chunk, strict=True):
                self._plan_receipts(account, doc)
            self.tally.invoices += len(ids)
        self.tally.invoices += len(self.s.invoices.billing_run(last))

    def _draft(self, account: Account, first: date, last: date) -> NewDocument | None:
        customer = account.customer
        day = first + timedelta(days=self.rng.randrange(0, 27))
        if day > last:
            return None
        rate = self.rates.get(customer.currency, Decimal(1))
        lines = []
        total = Decimal(0)
        for _ in range(self.rng.randint(*customer.lines_per_invoice)):
            product_id, list_price, cost = self.rng.choice(account.products)
            quantity = Decimal(self.rng.choice((1, 1, 2, 3, 5, 8)))
            lines.append(
                DocumentLine(
                    product_id=product_id,
                    quantity=quantity,
                    unit_price=_price(list_price, customer.currency, rate),
                )
            )
            total += list_price * quantity
            self.stock_used += cost * quantity
        if not self._room_for(account, total * Decimal("1.2")):
            return None
        account.open_eur += total * Decimal("1.2")
        return NewDocument(
            party_id=account.party_id, currency=customer.currency, lines=lines, issued_on=day
        )

    def _room_for(self, account: Account, amount_eur: Decimal) -> bool:
        """Whether a credit controller would let ``amount_eur`` more go to the customer:
        its balance after it stays under four fifths of the limit. The running estimate
        is trued up from the book when it comes near the limit (once a month at most)."""
        limit = account.customer.credit_limit
        if limit is None:
            return True
        ceiling = Decimal(limit) * Decimal("0.8")
        near = account.open_eur + 2 * amount_eur > ceiling * Decimal("0.75")
        if near and account.trued != self.current:
            account.open_eur = self._exposure(account)
            account.trued = self.current
        return account.open_eur + 2 * amount_eur < ceiling

    def _exposure(self, account: Account) -> Decimal:
        """What the book says ``account`` is exposed for. Drafting the month's invoices
        writes nothing, so one read of every customer with a limit serves the whole run."""
        if not self.drafting:
            return self.s.payments.exposures([account.party_id])[account.party_id]
        if self.exposures is None:
            month = self.current
            assert month is not None
            limited = [
                a.party_id
                for a in self.accounts
                if a.customer.credit_limit is not None and a.customer.active_in(month)
            ]
            self.exposures = self.s.payments.exposures(limited)
        return self.exposures[account.party_id]

    def _plan_receipts(self, account: Account, doc: BillingDoc) -> None:
        account.last_invoice = doc.id
        assert doc.due_on is not None
        assert doc.issued_on is not None
        customer = account.customer
        delay = int(customer.friction * 20)
        habit = customer.habit
        parts: list[tuple[date, Decimal]]
        if habit == "unpaid":
            return
        if habit == "partial":
            half = (doc.gross / 2).quantize(doc.gross)
            parts = [
                (doc.due_on + timedelta(days=delay), half),
                (doc.due_on + timedelta(days=30 + delay), doc.gross - half),
            ]
        else:
            offset = {
                "punctual": -self.rng.randrange(0, 10),
                "late": self.rng.randrange(10, 40) + delay,
                "slow": self.rng.randrange(55, 80) + delay,
            }[habit]
            parts = [(max(doc.issued_on, doc.due_on + timedelta(days=offset)), doc.gross)]
        eur = doc.open_base / doc.gross if doc.gross else Decimal(0)
        for day, amount in parts:
            self.seq += 1
            heapq.heappush(
                self.receipts,
                _Due(day, self.seq, account.party_id, amount, doc.currency, amount * eur),
            )

    def _receipts(self, last: date) -> None:
        due = []
        while self.receipts and self.receipts[0].day <= last:
            due.append(heapq.heappop(self.receipts))
        for start in range(0, len(due), BATCH):
            chunk = due[start : start + BATCH]
            self.s.payments.record_batch(
                [
                    NewPayment(
                        party_id=d.party_id, amount=d.amount, currency=d.currency, paid_on=d.day
                    )
                    for d in chunk
                ]
            )
            self.tally.payments += len(chunk)
        for d in due:
            account = self.by_party[d.party_id]
            account.open_eur = max(Decimal(0), account.open_eur - d.eur)

    # -- interactions, complaints, credit notes ------------------------------------------

    def _contacts(self, first: date, last: date) -> None:
        items: list[Interaction] = []
        complaints: list[tuple[Interaction, Account]] = []
        for account in self.accounts:
            customer = account.customer
            if not customer.active_in(first):
                continue
            span = (last - first).days + 1
            if self.rng.random() < 0.18:
                items.append(self._touch(account, first, span))
            if account.last_invoice is not None and self.rng.random() < customer.friction * 0.1:
                complaints.append((self._complaint(account, first, span, last), account))
        stored = self.s.interactions.add_many(items + [c for c, _ in complaints])
        self.tally.interactions += len(items)
        self.tally.complaints += len(complaints)
        answers = []
        for (complaint, account), saved in zip(complaints, stored[len(items) :], strict=True):
            account.complaints += 1
            if complaint.status is Status.RESOLVED and self.rng.random() < 0.2:
                self._credit(account, saved.invoice_id)
                if saved.id is not None and self.rng.random() < 0.7:
                    answers.append(self._csat(account, saved.id, complaint))
        if answers:
            self.s.satisfaction.record_many(answers)
            self.tally.responses += len(answers)

    def _touch(self, account: Account, first: date, span: int) -> Interaction:
        kind = self.rng.choice(
            (InteractionKind.CALL, InteractionKind.EMAIL, InteractionKind.MEETING)
        )
        at = _at(first + timedelta(days=self.rng.randrange(span)), self.rng.randrange(8, 17))
        return Interaction(
            kind=kind,
            party_id=account.party_id,
            contact_id=None,
            subject=f"{kind.value.title()}: {self.rng.choice(TOPICS)}",
            body="Notes from the conversation.",
            occurred_at=at,
            channel=Channel.PHONE if kind is InteractionKind.CALL else Channel.EMAIL,
            direction=Direction.OUTBOUND if self.rng.random() < 0.6 else Direction.INBOUND,
            status=Status.CLOSED,
            closed_at=at,
        )

    def _complaint(self, account: Account, first: date, span: int, last: date) -> Interaction:
        subject, priority = self.rng.choice(COMPLAINTS)
        at = _at(first + timedelta(days=self.rng.randrange(span)), self.rng.randrange(8, 17))
        friction = account.customer.friction
        responded = at + timedelta(hours=1 + self.rng.random() * 30 * (1 + friction))
        resolved = responded + timedelta(days=self.rng.random() * 12 * (1 + 2 * friction))
        done = resolved.date() <= last
        return Interaction(
            kind=InteractionKind.COMPLAINT,
            party_id=account.party_id,
            subject=subject,
            body="Reported by the customer.",
            occurred_at=at,
            channel=Channel.EMAIL,
            direction=Direction.INBOUND,
            priority=priority,
            invoice_id=account.last_invoice,
            status=Status.RESOLVED if done else Status.OPEN,
            resolution="Apologised and fixed." if done else "",
            first_response_at=responded if responded.date() <= last else None,
            resolved_at=resolved if done else None,
        )

    def _credit(self, account: Account, invoice_id: int | None) -> None:
        if invoice_id is None:
            return
        doc = self.s.invoices.get(invoice_id)
        # One credit note per complaint, on an invoice not credited before.
        if doc.status in ("void", "draft") or doc.open <= 0 or doc.credited or not doc.lines:
            return
        line = doc.lines[0]
        self.s.invoices.credit(invoice_id, [(line.position, line.quantity)], reason="Complaint")
        self.tally.credit_notes += 1

    def _csat(self, account: Account, interaction_id: int, complaint: Interaction) -> Response:
        """The customer's answer to the survey sent after its complaint was resolved."""
        assert complaint.resolved_at is not None
        score = 5 - round(account.customer.friction * 4 + self.rng.random())
        return Response(
            kind=SurveyKind.CSAT,
            score=max(1, min(5, score)),
            party_id=account.party_id,
            answered_on=complaint.resolved_at.date() + timedelta(days=2),
            interaction_id=interaction_id,
        )

    # -- the pipeline ----------------------------------------------------------------------

    def _pipeline(self, first: date, last: date) -> None:
        """Move last month's deals on (won through an accepted quote, an order and its
        invoice; lost with a reason; or a stage further), then open this month's."""
        day = first + timedelta(days=19)
        if day > last:
            return
        self.advance(_at(day, 11))
        still_open = []
        moves: list[DealMove] = []
        moved: list[_OpenDeal] = []
        for deal in self.open_deals:
            roll = self.rng.random()
            if deal.stage >= 2 and roll < 0.3 and self._within_limit(deal):
                self._win(deal, last)
            elif roll < 0.45:
                reason = self.rng.choice(LOSS_REASONS)
                moves.append(DealMove(deal.deal_id, "lost", deal.version, reason))
            elif deal.stage + 1 < len(STAGES) and roll < 0.85:
                deal.stage += 1
                moves.append(DealMove(deal.deal_id, STAGES[deal.stage], deal.version))
                moved.append(deal)
                still_open.append(deal)
            else:
                still_open.append(deal)
        # The month's review: every move in one go, as a sales manager drags the board.
        versions = {d.id: d.version for d in self.s.deals.move_many(moves)} if moves else {}
        for deal in moved:
            deal.version = versions[deal.deal_id]
        self.open_deals = still_open
        active = [a for a in self.accounts if a.customer.active_in(first)]
        picked = self.rng.sample(active, min(max(1, len(active) // 60), 10, len(active)))
        opened = [self._open_deal(account, day) for account in picked]
        stored = self.s.deals.add_many([deal for deal, _ in opened])
        for saved, (_, pending) in zip(stored, opened, strict=True):
            assert saved.id is not None
            pending.deal_id, pending.version = saved.id, saved.version
            self.open_deals.append(pending)
        self.tally.deals += len(stored)

    def _open_deal(self, account: Account, day: date) -> tuple[Deal, _OpenDeal]:
        """A new deal for ``account`` (stored with the month's others), and how the
        trade follows it."""
        customer = account.customer
        rate = self.rates.get(customer.currency, Decimal(1))
        lines = []
        amount = amount_eur = Decimal(0)
        for product_id, list_price, _ in self.rng.sample(
            account.products, min(2, len(account.products))
        ):
            quantity = Decimal(self.rng.choice((2, 4, 10, 20)))
            price = _price(list_price, customer.currency, rate)
            lines.append(DraftLine(product_id=product_id, quantity=quantity, unit_price=price))
            amount += price * quantity
            amount_eur += list_price * quantity
        deal = Deal(
            pipeline="sales",
            stage=STAGES[0],
            title=f"{customer.name.split(',')[0]}: {self.rng.choice(TOPICS)}",
            party_id=account.party_id,
            amount=amount,
            currency=customer.currency,
            expected_close=day + timedelta(days=self.rng.randrange(30, 120)),
        )
        return deal, _OpenDeal(0, account, 0, 1, tuple(lines), amount_eur)

    def _within_limit(self, deal: _OpenDeal) -> bool:
        """Whether the order leaves the customer inside its credit limit."""
        return self._room_for(deal.account, deal.amount_eur * Decimal("1.2"))

    def _win(self, deal: _OpenDeal, last: date) -> None:
        """Quote, accept (which wins the deal and confirms the order), deliver, invoice."""
        account = deal.account
        quote = self.s.sales.create_quote(
            account.party_id, account.customer.currency, deal.lines, deal_id=deal.deal_id
        )
        self.s.sales.send_quote(quote.id, None)
        _, order = self.s.sales.accept_quote(quote.id, None)
        self.s.sales.fulfil_order(order.id, None)
        draft = self.s.invoices.from_order(order.id)
        issued = self.s.invoices.issue(draft.id)
        account.open_eur += deal.amount_eur * Decimal("1.2")
        self._plan_receipts(account, issued)
        self.tally.deals_won += 1
        self.tally.orders += 1
        self.tally.invoices += 1

    # -- satisfaction ----------------------------------------------------------------------

    def _surveys(self, first: date) -> None:
        if first.month not in (6, 12):
            return
        answers = []
        for account in self.accounts:
            customer = account.customer
            if not customer.active_in(first) or self.rng.random() > 0.4:
                continue
            late = customer.habit in ("late", "slow", "unpaid")
            score = (
                9.4
                - 5.5 * customer.friction
                - 0.6 * min(account.complaints, 4)
                - (1.0 if late else 0.0)
                + self.rng.gauss(0, 1.1)
            )
            answers.append(
                Response(
                    kind=SurveyKind.NPS,
                    score=max(0, min(10, round(score))),
                    party_id=account.party_id,
                    answered_on=first + timedelta(days=14),
                )
            )
        if answers:
            self.s.satisfaction.record_many(answers)
            self.tally.responses += len(answers)

    # -- the company's side --------------------------------------------------------------

    def _company(self, first: date, last: date) -> None:
        bills = []
        for vendor_id, (_, what, amount, account) in zip(self.vendors, VENDORS, strict=True):
            day = first + timedelta(days=2)
            if day > last:
                continue
            bills.append(
                NewDocument(
                    party_id=vendor_id,
                    currency="EUR",
                    kind="bill",
                    issued_on=day,
                    reference=f"{what[:3].upper()}-{first:%Y%m}",
                    lines=[
                        DocumentLine(
                            description=what,
                            unit_price=Decimal(amount) * self._scale(),
                            account=account,
                        )
                    ],
                )
            )
        if self.supplier is not None and self.stock_used > 0:
            bills.append(self._restock(self.supplier, min(last, first + timedelta(days=27))))
        ids = self.s.invoices.issue_batch(bills)
        self.tally.bills += len(ids)
        payments = []
        for bill in self.s.invoices.many(ids):
            assert bill.issued_on is not None
            day = bill.issued_on + timedelta(days=14)
            if day <= self.today:
                payments.append(
                    NewPayment(
                        party_id=bill.party_id,
                        amount=bill.gross,
                        currency="EUR",
                        paid_on=day,
                        kind="vendor_payment",
                    )
                )
        if payments:
            self.s.payments.record_batch(payments)
        self._payroll(first, last)

    def _restock(self, supplier: int, day: date) -> NewDocument:
        """The hardware sold this month, bought back into stock at cost."""
        amount, self.stock_used = self.stock_used, Decimal(0)
        return NewDocument(
            party_id=supplier,
            currency="EUR",
            kind="bill",
            issued_on=day,
            reference=f"STK-{day:%Y%m}",
            lines=[DocumentLine(description="Sensors and kits", unit_price=amount, account=STOCK)],
        )

    def _scale(self) -> Decimal:
        """Bills and staff grow with the customer base."""
        return Decimal(max(1, len(self.accounts) // 40))

    def _payroll(self, first: date, last: date) -> None:
        payday = first + timedelta(days=24)
        if payday > last:
            return
        staff = max(2, len(self.accounts) // 40)
        gross = SALARY * staff
        employer = (gross * Decimal("0.21")).quantize(Decimal("0.01"))
        withheld = (gross * Decimal("0.32")).quantize(Decimal("0.01"))
        entries = []
        if self.payroll_due:
            entries.append(
                _entry(
                    first + timedelta(days=9),
                    "Payroll taxes and social security",
                    ("Liabilities:Payroll", self.payroll_due),
                    ("Assets:Bank:Checking", -self.payroll_due),
                )
            )
        entries.append(
            _entry(
                payday,
                f"Payroll {first:%B %Y} ({staff} staff)",
                ("Expenses:Salaries", gross + employer),
                ("Liabilities:Payroll", -(withheld + employer)),
                ("Assets:Bank:Checking", -(gross - withheld)),
            )
        )
        self.s.ledger.post(entries)
        self.payroll_due = withheld + employer
        self.tally.payroll_entries += len(entries)


def _entry(day: date, narration: str, *lines: tuple[str, Decimal]) -> JournalEntry:
    return JournalEntry(
        date=day,
        narration=narration,
        postings=tuple(Posting(account, amount, "EUR") for account, amount in lines),
    )
