"""``crmledger entry`` and ``crmledger period`` commands."""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.render import OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.entries import Conversion, JournalEntry, Posting
from crmledger.core.errors import InvalidEntryError

entry_app = typer.Typer(help="Post, draft, show and reverse journal entries.", no_args_is_help=True)
period_app = typer.Typer(help="Lock periods against changes.", no_args_is_help=True)


def parse_posting(text: str) -> Posting:
    """``"Assets:Bank:Checking 100.00 EUR"`` (or ``ACCOUNT AMOUNT CCY @ PRICE CCY``)."""
    head, _, price = text.partition("@")
    parts = head.split()
    if len(parts) != 3:
        raise InvalidEntryError(f"posting {text!r}: expected 'ACCOUNT AMOUNT COMMODITY'")
    conversion = None
    if price.strip():
        number, _, commodity = price.strip().partition(" ")
        conversion = Conversion(_decimal(number, text), commodity.strip())
    return Posting(parts[0], _decimal(parts[1], text), parts[2], price=conversion)


def _decimal(text: str, context: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidEntryError(f"posting {context!r}: {text!r} is not a number") from None
    return value


def entry_from_document(doc: dict[str, Any]) -> JournalEntry:
    """An entry from JSON: ``{"date", "narration", "postings": [{account, amount, commodity}]}``."""
    allowed = {"date", "narration", "payee", "party", "reference", "journal", "tags", "postings"}
    unknown = set(doc) - allowed
    if unknown:
        raise InvalidEntryError(f"unknown field(s): {', '.join(sorted(unknown))}")
    try:
        postings = tuple(
            Posting(
                p["account"],
                _decimal(str(p["amount"]), str(p)),
                p["commodity"],
                price=Conversion(_decimal(str(p["price"]), str(p)), p["price_commodity"])
                if "price" in p
                else None,
                party=p.get("party"),
            )
            for p in doc["postings"]
        )
        return JournalEntry(
            date=date.fromisoformat(doc["date"]),
            narration=doc["narration"],
            postings=postings,
            payee=doc.get("payee"),
            party=doc.get("party"),
            reference=doc.get("reference"),
            journal=doc.get("journal", "GJ"),
            tags=tuple(doc.get("tags", ())),
        )
    except KeyError as missing:
        raise InvalidEntryError(f"missing field {missing}") from None
    except (TypeError, ValueError) as bad:
        raise InvalidEntryError(f"invalid entry document: {bad}") from None


DateOption = Annotated[str | None, typer.Option("--date", help="Entry date YYYY-MM-DD.")]
NarrationOption = Annotated[str, typer.Option(help="What the entry is for.")]
PostingOption = Annotated[
    list[str] | None,
    typer.Option("--posting", "-p", help="'ACCOUNT AMOUNT COMMODITY' (repeat, 2 or more)."),
]
PayeeOption = Annotated[str | None, typer.Option(help="Payee.")]
ReferenceOption = Annotated[str | None, typer.Option(help="External reference.")]
JournalOption = Annotated[str, typer.Option(help="Journal code.")]
JsonOption = Annotated[
    Path | None,
    typer.Option("--json", help="Read one entry (object) or several (array); '-' = stdin."),
]
FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f")]


def _entries(
    day: str | None,
    narration: str,
    posting: list[str] | None,
    payee: str | None,
    reference: str | None,
    journal: str,
    from_json: Path | None,
) -> list[JournalEntry]:
    """Entries from a JSON document, or one entry from the flags."""
    if from_json is not None:
        text = sys.stdin.read() if str(from_json) == "-" else from_json.read_text()
        doc = json.loads(text)
        return [entry_from_document(d) for d in (doc if isinstance(doc, list) else [doc])]
    if day is None:
        raise InvalidEntryError("--date is required (or use --json)")
    return [
        JournalEntry(
            date=date.fromisoformat(day),
            narration=narration,
            postings=tuple(parse_posting(p) for p in posting or ()),
            payee=payee,
            reference=reference,
            journal=journal,
        )
    ]


@entry_app.command("post")
def post(
    day: DateOption = None,
    narration: NarrationOption = "",
    posting: PostingOption = None,
    payee: PayeeOption = None,
    reference: ReferenceOption = None,
    journal: JournalOption = "GJ",
    from_json: JsonOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Post journal entries from flags or a JSON document; all or nothing."""
    entries = _entries(day, narration, posting, payee, reference, journal, from_json)
    refs = state.app.ledger.post(entries)
    rows = [{"id": r.id, "entry": r.ref, "hash": r.hash} for r in refs]
    emit(rows, fmt, title="Posted")


@entry_app.command("draft")
def draft(
    day: DateOption = None,
    narration: NarrationOption = "",
    posting: PostingOption = None,
    payee: PayeeOption = None,
    reference: ReferenceOption = None,
    journal: JournalOption = "GJ",
    from_json: JsonOption = None,
    replace: Annotated[int | None, typer.Option("--id", help="Replace this draft.")] = None,
) -> None:
    """Save an entry as a draft (it need not balance yet); post it with 'entry post-draft'."""
    [entry] = _entries(day, narration, posting, payee, reference, journal, from_json)
    draft_id = state.app.ledger.save_draft(entry, replace)
    console.print(f"Saved draft {draft_id}")


@entry_app.command("post-draft")
def post_draft(draft_id: Annotated[int, typer.Argument(help="Draft id.")]) -> None:
    """Post a saved draft: it gets its number and hash and can no longer change."""
    ref = state.app.ledger.post_draft(draft_id)
    console.print(f"Posted draft {draft_id} as {ref.ref}")


@entry_app.command("delete-draft")
def delete_draft(draft_id: Annotated[int, typer.Argument(help="Draft id.")]) -> None:
    """Delete a draft (posted entries are never deleted; reverse them instead)."""
    state.app.ledger.delete_draft(draft_id)
    console.print(f"Deleted draft {draft_id}")


@entry_app.command("show")
def show(
    reference: Annotated[str, typer.Argument(help="Entry id or JOURNAL/YEAR/NUMBER.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Show one entry with its postings, state and hash."""
    entry = state.app.ledger.get(state.app.ledger.resolve(reference))
    lines = [
        {"account": p.account, "amount": p.amount, "commodity": p.commodity} for p in entry.postings
    ]
    document: dict[str, Any] = {
        "id": entry.id,
        "entry": f"{entry.journal}/{entry.fiscal_year}/{entry.number}",
        "date": entry.date,
        "narration": entry.narration,
        "payee": entry.payee,
        "state": entry.state.value,
        "hash": entry.hash,
        "reverses": entry.reverses,
        "reversed_by": entry.reversed_by,
        "postings": lines,
    }
    if fmt is OutputFormat.json:
        print(dumps(document))
        return
    console.print(
        f"[bold]{document['entry']}[/bold] {entry.date} {entry.narration} "
        f"({entry.state.value})\n{entry.hash}"
    )
    emit(lines, fmt, right=("amount",))


@entry_app.command("reverse")
def reverse(
    reference: Annotated[str, typer.Argument(help="Entry id or JOURNAL/YEAR/NUMBER.")],
    day: Annotated[
        str | None, typer.Option("--date", help="Reversal date (default today).")
    ] = None,
    narration: Annotated[str | None, typer.Option(help="Narration of the reversal.")] = None,
) -> None:
    """Post the reversal of a posted entry (corrections are reversals, never edits)."""
    ledger = state.app.ledger
    entry_id = ledger.resolve(reference)
    ref = ledger.reverse(entry_id, date.fromisoformat(day) if day else None, narration)
    original = ledger.get(entry_id)
    console.print(
        f"Reversed {original.journal}/{original.fiscal_year}/{original.number} "
        f"with {ref.ref} (id {ref.id})"
    )


@period_app.command("lock")
def lock(
    until: Annotated[str, typer.Option("--until", help="Lock everything dated on or before.")],
) -> None:
    """Refuse any posting, reversal or edit dated on or before DATE (moves forward only)."""
    locked = state.app.ledger.lock_period(date.fromisoformat(until))
    console.print(f"Locked up to and including {locked.isoformat()}")
