"""``crmledger demo``: fill the book with a realistic company from a seed."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from crmledger.bootstrap import App, build
from crmledger.cli.render import console
from crmledger.cli.state import state
from crmledger.services.crm_demo import CrmServices
from crmledger.services.demo import DemoClock, DemoServices, DemoSpec, load_demo
from crmledger.services.demo_staff import StaffServices
from crmledger.services.demo_trade import TradeServices


def services_of(app: App) -> DemoServices:
    return DemoServices(
        crm=CrmServices(
            app.parties,
            app.interactions,
            app.deals,
            app.products,
            app.sales,
            app.contracts,
            app.satisfaction,
        ),
        trade=TradeServices(
            app.ledger,
            app.interactions,
            app.satisfaction,
            app.invoices,
            app.payments,
            app.rates,
            app.dunning,
            app.deals,
            app.sales,
        ),
        staff=StaffServices(app.access, app.expenses, app.ledger),
        printer=app.printer,
    )


def demo(
    customers: Annotated[int, typer.Option(min=1, help="How many customers.")] = 40,
    years: Annotated[int, typer.Option(min=1, max=10, help="Years of trade up to today.")] = 1,
    seed: Annotated[int, typer.Option(help="The seed: the same seed gives the same book.")] = 7,
    today: Annotated[
        str | None, typer.Option(help="The demo's today (YYYY-MM-DD); default: the real one.")
    ] = None,
) -> None:
    """Fill the book with a realistic company: customers and their people, interactions and
    complaints, deals, quotes, orders and a contract, invoices in five currencies, receipts
    on time, late, in part or never, credit notes, vendor bills, payroll, the staff's
    expense claims with their receipts, surveys and dunning, all through the services,
    from a seed."""
    day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    spec = DemoSpec(customers=customers, years=years, seed=seed, today=day)
    clock = DemoClock(datetime.combine(spec.first_month, time(8), tzinfo=UTC))
    app = build(state.settings, clock)
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            tasks: dict[str, int] = {}

            def step(label: str, done: int, total: int) -> None:
                if label not in tasks:
                    tasks[label] = int(bar.add_task(f"Loading {label}", total=total))
                bar.update(tasks[label], completed=done)  # type: ignore[arg-type]

            result = load_demo(services_of(app), spec, clock, step)
    finally:
        app.engine.dispose()
    tally, claims = result.tally, result.claims
    console.print(
        f"Loaded {result.customers} customers ({result.parties} parties with their people and "
        f"vendors) over {years} year(s) to {day.isoformat()}: {tally.invoices} invoices, "
        f"{tally.payments} receipts, {tally.credit_notes} credit notes, {tally.bills} vendor "
        f"bills, {claims.claims} expense claims with {claims.receipts} receipt files, "
        f"{tally.interactions} interactions, {tally.complaints} complaints, "
        f"{tally.responses} survey answers, {tally.dunning_notices} dunning letters, "
        f"{tally.deals} deals ({tally.deals_won} won into orders); "
        f"locked up to {result.locked_until.isoformat()}."
    )
