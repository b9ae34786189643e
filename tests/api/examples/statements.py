"""Examples for the year-end close: each call names a later year (years close in order,
and every role must meet the operation with a year not closed yet)."""

from __future__ import annotations

import itertools
from typing import Any

_years = itertools.count(1990)

PATHS: dict[str, Any] = {"{year}": lambda api: next(_years)}
