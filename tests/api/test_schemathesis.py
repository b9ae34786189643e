"""Schemathesis against the live OpenAPI document of ``/api/v1``.

Every operation is fuzzed with positive and negative data and every built-in check on;
the stateful test follows the links between operations (create, then read, change,
reverse or revoke what was created). By default (`make test`) each operation gets 100
examples on SQLite and 25 on PostgreSQL: drawing an example from a schema costs more than
answering it, so the second database adds little at full length. ``CRMLEDGER_FUZZ_EXAMPLES``
sets the examples on both, and adds schemathesis's coverage phase (boundary values of every
keyword, worked out for all operations when the tests are collected); ``make fuzz`` runs
1,000::

    CRMLEDGER_FUZZ_EXAMPLES=1000 pytest tests/api/test_schemathesis.py
"""

from __future__ import annotations

import itertools
import os
import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis import AuthContext, Case, CheckContext, Response
from schemathesis.specs.openapi.checks import positive_data_acceptance

from crmledger.bootstrap import App, build
from crmledger.config import Settings
from crmledger.core.access import AuthenticationError, Role
from crmledger.core.crm.parties import Contact, Party, PartyKind
from crmledger.server import create_app
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment
from crmledger.services.throttle import LoginThrottle
from tests.api.conftest import PASSWORD, add_role_users
from tests.conftest import FAST_HASHER, FixedClock
from tests.helpers import entry, sale

#: A longer fuzz run (`CRMLEDGER_FUZZ_EXAMPLES` set) draws new cases each time and adds the
#: coverage phase; the default run draws the same cases every time (CI does not flake).
FUZZ_RUN = "CRMLEDGER_FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("CRMLEDGER_FUZZ_EXAMPLES", "100"))
POSTGRES_EXAMPLES = EXAMPLES if FUZZ_RUN else 25
PROBLEM = "urn:crmledger:problem:"

CONFIG = schemathesis.Config.from_dict(
    {
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "phases": {"coverage": {"enabled": FUZZ_RUN}},
        "generation": {
            "max-examples": EXAMPLES,
            "deterministic": not FUZZ_RUN,
            "database": "none",
            # The admin token is sent with every request; negative data must not drop it.
            "with-security-parameters": False,
        },
        "checks": {
            # Replaced by `accepts_schema_valid_data` below.
            "positive_data_acceptance": {"enabled": False},
            # RFC 6585: 428 is the answer to an update without the required If-Match.
            "missing_required_header": {
                "expected-statuses": ["400", "401", "403", "406", "415", "422", "428"]
            },
        },
    }
)

