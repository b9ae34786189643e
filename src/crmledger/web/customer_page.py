"""One customer's page: profile, contacts, timeline, deals, quotes and orders, finance,
and the 360 panel (:mod:`.insight_view`).

Each section shows only what the viewer's role may read, and each form only to a role that
may write; a form posted from the page that the service refuses comes back on this page
(422) with the error next to its field. The sections are built here; the routes that post
to them live in :mod:`.pages_contacts`, :mod:`.pages_interactions`, :mod:`.pages_deals` and
:mod:`.pages_sales`::

    return customer_response(request, viewer, party, deal=draft, status=422)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from crmledger.core.crm.deals import Pipeline
from crmledger.core.crm.parties import Party, PartyKind
from crmledger.services.billing_ports import BillingQuery
from crmledger.services.crm_ports import DealQuery, DocumentQuery
from crmledger.services.deals import StoredPipeline
from crmledger.web import billing_view, crm_view, deal_form, interaction_form
from crmledger.web.forms import Draft
from crmledger.web.insight_view import insight_panel
from crmledger.web.pages_customers import load
from crmledger.web.render import page
from crmledger.web.session import Signed, Viewer

router = APIRouter(include_in_schema=False)
TIMELINE_PAGE = 50
SECTION_ROWS = 20
CANDIDATES = 20


def contact_candidates(viewer: Viewer, org: Party, query: str) -> list[dict[str, Any]]:
    """People matching ``query`` who are not yet contacts of ``org``."""
    if not query:
        return []
    linked = {c.person.id for c in viewer.book.parties.contacts(organisation_id=org.id)}
    hits = viewer.book.parties.search(query, CANDIDATES)
    return [
        {
            "id": h.party.id,
            "name": h.party.display_name,
            "email": h.party.emails[0].address if h.party.emails else "",
        }
        for h in hits
        if h.party.kind is PartyKind.PERSON and h.party.id not in linked
    ]


def timeline(viewer: Viewer, party_id: int, before: str = "") -> dict[str, Any]:
    """A page of the party's timeline, newest first, and the link to the older items."""
    cursor = crm_view.decode_at(before) if before else None
    items = viewer.book.interactions.timeline(party_id, cursor, TIMELINE_PAGE)
    last = items[-1] if len(items) == TIMELINE_PAGE else None
    older = None
    if last is not None:
        older = f"/customers/{party_id}/timeline?before={crm_view.encode_at(last.at, last.id)}"
    return {
        "items": items,
        "older_url": older,
        "paged": cursor is not None,
        "party_id": party_id,
    }


def _contacts(viewer: Viewer, party: Party) -> list[dict[str, Any]]:
    is_org = party.kind is PartyKind.ORGANISATION
    found = viewer.book.parties.contacts(
        organisation_id=party.id if is_org else None, person_id=None if is_org else party.id
    )
    rows = []
    for link in found:
        other = link.person if is_org else link.organisation
        rows.append(
            {
                "id": other.id,
                "name": other.display_name,
                "role": link.contact.role,
                "primary": link.contact.primary,
                "email": other.emails[0].address if other.emails else "",
                "phone": other.phones[0].number if other.phones else "",
            }
        )
    return rows


def _stage_names(pipelines: list[StoredPipeline]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(p.key, s.key): (s.name, s.kind.value) for p in pipelines for s in p.stages}


def _deals(viewer: Viewer, party_id: int, pipelines: list[StoredPipeline]) -> list[dict[str, Any]]:
    names = _stage_names(pipelines)
    found = viewer.book.deals.list(DealQuery(limit=SECTION_ROWS, party_id=party_id))
    return [
        {
            "id": d.id,
            "title": d.title,
            "stage": names.get((d.pipeline, d.stage), (d.stage, "open"))[0],
            "kind": names.get((d.pipeline, d.stage), (d.stage, "open"))[1],
            "amount": crm_view.money(d.amount, d.currency),
            "close": crm_view.day(d.expected_close),
        }
        for d in found
    ]


def _documents(viewer: Viewer, party_id: int) -> dict[str, Any]:
    query = DocumentQuery(limit=SECTION_ROWS, party_id=party_id)
    return {
        "quotes": viewer.book.sales.list_quotes(query),
        "orders": viewer.book.sales.list_orders(query),
    }


