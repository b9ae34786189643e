"""The VAT summary and the unrealised exchange revaluation over ``/api/v1``: June's tax
per category with its totals, a dollar invoice revalued once (a second request is a
``409``, a replayed one the first answer), a missing rate a ``422`` naming the currency,
and the roles the table allows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from crmledger.core.access import Role
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.settling import NewPayment
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


def _party(api: Api) -> int:
    party = Party(kind=PartyKind.ORGANISATION, display_name="Acme GmbH")
    return int(api.book.parties.add(party).id or 0)


def _issue(api: Api, party: int, currency: str, price: str, on: date, **kw: object) -> None:
    line = DocumentLine(description="Work", unit_price=Decimal(price), **kw)  # type: ignore[arg-type]
    draft = api.book.invoices.create(
        NewDocument(party_id=party, currency=currency, lines=[line], issued_on=on)
    )
    api.book.invoices.issue(draft.id, draft.version)


def _revalue(api: Api, day: str, role: Role = Role.ACCOUNTANT, **headers: str):
    return api.client.post(
        "/api/v1/fx/revaluations", json={"date": day}, headers=api.auth(role) | headers
    )


def test_vat_summary_of_june(api: Api) -> None:
    party = _party(api)
    _issue(api, party, "EUR", "100.00", date(2026, 6, 3))
    _issue(api, party, "EUR", "50.00", date(2026, 6, 4), tax_category="reduced")
    api.book.rates.set_rate("USD", date(2026, 6, 1), Decimal("0.9"))
    _issue(api, party, "USD", "100.00", date(2026, 6, 5))  # 90.00 EUR net, 17.10 EUR tax
    answer = api.client.get(
        "/api/v1/reports/vat",
        params={"from": "2026-06-01", "to": "2026-06-30"},
        headers=api.auth(Role.VIEWER),
    )
    assert answer.status_code == 200, answer.text
    summary = answer.json()
    assert (summary["from"], summary["to"], summary["currency"]) == (
        "2026-06-01",
        "2026-06-30",
        "EUR",
    )
    assert [
        (v["category"], v["rate"], v["collected_net"], v["collected_tax"]) for v in summary["lines"]
    ] == [
        ("reduced", "0.07", "50.00", "3.50"),
        ("standard", "0.19", "190.00", "36.10"),
    ]
    assert (summary["collected"], summary["deductible"], summary["payable"]) == (
        "39.60",
        "0.00",
        "39.60",
    )
    assert summary["documents"] == 3


def test_vat_summary_needs_reports_read_and_a_forward_period(api: Api) -> None:
    june = {"from": "2026-06-01", "to": "2026-06-30"}
    sales = api.client.get("/api/v1/reports/vat", params=june, headers=api.auth(Role.SALES))
    assert sales.status_code == 403
    backwards = api.client.get(
        "/api/v1/reports/vat",
        params={"from": "2026-06-30", "to": "2026-06-01"},
        headers=api.auth(Role.ACCOUNTANT),
    )
    assert backwards.status_code == 422
    assert backwards.headers["content-type"] == PROBLEM
    assert backwards.json()["errors"][0]["field"] == "to"
    missing = api.client.get("/api/v1/reports/vat", headers=api.auth(Role.ACCOUNTANT))
    assert missing.status_code == 422


def test_a_revaluation_posts_once_and_replays(api: Api) -> None:
    party = _party(api)
    api.book.rates.set_rate("USD", date(2026, 6, 1), Decimal("0.9"))
    _issue(api, party, "USD", "100.00", date(2026, 6, 1))
    api.book.rates.set_rate("USD", date(2026, 6, 30), Decimal("0.95"))
    first = _revalue(api, "2026-06-30", **{"Idempotency-Key": "reval-june"})
    assert first.status_code == 201, first.text
    done = first.json()
    assert (done["reference"], done["gain"], done["loss"], done["net"]) == (
        "FXREV-2026-06-30",
        "5.95",
        "0.00",
        "5.95",
    )
    assert (done["entry_number"], done["reversal_number"]) == ("FX/2026/1", "FX/2026/2")
    [item] = done["items"]
    assert (item["kind"], item["currency"], item["open"], item["rate"]) == (
        "invoice",
        "USD",
        "119.00",
        "0.95",
    )
    assert (item["booked_base"], item["revalued_base"], item["difference"]) == (
        "107.10",
        "113.05",
        "5.95",
    )
    replayed = _revalue(api, "2026-06-30", **{"Idempotency-Key": "reval-june"})
    assert replayed.content == first.content
    assert replayed.headers["idempotent-replayed"] == "true"
    again = _revalue(api, "2026-06-30")
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    entry = api.client.get(
        f"/api/v1/journal-entries/{done['entry_id']}", headers=api.auth(Role.ACCOUNTANT)
    )
    assert entry.json()["reference"] == "FXREV-2026-06-30"


def test_a_missing_rate_names_the_currency_and_roles_are_checked(api: Api) -> None:
    party = _party(api)
    api.book.rates.set_rate("USD", date(2026, 6, 1), Decimal("0.9"))
    _issue(api, party, "USD", "10.00", date(2026, 6, 1))
    early = _revalue(api, "2026-05-31")  # the invoice is not open yet: nothing to value
    assert early.status_code == 201
    assert early.json()["items"] == []
    assert early.json()["entry_id"] is None
    for role in (Role.SALES, Role.VIEWER, Role.AUDITOR):
        assert _revalue(api, "2026-06-30", role).status_code == 403
    receipt = NewPayment(
        party_id=party, amount=Decimal("5.00"), currency="GBP", rate=Decimal("1.17")
    )
    api.book.payments.record(receipt, [])  # kept as credit, at a rate given by hand
    missing = _revalue(api, "2026-06-30", Role.ADMIN)
    assert missing.status_code == 422
    error = missing.json()["errors"][0]
    assert (error["field"], error["code"]) == ("currency", "MissingRateError")
    assert "GBP" in error["message"]
