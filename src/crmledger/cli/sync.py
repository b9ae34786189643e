"""``crmledger sync``: connectors to outside systems, their runs, log and reconciliation.

::

    crmledger sync add shop --kind folder --config shop.yml --inbound standard
    crmledger sync add erp --kind sql --config erp.json --secret-env password=ERP_PASSWORD
    crmledger sync run shop --dry-run        # the diff, nothing written
    crmledger sync run shop                  # pull what changed (and push, for sql)
    crmledger sync status shop
    crmledger sync log 9                     # every record of run 9 and its outcome
    crmledger sync conflicts shop
    crmledger sync resolve 4 --keep remote
    crmledger sync reconcile erp --object invoice   # exit status 1 when they disagree

The configuration file (JSON or YAML) names the folder or database, where each object
type's records are and which column holds which field, code lists and field rules.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from crmledger.cli.render import FormatOption, OutputFormat, console, dumps, emit
from crmledger.cli.state import state
from crmledger.core.integration.reconcile import Reconciliation
from crmledger.services.errors import InvalidInputError
from crmledger.services.sync import RunReport

sync_app = typer.Typer(help="Connectors that keep outside systems in step.", no_args_is_help=True)
Name = Annotated[str, typer.Argument(help="The connector's name.")]
ObjectType = Annotated[str, typer.Option("--object", help="customer or invoice.")]


def _config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInputError("config", f"cannot read {path}: {exc.strerror}") from None
    if path.suffix.lower() in (".yml", ".yaml"):
        from ruamel.yaml import YAML  # noqa: PLC0415 - only this command reads YAML

        found = YAML(typ="safe").load(text)
    else:
        try:
            found = json.loads(text)
        except ValueError as exc:
            raise InvalidInputError("config", f"{path} is not JSON: {exc}") from None
    if not isinstance(found, dict):
        raise InvalidInputError("config", f"{path} holds no mapping")
    return found


def _secrets(given: list[str] | None, from_env: list[str] | None) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in given or []:
        name, sep, value = item.partition("=")
        if not sep:
            raise InvalidInputError("secret", "write it as name=value")
        found[name] = value
    for item in from_env or []:
        name, sep, variable = item.partition("=")
        if not sep or variable not in os.environ:
            raise InvalidInputError("secret-env", f"{item!r}: name=VARIABLE of a set variable")
        found[name] = os.environ[variable]
    return found


@sync_app.command("add")
def sync_add(
    name: Name,
    kind: Annotated[str, typer.Option(help="folder, sql, rest, crmledger or export.")],
    config: Annotated[Path, typer.Option(help="The configuration file (JSON or YAML).")],
    secret: Annotated[
        list[str] | None, typer.Option(help="name=value of a secret (repeat).")
    ] = None,
    secret_env: Annotated[
        list[str] | None, typer.Option(help="name=VARIABLE: a secret from the environment.")
    ] = None,
    inbound: Annotated[
        str | None, typer.Option(help="Take signed webhooks: standard or stripe.")
    ] = None,
) -> None:
    """Add a connector (its configuration is checked first)."""
    view, inbound_secret = state.app.sync.add(
        name, kind, _config(config), _secrets(secret, secret_env), inbound
    )
    console.print(f"Connector [bold]{view.name}[/bold] ({view.kind}) added.")
    if inbound_secret:
        console.print(
            f"POST its webhooks to /api/v1/inbound/{view.name}, signed with: {inbound_secret}"
        )


@sync_app.command("list")
def sync_list(fmt: FormatOption = OutputFormat.table) -> None:
    """Every connector."""
    rows = [
        {
            "name": c.name,
            "kind": c.kind,
            "objects": " ".join(c.config.get("objects", {})),
            "status": c.status,
            "inbound": c.inbound_scheme or "",
            "secrets": " ".join(c.secrets),
        }
        for c in state.app.sync.list()
    ]
    emit(rows, fmt, "Connectors")


def _said(report: RunReport, fmt: OutputFormat) -> None:
    rows = [
        {
            "record": r.external_id,
            "party": r.local_id or "",
            "outcome": r.outcome,
            "fields": " ".join(r.fields),
            "reason": r.reason,
        }
        for r in report.results
        if r.outcome != "unchanged" or fmt is not OutputFormat.table
    ]
    if fmt is OutputFormat.json:
        print(
            dumps(
                {
                    "run": report.run_id,
                    "mode": report.mode,
                    "counts": dict(report.counts),
                    "records": rows,
                    "message": report.message,
                }
            )
        )
        return
    if report.object_type == "ledger":  # an export: no records, one file
        console.print(f"Run {report.run_id} of {report.connector}: {report.message}.")
        return
    emit(rows, fmt, f"Run {report.run_id} ({report.mode})")
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
    console.print(f"Run {report.run_id} of {report.connector} {report.object_type}: {counts}.")


@sync_app.command("run")
def sync_run(
    name: Name,
    object_type: ObjectType = "customer",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the diff; write nothing.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Records per page.")] = 500,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Pull what changed outside since the last run (and push crmledger's changes out,
    for a connector that pushes)."""
    _said(state.app.sync.run(name, object_type, dry_run=dry_run, limit=limit), fmt)
    if not dry_run and state.app.sync.get(name).config.get("push"):
        _said(state.app.sync.push(name, object_type), fmt)