def _finance(viewer: Viewer, party_id: int) -> dict[str, Any]:
    """What the customer owes and how it pays, and its latest invoices."""
    query = BillingQuery(limit=SECTION_ROWS, kind="invoice", party_id=party_id)
    invoices = viewer.book.invoices.page(query)
    balance = viewer.book.payments.balance(party_id)
    foreign = any(c.currency != balance.base_currency for c in balance.currencies)
    return {
        "balance": balance,
        "credit": [(c.unapplied, c.currency) for c in balance.currencies if c.unapplied],
        "by_currency": balance.currencies if foreign else (),
        "invoices": [billing_view.doc_row(d, {}) for d in invoices],
        "can_bill": viewer.can("billing", "write"),
    }


def _base_currency(viewer: Viewer) -> str:
    return viewer.book.ledger.info().base_currency or "EUR"


def _deal_section(
    viewer: Viewer, party: Party, draft: Draft | None, context: dict[str, Any]
) -> None:
    pipelines = viewer.book.deals.pipelines()
    assert party.id is not None
    context["deals"] = _deals(viewer, party.id, pipelines)
    if not viewer.can("deals", "write") or not pipelines:
        return
    first: Pipeline = next((p for p in pipelines if p.key == "sales"), pipelines[0])
    currency = party.currency or _base_currency(viewer)
    context["deal_form"] = draft or deal_form.blank(currency, first.key)
    context["pipelines"] = [(p.key, p.name) for p in pipelines]
    chosen = next((p for p in pipelines if p.key == context["deal_form"].get("pipeline")), first)
    context["deal_stages"] = deal_form.open_stages(chosen)


def _interaction_section(viewer: Viewer, party_id: int, draft: Draft | None) -> dict[str, Any]:
    section: dict[str, Any] = {"timeline": timeline(viewer, party_id)}
    if viewer.can("interactions", "write"):
        section["log_form"] = draft or interaction_form.blank()
        section["choices"] = {
            "kinds": interaction_form.KINDS,
            "channels": interaction_form.CHANNELS,
            "directions": interaction_form.DIRECTIONS,
            "priorities": interaction_form.PRIORITIES,
        }
    return section


def customer_context(
    viewer: Viewer,
    party: Party,
    *,
    interaction: Draft | None = None,
    deal: Draft | None = None,
    contact: Draft | None = None,
) -> dict[str, Any]:
    """Everything the customer page shows to ``viewer``; drafts refill posted forms."""
    assert party.id is not None
    owners = crm_view.owner_names(viewer)
    context: dict[str, Any] = {
        "party": party,
        "owner": crm_view.owner_label(owners, party.owner_id),
        "contacts": _contacts(viewer, party),
        "contact_form": contact or Draft({}),
        "candidates": contact_candidates(viewer, party, contact.get("q")) if contact else [],
        "can_write": viewer.can("parties", "write"),
        "timeline": None,
        "log_form": None,
        "deals": None,
        "deal_form": None,
        "documents": None,
        "finance": None,
        "insight": None,
        "can_quote": viewer.can("sales", "write"),
        "title": party.display_name,
    }
    if viewer.can("interactions", "read"):
        context |= _interaction_section(viewer, party.id, interaction)
    if viewer.can("deals", "read"):
        _deal_section(viewer, party, deal, context)
    if viewer.can("sales", "read"):
        context["documents"] = _documents(viewer, party.id)
    if viewer.can("billing", "read"):
        context["finance"] = _finance(viewer, party.id)
    if viewer.can("reports", "read"):
        context["insight"] = insight_panel(viewer, party.id)
    return context


def customer_response(
    request: Request, viewer: Viewer, party: Party, status: int = 200, **drafts: Draft | None
) -> Response:
    """The customer page (``status`` 422 when a posted form comes back with errors)."""
    context = customer_context(viewer, party, **drafts)
    return page(
        request, "customer.html", context, viewer=viewer, active="/customers", status=status
    )


@router.get("/customers/{party_id:int}")
def customer(request: Request, party_id: int, viewer: Signed) -> Response:
    """A customer's page."""
    party = load(viewer, party_id)
    return customer_response(request, viewer, party)
