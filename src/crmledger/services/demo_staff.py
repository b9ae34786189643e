"""The demo company's staff and their expense claims, from a seed.

Five people work at the demo company, each a user with the role their job needs: the head
of finance and the managing director (accountants, who approve claims), two account
managers (sales) and a support engineer. Their passwords are random and shown to nobody:
they are there to own and decide claims, which the demo's admin sees all of.

Every month, on the 22nd (the Monday after when it falls on a weekend; the demo's today in
its last month), through the :class:`~crmledger.services.expenses.ExpenseService` as each:

1. at noon the head of finance reimburses the claims approved the month before, from the
   checking account;
2. from one o'clock each employee hands in none, one or two claims for the month (a handful
   a quarter): a taxi, parking, a train ticket, a trip with hotel nights, a business meal,
   small office items, now and then a trip abroad in pounds, dollars or francs, each
   receipt a tiny PDF or PNG made here, with German input tax where it is deductible
   (meals go to ``Expenses:Meals``, which the demo opens);
3. from four the head of finance approves them (the managing director approves hers);
   once a year one is turned down with a reason.

In the last month the claims just handed in still wait for approval and the month before's
for their payment, so the book ends with claims in every state::

    staff = Staff(StaffServices(access, expenses, ledger), seed=7, today=today,
                  advance=clock.advance)
    staff.hire()
    trade.month(first, staff.month)     # after the month's trade, before its end
"""

from __future__ import annotations

import random
import secrets
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from crmledger.core.access import Principal, Role
from crmledger.core.accounts import Account
from crmledger.core.billing.expenses import ClaimLine
from crmledger.services.access import AccessService, User
from crmledger.services.errors import NotFoundError
from crmledger.services.expenses import ExpenseService, NewClaim, Upload
from crmledger.services.ledger import LedgerService
from crmledger.services.trail import Actor

TRAVEL, OFFICE, MEALS = "Expenses:Travel", "Expenses:Office", "Expenses:Meals"
#: The account business meals go to (the default chart has none).
MEALS_ACCOUNT = Account(MEALS, code="6550", description="Business meals")
FILING_DAY = 22
#: The rates a receipt prints its tax with (percent by category).
PRINTED_RATES = {"standard": 19, "reduced": 7}
CITIES = ("Berlin", "Munich", "Frankfurt", "Cologne", "Hanover", "Bremen", "Leipzig")
RIDES = (
    "to a customer meeting in Altona",
    "from the airport",
    "to the Hauptbahnhof",
    "to a workshop at a customer",
    "back from a customer in Harburg",
)
GUESTS = ("a customer's purchasing team", "a prospect", "a customer's finance director")
#: (item, price in EUR)
OFFICE_ITEMS = (
    ("USB-C adapter", "19.99"),
    ("Printer toner", "64.90"),
    ("Notebooks and pens", "12.45"),
    ("Desk lamp", "34.95"),
    ("Whiteboard markers", "8.99"),
    ("HDMI cable", "11.99"),
)
#: (currency, city, hotel, nightly rate range, taxi fare range)
ABROAD = (
    ("GBP", "Leeds", "Queens Hotel Leeds", (95, 160), (12, 35)),
    ("USD", "New York", "Hotel Midtown NYC", (229, 349), (25, 70)),
    ("CHF", "Zurich", "Hotel Limmat Zurich", (180, 260), (25, 60)),
)
#: Claims turned down, one a year: what was claimed, its account and tax, and the reason.
REFUSED = (
    (
        "Dinner on a Saturday",
        MEALS,
        "standard",
        "A private meal: no customer and no business purpose given.",
    ),
    (
        "Noise-cancelling headphones",
        OFFICE,
        "standard",
        "Personal equipment: IT orders headsets for the team.",
    ),
    (
        "Taxi home after the summer party",
        TRAVEL,
        "reduced",
        "The summer party's taxis were paid for already.",
    ),
)


@dataclass(frozen=True, slots=True)
class Employee:
    """Someone on the staff: their name, role, job and the claims they make (weighted)."""

    name: str
    role: Role
    job: str
    kinds: tuple[str, ...]

    @property
    def email(self) -> str:
        return self.name.lower().replace(" ", ".") + "@example.com"


