"""Reconciling with another crmledger book (book B, SQLite, served by uvicorn) through the
``crmledger`` connector: customers and issued invoices are read from B's streamed export
and compared with book A's (the ``app`` fixture, SQLite and PostgreSQL); what differs is
named, what agrees agrees. A peer answering lines that are no records, or refusing the
token, is an error naming the field to fix."""

from __future__ import annotations

import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest

from crmledger.bootstrap import App, build, migrate
from crmledger.core.access import Role
from crmledger.core.chart import chart
from crmledger.core.crm.parties import Email, Party, PartyKind
from crmledger.core.errors import InvalidFieldError
from crmledger.integration.connectors import rest
from crmledger.integration.connectors.crmledger import CrmledgerConnector
from crmledger.server import create_app
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.sync_config import INVOICE_FIELDS, ConnectorSpec, compile_config
from tests.api.live import serving
from tests.conftest import FAST_HASHER, FixedClock, settings_for

PASSWORD = "correct horse battery"


@dataclass
class OtherBook:
    """Book B (on book A's clock), its base URL and an API token of its viewer."""

    book: App
    url: str
    token: str


@pytest.fixture
def other(tmp_path: Path, request: pytest.FixtureRequest, clock: FixedClock) -> Iterator[OtherBook]:
    folder = tmp_path / "book-b"
    folder.mkdir()
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), folder / "b.db")
    book = build(settings_for(f"sqlite:///{folder / 'b.db'}", folder), clock, FAST_HASHER)
    migrate(book)
    book.ledger.init_book(chart("default"), "EUR")
    book.access.add_user("reader@b.example", Role.VIEWER, PASSWORD)
    token = book.access.create_token("reader@b.example", "book A").secret
    with serving(create_app(book)) as url:
        yield OtherBook(book, url, token)
    book.engine.dispose()


def _issue(book: App, party: int, price: str) -> str:
    line = DocumentLine(description="Consulting", unit_price=Decimal(price))
    draft = book.invoices.create(NewDocument(party_id=party, currency="EUR", lines=[line]))
    issued = book.invoices.issue(draft.id, draft.version)
    assert issued.number is not None
    return issued.number


def _customer(book: App, name: str) -> int:
    party = Party(kind=PartyKind.ORGANISATION, display_name=name, emails=(Email("ap@x.example"),))
    return int(book.parties.add(party).id or 0)


def test_customers_and_invoices_reconcile_through_the_export(app: App, other: OtherBook) -> None:
    acme_b, bolt_b = _customer(other.book, "Acme GmbH"), _customer(other.book, "Bolt AG")
    app.sync.add("hq", "crmledger", {"url": other.url, "system": "book-a"}, {"token": other.token})
    assert sorted(r.outcome for r in app.sync.run("hq").results) == ["created", "created"]
    acme_a, bolt_a = (app.parties.find_external("hq", str(i)) for i in (acme_b, bolt_b))
    assert acme_a is not None
    assert bolt_a is not None
    # The same invoices on both sides (numbered alike: both books start their sequence).
    numbers = [_issue(book, party, "100.00") for book, party in ((other.book, acme_b),)]
    assert [_issue(app, acme_a, "100.00")] == numbers
    numbers.append(_issue(other.book, bolt_b, "50.00"))
    assert _issue(app, bolt_a, "50.00") == numbers[1]

    customers, invoices = app.sync.reconcile("hq"), app.sync.reconcile("hq", "invoice")
    assert customers.agree, customers.differences
    assert invoices.agree, invoices.differences
    assert (invoices.local_count, invoices.remote_count, invoices.matched) == (2, 2, 2)
    assert invoices.totals == {"EUR": (Decimal("178.50"), Decimal("178.50"))}

    # B changes an email and issues an invoice A has not got; A one B has not got.
    other.book.parties.update(bolt_b, {"emails": (Email("billing@bolt.example"),)}, None)
    only_b = _issue(other.book, acme_b, "10.00")
    only_a = _issue(app, bolt_a, "20.00")
    assert only_a == only_b  # the same number, another customer and amount
    customers, invoices = app.sync.reconcile("hq"), app.sync.reconcile("hq", "invoice")
    assert [(d.key, d.field, d.local, d.remote) for d in customers.differences] == [
        (str(bolt_b), "email", "ap@x.example", "billing@bolt.example")
    ]
    assert not invoices.agree
    assert {(d.key, d.field) for d in invoices.differences} == {
        (only_a, "customer"),
        (only_a, "total"),
    }
    assert invoices.totals["EUR"] == (Decimal("202.30"), Decimal("190.40"))


def test_invoices_are_reconciled_never_pulled(app: App, other: OtherBook) -> None:
    spec = compile_config("hq", "crmledger", {"url": other.url})
    assert dict(spec.object("invoice").fields) == {f: f for f in INVOICE_FIELDS}
    app.sync.add("hq", "crmledger", {"url": other.url}, {"token": other.token})
    with pytest.raises(InvalidFieldError) as refused:
        app.sync.run("hq", "invoice")
    assert refused.value.field == "object_type"
    assert app.sync.runs("hq")[0].status == "failed"


class _Peer:
    """An HTTP server answering every request with ``status`` and ``body``."""

    def __init__(self, status: int, body: bytes) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.mark.parametrize(
    ("status", "body", "field", "words"),
    [
        (200, b'{"id": 1, "number": "I-1"}\nnot json\n', "url", "no invoice"),
        (200, b"[1, 2]\n", "url", "no invoice"),
        (401, b'{"detail": "invalid credentials"}', "token", "refused the token"),
        (503, b'{"detail": "down"}', "url", "503"),
    ],
)
def test_a_peer_answering_no_records_is_an_error_naming_the_field(
    status: int, body: bytes, field: str, words: str
) -> None:
    peer = _Peer(status, body)
    spec = compile_config("hq", "crmledger", {"url": peer.url})
    connector = CrmledgerConnector(_with_token(spec))
    try:
        with pytest.raises(InvalidFieldError) as refused:
            list(connector.snapshot("invoice"))
        assert refused.value.field == field
        assert words in str(refused.value)
    finally:
        connector.close()
        peer.server.shutdown()


def _with_token(spec: ConnectorSpec) -> ConnectorSpec:
    return replace(spec, secrets={"token": "a token of the peer"})


def test_a_line_split_across_blocks_arrives_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rest, "LINE_BLOCK", 7)  # every line crosses a block boundary
    body = b"".join(
        b'{"id": %d, "number": "I-%d", "customer": "3", "currency": "EUR", "total": "1.00",'
        b' "status": "paid", "issued_on": "2026-01-01"}\n' % (n, n)
        for n in range(1, 30)
    )
    peer = _Peer(200, body.rstrip(b"\n"))  # the last line without its newline
    connector = CrmledgerConnector(
        _with_token(compile_config("hq", "crmledger", {"url": peer.url}))
    )
    try:
        found = list(connector.snapshot("invoice"))
    finally:
        connector.close()
        peer.server.shutdown()
    assert [c.external_id for c in found] == [f"I-{n}" for n in range(1, 30)]
    assert found[0].values == {
        "number": "I-1",
        "customer": "3",
        "currency": "EUR",
        "total": "1.00",
        "status": "paid",
        "issued_on": "2026-01-01",
    }
