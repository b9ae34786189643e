"""The customer 360 on the command line: ``crmledger party show ID --360``.

A table of the customer's figures (balance, days to pay and its trend, lifetime revenue,
margin and net profitability, pipeline, NPS by quarter, RFM segment, lifetime value, churn
risk), then the churn drivers and the lifetime value's assumptions; ``--format json`` prints
all of it, the recent items and documents included.
"""

from __future__ import annotations

from typing import Any

from crmledger.cli.intelligence import (
    churn_document,
    clv_document,
    config_document,
    line_document,
)
from crmledger.cli.render import OutputFormat, dumps, emit
from crmledger.services.customer_360 import Customer360, DocumentLine, RecentItem


def document_360(view: Customer360, party: dict[str, Any]) -> dict[str, Any]:
    """The customer 360 as JSON (``party``: the party's own document)."""
    b, p = view.balance, view.payment
    return {
        "as_of": view.as_of,
        "base_currency": view.base_currency,
        "party": party,
        "contacts": [
            {"party_id": c.party_id, "name": c.name, "role": c.role, "primary": c.primary}
            for c in view.contacts
        ],
        "open_deals": [
            {
                "id": d.id,
                "title": d.title,
                "stage": d.stage,
                "amount": d.amount,
                "currency": d.currency,
                "probability": d.probability,
                "weighted": d.weighted,
            }
            for d in view.open_deals
        ],
        "pipeline": [
            {"currency": t.currency, "amount": t.amount, "weighted": t.weighted}
            for t in view.pipeline
        ],
        "interactions": [_item(i) for i in view.interactions],
        "open_complaints": [_item(i) for i in view.open_complaints],
        "orders": [_doc(d) for d in view.orders],
        "contracts": [_doc(d) for d in view.contracts],
        "invoices": [_doc(d) for d in view.invoices],
        "balance": {"due": b.due_base, "overdue": b.overdue_base},
        "days_to_pay": {
            "paid_invoices": p.paid,
            "average": p.average,
            "recent": p.recent,
            "earlier": p.earlier,
            "trend": p.trend,
            "direction": p.direction,
        },
        "lifetime": line_document(view.lifetime),
        "satisfaction": [
            {"quarter": s.period, "responses": s.responses, "nps": s.score}
            for s in view.satisfaction
        ],
        "rfm": None
        if view.rfm is None
        else {
            "code": view.rfm.code,
            "segment": view.rfm.segment,
            "r": view.rfm.r,
            "f": view.rfm.f,
            "m": view.rfm.m,
        },
        "lifetime_value": clv_document(view.lifetime_value),
        "churn": churn_document(view.churn),
        "cost_to_serve": config_document(view.cost_to_serve),
    }


def _item(i: RecentItem) -> dict[str, Any]:
    return {
        "id": i.id,
        "kind": i.kind,
        "subject": i.subject,
        "status": i.status,
        "occurred_at": i.occurred_at,
    }


def _doc(d: DocumentLine) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "number": d.number,
        "status": d.status,
        "day": d.day,
        "amount": d.amount,
        "currency": d.currency,
        "open": d.open,
    }


def summary_rows(view: Customer360) -> list[dict[str, Any]]:
    """The 360's figures as ``figure: value`` rows."""
    b, p, life = view.balance, view.payment, view.lifetime
    base = view.base_currency
    clv = view.lifetime_value
    values: list[tuple[str, Any]] = [
        ("balance due", f"{b.due_base} {base}"),
        ("overdue", f"{b.overdue_base} {base}"),
        ("days to pay", "-" if p.average is None else f"{p.average} ({p.paid} paid)"),
        ("days to pay trend", "-" if p.trend is None else f"{p.trend:+} days, {p.direction}"),
        ("lifetime revenue", f"{life.revenue} {base}"),
        ("gross margin", f"{life.gross_margin} {base}"),
        ("cost to serve", f"{life.cost_to_serve.total} {base}"),
        ("net profitability", f"{life.net} {base}"),
        (
            "pipeline (weighted)",
            ", ".join(f"{t.weighted} {t.currency}" for t in view.pipeline) or "-",
        ),
        ("open complaints", len(view.open_complaints)),
        ("NPS by quarter", ", ".join(f"{s.period} {s.score}" for s in view.satisfaction) or "-"),
        ("segment", "-" if view.rfm is None else f"{view.rfm.segment} (RFM {view.rfm.code})"),
        ("lifetime value", "-" if clv is None else f"{clv.value} {base}"),
        ("churn risk", f"{view.churn.score} ({view.churn.level})"),
    ]
    return [{"figure": k, "value": v} for k, v in values]


def show_360(view: Customer360, fmt: OutputFormat, party: dict[str, Any]) -> None:
    """Print the 360: JSON, or its figures, churn drivers and lifetime value assumptions."""
    if fmt is OutputFormat.json:
        print(dumps(document_360(view, party)))
        return
    emit(summary_rows(view), fmt, title=f"{view.party.display_name}: 360 as of {view.as_of}")
    emit(
        [
            {"driver": d.name, "value": d.value, "points": d.contribution, "why": d.explanation}
            for d in view.churn.drivers
        ],
        fmt,
        title=f"Churn risk {view.churn.score} of 100",
        right=("points",),
    )
    doc = clv_document(view.lifetime_value)
    if doc is not None:
        rows = [{"assumption": k, "value": v} for k, v in doc["assumptions"].items()]
        emit(rows, fmt, title=f"Lifetime value = {doc['formula']}")