@sync_app.command("push")
def sync_push(name: Name, fmt: FormatOption = OutputFormat.table) -> None:
    """Push crmledger's changes out now."""
    _said(state.app.sync.push(name), fmt)


@sync_app.command("status")
def sync_status(name: Name, fmt: FormatOption = OutputFormat.table) -> None:
    """Cursors, the last run, open conflicts and queued pushes."""
    found = state.app.sync.status(name)
    last = found["last_run"]
    row = {
        "connector": name,
        "status": found["status"],
        "cursors": json.dumps(found["cursors"]),
        "last run": f"{last.id} {last.mode} {last.status} {dict(last.counts)}" if last else "",
        "open conflicts": found["open_conflicts"],
        "queued": found["queued"],
    }
    emit([row], fmt, f"Sync status of {name}")


@sync_app.command("log")
def sync_log(
    run: Annotated[int, typer.Argument(help="The run's id (see sync status).")],
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Every record of a run, its outcome and why."""
    rows = [
        {
            "record": r.external_id,
            "party": r.local_id or "",
            "outcome": r.outcome,
            "fields": " ".join(r.fields),
            "reason": r.reason,
        }
        for r in state.app.sync.log(run, None, 100_000)
    ]
    emit(rows, fmt, f"Run {run}")


@sync_app.command("conflicts")
def sync_conflicts(
    name: Annotated[str | None, typer.Argument(help="Only this connector's.")] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Fields held for review, with both values."""
    rows = [
        {
            "id": c.id,
            "connector": c.connector,
            "record": c.external_id,
            "party": c.local_id,
            "field": c.field,
            "crmledger": c.local_value,
            "outside": c.remote_value,
        }
        for c in state.app.sync.conflicts(name)
    ]
    emit(rows, fmt, "Open conflicts")


@sync_app.command("resolve")
def sync_resolve(
    conflict: Annotated[int, typer.Argument(help="The conflict's id.")],
    keep: Annotated[str, typer.Option(help="local (crmledger's value) or remote.")],
) -> None:
    """Decide a conflict."""
    found = state.app.sync.resolve(conflict, keep)
    console.print(f"Conflict {found.id} on {found.field}: {found.status.replace('_', ' ')}.")


def _verdict(verdict: Reconciliation, fmt: OutputFormat) -> None:
    summary = {
        "object": verdict.object_type,
        "agree": verdict.agree,
        "crmledger": verdict.local_count,
        "outside": verdict.remote_count,
        "matched": verdict.matched,
        "missing in crmledger": verdict.missing_local,
        "missing outside": verdict.missing_remote,
        "differing": verdict.differing,
    }
    totals = {k: [format(a, "f"), format(b, "f")] for k, (a, b) in verdict.totals.items()}
    rows = [
        {
            "record": d.key,
            "kind": d.kind,
            "field": d.field,
            "crmledger": d.local,
            "outside": d.remote,
        }
        for d in verdict.differences
    ]
    if fmt is OutputFormat.json:
        print(dumps(summary | {"totals": totals, "differences": rows}))
        return
    emit([summary], fmt, "Reconciliation")
    for currency, (ours, theirs) in totals.items():
        console.print(f"Total {currency or '(no currency)'}: crmledger {ours}, outside {theirs}")
    if rows:
        emit(rows, fmt, "Differences")


@sync_app.command("reconcile")
def sync_reconcile(
    name: Name, object_type: ObjectType = "customer", fmt: FormatOption = OutputFormat.table
) -> None:
    """Compare both sides: counts, amount totals and every record that differs; the exit
    status is 1 when they disagree."""
    verdict = state.app.sync.reconcile(name, object_type)
    _verdict(verdict, fmt)
    if not verdict.agree:
        raise typer.Exit(1)
