"""``crmledger``: the command line of the book.

Every command takes ``--db URL`` (or ``CRMLEDGER_DATABASE_URL``); the default is
``sqlite:///crmledger.db`` in the current folder. Commands that print data take
``--format table|json|csv``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from crmledger.cli import (
    accounts,
    aging,
    bill_schedules,
    billing,
    bills,
    deals,
    demo,
    dunning,
    entries,
    expenses,
    fuse,
    fx_tax,
    imports,
    intelligence,
    interactions,
    invoices,
    parties,
    party_merge,
    party_statement,
    payments,
    products,
    reports,
    satisfaction,
    statements,
    sync,
    users,
    webhooks,
    worker,
)
from crmledger.cli.render import errors
from crmledger.cli.state import state
from crmledger.config import Settings
from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.services.errors import ImportRejectedError

app = typer.Typer(
    name="crmledger",
    help="One book for customers and money: a CRM and a double-entry ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

app.add_typer(accounts.account_app, name="account")
app.add_typer(accounts.commodity_app, name="commodity")
app.add_typer(entries.entry_app, name="entry")
app.add_typer(entries.period_app, name="period")
app.add_typer(imports.import_app, name="import")
app.add_typer(reports.report_app, name="report")
intelligence.attach(reports.report_app)
app.add_typer(reports.audit_app, name="audit")
app.add_typer(users.user_app, name="user")
app.add_typer(users.token_app, name="token")
app.add_typer(users.keys_app, name="keys")
app.add_typer(parties.party_app, name="party")
app.add_typer(products.product_app, name="product")
app.add_typer(interactions.interaction_app, name="interaction")
app.add_typer(deals.deal_app, name="deal")
app.add_typer(deals.pipeline_app, name="pipeline")
app.add_typer(satisfaction.survey_app, name="survey")
app.add_typer(invoices.invoice_app, name="invoice")
app.add_typer(bills.bill_app, name="bill")
bills.bill_app.add_typer(bill_schedules.schedule_app, name="schedule")
app.add_typer(expenses.expense_app, name="expense")
app.add_typer(fuse.fuse_app, name="fuse")
app.add_typer(payments.payment_app, name="payment")
app.add_typer(billing.fx_app, name="fx")
app.add_typer(billing.tax_app, name="tax")
fx_tax.attach(billing.fx_app, billing.tax_app)
statements.attach(reports.report_app, entries.period_app)
aging.attach(reports.report_app)
party_statement.attach(parties.party_app)
party_merge.attach(parties.party_app)
app.add_typer(billing.billing_app, name="billing")
app.add_typer(billing.company_app, name="company")
app.add_typer(dunning.dunning_app, name="dunning")
app.command("init")(accounts.init)
app.command("export")(imports.export)
app.command("serve")(reports.serve)
app.command("demo")(demo.demo)
app.command("balance")(payments.balance)
app.add_typer(webhooks.webhook_app, name="webhook")
app.add_typer(sync.sync_app, name="sync")
app.command("worker")(worker.run_worker)


@app.callback()
def _main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: $CRMLEDGER_DATABASE_URL or sqlite:///crmledger.db)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """One book for customers and money."""
    state.reset(Settings.load(db))


def main() -> None:
    """Console-script entry point: domain errors become a message and exit code 1."""
    try:
        app()
    except ImportRejectedError as rejected:
        for problem in rejected.problems:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        errors.print(f"[red]import refused: {len(rejected.problems)} problem(s); nothing written")
        sys.exit(1)
    except InvalidFieldError as error:
        where, why = escape(error.field), escape(str(error))
        errors.print(f"[red]error:[/red] {where}: {why}", highlight=False)
        sys.exit(1)
    except LedgerError as error:
        errors.print(f"[red]error:[/red] {error}", highlight=False)
        sys.exit(1)
    finally:
        state.close()