#: Per operation, the rules of the book that may refuse a request the document allows:
#: a JSON Schema cannot say that an entry balances and names open accounts of the chart,
#: that a commodity is known to the book, or which version of a resource is current.
BOOK_RULES: dict[str, set[str]] = {
    "postJournalEntry": {
        "AccountClosedError",
        "CommodityNotAllowedError",
        "ExcessPrecisionError",  # the scale is the commodity's
        "InvalidEntryError",  # every posting zero (the shape itself is in the document)
        "PeriodLockedError",
        "UnbalancedEntryError",
        "UnknownAccountError",
        "UnknownCommodityError",
    },
    "reverseJournalEntry": {"AccountClosedError", "PeriodLockedError"},
    "createAccount": {"UnknownCommodityError"},
    # Postings after the date; a date before the account opens (the core's class for it).
    "updateAccount": {"AccountClosedError", "InvalidAccountNameError", "VersionConflictError"},
    "updateUser": {"VersionConflictError"},
    # A phone, email, tax id, IBAN, country, currency or language the normalisers refuse;
    # an owner who is not a user; an external id another party holds.
    "createParty": {"InvalidFieldError", "ConflictError"},
    "updateParty": {"InvalidFieldError", "ConflictError", "VersionConflictError"},
    "createContact": {"InvalidFieldError", "ConflictError"},
    "updateContact": {"VersionConflictError"},
    # An unknown stage or pipeline, more decimals than the currency has, a duplicate stage.
    **{
        operation: {"InvalidFieldError", "ExcessPrecisionError", "VersionConflictError"}
        for operation in (
            "createDeal",
            "updateDeal",
            "moveDeal",
            "dealForecast",
            "createPipeline",
            "replacePipeline",
        )
    },
    # An unknown party, contact or time outside the years 1900-2999; a due time before the
    # interaction happened; a complaint resolved without a resolution.
    "createInteraction": {
        "UnknownReferenceError",
        "ForeignContactError",
        "TimeOutOfRangeError",
        "InvalidFieldError",
    },
    "updateInteraction": {
        "UnknownReferenceError",
        "ForeignContactError",
        "TimeOutOfRangeError",
        "InvalidFieldError",
        "VersionConflictError",
    },
    # A price with more decimals than its currency, an unknown party, product, account or
    # tax category; a stale version on a change or a move.
    **{
        operation: {"InvalidFieldError", "VersionConflictError", "TransitionError"}
        for operation in (
            "createProduct",
            "updateProduct",
            "previewQuote",
            "createQuote",
            "updateQuote",
            "createOrder",
            "createContract",
            "updateContract",
            "addContractPrice",
            "sendQuote",
            "acceptQuote",
            "rejectQuote",
            "cancelQuote",
            "confirmOrder",
            "fulfilOrder",
            "cancelOrder",
        )
    },
    "changeInteractionStatus": {
        "InvalidFieldError",
        "VersionConflictError",
        "TransitionError",
        "TimeOutOfRangeError",
    },
    # An unknown party, product, currency or tax category, more decimals than the currency
    # has, a missing exchange rate, a credit or allocation beyond what is open, a stale
    # version; and what the ledger refuses when the document is posted: an account the
    # chart does not hold (or has closed), a locked period.
    **{
        operation: {
            "InvalidFieldError",
            "InvalidInputError",
            "MissingRateError",
            "VersionConflictError",
            "UnknownAccountError",
            "AccountClosedError",
            "CommodityNotAllowedError",
            "PeriodLockedError",
        }
        for operation in (
            "createInvoice",
            "updateInvoice",
            "deleteInvoice",
            "issueInvoice",
            "creditInvoice",
            "createBill",
            "updateBill",
            "deleteBill",
            "issueBill",
            "createPayment",
            "allocatePayment",
            "setExchangeRate",
            "createTaxRate",
        )
    },
    # An account the chart lacks (or has closed), more decimals than the currency has, an
    # unknown currency or tax category, a missing exchange rate, an employee who is no
    # user, a file that is no PDF, PNG or JPEG, a claim without a receipt, a stale version;
    # and what the ledger refuses when the claim or its payment is posted.
    **{
        operation: {
            "InvalidFieldError",
            "MissingRateError",
            "VersionConflictError",
            "UnknownAccountError",
            "AccountClosedError",
            "CommodityNotAllowedError",
            "PeriodLockedError",
        }
        for operation in (
            "createExpense",
            "uploadExpenseReceipt",
            "submitExpense",
            "approveExpense",
            "rejectExpense",
            "reimburseExpense",
            "createRecurringBill",
        )
    },
    # A webhook target on a loopback, private or link-local address (written as one), an
    # event type pattern the book refuses, a stale version; a connector configuration its
    # adapter cannot use (no such folder, no object types, unknown rules or codes), a name
    # taken, a paused connector, one that does not push; a replay to a disabled webhook.
    **{
        operation: {"UnsafeTargetError", "InvalidFieldError", "VersionConflictError"}
        for operation in ("createWebhook", "updateWebhook", "replayWebhookDelivery")
    },
    **{
        operation: {"InvalidFieldError", "ConflictError", "VersionConflictError"}
        for operation in (
            "createConnector",
            "updateConnector",
            "runConnector",
            "pushConnector",
            "reconcileConnector",
        )
    },
    # A period that ends before it starts.
    "vatSummary": {"InvalidFieldError"},
    # A period (or a comparison) that ends before it starts or lies outside 1900-2999, a
    # comparison range that is no date; an account the chart does not hold.
    **{op: {"InvalidFieldError"} for op in ("incomeStatement", "balanceSheet", "cashFlow")},
    "statementDrilldown": {"InvalidFieldError", "UnknownAccountError"},
    # What the ledger refuses when the closing entry or its reversal is posted.
    **{op: {"AccountClosedError", "PeriodLockedError"} for op in ("closeYear", "reopenYear")},
    # A period that ends before it starts or lies outside the years 1900 to 2999; a cost of
    # goods in a currency without an exchange rate.
    "profitabilityReport": {"InvalidFieldError", "MissingRateError"},
    "receivablesReport": {"InvalidFieldError"},
    # Bucket bounds that do not increase or pass 3660 days, a day outside 1900-2999; a
    # statement's period that ends before it starts.
    **{op: {"InvalidFieldError"} for op in ("agingReport", "partyStatement")},
    # A period that ends before it starts or lies outside 1900-2999; a cost of goods in a
    # currency without an exchange rate.
    "dashboard": {"InvalidFieldError", "MissingRateError"},
    "cohortReport": {"InvalidFieldError"},
    # The last calendar day (its reversal has no next day), a currency open in the book
    # without a rate, and what the ledger refuses when the entry is posted.
    "createRevaluation": {
        "InvalidFieldError",
        "MissingRateError",
        "PeriodLockedError",
        "AccountClosedError",
        "UnknownAccountError",
        "CommodityNotAllowedError",
    },
    # A mapping that does not compile against its upload (each problem with its line), an
    # upload that is not the text of its kind; a decision on a pair read at another version.
    "createFusionRun": {"InvalidInputError"},
    "decideFusionReview": {"VersionConflictError"},
    # A party merged into itself or into one of another kind; a survivor read at another
    # version.
    "mergeParty": {"InvalidInputError", "VersionConflictError"},
}


