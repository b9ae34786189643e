"""``crmledger import`` and ``crmledger export`` commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeRemainingColumn,
)

from crmledger.cli.render import console, errors
from crmledger.cli.state import state
from crmledger.formats.tables import read_table
from crmledger.services.billing_import import (
    BILL_FIELDS,
    INVOICE_FIELDS,
    PAYMENT_FIELDS,
    bill_row,
    invoice_row,
    payment_row,
)
from crmledger.services.errors import InvalidInputError
from crmledger.services.imports import file_fingerprint
from crmledger.services.party_import import PARTY_FIELDS, party_from_row
from crmledger.services.record_import import ImportReport, build_rows, map_headers
from crmledger.services.record_kinds import (
    INTERACTION_FIELDS,
    PRODUCT_FIELDS,
    interaction_from_row,
    product_from_row,
    store_all,
)

import_app = typer.Typer(
    help="Import journal entries and CRM records (atomic per file, all problems listed).",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
Strict = Annotated[
    bool, typer.Option("--strict", help="Refuse accounts and commodities not declared first.")
]
Batch = Annotated[
    int | None,
    typer.Option(
        "--batch",
        min=1,
        help="Commit every N entries; a re-run resumes after the last committed batch.",
    ),
]


def _run(kind: str, path: Path, strict: bool, batch: int | None) -> None:
    app = state.app
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)
        parsed = app.readers[kind](path, strict)
        total = len(parsed.entries) or None  # unknown for streamed files
        bar.update(task, description=f"posting {path.name}", total=total)
        result = app.imports.import_parsed(
            parsed,
            fingerprint=file_fingerprint(path),
            kind=kind,
            strict=strict,
            batch_size=batch,
            progress=lambda done: bar.update(task, completed=done),
        )
    for skipped in result.skipped:
        errors.print(f"{skipped} (not imported)", markup=False, highlight=False, soft_wrap=True)
    if result.already_imported:
        console.print(f"{path} was already imported (same content); nothing written.")
        return
    console.print(f"Imported {result.entries} entries from {path}")


@import_app.command("entries")
def import_entries(path: FileArg, strict: Strict = False, batch: Batch = None) -> None:
    """CSV, one row per posting: entry,date,account,amount,commodity,description
    [,payee,party,reference]. Rows sharing 'entry' form one journal entry."""
    _run("entries", path, strict, batch)


@import_app.command("ledger")
def import_ledger(path: FileArg, strict: Strict = False, batch: Batch = None) -> None:
    """A ledger-cli / hledger journal (account and commodity directives, transactions)."""
    _run("ledger", path, strict, batch)


@import_app.command("beancount")
def import_beancount(path: FileArg, strict: Strict = False, batch: Batch = None) -> None:
    """A beancount file, parsed and booked by beancount (pip install crmledger[beancount])."""
    _run("beancount", path, strict, batch)


class ExportFormat(StrEnum):
    """Formats ``export`` writes."""

    ledger = "ledger"
    beancount = "beancount"
    entries = "entries"


def export(
    kind: Annotated[ExportFormat, typer.Argument(help="ledger, beancount or entries (CSV).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default stdout).")
    ] = None,
) -> None:
    """Write the whole book in a format ledger, hledger or bean-check accept."""
    if output is None:
        state.app.export(kind.value, sys.stdout)
        return
    with (
        Progress(
            SpinnerColumn(), TextColumn("{task.description}"), console=errors, transient=True
        ) as bar,
        output.open("w", encoding="utf-8") as out,
    ):
        task = bar.add_task(f"writing {output.name}", total=None)
        state.app.export(
            kind.value, out, lambda n: bar.update(task, description=f"{n} entries written")
        )
    console.print(f"Wrote {output}")


# -- records: parties (interactions and products register alongside) ---------------------

Maps = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        help="COLUMN=FIELD for a column whose name does not say its field (repeatable).",
        show_default=False,
    ),
]
DryRun = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
]
BatchSize = Annotated[
    int, typer.Option("--batch-size", min=1, help="Rows written per batch (one transaction).")
]


@dataclass(frozen=True)
class RecordKind:
    """How the rows of one kind of record are read and stored."""

    fields: dict[str, tuple[str, ...]]
    build: Callable[[dict[str, str]], Any]
    store: Callable[..., ImportReport]


def _record_kinds() -> dict[str, RecordKind]:
    app = state.app
    base = app.ledger.info().base_currency or "EUR"

    @cache  # one look-up per reference: a file names its customers again and again
    def by_ref(ref: str) -> int | None:
        # An import's own customer number, SYSTEM:ID, or an id any source gave a party.
        return app.parties.find_reference(ref)

    billing = app.billing_import
    return {
        "parties": RecordKind(PARTY_FIELDS, party_from_row, app.parties.import_parties),
        "interactions": RecordKind(
            INTERACTION_FIELDS,
            interaction_from_row(lambda ref: app.parties.find_external("import", ref)),
            store_all(app.interactions.add_many),
        ),
        "products": RecordKind(
            PRODUCT_FIELDS, product_from_row(base), store_all(app.products.add_many)
        ),
        "invoices": RecordKind(INVOICE_FIELDS, invoice_row(by_ref, base), billing.invoices),
        "bills": RecordKind(BILL_FIELDS, bill_row(by_ref, base), billing.bills),
        "payments": RecordKind(PAYMENT_FIELDS, payment_row(by_ref, base), billing.payments),
    }


def _explicit(maps: list[str]) -> dict[str, str]:
    out = {}
    for item in maps:
        column, sep, field = item.partition("=")
        if not sep or not column or not field:
            raise InvalidInputError("--map", f"{item!r}: write it as COLUMN=FIELD")
        out[column] = field
    return out


def _print_report(report: ImportReport, what: str) -> None:
    for problem in report.problems:
        errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    if report.problem_count > len(report.problems):
        errors.print(f"... and {report.problem_count - len(report.problems)} more")
    if report.ignored_columns:
        ignored = ", ".join(report.ignored_columns)
        errors.print(f"columns not imported (use --map COLUMN=FIELD): {ignored}", markup=False)
    if not report.ok:
        errors.print(
            f"[red]import refused: {report.problem_count} problem(s) in {report.rows} rows; "
            "nothing written"
        )
        raise typer.Exit(1)
    if report.dry_run:
        console.print(f"Dry run: {report.rows} rows of {report.source} are good; nothing written.")
        return
    console.print(f"Imported {report.written} {what} from {report.source}")


def _import_records(kind: str, path: Path, maps: list[str], dry_run: bool, batch: int) -> None:
    spec = _record_kinds()[kind]
    table = read_table(path)
    mapping = map_headers(table.headers, spec.fields, _explicit(maps))
    report = ImportReport(source=path.name, dry_run=dry_run)
    report.ignored_columns = [h for h in table.headers if h not in mapping]
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(f"reading {path.name}", total=None)
        items = build_rows(table.rows, mapping, spec.build, report)
        bar.update(task, description=f"checking and writing {kind}", total=len(items))
        spec.store(
            items,
            report,
            dry_run=dry_run,
            batch_size=batch,
            progress=lambda n: bar.advance(task, n),
        )
    _print_report(report, kind)


@import_app.command("parties")
def import_parties(
    path: FileArg, maps: Maps = None, dry_run: DryRun = False, batch_size: BatchSize = 2000
) -> None:
    """Parties from CSV or XLSX: columns named like fields (or --map COLUMN=FIELD); every
    row is checked first and nothing is written if any is refused. Fields: display_name,
    legal_name, given_name, family_name, kind, email, phone, mobile, street, postcode,
    city, region, country, website, tax_id, iban, bic, tags, lifecycle, source, segment,
    currency, language, payment_terms_days, credit_limit, external_id, external_system."""
    _import_records("parties", path, maps or [], dry_run, batch_size)


@import_app.command("interactions")
def import_interactions(path: FileArg, maps: Maps = None, dry_run: DryRun = False) -> None:
    """Interactions from CSV or XLSX, all or none. A row names its party by party_id or by
    party_ref (the external id a party import stored, e.g. its customer number). Fields:
    party_id, party_ref, kind, subject, body, channel, direction, occurred_at (ISO 8601;
    UTC unless it says otherwise), due_at, status, priority, resolution."""
    _import_records("interactions", path, maps or [], dry_run, 0)


@import_app.command("products")
def import_products(path: FileArg, maps: Maps = None, dry_run: DryRun = False) -> None:
    """Products from CSV or XLSX, all or none. Fields: sku, name, description, unit, kind
    (good or service), price ("120.00" in currency or the base currency, or "120.00 EUR;
    130.00 USD"), currency, tax_category, income_account, cost, cost_account, active."""
    _import_records("products", path, maps or [], dry_run, 0)


@import_app.command("invoices")
def import_invoices(path: FileArg, maps: Maps = None, dry_run: DryRun = False) -> None:
    """Invoices from CSV or XLSX, one row per invoice line, all or none: rows sharing the
    'invoice' column form one invoice (party, currency and dates from its first row),
    created and issued; the 'invoice' value is kept as its reference. Fields: invoice,
    party_id or party_ref, currency (default base), date, due, reference, sku or
    description, quantity (default 1), unit_price (default the product's), discount
    (percent), tax_category, account."""
    _import_records("invoices", path, maps or [], dry_run, 0)


@import_app.command("bills")
def import_bills(path: FileArg, maps: Maps = None, dry_run: DryRun = False) -> None:
    """Vendor bills from CSV or XLSX, one row per bill line, all or none: rows sharing the
    'bill' column form one bill (vendor, currency and dates from its first row), entered
    and issued; 'reference' (the vendor's own number) defaults to the 'bill' value. Fields:
    bill, party_id or party_ref, currency (default base), date, due, reference,
    description, quantity (default 1), unit_price, discount (percent), tax_category,
    account (default Expenses:Office)."""
    _import_records("bills", path, maps or [], dry_run, 0)


@import_app.command("payments")
def import_payments(path: FileArg, maps: Maps = None, dry_run: DryRun = False) -> None:
    """Payments received from CSV or XLSX, one row per payment, all or none, recorded in
    file order; 'invoice' names the invoice a payment pays (by number or by the reference
    an invoice import kept), else it goes to the oldest open invoices; what is left is
    credit. Fields: party_id or party_ref, amount, currency (default base), date, method,
    bank_account, reference, rate, invoice."""
    _import_records("payments", path, maps or [], dry_run, 0)
