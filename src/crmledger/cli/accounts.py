"""``crmledger init``, ``account`` and ``commodity`` commands."""

from __future__ import annotations

import os
from datetime import date
from typing import Annotated

import typer

from crmledger.bootstrap import migrate
from crmledger.cli.render import FormatOption, OutputFormat, console, emit
from crmledger.cli.state import state
from crmledger.cli.users import first_admin
from crmledger.core.accounts import Account
from crmledger.core.chart import CHARTS, chart
from crmledger.core.money import Commodity

account_app = typer.Typer(help="Open, close and list accounts.", no_args_is_help=True)
commodity_app = typer.Typer(help="Declare and list commodities.", no_args_is_help=True)


def init(
    chart_name: Annotated[
        str, typer.Option("--chart", help=f"Chart of accounts: {', '.join(CHARTS)}.")
    ] = "default",
    base_currency: Annotated[
        str, typer.Option("--base-currency", help="The book's functional currency.")
    ] = "",
) -> None:
    """Create or upgrade the database schema and set up the book with a chart of accounts.

    Safe to run again: migrations that already ran are skipped and existing accounts kept.
    Creates the key ring for personal data and the first admin (from
    CRMLEDGER_ADMIN_EMAIL / CRMLEDGER_ADMIN_PASSWORD, or asked for at a terminal).
    """
    keyring = migrate(state.app)
    if keyring is not None:
        console.print(f"Key ring created at [bold]{keyring}[/bold] (readable by you only).")
    currency = base_currency or os.environ.get("CRMLEDGER_BASE_CURRENCY", "EUR")
    info = state.app.ledger.init_book(chart(chart_name), currency)
    console.print(
        f"Book ready at [bold]{state.settings.database_url}[/bold]: base currency "
        f"{info.base_currency}, {info.accounts} accounts."
    )
    first_admin()


@account_app.command("add")
def account_add(
    name: Annotated[str, typer.Argument(help="Account name, e.g. Assets:Bank:Checking.")],
    code: Annotated[str | None, typer.Option(help="Optional account code, e.g. 1010.")] = None,
    commodity: Annotated[
        list[str] | None, typer.Option(help="Allowed commodity (repeat); default: any.")
    ] = None,
    opens: Annotated[str | None, typer.Option("--open", help="Open date YYYY-MM-DD.")] = None,
    closes: Annotated[str | None, typer.Option("--close", help="Close date YYYY-MM-DD.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Open an account. The first segment of the name is its type."""
    account = Account(
        name,
        code=code,
        commodities=tuple(commodity or ()),
        open_date=date.fromisoformat(opens) if opens else None,
        close_date=date.fromisoformat(closes) if closes else None,
        description=description,
    )
    state.app.ledger.add_account(account)
    console.print(f"Opened {name}")


@account_app.command("close")
def account_close(
    name: Annotated[str, typer.Argument(help="Account name.")],
    on: Annotated[str, typer.Option("--on", help="Last day it may be used, YYYY-MM-DD.")],
) -> None:
    """Close an account: postings dated after the close date are refused."""
    state.app.ledger.close_account(name, date.fromisoformat(on))
    console.print(f"Closed {name} as of {on}")


@account_app.command("list")
def account_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the chart of accounts."""
    rows = [
        {
            "account": a.name,
            "type": a.type.value,
            "code": a.code,
            "commodities": " ".join(a.commodities),
            "open": a.open_date,
            "close": a.close_date,
            "description": a.description,
        }
        for a in state.app.ledger.accounts()
    ]
    emit(rows, fmt, title="Accounts")


@commodity_app.command("add")
def commodity_add(
    code: Annotated[str, typer.Argument(help="Code, e.g. USD or VBMPX.")],
    scale: Annotated[int, typer.Option(help="Decimal places an amount may carry.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Declare a commodity with its scale (ISO currencies are known already)."""
    state.app.ledger.add_commodity(Commodity(code, scale, name))
    console.print(f"Declared {code} with {scale} decimal place(s)")


@commodity_app.command("list")
def commodity_list(fmt: FormatOption = OutputFormat.table) -> None:
    """List the book's commodities and their scales."""
    scales = state.app.ledger.commodities()
    emit([{"commodity": c, "scale": s} for c, s in sorted(scales.items())], fmt, "Commodities")