STAFF = (
    Employee("Katrin Vogel", Role.ACCOUNTANT, "Head of finance", ("office", "train", "taxi")),
    Employee("Jonas Richter", Role.ACCOUNTANT, "Managing director", ("meal", "trip", "abroad")),
    Employee(
        "Lena Hoffmann",
        Role.SALES,
        "Account manager",
        ("taxi", "train", "trip", "meal", "meal", "abroad", "parking"),
    ),
    Employee(
        "Mehmet Yilmaz",
        Role.SALES,
        "Account manager",
        ("taxi", "taxi", "train", "trip", "meal", "parking"),
    ),
    Employee("Paul Schneider", Role.SUPPORT, "Support engineer", ("taxi", "parking", "office")),
)


@dataclass(frozen=True, slots=True)
class StaffServices:
    """The services the staff's claims go through."""

    access: AccessService
    expenses: ExpenseService
    ledger: LedgerService


@dataclass(slots=True)
class ClaimTally:
    """The staff's claims: handed in, with receipts, and where they stand now."""

    claims: int = 0
    receipts: int = 0
    pending: int = 0
    approved: int = 0
    reimbursed: int = 0
    rejected: int = 0


# -- receipt files --------------------------------------------------------------------------


def pdf_receipt(lines: Sequence[str]) -> bytes:
    """A one-page PDF showing ``lines`` (ASCII) in Courier, under a kilobyte."""
    height = 24 + 11 * len(lines)
    shown = "".join(f"({_pdf_text(line)}) '\n" for line in lines)
    stream = f"BT /F1 8 Tf 11 TL 12 {height - 4} Td\n{shown}ET".encode("ascii", "replace")
    objects = (
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 216 %d] " % height
        + b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    )
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _pdf_text(line: str) -> str:
    return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def png_receipt(lines: Sequence[str]) -> bytes:
    """A small greyscale PNG of a slip, as a phone photo of it would be: a dark mark for
    every character of ``lines`` on light paper."""
    width = 48
    rows = [bytes([235] * width)]
    for line in lines:
        marks = bytes(70 if c != " " else 235 for c in line[: width - 4].ljust(width - 4))
        rows += [bytes([235, 235]) + marks + bytes([235, 235]), bytes([235] * width)]
    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@dataclass(frozen=True, slots=True)
class Slip:
    """A receipt: who issued it, the claim lines it proves, and whether it is a photo."""

    merchant: str
    name: str
    lines: tuple[ClaimLine, ...]
    photo: bool = False

    def text(self, spent: date, currency: str) -> list[str]:
        """What the slip shows: merchant, date, items, total and the tax it includes."""
        total = sum((line.amount for line in self.lines), Decimal(0))
        shown = [self.merchant, f"{spent:%d.%m.%Y}", ""]
        shown += [f"{line.description[:24]:<24}{line.amount:>12.2f}" for line in self.lines]
        shown += ["-" * 36, f"{'Total ' + currency:<24}{total:>12.2f}"]
        for category, percent in PRINTED_RATES.items():
            gross = sum((x.amount for x in self.lines if x.tax_category == category), Decimal(0))
            if gross:
                tax = (gross * percent / (100 + percent)).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
                shown.append(f"{f'incl. VAT {percent}%':<24}{tax:>12}")
        return shown

    def upload(self, spent: date, currency: str) -> Upload:
        text = self.text(spent, currency)
        if self.photo:
            return Upload(f"{self.name}-{spent.isoformat()}.png", png_receipt(text))
        return Upload(f"{self.name}-{spent.isoformat()}.pdf", pdf_receipt(text))


@dataclass(frozen=True, slots=True)
class Draft:
    """A claim before it is handed in: what for, in which currency, and its receipts."""

    description: str
    currency: str
    slips: tuple[Slip, ...]


# -- what people spend ----------------------------------------------------------------------


