"""The customer page's 360 panel: what the customer owes and how it pays, what it brought and
cost, what it is worth, how likely it is to leave and why, its segment and its NPS trend.

The figures come from one call to the customer-intelligence service; this module only picks
the words a reader needs (``slower by 12.0 days``, the badge of a risk level)::

    context["insight"] = insight_panel(viewer, party_id)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crmledger.core.intelligence import PaymentBehaviour
from crmledger.web.session import Viewer

#: The badge class of each churn level.
RISK_BADGES = {"low": "badge-ok", "medium": "badge-warning", "high": "badge-error"}


def trend_words(payment: PaymentBehaviour) -> str:
    """``slower by 12.0 days``, ``faster by 3.0 days``, ``steady`` or '' without a trend."""
    if payment.trend is None or payment.direction is None:
        return ""
    if payment.direction == "steady":
        return "steady"
    return f"{payment.direction} by {abs(payment.trend)} days"


def _nps_words(score: Decimal) -> str:
    return f"{score:+}" if score else "0.0"


def insight_panel(viewer: Viewer, party_id: int) -> dict[str, Any]:
    """The 360 panel's context for ``party_id``."""
    view = viewer.book.intelligence.customer_360(party_id)
    clv = view.lifetime_value
    return {
        "view": view,
        "base": view.base_currency,
        "trend": trend_words(view.payment),
        "risk_badge": RISK_BADGES[view.churn.level],
        "nps": [(p.period, _nps_words(p.score), p.responses) for p in view.satisfaction],
        "assumptions": None if clv is None else clv.assumptions,
        "loss": view.lifetime.net < 0,
    }
