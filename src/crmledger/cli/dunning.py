"""``crmledger dunning``: remind customers of overdue invoices, level by level.

::

    crmledger dunning run --dry-run                  # who would get what today
    crmledger dunning run --date 2026-07-01 --out letters/
    crmledger dunning letter 3 -o reminder.pdf       # print a notice's letter again
    crmledger dunning list --party 1
    crmledger dunning levels --set levels.json       # [{"level": 1, "min_days_overdue": 7, ...}]

A run sends each overdue invoice the highest level it is due for and has not had yet
(reminder from 7 days, second reminder from 21, final notice from 45, unless the book's
levels say otherwise), records each notice as a note on the customer's timeline, and
writes one PDF letter per notice into ``--out``, named ``INV-2026-0001-R1.pdf``. Running
it again the same day sends nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.billing import day, today
from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.billing.dunning import levels_from_data, levels_to_data
from crmledger.services.dunning import Notice
from crmledger.services.errors import InvalidInputError

dunning_app = typer.Typer(help="Reminders for overdue invoices.", no_args_is_help=True)

DateText = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")]


def _names() -> Callable[[int], str]:
    """Party id → display name, each party read once."""
    seen: dict[int, str] = {}

    def name(party_id: int) -> str:
        if party_id not in seen:
            seen[party_id] = state.app.parties.get(party_id).display_name
        return seen[party_id]

    return name


def _rows(notices: Sequence[Notice]) -> list[dict[str, Any]]:
    name = _names()
    return [
        {
            "notice": n.id,
            "customer": name(n.party_id),
            "invoice": n.number,
            "days overdue": n.days_overdue,
            "level": n.level,
            "open": n.open,
            "currency": n.currency,
        }
        for n in notices
    ]


def letter_name(notice: Notice) -> str:
    """The file a notice's letter is written to: ``INV-2026-0001-R2.pdf``."""
    return f"{notice.number}-R{notice.level}.pdf"


def _write_letters(notices: Sequence[Notice], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for notice in notices:
        assert notice.id is not None
        (folder / letter_name(notice)).write_bytes(state.app.dunning.letter(notice.id))


@dunning_app.command("run")
def dunning_run(
    on: DateText = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list who would get what.")
    ] = False,
    out: Annotated[
        Path, typer.Option("--out", file_okay=False, help="Folder for the PDF letters.")
    ] = Path(),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Send every overdue invoice the reminder it is due for, once per level, and write
    the letters (any letter prints again with: crmledger dunning letter NOTICE_ID)."""
    when = day("date", on) or today()
    dunning = state.app.dunning
    notices = dunning.plan(when) if dry_run else dunning.run(when)
    rows = _rows(notices)
    if dry_run:
        for row in rows:
            del row["notice"]
    if not notices and fmt is OutputFormat.table:
        console.print(f"No reminders due on {when.isoformat()}.")
        return
    verb = "Would send" if dry_run else "Sent"
    emit(rows, fmt, title=f"{verb} {len(notices)} reminder(s)", right=("days overdue", "open"))
    if not dry_run:
        _write_letters(notices, out)
        if fmt is OutputFormat.table:
            console.print(f"Wrote {len(notices)} letter(s) to {out}.")


@dunning_app.command("letter")
def dunning_letter(
    notice_id: Annotated[int, typer.Argument(help="The notice's id (see dunning list).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File (default INV-...-R1.pdf).")
    ] = None,
) -> None:
    """Write a sent notice's letter as PDF."""
    pdf = state.app.dunning.letter(notice_id)
    if output is None:
        output = Path(letter_name(state.app.dunning.notice(notice_id)))
    output.write_bytes(pdf)
    console.print(f"Wrote {output} ({len(pdf):,} bytes).")


@dunning_app.command("list")
def dunning_list(
    party: Annotated[int | None, typer.Option(help="Only this party's notices.")] = None,
    invoice: Annotated[int | None, typer.Option(help="Only this invoice's notices.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Notices sent, oldest first."""
    notices = state.app.dunning.notices(invoice_id=invoice, party_id=party)
    rows = [{"sent": n.sent_on} | row for n, row in zip(notices, _rows(notices), strict=True)]
    emit(rows, fmt, title="Dunning notices", right=("days overdue", "open"))


@dunning_app.command("levels")
def dunning_levels(
    set_from: Annotated[
        Path | None,
        typer.Option("--set", exists=True, dir_okay=False, help="A JSON file of levels to store."),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """The levels in force; ``--set FILE`` replaces them (a list of objects with level,
    min_days_overdue, title and template, texts by language or plain English)."""
    if set_from is not None:
        try:
            data = json.loads(set_from.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise InvalidInputError("dunning_levels", f"{set_from.name}: {error}") from None
        state.app.dunning.set_levels(levels_from_data(data))
    levels = state.app.dunning.levels()
    if fmt is OutputFormat.json:
        print(dumps(levels_to_data(levels)))
        return
    rows = [
        {
            "level": lv.level,
            "from days overdue": lv.min_days_overdue,
            "title": lv.title_in("en"),
            "languages": ", ".join(sorted(lv.template)),
        }
        for lv in levels
    ]
    emit(rows, fmt, title="Dunning levels", right=("level", "from days overdue"))