class Spending:
    """Draws realistic claims from a random generator (see the module docstring)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def amount(self, low: float, high: float, step: str = "0.10") -> Decimal:
        unit = Decimal(step)
        steps = int((Decimal(str(high)) - Decimal(str(low))) / unit)
        return (Decimal(str(low)) + unit * self.rng.randint(0, steps)).quantize(Decimal("0.01"))

    def draft(self, kind: str, spent: date) -> Draft:
        make: dict[str, Callable[[date], Draft]] = {
            "taxi": self.taxi,
            "parking": self.parking,
            "train": self.train,
            "trip": self.trip,
            "meal": self.meal,
            "office": self.office,
            "abroad": self.abroad,
        }
        return make[kind](spent)

    def taxi(self, _spent: date) -> Draft:
        fare = ClaimLine(TRAVEL, self.amount(12, 46), "reduced", "Taxi fare")
        slip = Slip("Hansa Taxi Hamburg", "taxi", (fare,), photo=True)
        return Draft(f"Taxi {self.rng.choice(RIDES)}", "EUR", (slip,))

    def parking(self, _spent: date) -> Draft:
        fee = ClaimLine(TRAVEL, self.amount(4.5, 24, "0.50"), "standard", "Parking")
        slip = Slip("Contipark Hamburg", "parking", (fee,), photo=True)
        return Draft("Parking at a customer's site", "EUR", (slip,))

    def _ticket(self, city: str) -> Slip:
        fare = Decimal(self.rng.choice((59, 79, 99, 119, 139, 159))) + Decimal("0.90")
        line = ClaimLine(TRAVEL, fare, "reduced", f"Hamburg-{city} return")
        return Slip("DB Fernverkehr AG", "train", (line,))

    def train(self, _spent: date) -> Draft:
        city = self.rng.choice(CITIES)
        return Draft(f"Train to {city} for a customer meeting", "EUR", (self._ticket(city),))

    def _dinner(self, spent: date, what: str) -> Slip:
        # Restaurant food is taxed at 7 % in Germany from 2026 (19 % before); drinks at 19 %.
        food = "reduced" if spent.year >= 2026 else "standard"
        lines = (
            ClaimLine(MEALS, self.amount(30, 130, "0.50"), food, "Food"),
            ClaimLine(MEALS, self.amount(8, 40, "0.50"), "standard", "Drinks"),
        )
        place = self.rng.choice(("Brasserie am Hafen", "Trattoria Due", "Fischhaus Elbe"))
        return Slip(place, what, lines)

    def trip(self, spent: date) -> Draft:
        city, nights = self.rng.choice(CITIES), self.rng.randint(1, 2)
        rate = self.amount(89, 169, "1")
        stay = ClaimLine(TRAVEL, rate * nights, "reduced", f"Room, {_nights(nights)}")
        slips = (
            self._ticket(city),
            Slip(f"Hotel am Markt {city}", "hotel", (stay,)),
            self._dinner(spent, "dinner"),
        )
        return Draft(f"Customer visit in {city}, {_nights(nights)}", "EUR", slips)

    def meal(self, spent: date) -> Draft:
        what = f"{self.rng.choice(('Lunch', 'Dinner'))} with {self.rng.choice(GUESTS)}"
        return Draft(what, "EUR", (self._dinner(spent, "meal"),))

    def office(self, _spent: date) -> Draft:
        item, price = self.rng.choice(OFFICE_ITEMS)
        line = ClaimLine(OFFICE, Decimal(price), "standard", item)
        slip = Slip("Buerobedarf Schulz", "office", (line,), photo=self.rng.random() < 0.5)
        return Draft(f"{item} for the office", "EUR", (slip,))

    def abroad(self, _spent: date) -> Draft:
        currency, city, hotel, (low, high), (taxi_low, taxi_high) = self.rng.choice(ABROAD)
        nights = self.rng.randint(1, 3)
        # Foreign VAT is not input tax of a German return: these lines carry none.
        stay = ClaimLine(TRAVEL, self.amount(low, high, "1") * nights, None, "Room")
        taxi = ClaimLine(TRAVEL, self.amount(taxi_low, taxi_high), None, "Taxi")
        meal = ClaimLine(MEALS, self.amount(25, 90, "0.50"), None, "Dinner")
        slips = (
            Slip(hotel, "hotel", (stay,)),
            Slip(f"{city} Cabs", "taxi", (taxi,), photo=True),
            Slip(f"Restaurant {city}", "dinner", (meal,)),
        )
        return Draft(f"Customer visit in {city}, {_nights(nights)}", currency, slips)

    def refused(self, year: int) -> Draft:
        """The claim of ``year`` (counted from 0) that will be turned down."""
        what, account, category, _ = REFUSED[year % len(REFUSED)]
        line = ClaimLine(account, self.amount(35, 120), category, what)
        return Draft(what, "EUR", (Slip("Receipt", "receipt", (line,), photo=True),))


def _nights(count: int) -> str:
    return f"{count} night" + ("s" if count > 1 else "")


# -- the staff at work ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Filed:
    """A claim handed in: its id, who claimed it, and why it will be refused (if so)."""

    claim_id: int
    employee: int
    refusal: str | None = None


def _working_day(day: date) -> date:
    """``day``, or the Monday after it when it falls on a weekend."""
    return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


class Staff:
    """The staff and their claims, month by month; see the module docstring."""

    def __init__(
        self,
        services: StaffServices,
        seed: int,
        today: date,
        advance: Callable[[datetime], None],
    ) -> None:
        self.s = services
        self.spending = Spending(random.Random(seed * 104729 + 3))  # noqa: S311 (demo data)
        self.today = today
        self.advance = advance
        self.actors: list[Actor] = []
        self.to_pay: list[int] = []
        self.months = 0
        self.tally = ClaimTally()

    def hire(self) -> None:
        """Open the meals account and sign the staff up as users (found, if they are)."""
        if MEALS not in {a.name for a in self.s.ledger.accounts()}:
            self.s.ledger.add_account(MEALS_ACCOUNT)
        for person in STAFF:
            user = self._user(person)
            self.actors.append(Actor(Principal(user.id, f"user:{user.id}", user.role), "demo"))

    def _user(self, person: Employee) -> User:
        try:
            return self.s.access.find_user(person.email)
        except NotFoundError:
            return self.s.access.add_user(person.email, person.role, secrets.token_urlsafe(24))

    def month(self, first: date, last: date) -> None:
        """The month's claims: pay last month's, hand in this month's and decide them."""
        day = min(_working_day(first + timedelta(days=FILING_DAY - 1)), last)
        closing = last >= self.today
        if not closing:
            self._pay(day)
        filed = self._file(first, day)
        if self.months % 12 == 5:
            filed.append(self._doubtful(day))
        self.months += 1
        if closing:
            self.tally.pending += len(filed)
        else:
            self._decide(filed, day)

    def _pay(self, day: date) -> None:
        """The month's payment run: every claim approved the month before, at noon."""
        if self.to_pay:
            self.advance(_at(day, 12))
            finance = self.s.expenses.acting_as(self.actors[0])
            finance.reimburse_many(self.to_pay, paid_on=day)
        self.tally.reimbursed += len(self.to_pay)
        self.tally.approved -= len(self.to_pay)
        self.to_pay = []

    def _file(self, first: date, day: date) -> list[_Filed]:
        rng = self.spending.rng
        days = (first + timedelta(days=n) for n in range((day - first).days))
        workdays = [d for d in days if d.weekday() < 5] or [first]
        at = _at(day, 13)
        filed = []
        for index, person in enumerate(STAFF):
            count = rng.choices((0, 1, 2), (25, 55, 20))[0]
            for spent in sorted(rng.choice(workdays) for _ in range(count)):
                draft = self.spending.draft(rng.choice(person.kinds), spent)
                at += timedelta(minutes=7)
                filed.append(_Filed(self._hand_in(index, draft, spent, at), index))
        return filed

    def _doubtful(self, day: date) -> _Filed:
        """The year's claim that will be refused, from one of the staff in turn."""
        year = self.months // 12
        index = 2 + year % (len(STAFF) - 2)
        spent = day - timedelta(days=(day.weekday() - 5) % 7 or 7)  # the Saturday before
        claim_id = self._hand_in(index, self.spending.refused(year), spent, _at(day, 15))
        return _Filed(claim_id, index, REFUSED[year % len(REFUSED)][3])

    def _hand_in(self, employee: int, draft: Draft, spent: date, at: datetime) -> int:
        self.advance(at)
        claims = self.s.expenses.acting_as(self.actors[employee])
        uploads = [slip.upload(spent, draft.currency) for slip in draft.slips]
        new = NewClaim(
            description=draft.description,
            lines=[line for slip in draft.slips for line in slip.lines],
            currency=draft.currency,
            claimed_on=spent,
        )
        claim = claims.create(new, uploads)
        claims.submit(claim.id, claim.version)
        self.tally.claims += 1
        self.tally.receipts += len(uploads)
        return claim.id

    def _decide(self, filed: Sequence[_Filed], day: date) -> None:
        """The head of finance decides every claim but her own (the director decides those):
        each approver approves their queue in one go, then the doubtful claim is refused."""
        at = _at(day, 16)
        queues: dict[int, list[int]] = {}
        for claim in filed:
            if claim.refusal is None:
                queues.setdefault(1 if claim.employee == 0 else 0, []).append(claim.claim_id)
        for approver, claim_ids in sorted(queues.items()):
            at += timedelta(minutes=3)
            self.advance(at)
            self.s.expenses.acting_as(self.actors[approver]).approve_many(claim_ids)
            self.to_pay += claim_ids
            self.tally.approved += len(claim_ids)
        for claim in filed:
            if claim.refusal is not None:
                at += timedelta(minutes=3)
                self.advance(at)
                refuser = self.actors[1 if claim.employee == 0 else 0]
                self.s.expenses.acting_as(refuser).reject(claim.claim_id, claim.refusal)
                self.tally.rejected += 1
