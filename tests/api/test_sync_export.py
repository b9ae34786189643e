"""``GET /api/v1/sync/export/customers`` and ``.../invoices``: every party and every issued
invoice as one JSON line each, in id order across the chunks the book reads them in,
resumable after an id, and refused before the stream starts to a caller who may not read
them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from crmledger.core.access import ROLE_PERMISSIONS, PermissionDeniedError, Principal, Role
from crmledger.core.crm.parties import Address, Email, ExternalId, Party, PartyKind, Phone
from crmledger.services import sync_export
from crmledger.services.invoicing import DocumentLine, NewDocument
from crmledger.services.sync_records import party_record
from crmledger.services.trail import Actor
from tests.api.conftest import Api

NDJSON = "application/x-ndjson"


def _lines(api: Api, what: str, role: Role = Role.VIEWER, **params: Any) -> list[dict[str, Any]]:
    answer = api.client.get(f"/api/v1/sync/export/{what}", params=params, headers=api.auth(role))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == NDJSON
    assert answer.text == "" or answer.text.endswith("\n")
    return [json.loads(line) for line in answer.text.splitlines()]


def _parties(api: Api, count: int) -> list[Party]:
    made = []
    for n in range(count):
        party = Party(
            kind=PartyKind.ORGANISATION,
            display_name=f"Customer {n} GmbH",
            emails=(Email(f"ap{n}@customer.example"), Email(f"other{n}@customer.example")),
            phones=(Phone(f"+49301234567{n}"),),
            addresses=(Address(country="DE", city="Berlin", postcode="10115"),),
            currency="EUR",
            payment_terms_days=30,
            external_ids=(ExternalId("shop", f"S-{n}"),) if n == 0 else (),
        )
        made.append(api.book.parties.add(party))
    return made


def _issued(api: Api, party: int, price: str, currency: str = "EUR") -> int:
    draft = api.book.invoices.create(
        NewDocument(
            party_id=party,
            currency=currency,
            lines=[DocumentLine(description="Consulting", unit_price=Decimal(price))],
        )
    )
    api.book.invoices.issue(draft.id, draft.version)
    return draft.id


def test_every_party_streams_as_its_customer_record_in_id_order_across_chunks(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_export, "CUSTOMER_CHUNK", 2)  # five parties: three chunks
    made = _parties(api, 5)
    lines = _lines(api, "customers")
    assert [line["id"] for line in lines] == [p.id for p in made]
    for line, party in zip(lines, made, strict=True):
        assert line["record"] == party_record(party)
        assert line["record"]["email"] == party.emails[0].address  # the first one only
    assert lines[0]["external_ids"] == [{"system": "shop", "id": "S-0"}]
    assert lines[1]["external_ids"] == []
    assert lines[0]["updated_at"].startswith(made[0].updated_at.date().isoformat())
    resumed = _lines(api, "customers", after=made[2].id)
    assert [line["id"] for line in resumed] == [p.id for p in made[3:]]


def test_issued_invoices_stream_with_the_compared_fields_and_never_a_draft(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_export, "INVOICE_CHUNK", 1)
    acme, bolt = (int(p.id or 0) for p in _parties(api, 2))
    first = _issued(api, acme, "100.00")
    api.book.invoices.create(
        NewDocument(
            party_id=acme,
            currency="EUR",
            lines=[DocumentLine(description="Draft", unit_price=Decimal("9"))],
        )
    )
    second = _issued(api, bolt, "12.50")
    lines = _lines(api, "invoices", role=Role.SUPPORT)
    assert [line["id"] for line in lines] == [first, second]
    documents = [api.book.invoices.get(first), api.book.invoices.get(second)]
    for line, doc, owner in zip(lines, documents, (acme, bolt), strict=True):
        assert line == {
            "id": doc.id,
            "number": doc.number,
            "customer": str(owner),
            "currency": "EUR",
            "total": format(doc.gross, "f"),
            "status": doc.status,
            "issued_on": doc.issued_on.isoformat() if doc.issued_on else "",
        }
    assert lines[0]["total"] == "119.00"  # net and the default tax, two places
    assert _lines(api, "invoices", after=second) == []


def test_the_export_is_refused_before_it_starts(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    assert api.client.get("/api/v1/sync/export/invoices").status_code == 401
    refused = api.client.get(
        "/api/v1/sync/export/customers", params={"after": -1}, headers=api.auth()
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    # A role without billing:read gets a problem, not a stream that breaks off.
    narrowed = ROLE_PERMISSIONS[Role.VIEWER] - {("billing", "read")}
    monkeypatch.setitem(ROLE_PERMISSIONS, Role.VIEWER, narrowed)
    answer = api.client.get("/api/v1/sync/export/invoices", headers=api.auth(Role.VIEWER))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    viewer = Actor(Principal(None, "viewer", Role.VIEWER, "token"))
    with pytest.raises(PermissionDeniedError):
        api.book.sync.acting_as(viewer).export_invoices()  # raised before any chunk is read
    assert _lines(api, "customers") == []


def test_the_document_describes_one_json_object_per_line(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    for path, permission, needed in [
        ("/sync/export/customers", "parties:read", {"id", "updated_at", "external_ids", "record"}),
        ("/sync/export/invoices", "billing:read", {"id", "number", "customer", "total"}),
    ]:
        operation = spec["paths"][path]["get"]
        assert operation["x-permission"] == permission
        line = operation["responses"]["200"]["content"][NDJSON]["schema"]
        assert needed <= set(line["required"])
        assert {"401", "403", "422"} <= set(operation["responses"])
