"""``crmledger expense``: expense claims, from the receipt to the reimbursement.

::

    crmledger expense add --employee sam@example.com --date 2026-06-12 \\
        --description "Taxi to the airport" --account Expenses:Travel --amount 59.50 \\
        --tax standard --receipt taxi.pdf --submit
    crmledger expense approve 1                  # EXP-2026-0001, posted
    crmledger expense reimburse 1 --date 2026-06-30
    crmledger expense receipt 1 1 -o taxi-copy.pdf

The amount is what the receipt shows, tax included, unless ``--net``; ``--tax`` names the
category of input tax it holds. Receipts are PDF, PNG or JPEG files of at most 10 MB. The
command line acts as the book's operator: it enters claims for the employee it names and
may approve them (the operator is nobody's employee).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.billing import day, number
from crmledger.cli.invoices import DateText
from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.billing.expenses import MAX_RECEIPT_BYTES, ClaimLine, ClaimStatus
from crmledger.services.expense_ports import ExpenseQuery
from crmledger.services.expense_views import ExpenseClaim
from crmledger.services.expenses import NewClaim, Upload
from crmledger.services.settling import DEFAULT_BANK

expense_app = typer.Typer(help="Expense claims of employees.", no_args_is_help=True)

ClaimId = Annotated[int, typer.Argument(help="The claim's id.", min=1)]
ReceiptFiles = Annotated[
    list[Path] | None,
    typer.Option(
        "--receipt",
        exists=True,
        dir_okay=False,
        readable=True,
        help="A PDF, PNG or JPEG receipt (repeat).",
        show_default=False,
    ),
]


def _upload(path: Path) -> Upload:
    """The file as a receipt upload (read up to just past the size limit: the service
    refuses anything larger)."""
    with path.open("rb") as handle:
        return Upload(path.name, handle.read(MAX_RECEIPT_BYTES + 1))


def _employee_id(email: str) -> int:
    return state.app.access.find_user(email).id


def _label(claim: ExpenseClaim) -> str:
    return claim.number or f"claim {claim.id}"


def _document(claim: ExpenseClaim) -> dict[str, Any]:
    values = asdict(claim)
    for receipt in values["receipts"]:
        receipt.pop("uploaded_by", None)
    return values


def _print(claim: ExpenseClaim, fmt: OutputFormat, message: str) -> None:
    if fmt is OutputFormat.json:
        print(dumps(_document(claim)))
        return
    console.print(message)


def _total(claim: ExpenseClaim) -> str:
    return f"{claim.gross} {claim.currency} (net {claim.net}, tax {claim.tax})"


@expense_app.command("add")
def expense_add(  # noqa: PLR0913, PLR0917 - one option per field is what a CLI user expects
    description: Annotated[str, typer.Option(help="What the money was spent on.")],
    account: Annotated[str, typer.Option(help="The expense account, e.g. Expenses:Travel.")],
    amount: Annotated[str, typer.Option(help="What was paid, e.g. 59.50.")],
    employee: Annotated[str, typer.Option(help="The email of the user who paid.")],
    tax: Annotated[
        str | None, typer.Option(help="The input tax category the amount holds.")
    ] = None,
    receipt: ReceiptFiles = None,
    on: DateText = None,
    currency: Annotated[str | None, typer.Option(help="Default: the base currency.")] = None,
    net: Annotated[bool, typer.Option("--net", help="The amount is net of tax.")] = False,
    submit: Annotated[bool, typer.Option("--submit", help="Hand it in right away.")] = False,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Enter an expense claim with its receipts (a draft unless --submit)."""
    new = NewClaim(
        description=description,
        lines=[ClaimLine(account.strip(), number("lines[0].amount", amount), tax)],
        currency=currency,
        claimed_on=day("claimed_on", on),
        gross=not net,
        employee_id=_employee_id(employee),
    )
    uploads = [_upload(path) for path in receipt or []]
    claim = state.app.expenses.create(new, uploads)
    if submit:
        claim = state.app.expenses.submit(claim.id, claim.version)
    _print(claim, fmt, f"Expense claim {claim.id} ({claim.status}): {_total(claim)}.")


