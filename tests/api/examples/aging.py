"""Examples for the aging report and party statements.

Both only read: the statement takes the ``{party_id}`` of
:mod:`tests.api.examples.parties`, and the query parameters carry their own examples in
the OpenAPI document (``as_of``, ``buckets``), which schemathesis sends in its explicit
phase. A party whose statement and aging have lines is :func:`customer_with_history` of
:mod:`tests.api.examples.intelligence`; the worked book of
:mod:`tests.db.test_aging_report` has every kind of open item.
"""

from __future__ import annotations

from typing import Any

BODIES: dict[str, Any] = {}
PATHS: dict[str, Any] = {}
