"""``crmledger demo``: load a year of demo books into the book."""

from __future__ import annotations

from typing import Annotated

import typer

from crmledger.cli.render import console
from crmledger.cli.state import state
from crmledger.services.demo import load_demo


def demo(
    year: Annotated[int, typer.Option(help="The demo year.")] = 2026,
) -> None:
    """Load a year of demo books (customers, invoices, payments, costs) into the book."""
    books = load_demo(state.app.ledger, year)
    console.print(
        f"Loaded {books.entries} demo entries for {books.year}; "
        f"locked up to {books.locked_until.isoformat()}."
    )
