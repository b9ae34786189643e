"""The demo company loads through the services, balances, verifies, hangs together and is
the same for the same seed; its staff claim expenses with receipts, in every state."""

from __future__ import annotations

import hashlib
import io
import zlib
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from statistics import mean

import pytest
from pypdf import PdfReader
from sqlalchemy import text

from crmledger.bootstrap import App, build, migrate
from crmledger.cli.demo import services_of
from crmledger.core.chart import chart
from crmledger.services.demo import DemoClock, DemoResult, DemoSpec, company_entries, load_demo
from crmledger.services.demo_staff import STAFF, ClaimTally
from crmledger.services.demo_world import draw_world
from tests.conftest import FAST_HASHER, POSTGRES_URL, _postgres_schema_url, settings_for

TODAY = date(2026, 11, 20)
SPEC = DemoSpec(customers=48, years=2, seed=3, today=TODAY)


def _book(url: str, folder: Path, spec: DemoSpec) -> tuple[App, DemoResult]:
    clock = DemoClock(datetime.combine(spec.first_month, time(8), tzinfo=UTC))
    app = build(settings_for(url, folder), clock, FAST_HASHER)
    migrate(app)
    app.ledger.init_book(chart("default"), "EUR")
    return app, load_demo(services_of(app), spec, clock)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[App, DemoResult]]:
    """The demo loaded into a fresh book, once per database for the module (the tests
    only read it)."""
    folder = tmp_path_factory.mktemp("demo")
    if request.param == "sqlite":
        app, result = _book(f"sqlite:///{folder / 'book.db'}", folder, SPEC)
        yield app, result
        app.engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set CRMLEDGER_TEST_POSTGRES_URL")
    schema = _postgres_schema_url()
    try:
        app, result = _book(next(schema), folder, SPEC)
        yield app, result
        app.engine.dispose()
    finally:
        schema.close()


def _scalar(app: App, sql: str) -> int:
    with app.engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _receivable(app: App) -> tuple[dict[str, int], int]:
    """Σ receivable postings per commodity, and Σ their weights in the base currency."""
    sql = (
        "SELECT p.commodity, SUM(p.amount_minor), SUM(COALESCE(c.weight_minor, p.amount_minor)) "
        "FROM postings p JOIN accounts a ON a.id = p.account_id "
        "LEFT JOIN posting_conversions c ON c.posting_id = p.id "
        "WHERE a.name = 'Assets:Receivables:Customers' GROUP BY p.commodity"
    )
    with app.engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    return {c: int(v) for c, v, _ in rows if int(v)}, sum(int(w) for _, _, w in rows)


def _open(app: App) -> tuple[dict[str, int], int]:
    """Σ open invoices less open credit notes and unapplied receipts, per currency and in
    the base currency."""
    sql = (
        "SELECT kind, currency, open_minor, open_base_minor FROM billing_documents "
        "WHERE kind IN ('invoice', 'credit_note') UNION ALL "
        "SELECT kind, currency, open_minor, open_base_minor FROM payments WHERE kind = 'receipt'"
    )
    out: dict[str, int] = defaultdict(int)
    base = 0
    with app.engine.connect() as conn:
        for kind, currency, open_, open_base in conn.execute(text(sql)):
            sign = 1 if kind == "invoice" else -1
            out[currency] += sign * int(open_)
            base += sign * int(open_base)
    return {c: v for c, v in out.items() if v}, base


def test_the_company_books_are_capital_rent_and_a_dollar_laptop() -> None:
    entries = company_entries(2025, 2026, TODAY)
    rent = [e for e in entries if e.narration == "Office rent"]
    assert len(rent) == 12 + 11  # every month up to the demo's today
    assert all(sum(p.amount for p in e.postings if p.price is None) == 0 for e in rent)
    laptop = next(e for e in entries if e.narration == "Laptop bought in dollars")
    assert {p.commodity for p in laptop.postings} == {"EUR", "USD"}