def _refused_by_a_book_rule(response: Response, case: Case) -> bool:
    problem = response.json()
    if problem["type"] == PROBLEM + "idempotency-mismatch":
        return True  # the key was sent before with another request (draft-ietf-httpapi)
    rules = BOOK_RULES.get(case.operation.definition.raw["operationId"], set())
    return bool(problem["errors"]) and all(
        error.get("code") in rules
        # A cursor is opaque: only the `next_cursor` of a page is one.
        or (error.get("code") == "InvalidInputError" and error["field"] == "cursor")
        for error in problem["errors"]
    )


@schemathesis.check
def accepts_schema_valid_data(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """``positive_data_acceptance``, except for refusals by a rule of the book; anything
    else (above all an ``invalid-request``: the validation disagrees with the document)
    still fails."""
    if response.status_code in (412, 422) and _refused_by_a_book_rule(response, case):
        return None
    return positive_data_acceptance(ctx, response, case)


def seed(book: App) -> None:
    """A book with users of every role, a few posted entries and one reversal, two parties,
    and the billing of the first: an issued invoice paid in part, a draft, a USD rate."""
    add_role_users(book)
    refs = book.ledger.post(
        [
            sale("2026-01-05", "120.00"),
            sale("2026-02-10", "80.50"),
            entry("2026-03-01", "Rent", ("Expenses:Rent", "500"), ("Assets:Cash", "-500")),
        ]
    )
    book.ledger.reverse(refs[1].id, None, None)
    acme = book.parties.add(Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH"))
    ada = book.parties.add(Party(kind=PartyKind.PERSON, display_name="Ada Lovelace"))
    assert acme.id is not None
    assert ada.id is not None
    book.parties.add_contact(Contact(acme.id, ada.id, "Buyer"))
    book.rates.set_rate("USD", date(2026, 6, 1), Decimal("0.92"))
    consulting = NewDocument(
        party_id=acme.id,
        currency="EUR",
        lines=[DocumentLine(description="Consulting", unit_price=Decimal("100.00"))],
    )
    invoice = book.invoices.create(consulting)
    book.invoices.issue(invoice.id, invoice.version)
    book.payments.record(NewPayment(party_id=acme.id, amount=Decimal("50"), currency="EUR"))
    book.invoices.create(consulting)


class AdminToken:
    """An admin's ``Authorization`` header for every request.

    The fuzzer acts as an admin, so it may disable, demote or revoke the user whose token it
    holds; the token is checked before each request and a new admin minted (directly on the
    book, not through the API under test) when it no longer acts as one.
    """

    def __init__(self, book: App) -> None:
        self.book, self.secret, self.admins = book, "", itertools.count(1)

    def headers(self) -> dict[str, str]:
        try:
            if self.book.access.authenticate_token(self.secret).role is Role.ADMIN:
                return {"Authorization": f"Bearer {self.secret}"}
        except AuthenticationError:
            pass
        email = f"fuzz-admin-{next(self.admins)}@example.com"
        self.book.access.add_user(email, Role.ADMIN, PASSWORD)
        self.secret = self.book.access.create_token(email, "schemathesis").secret
        return {"Authorization": f"Bearer {self.secret}"}


@dataclass
class Server:
    """The whole server on a seeded book, and an admin to call it as."""

    asgi: FastAPI
    admin: AdminToken


@pytest.fixture
def server(app: App) -> Server:
    """The server the fuzzer calls, on this test's book (SQLite and PostgreSQL)."""
    seed(app)
    return Server(create_app(app), AdminToken(app))


def _document_server() -> FastAPI:
    # The document depends on the code only: a book that is never opened serves it.
    settings = Settings(database_url="sqlite://", keyring_path=Path(os.devnull))
    return create_app(build(settings, FixedClock(), FAST_HASHER))


schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", _document_server(), config=CONFIG)


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # one book per operation
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_operation_conforms(case: Case, server: Server) -> None:
    case.call_and_validate(app=server.asgi, headers=server.admin.headers())


@schema.parametrize()
@settings(
    max_examples=POSTGRES_EXAMPLES, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_every_operation_conforms_on_postgresql(case: Case, server: Server) -> None:
    case.call_and_validate(app=server.asgi, headers=server.admin.headers())


class Snapshot:
    """A copy of a SQLite book, put back before each stateful scenario: every scenario
    starts from the same book, so Hypothesis sees the same answers to the same calls."""

    def __init__(self, book: App) -> None:
        self.book, self.copy = book, sqlite3.connect(":memory:")
        with book.engine.connect() as conn:
            conn.connection.driver_connection.backup(self.copy)  # type: ignore[union-attr]

    def restore(self) -> None:
        with self.book.engine.connect() as conn:
            self.copy.backup(conn.connection.driver_connection)  # type: ignore[arg-type]
        self.book.access.throttle = LoginThrottle()  # failed logins are counted in memory


# Scenarios restart from a copy of the book: SQLite's backup API makes that cheap, while a
# PostgreSQL book cannot be reset under its no-delete guards. The per-operation test above
# covers PostgreSQL.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_linked_operations_conform(server: Server, app: App) -> None:
    live = schemathesis.openapi.from_asgi("/api/v1/openapi.json", server.asgi, config=CONFIG)
    assert live.raw_schema == schema.raw_schema

    @live.auth(refresh_interval=None)
    class Admin:
        def get(self, case: Case, ctx: AuthContext) -> dict[str, str]:
            return server.admin.headers()

        def set(self, case: Case, data: dict[str, str], ctx: AuthContext) -> None:
            case.headers = {**(case.headers or {}), **data}

    server.admin.headers()  # the admin is part of the book every scenario starts from
    secret, snapshot = server.admin.secret, Snapshot(app)

    class Scenarios(live.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            snapshot.restore()
            server.admin.secret = secret

    Scenarios.run(settings=settings(live.config.get_hypothesis_settings(), phases=[Phase.generate]))
