"""Example request bodies and path values for every operation, one module per room.

Each module defines ``BODIES`` (operation id -> function of the :class:`Api` giving a valid
body) and ``PATHS`` (path parameter such as ``{party_id}`` -> function giving an existing
id); the permission matrix and other sweeps merge them all.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

Example = Callable[[Any], Any]


def merged() -> tuple[dict[str, Example], dict[str, Example]]:
    """``(bodies, paths)`` of every example module in this package."""
    bodies: dict[str, Example] = {}
    paths: dict[str, Example] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        bodies |= getattr(module, "BODIES", {})
        paths |= getattr(module, "PATHS", {})
    return bodies, paths
