"""Examples for the dashboard.

``GET /dashboard`` takes no body and no path value; its query parameters (``from``, ``to``,
``compare``) carry their own examples in the OpenAPI document, which schemathesis sends in
its explicit phase, and it reads whatever book the sweep has built.
"""

from __future__ import annotations

from typing import Any

BODIES: dict[str, Any] = {}
PATHS: dict[str, Any] = {}