def test_the_demo_balances_verifies_and_hangs_together(demo: tuple[App, DemoResult]) -> None:
    app, result = demo
    tally = result.tally
    assert app.audit.verify().ok
    assert app.reports.trial_balance().residuals() == {}
    assert app.ledger.info().lock_date == date(2026, 3, 31)
    # What the demo says it loaded is what the book holds.
    counts = {
        "invoice": tally.invoices,
        "bill": tally.bills,
        "credit_note": tally.credit_notes,
    }
    for kind, expected in counts.items():
        sql = f"SELECT COUNT(*) FROM billing_documents WHERE kind = '{kind}'"
        assert _scalar(app, sql) == expected, kind
    assert _scalar(app, "SELECT COUNT(*) FROM payments WHERE kind = 'receipt'") == tally.payments
    assert _scalar(app, "SELECT COUNT(*) FROM dunning_notices") == tally.dunning_notices > 0
    # The receivable control account agrees with the open documents in every foreign
    # currency and, in the base currency, in total (realised FX differences are base-only).
    (ledger, ledger_base), (documents, documents_base) = _receivable(app), _open(app)
    assert {c: v for c, v in ledger.items() if c != "EUR"} == {
        c: v for c, v in documents.items() if c != "EUR"
    }
    assert ledger_base == documents_base
    # Five currencies, every state of payment, and receipts that are late.
    with app.engine.connect() as conn:
        currencies = {c for (c,) in conn.execute(text("SELECT currency FROM billing_documents"))}
        sql = "SELECT DISTINCT status FROM billing_documents WHERE kind = 'invoice'"
        statuses = {s for (s,) in conn.execute(text(sql))}
    assert {"EUR", "GBP", "USD"} <= currencies
    assert {"paid", "issued"} <= statuses
    paid_in_parts = (
        "SELECT COUNT(*) FROM (SELECT invoice_id FROM allocations WHERE payment_id IS NOT NULL "
        "GROUP BY invoice_id HAVING COUNT(*) > 1) parts"
    )
    assert _scalar(app, paid_in_parts) > 0
    assert tally.invoices > 150
    assert tally.complaints > 0
    assert tally.payroll_entries >= 22
    # Deals move through the pipeline; the won ones became orders and invoices.
    sql = "SELECT COUNT(*) FROM deals WHERE party_id IS NOT NULL"
    assert _scalar(app, sql) == tally.deals + 8  # and the showcase's eight
    assert _scalar(app, "SELECT COUNT(*) FROM sales_orders") == tally.orders + 1
    _satisfaction_follows_treatment(app)


#: What the staff claimed in :data:`SPEC` (the claims follow the seed, not the customers).
CLAIMS = ClaimTally(claims=101, receipts=139, pending=4, approved=3, reimbursed=92, rejected=2)
_LIABILITY = (
    "SELECT SUM(p.amount_minor) FROM postings p JOIN accounts a ON a.id = p.account_id "
    "WHERE a.name = 'Liabilities:Employees:Reimbursements'"
)


