"""Examples for the VAT summary and the unrealised exchange revaluation.

Each revaluation example names a new date: a date is revalued once, and every role must
meet the operation in the state it expects (a date not revalued yet).
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

_n = itertools.count(1)

BODIES: dict[str, Any] = {
    "createRevaluation": lambda api: {
        "date": (date(2026, 12, 31) + timedelta(days=next(_n))).isoformat()
    },
}
