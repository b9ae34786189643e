"""``crmledger fuse``: profile and map sources, run the fusion, read its reports, review.

::

    crmledger fuse profile crm.csv --format html --output crm-profile.html
    crmledger fuse suggest kunden.csv > kunden.mapping.yml
    crmledger fuse run fusion.yml --dry-run
    crmledger fuse report 3 --format html --output run-3.html
    crmledger fuse review
    crmledger fuse decide 12 accept
    crmledger fuse join crm.csv finance.csv --out linked.csv
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from crmledger.cli.render import console, errors
from crmledger.cli.state import state
from crmledger.formats.fusion_report import profile_html, run_html
from crmledger.fusion.config import load_config, prepare
from crmledger.fusion.join import JoinSpec, link_transactions
from crmledger.fusion.mapping import MappingError
from crmledger.fusion.sources import Source, SourceError, file_source
from crmledger.services.errors import InvalidInputError
from crmledger.services.fusion import RunOutcome

fuse_app = typer.Typer(
    help="Fuse customer data from many sources into golden parties (profile, map, run).",
    no_args_is_help=True,
)

STAGES = ("read", "match", "merge")


class ReportFormat(StrEnum):
    """How a report is printed."""

    TEXT = "text"
    JSON = "json"
    HTML = "html"


SourceArg = Annotated[
    str, typer.Argument(help="A file (.csv, .xlsx, .json, .jsonl) or a source of --config.")
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", exists=True, dir_okay=False, help="Run configuration naming SOURCE."),
]
Output = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")]


@contextmanager
def _refusals() -> Iterator[None]:
    """Mapping, configuration and source problems: listed, exit code 1."""
    try:
        yield
    except MappingError as exc:
        for line in str(exc).splitlines():
            errors.print(line, markup=False, highlight=False, soft_wrap=True)
        errors.print(f"[red]refused: {len(exc.errors)} problem(s); nothing ran")
        sys.exit(1)
    except SourceError as exc:
        errors.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)


def _source(name: str, config: Path | None) -> Source:
    if config is None:
        return file_source(Path(name))
    run = load_config(config)
    app = state.app
    for item in prepare(run, app.fusion.openers):
        if item.spec.name == name:
            return item.source
    raise SourceError(f"{config}: no source named {name!r}")


def _write(text: str, output: Path | None) -> None:
    if output is None:
        console.print(text, markup=False, highlight=False, soft_wrap=True, end="")
        return
    output.write_text(text, encoding="utf-8")
    errors.print(f"wrote {output}")


@fuse_app.command("profile")
def profile(
    source: SourceArg,
    config: ConfigOpt = None,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.TEXT,
    region: Annotated[str | None, typer.Option(help="Default phone region (ISO code).")] = None,
    output: Output = None,
) -> None:
    """Profile a source: types, empties, distinct and top values, patterns, invalid
    values, duplicate rows."""
    with _refusals():
        found = state.app.fusion.profile(_source(source, config), region)
    doc = found.as_dict()
    if fmt is ReportFormat.JSON:
        _write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)
    elif fmt is ReportFormat.HTML:
        _write(profile_html([doc]), output)
    else:
        console.print(f"{doc['source']}: {doc['rows']} rows, {doc['duplicate_rows']} duplicate")
        table = Table("column", "type", "empty", "distinct", "top pattern", "invalid")
        for c in doc["columns"]:
            top = c["patterns"][0][0] if c["patterns"] else ""
            invalid = f"{c['invalid']} ({c['check']})" if c["check"] else "-"
            table.add_row(
                c["name"],
                c["inferred_type"],
                f"{100 * c['null_share']:.1f} %",
                str(c["distinct"]),
                top,
                invalid,
            )
        console.print(table)


@fuse_app.command("suggest")
def suggest(source: SourceArg, config: ConfigOpt = None, output: Output = None) -> None:
    """Draft a mapping for a source from its headers and values (YAML)."""
    with _refusals():
        draft = state.app.fusion.suggest(_source(source, config))
    _write(draft.yaml(), output)


def _progress_hook(bar: Progress) -> Callable[[str, int], None]:
    tasks = {s: bar.add_task(s, total=None) for s in STAGES}

    def hook(stage: str, count: int) -> None:
        if stage in tasks:
            bar.update(tasks[stage], advance=count)
            for earlier in STAGES[: STAGES.index(stage)]:
                bar.update(tasks[earlier], total=1, completed=1)

    return hook


def _summary(outcome: RunOutcome) -> None:
    title = "dry run: nothing written" if outcome.dry_run else f"run {outcome.run_id}"
    console.print(f"{outcome.name} ({title})", markup=False, soft_wrap=True)
    table = Table(show_header=False)
    labels = {
        "records_in": "records in",
        "problems": "problems",
        "clusters": "clusters",
        "created": "new",
        "updated": "updated",
        "merged": "merged",
        "for_review": "for review",
    }
    counts = outcome.counts()
    for key, label in labels.items():
        table.add_row(label, str(counts[key]))
    if outcome.held:
        table.add_row("waiting for review", str(outcome.held))
    for absorbed, survivor in sorted(outcome.absorbed.items()):
        table.add_row("party merged", f"{absorbed} into {survivor}")
    console.print(table)
    for problem in outcome.log.problems[:20]:
        errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    if outcome.problems > 20:
        errors.print(f"... and {outcome.problems - 20} more problem(s): see the report")


@fuse_app.command("run")
def run(
    config: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Write nothing; say what would change.")
    ] = False,
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.TEXT,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes that clean the records (one a core).")
    ] = 1,
) -> None:
    """Read, clean, match and merge the configured sources into golden parties."""
    with _refusals():
        settings = load_config(config)
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("{task.completed:>8.0f}"),
            TimeElapsedColumn(),
            console=errors,
            transient=True,
        ) as bar:
            outcome = state.app.fusion.run(settings, dry_run, _progress_hook(bar), workers=workers)
    if fmt is ReportFormat.JSON:
        doc = outcome.report() | {"run_id": outcome.run_id}
        _write(json.dumps(doc, indent=2, default=str) + "\n", None)
        return
    _summary(outcome)


@fuse_app.command("report")
def report(
    run_id: Annotated[int, typer.Argument(min=1)],
    fmt: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.HTML,
    output: Output = None,
) -> None:
    """A recorded run's report as HTML or JSON."""
    doc = state.app.fusion.report(run_id)
    if fmt is ReportFormat.HTML:
        _write(run_html(doc), output)
    else:
        _write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)


