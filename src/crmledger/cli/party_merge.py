"""``crmledger party merge`` / ``unmerge`` / ``merges``: merge two parties into one, undo
a merge, list merges.

::

    crmledger party merge 12 31          # party 31's records move to party 12
    crmledger party merges --party 12
    crmledger party unmerge 7            # merge 7's records go back to party 31
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, emit
from crmledger.cli.state import state
from crmledger.services.party_merge import PartyMerge


def _moved(merge: PartyMerge) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(merge.moved.items())) or "nothing"


def _row(merge: PartyMerge) -> dict[str, Any]:
    return {
        "id": merge.id,
        "survivor_id": merge.survivor_id,
        "absorbed_id": merge.absorbed_id,
        "status": merge.status,
        "moved": merge.moved,
        "run_id": merge.run_id,
        "merged_by": merge.merged_by,
        "merged_at": merge.merged_at,
        "undone_by": merge.undone_by,
        "undone_at": merge.undone_at,
    }


def merge(
    survivor: Annotated[int, typer.Argument(help="The party that stays.")],
    absorbed: Annotated[int, typer.Argument(help="The party whose records move to it.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Merge ABSORBED into SURVIVOR: contacts, timeline, deals, quotes, orders, contracts,
    invoices, payments, dunning notices, external ids and tags move; ABSORBED stays,
    marked as merged. Undo it with ``crmledger party unmerge MERGE_ID``."""
    done = state.app.party_merges.merge(survivor, absorbed)
    if fmt is OutputFormat.json:
        emit([], fmt, document=_row(done))
        return
    console.print(
        f"Merge {done.id}: party {absorbed} merged into party {survivor}; moved {_moved(done)}."
    )


def unmerge(
    merge_id: Annotated[int, typer.Argument(help="The merge to undo.")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Undo a merge: every record it moved goes back to the absorbed party."""
    done = state.app.party_merges.unmerge(merge_id)
    if fmt is OutputFormat.json:
        emit([], fmt, document=_row(done))
        return
    console.print(
        f"Merge {done.id} undone: party {done.absorbed_id} has its records back from "
        f"party {done.survivor_id}."
    )


def merges(
    party: Annotated[int | None, typer.Option(help="Merges of this party only.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Merges, newest first."""
    found = state.app.party_merges.list(party_id=party, limit=limit)
    rows = [
        {
            "id": m.id,
            "survivor": m.survivor_id,
            "absorbed": m.absorbed_id,
            "status": m.status,
            "moved": _moved(m),
            "merged": m.merged_at.date(),
        }
        for m in found
    ]
    emit(rows, fmt, title="Party merges", document={"items": [_row(m) for m in found]})


def attach(party_app: typer.Typer) -> None:
    """Add ``merge``, ``unmerge`` and ``merges`` to ``crmledger party``."""
    party_app.command("merge")(merge)
    party_app.command("unmerge")(unmerge)
    party_app.command("merges")(merges)