def test_the_staff_claim_expenses_with_receipts_in_every_state(
    demo: tuple[App, DemoResult],
) -> None:
    app, result = demo
    assert result.claims == CLAIMS
    roles = {u.email: u.role for u in app.access.users()}
    assert {e.email: roles[e.email] for e in STAFF} == {e.email: e.role for e in STAFF}
    with app.engine.connect() as conn:
        sql = "SELECT status, COUNT(*) FROM expense_claims GROUP BY status"
        states = {status: int(n) for status, n in conn.execute(text(sql))}
        sql = (
            "SELECT id, employee_id, status, claimed_on, currency, decided_by, reason, "
            "base_minor, entry_id, reimbursement_entry_id FROM expense_claims"
        )
        claims = {row[0]: row[1:] for row in conn.execute(text(sql))}
        sql = "SELECT id, claim_id, content_type, size, sha256, content_enc FROM expense_receipts"
        receipts = list(conn.execute(text(sql)))
    assert states == {"submitted": 4, "posted": 3, "reimbursed": 92, "rejected": 2}
    assert len(claims) == CLAIMS.claims
    assert {c[3] for c in claims.values()} == {"EUR", "GBP", "USD", "CHF"}  # trips abroad
    for employee, status, _, _, decided_by, reason, base, entry, paid in claims.values():
        if status != "submitted":
            assert decided_by not in (None, f"user:{employee}")  # nobody decides their own
        assert bool(reason) == (status == "rejected")
        assert (entry is not None) == (base is not None) == (status in ("posted", "reimbursed"))
        assert (paid is not None) == (status == "reimbursed")
    # What the company still owes its staff is the approved claims not yet paid.
    owed = sum(int(c[6]) for c in claims.values() if c[1] == "posted")
    assert owed > 0
    assert _scalar(app, _LIABILITY) == -owed
    # Every receipt is sealed at rest and opens to the file whose SHA-256 was kept.
    assert len(receipts) == CLAIMS.receipts
    kinds = set()
    for receipt_id, claim_id, kind, size, sha256, sealed in receipts:
        found = app.expenses.receipt(claim_id, receipt_id)
        content = found.content
        assert hashlib.sha256(content).hexdigest() == sha256 == found.info.sha256
        assert len(content) == size < 2000
        assert content not in bytes(sealed)
        _check_receipt_file(kind, content, date.fromisoformat(str(claims[claim_id][2])))
        kinds.add(kind)
    assert kinds == {"application/pdf", "image/png"}
    assert app.audit.verify().ok
    assert app.reports.trial_balance().residuals() == {}


def _check_receipt_file(kind: str, content: bytes, day: date) -> None:
    """A PDF opens and shows the day the money was spent; a PNG's pixels unpack."""
    if kind == "application/pdf":
        shown = PdfReader(io.BytesIO(content), strict=True).pages[0].extract_text()
        assert f"{day:%d.%m.%Y}" in shown
        return
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(content[16:20]), int.from_bytes(content[20:24])
    idat = content.index(b"IDAT")
    length = int.from_bytes(content[idat - 4 : idat])
    assert len(zlib.decompress(content[idat + 4 : idat + 4 + length])) == height * (width + 1)


def _satisfaction_follows_treatment(app: App) -> None:
    """Customers with more friction (complaints, credit notes) answer surveys lower."""
    world = draw_world(SPEC.customers, SPEC.first_month, SPEC.months, SPEC.seed)
    sql = (
        "SELECT p.name, r.score FROM satisfaction_responses r "
        "JOIN parties p ON p.id = r.party_id WHERE r.kind = 'nps'"
    )
    with app.engine.connect() as conn:
        scores: dict[str, list[int]] = defaultdict(list)
        for name, score in conn.execute(text(sql)):
            scores[name].append(int(score))
    friction = {c.name: c.friction for c in world.customers[8:]}
    rated = [(friction[n], mean(s)) for n, s in scores.items() if n in friction]
    rated.sort()
    half = len(rated) // 2
    assert half >= 5
    calm = mean(score for _, score in rated[:half])
    rough = mean(score for _, score in rated[half:])
    assert calm > rough


def test_the_same_seed_gives_the_same_book(tmp_path: Path) -> None:
    small = DemoSpec(customers=12, years=1, seed=5, today=TODAY)
    books = []
    for name, spec in (("a", small), ("b", small), ("c", DemoSpec(12, 1, 6, TODAY))):
        folder = tmp_path / name
        folder.mkdir()
        app, _ = _book(f"sqlite:///{folder / 'book.db'}", folder, spec)
        rows = app.reports.trial_balance().rows
        books.append([(r.account, r.commodity, r.balance) for r in rows])
        app.engine.dispose()
    assert books[0] == books[1]
    assert books[0] != books[2]
    assert all(isinstance(balance, Decimal) for _, _, balance in books[0])