@fuse_app.command("review")
def review(
    status: Annotated[str, typer.Option(help="open, accepted, rejected or all")] = "open",
) -> None:
    """The record pairs waiting for a person (or decided ones)."""
    items = state.app.fusion.review.list(None if status == "all" else status, limit=500)
    table = Table("id", "left", "right", "p", "status", "why")
    for item in items:
        why = ", ".join(f"{f['field']}: {f['level']}" for f in item.explanation["fields"][:3])
        table.add_row(
            str(item.id),
            ":".join(item.left),
            ":".join(item.right),
            f"{item.probability:.3f}",
            item.status,
            why,
        )
    console.print(table)


class Decision(StrEnum):
    """What a person says about a pair."""

    ACCEPT = "accept"
    REJECT = "reject"


@fuse_app.command("decide")
def decide(
    review_id: Annotated[int, typer.Argument(min=1)],
    decision: Annotated[Decision, typer.Argument()],
) -> None:
    """Accept (one customer) or reject (two customers) a review pair; later runs obey."""
    item = state.app.fusion.review.decide(review_id, decision is Decision.ACCEPT)
    console.print(f"review pair {item.id}: {item.status}")


@fuse_app.command("join")
def join(
    customers: Annotated[Path, typer.Argument(help="Customers (CSV), one id column.")],
    transactions: Annotated[Path, typer.Argument(help="Transactions (CSV) naming a customer.")],
    out: Annotated[Path, typer.Option("--out", help="Where the linked transactions go (CSV).")],
    customer_key: Annotated[str, typer.Option(help="The id column of CUSTOMERS.")] = "customer_id",
    transaction_key: Annotated[
        str, typer.Option(help="The customer id column of TRANSACTIONS.")
    ] = "customer_id",
    memory: Annotated[str, typer.Option(help="Memory DuckDB may use before it spills.")] = "1GB",
) -> None:
    """Link every transaction to its customer by an id both files spell their own way
    (cleaned first: spaces, case, prefixes, leading zeros, ".0"); customers kept once per
    id; no transaction lost. Each output row says how it was linked (matched, repaired,
    unknown, bad)."""
    spec = JoinSpec(
        customers, transactions, out, customer_key, transaction_key, memory_limit=memory
    )
    try:
        report = link_transactions(spec)
    except ValueError as exc:
        raise InvalidInputError("file", str(exc)) from None
    table = Table(show_header=False)
    for label, value in (
        ("customers in", report.customers_in),
        ("customers (one per id)", report.customers),
        ("transactions", report.transactions),
        ("linked", report.matched),
        ("linked once the id was cleaned", report.repaired),
        ("id no customer has", report.unknown),
        ("no id", report.bad),
        ("seconds", report.seconds),
    ):
        table.add_row(label, str(value))
    console.print(table)
    for problem in report.problems[:20]:
        errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
    console.print(f"Wrote {out}", markup=False)
