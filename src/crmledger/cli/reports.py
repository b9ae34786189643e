"""``crmledger report``, ``crmledger audit`` and ``crmledger serve`` commands."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn

from crmledger.cli.render import OutputFormat, console, emit, errors
from crmledger.cli.state import state
from crmledger.cli.statements import (
    OutputOption,
    ReportFormat,
    ReportFormatOption,
    write_report,
)
from crmledger.core.report_table import trial_balance_table
from crmledger.core.reports import TrialBalance

report_app = typer.Typer(
    help="Financial statements, trial balance, ledgers and the entries behind a figure.",
    no_args_is_help=True,
)
audit_app = typer.Typer(help="Verify the ledger's integrity.", no_args_is_help=True)

FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def trial_balance_document(tb: TrialBalance) -> dict[str, Any]:
    """The JSON shape of a trial balance (amounts as decimal strings)."""

    def row(r: Any) -> dict[str, Any]:
        return {
            "account": r.account,
            "commodity": r.commodity,
            "debit": r.debit,
            "credit": r.credit,
            "balance": r.balance,
        }

    return {
        "as_of": tb.as_of,
        "accounts": [row(r) for r in tb.rows],
        "totals": {c: row(t) for c, t in tb.totals().items()},
        "conversions": dict(tb.conversions),
    }


@report_app.command("trial-balance")
def trial_balance(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date YYYY-MM-DD (default: all).")
    ] = None,
    fmt: ReportFormatOption = ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Debit and credit turnover and balance per account and commodity.

    Balances use the plain-text-accounting sign: assets and expenses positive; liabilities,
    equity and income negative. Debits equal credits per commodity; where costs or prices
    convert between commodities, the "Conversions" lines show what moved, so each
    commodity still adds up to zero.
    """
    tb = state.app.reports.trial_balance(_day(as_of))
    document = trial_balance_document(tb)
    if fmt is not ReportFormat.table or output is not None:
        write_report(trial_balance_table(tb), document, fmt, output)
        return
    rows = document["accounts"] + [
        {**t, "account": f"Total {c}"} for c, t in document["totals"].items()
    ]
    rows += [
        {"account": f"Conversions {c}", "commodity": c, "debit": "", "credit": "", "balance": v}
        for c, v in tb.conversions
    ]
    emit(
        rows,
        OutputFormat.table,
        title=f"Trial balance{' as of ' + as_of if as_of else ''}",
        document=document,
        right=("debit", "credit", "balance"),
    )


@report_app.command("ledger")
def account_ledger(
    account: Annotated[str, typer.Argument(help="Account (includes its sub-accounts).")],
    start: Annotated[str | None, typer.Option("--from", help="First date YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Last date YYYY-MM-DD.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Account activity with its running balance per commodity."""
    opening, lines = state.app.reports.account_ledger(account, _day(start), _day(end))
    rows = [
        {
            "date": line.date,
            "entry": line.entry,
            "narration": line.narration,
            "commodity": line.commodity,
            "amount": line.amount,
            "balance": line.balance,
        }
        for line in lines
    ]
    document = {"account": account, "from": start, "to": end, "opening": opening, "lines": rows}
    emit(rows, fmt, title=f"{account}", document=document, right=("amount", "balance"))


@audit_app.command("verify")
def verify(fmt: FormatOption = OutputFormat.table) -> None:
    """Walk every journal's hash chain, the audit log's and the running balances; exit 1 on
    any mismatch.

    Names the first entry or audit record whose hash, number or content no longer matches.
    """
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), console=errors, transient=True
    ) as bar:
        task = bar.add_task("verifying", total=None)
        report = state.app.audit.verify(
            lambda n: bar.update(task, description=f"verified {n} entries")
        )
    rows = [
        {"journal": f.journal, "entry": f.reference, "problem": f.reason} for f in report.findings
    ]
    if fmt is not OutputFormat.table:
        emit(
            rows,
            fmt,
            document={
                "ok": report.ok,
                "entries": report.entries_checked,
                "audit_records": report.records_checked,
                "findings": rows,
            },
        )
    elif report.ok:
        console.print(
            f"[green]OK[/green]: {report.entries_checked} entries in "
            f"{len(report.journals) - 1} journal(s) and {report.records_checked} audit "
            "record(s); chains and balances verified."
        )
    else:
        emit(rows, fmt, title="Integrity problems")
    if not report.ok:
        raise typer.Exit(1)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    tls_cert: Annotated[
        Path | None, typer.Option("--tls-cert", help="PEM certificate: serve HTTPS.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key.")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Server processes (one per core is a good start).")
    ] = 1,
) -> None:
    """Run the web UI (/) and the REST API (/api/v1), over TLS when given a certificate."""
    import uvicorn  # noqa: PLC0415  (only the server needs it; keeps other commands quick)

    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("--tls-cert and --tls-key go together")
    # Entry points do not import each other: uvicorn loads the app's factory by name.
    os.environ["CRMLEDGER_DATABASE_URL"] = state.settings.database_url
    os.environ["CRMLEDGER_KEYRING"] = str(state.settings.keyring)
    if tls_cert is not None:
        os.environ["CRMLEDGER_TLS"] = "1"
    uvicorn.run(
        "crmledger.server:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        workers=workers,
    )