@expense_app.command("list")
def expense_list(
    status: Annotated[ClaimStatus | None, typer.Option(help="Only claims in this state.")] = None,
    employee: Annotated[str | None, typer.Option(help="Only this user's claims.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 100,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Expense claims, newest first."""
    query = ExpenseQuery(
        limit=limit,
        employee_id=_employee_id(employee) if employee else None,
        status=status.value if status else None,
    )
    rows = [
        {
            "id": c.id,
            "number": c.number or "",
            "employee": c.employee_id,
            "date": c.claimed_on,
            "status": c.status,
            "description": c.description,
            "currency": c.currency,
            "gross": c.gross,
            "receipts": len(c.receipts),
        }
        for c in state.app.expenses.page(query)
    ]
    emit(rows, fmt, title="Expense claims", right=("gross", "receipts"))


@expense_app.command("show")
def expense_show(claim_id: ClaimId, fmt: FormatOption = OutputFormat.table) -> None:
    """One claim: its lines, receipts and where it stands."""
    claim = state.app.expenses.get(claim_id)
    if fmt is OutputFormat.json:
        print(dumps(_document(claim)))
        return
    console.print(
        f"[bold]{_label(claim)}[/bold] by user {claim.employee_id} on "
        f"{claim.claimed_on.isoformat()}: {claim.description} ({claim.status})"
    )
    lines = [
        {
            "account": x.account,
            "amount": x.amount,
            "tax": x.tax_category or "",
            "net": x.net,
            "input tax": x.tax,
        }
        for x in claim.lines
    ]
    emit(lines, fmt, title=f"Total {_total(claim)}", right=("amount", "net", "input tax"))
    receipts = [
        {"id": r.id, "name": r.name, "type": r.content_type, "bytes": r.size, "sha256": r.sha256}
        for r in claim.receipts
    ]
    if receipts:
        emit(receipts, fmt, title="Receipts", right=("bytes",))
    if claim.reason:
        console.print(f"Rejected: {claim.reason}")


@expense_app.command("attach")
def expense_attach(
    claim_id: ClaimId,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Add a receipt to a draft claim."""
    claim, receipt = state.app.expenses.add_receipt(claim_id, _upload(path))
    console.print(f"Receipt {receipt.id} ({receipt.content_type}) added to claim {claim.id}.")


@expense_app.command("receipt")
def expense_receipt(
    claim_id: ClaimId,
    receipt_id: Annotated[int, typer.Argument(help="The receipt's id.", min=1)],
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write it.")],
) -> None:
    """Write a receipt's file as it was uploaded."""
    found = state.app.expenses.receipt(claim_id, receipt_id)
    output.write_bytes(found.content)
    console.print(f"Wrote {output} ({found.info.size} bytes, {found.info.content_type}).")


@expense_app.command("submit")
def expense_submit(claim_id: ClaimId, fmt: FormatOption = OutputFormat.table) -> None:
    """Hand a draft in for approval (it needs a receipt)."""
    claim = state.app.expenses.submit(claim_id)
    _print(claim, fmt, f"Claim {claim.id} submitted: {_total(claim)}.")


@expense_app.command("approve")
def expense_approve(claim_id: ClaimId, fmt: FormatOption = OutputFormat.table) -> None:
    """Approve a submitted claim and post it."""
    claim = state.app.expenses.approve(claim_id)
    _print(claim, fmt, f"Claim {claim.id} approved and posted as [bold]{claim.number}[/bold].")


@expense_app.command("reject")
def expense_reject(
    claim_id: ClaimId,
    reason: Annotated[str, typer.Option(help="Why (the employee sees it).")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Turn a submitted claim down."""
    claim = state.app.expenses.reject(claim_id, reason)
    _print(claim, fmt, f"Claim {claim.id} rejected: {claim.reason}")


@expense_app.command("reimburse")
def expense_reimburse(
    claim_id: ClaimId,
    on: DateText = None,
    bank: Annotated[str, typer.Option(help="The bank account it is paid from.")] = DEFAULT_BANK,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Pay a posted claim back to its employee."""
    claim = state.app.expenses.reimburse(claim_id, paid_on=day("paid_on", on), bank_account=bank)
    _print(claim, fmt, f"{_label(claim)} reimbursed from {bank}: {claim.gross} {claim.currency}.")
