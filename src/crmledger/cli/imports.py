"""``crmledger import`` and ``crmledger export`` commands."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

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
from crmledger.services.imports import file_fingerprint

import_app = typer.Typer(
    help="Import journal entries (atomic per file, idempotent, all problems listed).",
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
