"""End-to-end benchmarks of crmledger against ledger-cli, hledger and beancount.

For each size the same generated books (see :mod:`benchmarks.generate`, cached in
``bench-data/N/``) go through every tool, each run in a fresh child process under
``/usr/bin/time`` (or a tiny ``os.wait4`` wrapper), so the peak resident memory is that
child's own, not the maximum over every child this process ever had::

    python -m benchmarks.run --sizes 10000,100000 --out bench-data

Every run checks its answer against ``expected.json`` and says OK or FAIL. The figures are
printed as one table per size and merged into ``bench-data/results.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from benchmarks.generate import ACCOUNTS, DEFAULT_SEED, FORMAT_VERSION, generate, transactions
from crmledger.bootstrap import App, build
from crmledger.config import Settings
from crmledger.core.accounts import Account
from crmledger.core.entries import JournalEntry, Posting
from crmledger.persistence.engine import make_engine, normalise_url

Balances = dict[tuple[str, str], Decimal]
BIN = Path(sys.executable).parent
CRMLEDGER = BIN / "crmledger"
REPORT_RUNS = 5
WARM_UP_SIZE = 100
IMPORTS = (("entries", "entries.csv"), ("ledger", "books.journal"))
POSTGRES_ENV = "CRMLEDGER_BENCH_POSTGRES_URL"
POSTGRES_SCHEMA = "crmledger_bench"
AMOUNT_RE = re.compile(r"(-?[\d,]+(?:\.\d+)?) ([A-Z][A-Z0-9]*)")
TREE_LINE_RE = re.compile(r"^\s*(-?[\d,]+(?:\.\d+)? [A-Z][A-Z0-9]*|0)(?:  ( *)(\S.*?))?\s*$")


@dataclass(frozen=True, slots=True)
class Measurement:
    """One child process: wall seconds, peak RSS in KiB, exit code, captured output."""

    wall: float
    peak_kib: int
    returncode: int
    stdout: Path
    stderr: Path

    def error(self) -> str:
        """``exit N: last line of stderr`` (empty when the run succeeded)."""
        if self.returncode == 0:
            return ""
        lines = self.stderr.read_text(errors="replace").strip().splitlines()
        return f"exit {self.returncode}: {lines[-1] if lines else 'no message'}"


@dataclass(slots=True)
class Row:
    """One line of a size's table."""

    key: str
    tool: str
    wall: float | None
    peak_mib: float | None
    result: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Bench:
    """Where one size's data, databases and captured outputs live."""

    size: int
    data: Path
    expected: Balances

    @property
    def work(self) -> Path:
        """Databases and captured stdout/stderr of the runs."""
        path = self.data / "work"
        path.mkdir(exist_ok=True)
        return path


# --- measuring ----------------------------------------------------------------------------


TIME = "/usr/bin/time"
WRAPPER = """
import os, sys
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"0 {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def wrapped(argv: Sequence[str], stats: Path) -> list[str]:
    """``argv`` run under a small wrapper that writes the child's own peak RSS to ``stats``.

    Linux carries a process's RSS high-water mark across ``exec``, so a child spawned
    straight from this (large) Python process would report at least our own RSS. GNU time
    is a small C program; without it a minimal Python wrapper does the same job with a
    floor of a few MB.
    """
    if os.access(TIME, os.X_OK):
        return [TIME, "-f", "%e %M", "-o", str(stats), *argv]
    return [sys.executable, "-I", "-S", "-c", WRAPPER, str(stats), *argv]


def measure(argv: Sequence[str], work: Path, name: str) -> Measurement:
    """Run ``argv`` in a fresh child with stdout/stderr to files: wall time and peak RSS."""
    stdout, stderr, stats = (work / f"{name}.{ext}" for ext in ("out", "err", "rusage"))
    stats.unlink(missing_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, str(stdout), flags, 0o644),
        (os.POSIX_SPAWN_OPEN, 2, str(stderr), flags, 0o644),
    ]
    env = {k: v for k, v in os.environ.items() if k != "CRMLEDGER_DATABASE_URL"}
    command = wrapped(argv, stats)
    start = time.perf_counter()
    pid = os.posix_spawn(command[0], command, env, file_actions=actions)
    _, status, _ = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    # The last line holds "elapsed maxrss" (GNU time may first note a non-zero exit).
    lines = stats.read_text().split("\n") if stats.exists() else []
    fields = next((line.split() for line in reversed(lines) if line.strip()), ["0", "0"])
    code = os.waitstatus_to_exitcode(status)
    return Measurement(wall, int(fields[-1]), code, stdout, stderr)


def enable_bytecode_cache(out: Path) -> None:
    """Let the Python children (crmledger, bean-query) cache their bytecode in ``out``.

    Installed packages normally ship compiled bytecode; a uv venv does not, and this
    environment sets ``PYTHONDONTWRITEBYTECODE``, so every start would recompile some 400
    modules (over a second). Children inherit this process's environment.
    """
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str((out / "pycache").resolve())


def tool_path(name: str) -> str | None:
    """The venv's copy of a tool first (bean-query), then ``PATH``."""
    local = BIN / name
    return str(local) if local.exists() else shutil.which(name)


def mib(kib: int) -> float:
    """KiB -> MiB."""
    return kib / 1024


# --- reading answers ----------------------------------------------------------------------


def expected_balances(document: dict[str, Any]) -> Balances:
    """``expected.json`` balances keyed by (account, commodity)."""
    return {
        (account, commodity): Decimal(amount)
        for account, amounts in document["balances"].items()
        for commodity, amount in amounts.items()
    }


def rolled_up(balances: Balances) -> Balances:
    """Add every account's balance to each of its parents, as a tree report shows them."""
    totals: Balances = {}
    for (account, commodity), amount in balances.items():
        parts = account.split(":")
        for depth in range(1, len(parts) + 1):
            key = (":".join(parts[:depth]), commodity)
            totals[key] = totals.get(key, Decimal(0)) + amount
    return totals


def _amounts(text: str) -> list[tuple[str, Decimal]]:
    return [(c, Decimal(n.replace(",", ""))) for n, c in AMOUNT_RE.findall(text)]


def parse_tree(text: str) -> Balances:
    """``ledger bal`` (indented tree) or ``hledger bal`` (flat) output.

    Amount-only lines belong to the next line that names an account; indentation by two
    spaces is one level deeper. The totals below the dashed line are not read.
    """
    found: Balances = {}
    stack: list[str] = []
    pending: list[tuple[str, Decimal]] = []
    for line in text.splitlines():
        if line.startswith("-" * 10):
            break
        match = TREE_LINE_RE.match(line)
        if match is None:
            continue
        pending += _amounts(match.group(1))
        if match.group(3) is None:
            continue
        stack = [*stack[: len(match.group(2)) // 2], match.group(3)]
        for commodity, amount in pending:
            found[(":".join(stack), commodity)] = amount
        pending = []
    return found


def parse_bean_query(text: str) -> Balances:
    """``bean-query ... 'SELECT account, sum(position) GROUP BY account'`` table output."""
    found: Balances = {}
    for line in text.splitlines():
        account, _, rest = line.partition(" ")
        if ":" not in account:
            continue
        for commodity, amount in _amounts(rest):
            found[(account, commodity)] = amount
    return found


def parse_trial_balance(text: str) -> Balances:
    """``crmledger report trial-balance --format json``: balance per account and commodity."""
    document = json.loads(text)
    return {(r["account"], r["commodity"]): Decimal(r["balance"]) for r in document["accounts"]}


def _nonzero(balances: Balances) -> Balances:
    return {k: v for k, v in balances.items() if v != 0}


def compare(actual: Balances, expected: Balances) -> str:
    """``OK`` or ``FAIL: ...`` naming how many balances differ and the first one."""
    actual, expected = _nonzero(actual), _nonzero(expected)
    keys = sorted(actual.keys() | expected.keys())
    wrong = [k for k in keys if actual.get(k) != expected.get(k)]
    if not wrong:
        return f"OK ({len(expected)} balances)"
    account, commodity = wrong[0]
    return (
        f"FAIL: {len(wrong)} of {len(keys)} balances differ, e.g. {account} {commodity}: "
        f"{actual.get(wrong[0])} != expected {expected.get(wrong[0])}"
    )


def compare_tree(actual: Balances, expected: Balances) -> str:
    """Every node a tree report shows must equal the rolled-up expectation, and every
    leaf with a balance must be shown."""
    totals = _nonzero(rolled_up(expected))
    shown = {k: totals.get(k, Decimal(0)) for k in actual}
    missing = {k: v for k, v in _nonzero(expected).items() if k not in actual}
    return compare(actual, {**shown, **missing})


# --- peers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Peer:
    """A plain-text-accounting tool: its program, arguments and how to read its answer."""

    key: str
    label: str
    arguments: Callable[[Path], list[str]]
    parse: Callable[[str], Balances]
    tree: bool  # a tree report shows parents' totals too


PEERS = (
    Peer(
        "ledger",
        "ledger-cli bal",
        lambda d: ["-f", str(d / "books.journal"), "bal"],
        parse_tree,
        True,
    ),
    Peer(
        "hledger",
        "hledger bal",
        lambda d: ["-f", str(d / "books.journal"), "bal"],
        parse_tree,
        True,
    ),
    Peer(
        "bean-query",
        "bean-query sum(position)",
        lambda d: [str(d / "books.beancount"), "SELECT account, sum(position) GROUP BY account"],
        parse_bean_query,
        False,
    ),
)


def peer_row(bench: Bench, peer: Peer) -> Row:
    """Time one peer tool on the size's books and check what it printed."""
    path = tool_path(peer.key)
    if path is None:
        return Row(peer.key, peer.label, None, None, "not installed")
    argv = [path, *peer.arguments(bench.data)]
    run = measure(argv, bench.work, peer.key)
    if run.returncode != 0:
        return Row(peer.key, peer.label, run.wall, mib(run.peak_kib), f"FAIL: {run.error()}")
    found = peer.parse(run.stdout.read_text())
    verdict = (compare_tree if peer.tree else compare)(found, bench.expected)
    return Row(peer.key, peer.label, run.wall, mib(run.peak_kib), verdict, {"command": argv})


# --- crmledger ----------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    """A SQLite URL for ``path`` after deleting the file and its WAL companions."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path.resolve()}"


def init_book(url: str, work: Path, name: str) -> Measurement:
    """``crmledger init --chart minimal --base-currency USD`` (not part of any timing)."""
    return measure(
        [str(CRMLEDGER), "--db", url, "init", "--chart", "minimal", "--base-currency", "USD"],
        work,
        f"{name}-init",
    )


def trial_balance_argv(url: str) -> list[str]:
    """The CLI trial balance as JSON."""
    return [str(CRMLEDGER), "--db", url, "report", "trial-balance", "--format", "json"]


def reader_available(kind: str) -> bool:
    """Whether this checkout has a reader for ``kind`` (the ledger reader came later)."""
    if kind != "ledger":
        return True
    return importlib.util.find_spec("crmledger.formats.ledger_journal") is not None


def import_row(bench: Bench, kind: str, filename: str) -> tuple[Row, str | None]:
    """Fresh book, then ``import KIND FILE`` and the trial balance, timed as two runs summed
    (peak: the larger). Returns the row and the book's URL (``None`` if the import failed).
    """
    key, label = f"crmledger-{kind}", f"crmledger import {kind} + TB"
    if not reader_available(kind):
        return Row(key, label, None, None, "reader not available"), None
    url = sqlite_url(bench.work / f"{kind}.db")
    setup = init_book(url, bench.work, kind)
    if setup.returncode != 0:
        return Row(key, label, None, None, f"FAIL: init {setup.error()}"), None
    argv = [str(CRMLEDGER), "--db", url, "import", kind, str(bench.data / filename)]
    imported = measure(argv, bench.work, f"{kind}-import")
    if imported.returncode != 0:
        failure = f"FAIL: {imported.error()}"
        return Row(key, label, imported.wall, mib(imported.peak_kib), failure), None
    report = measure(trial_balance_argv(url), bench.work, f"{kind}-tb")
    wall, peak = imported.wall + report.wall, mib(max(imported.peak_kib, report.peak_kib))
    if report.returncode != 0:
        return Row(key, label, wall, peak, f"FAIL: report {report.error()}"), None
    detail = {
        "import_s": imported.wall,
        "import_peak_mib": mib(imported.peak_kib),
        "report_s": report.wall,
        "report_peak_mib": mib(report.peak_kib),
    }
    verdict = compare(parse_trial_balance(report.stdout.read_text()), bench.expected)
    return Row(key, label, wall, peak, verdict, detail), url


def report_cli_row(bench: Bench, url: str) -> Row:
    """The trial balance alone through the CLI, median of :data:`REPORT_RUNS` runs."""
    runs = [measure(trial_balance_argv(url), bench.work, "tb-cli") for _ in range(REPORT_RUNS)]
    failed = [r for r in runs if r.returncode != 0]
    peak = mib(max(r.peak_kib for r in runs))
    wall = statistics.median(r.wall for r in runs)
    label = f"crmledger report trial-balance (CLI, median of {REPORT_RUNS})"
    if failed:
        return Row("tb-cli", label, wall, peak, f"FAIL: {failed[0].error()}")
    verdict = compare(parse_trial_balance(runs[-1].stdout.read_text()), bench.expected)
    return Row("tb-cli", label, wall, peak, verdict, {"runs_s": [r.wall for r in runs]})


def report_inprocess_row(bench: Bench, url: str) -> Row:
    """``app.reports.trial_balance()`` in this process: first call and median of the next."""
    from crmledger.bootstrap import build
    from crmledger.config import Settings

    app = build(Settings.load(url))
    try:
        timings = []
        for _ in range(REPORT_RUNS + 1):
            start = time.perf_counter()
            tb = app.reports.trial_balance()
            timings.append(time.perf_counter() - start)
    finally:
        app.engine.dispose()
    found = {(r.account, r.commodity): r.balance for r in tb.rows}
    label = f"crmledger trial_balance() in-process (median of {REPORT_RUNS})"
    wall = statistics.median(timings[1:])
    detail = {"first_call_s": timings[0], "runs_s": timings[1:]}
    return Row("tb-inprocess", label, wall, None, compare(found, bench.expected), detail)


# --- posting throughput -------------------------------------------------------------------

SINGLE_ENTRIES = 500
BATCH_ENTRIES = 20_000
BATCH_SIZE = 1_000


def journal_entries(count: int) -> list[JournalEntry]:
    """The first ``count`` generated transactions as crmledger journal entries."""
    return [
        JournalEntry(
            date=tx.date,
            narration=tx.description,
            postings=tuple(Posting(a, Decimal(c).scaleb(-2), cur) for a, c, cur in tx.postings),
            reference=str(tx.number),
        )
        for tx in transactions(count)
    ]


def open_book(url: str) -> App:
    """The app for ``url`` with every generated account opened (so posting opens none)."""
    app = build(Settings.load(url))
    known = {account.name for account in app.ledger.accounts()}
    for name in ACCOUNTS:
        if name not in known:
            app.ledger.add_account(Account(name))
    return app


def posting_rates(url: str) -> dict[str, float]:
    """Entries per second: one entry per ``post`` call, then batches of 1,000 per call."""
    entries = journal_entries(SINGLE_ENTRIES + BATCH_ENTRIES)
    single, batched = entries[:SINGLE_ENTRIES], entries[SINGLE_ENTRIES:]
    app = open_book(url)
    try:
        start = time.perf_counter()
        for entry in single:
            app.ledger.post([entry])
        single_s = time.perf_counter() - start
        start = time.perf_counter()
        for offset in range(0, len(batched), BATCH_SIZE):
            app.ledger.post(batched[offset : offset + BATCH_SIZE])
        batched_s = time.perf_counter() - start
    finally:
        app.engine.dispose()
    return {
        "single_entries_per_s": len(single) / single_s,
        "single_s": single_s,
        "batched_entries_per_s": len(batched) / batched_s,
        "batched_s": batched_s,
    }


def postgres_url(base: str) -> str:
    """``base`` pointed at a schema of its own, dropped and created afresh.

    A dedicated schema (not ``public``) so that a shared database loses nothing else.
    """
    engine = make_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{POSTGRES_SCHEMA}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{POSTGRES_SCHEMA}"'))
    finally:
        engine.dispose()
    url = make_url(normalise_url(base))
    options = f"-csearch_path={POSTGRES_SCHEMA}"
    return url.update_query_dict({"options": options}).render_as_string(hide_password=False)


def posting_benchmarks(out: Path) -> dict[str, dict[str, Any]]:
    """Posting throughput on a fresh SQLite book and, if configured, on PostgreSQL."""
    work = out / "posting"
    work.mkdir(parents=True, exist_ok=True)
    targets = [("sqlite", sqlite_url(work / "posting.db"))]
    base = os.environ.get(POSTGRES_ENV)
    if base:
        targets.append(("postgresql", postgres_url(base)))
    results: dict[str, dict[str, Any]] = {}
    for name, url in targets:
        print(f"posting on {name} ...", flush=True)
        setup = init_book(url, work, name)
        results[name] = posting_rates(url) if setup.returncode == 0 else {"error": setup.error()}
    if not base:
        results["postgresql"] = {"error": f"not run: set {POSTGRES_ENV}"}
    return results


# --- one size -----------------------------------------------------------------------------


def prepare(size: int, out: Path, quiet: bool = False) -> Bench:
    """The size's data folder, generating the books unless a complete set is cached."""
    data = out / str(size)
    marker = data / "expected.json"
    document: dict[str, Any] | None = None
    if marker.exists():
        document = json.loads(marker.read_text())
        assert document is not None
        found = (document.get("format_version"), document.get("transactions"))
        if found != (FORMAT_VERSION, size) or document.get("seed") != DEFAULT_SEED:
            document = None
    if document is None:
        if not quiet:
            print(f"generating {size:,} transactions in {data} ...", flush=True)
        document = generate(size, data)
    return Bench(size, data, expected_balances(document))


def warm_up(out: Path) -> None:
    """Run every tool once, untimed, on a tiny book: fills the bytecode and file caches."""
    bench = prepare(WARM_UP_SIZE, out, quiet=True)
    for peer in PEERS:
        path = tool_path(peer.key)
        if path is not None:
            measure([path, *peer.arguments(bench.data)], bench.work, peer.key)
    for kind, filename in IMPORTS:
        if reader_available(kind):
            import_row(bench, kind, filename)


def run_size(bench: Bench) -> list[Row]:
    """Every measurement of one size, in table order."""
    rows = []
    for peer in PEERS:
        print(f"  {peer.label} ...", flush=True)
        rows.append(peer_row(bench, peer))
    urls = []
    for kind, filename in IMPORTS:
        print(f"  crmledger import {kind} ...", flush=True)
        row, url = import_row(bench, kind, filename)
        rows.append(row)
        urls.append(url)
    url = next((u for u in urls if u is not None), None)
    if url is None:
        rows.append(Row("tb-cli", "crmledger trial balance", None, None, "FAIL: no book"))
        return rows
    print("  crmledger trial balance ...", flush=True)
    rows += [report_cli_row(bench, url), report_inprocess_row(bench, url)]
    return rows


# --- targets ------------------------------------------------------------------------------


def _wall(rows: Sequence[Row], key: str) -> float | None:
    row = next((r for r in rows if r.key == key), None)
    if row is None or row.wall is None or row.result.startswith("FAIL"):
        return None
    return row.wall


def _verdict(name: str, ok: bool | None, figure: str) -> str:
    state = "n/a " if ok is None else ("PASS" if ok else "MISS")
    return f"{state}  {name}: {figure}"


def size_targets(rows: Sequence[Row]) -> list[str]:
    """The end-to-end targets (set for 1M transactions) checked against this size's rows."""
    ledger, journal = _wall(rows, "ledger"), _wall(rows, "crmledger-ledger")
    entries, query = _wall(rows, "crmledger-entries"), _wall(rows, "tb-inprocess")
    peaks = [r.peak_mib for r in rows if r.key.startswith("crmledger-") and r.peak_mib]
    lines = []
    if ledger is not None and journal is not None:
        lines.append(
            _verdict(
                "journal import + TB faster than ledger-cli",
                journal < ledger,
                f"{ledger / journal:.2f}x",
            )
        )
    if ledger is not None and entries is not None:
        lines.append(
            _verdict(
                "CSV import + TB >= 2x faster than ledger-cli",
                ledger / entries >= 2,
                f"{ledger / entries:.2f}x",
            )
        )
    if peaks:
        lines.append(_verdict("crmledger peak < 1 GB", max(peaks) < 1024, f"{max(peaks):.0f} MB"))
    if query is not None:
        lines.append(
            _verdict(
                "trial balance after import < 100 ms (in-process)",
                query < 0.1,
                f"{query * 1000:.1f} ms",
            )
        )
    return lines


def posting_targets(posting: dict[str, dict[str, Any]]) -> list[str]:
    """The SQLite posting targets: 500 entries/s single, 20,000 entries/s batched."""
    figures = posting.get("sqlite", {})
    if "single_entries_per_s" not in figures:
        return []
    single, batched = figures["single_entries_per_s"], figures["batched_entries_per_s"]
    return [
        _verdict("SQLite posting one per call >= 500 entries/s", single >= 500, f"{single:,.0f}/s"),
        _verdict(
            "SQLite posting batched >= 20,000 entries/s", batched >= 20_000, f"{batched:,.0f}/s"
        ),
    ]


# --- output -------------------------------------------------------------------------------


def _ratio(wall: float | None, base: float | None) -> tuple[str, str]:
    if wall is None or base is None or wall <= 0:
        return "n/a", "n/a"
    return f"{wall / base:.2f}", f"{base / wall:.2f}x"


def table_lines(rows: Sequence[Row]) -> list[str]:
    """Tool, wall, peak, time relative to ledger-cli, speed-up over it, correctness."""
    base = _wall(rows, "ledger")
    header = ("tool", "wall s", "peak MB", "t/ledger", "speed-up", "result")
    cells = [header]
    for row in rows:
        ratio, speed = _ratio(row.wall, base)
        wall = "-" if row.wall is None else f"{row.wall:.3f}"
        peak = "-" if row.peak_mib is None else f"{row.peak_mib:.0f}"
        cells.append((row.tool, wall, peak, ratio, speed, row.result))
    widths = [max(len(line[i]) for line in cells) for i in range(len(header) - 1)]
    return [
        "  ".join(
            [line[0].ljust(widths[0])]
            + [cell.rjust(width) for cell, width in zip(line[1:-1], widths[1:], strict=True)]
            + [line[-1]]
        )
        for line in cells
    ]


def print_size(size: int, rows: Sequence[Row]) -> None:
    """The size's table and its target checks."""
    print(f"\n{size:,} transactions")
    for line in table_lines(rows):
        print(f"  {line}")
    print("  targets (set for 1,000,000 transactions):")
    for line in size_targets(rows):
        print(f"    {line}")


def print_posting(results: dict[str, dict[str, Any]]) -> None:
    """Posting throughput per database."""
    print("\nposting through app.ledger.post (in-process, accounts opened beforehand)")
    for name, figures in results.items():
        if "error" in figures:
            print(f"  {name}: {figures['error']}")
            continue
        print(
            f"  {name}: {figures['single_entries_per_s']:,.0f} entries/s one per call "
            f"({SINGLE_ENTRIES} entries); {figures['batched_entries_per_s']:,.0f} entries/s "
            f"in batches of {BATCH_SIZE:,} ({BATCH_ENTRIES:,} entries)"
        )
    for line in posting_targets(results):
        print(f"    {line}")


def tool_version(name: str) -> str:
    """First line of ``NAME --version``, or ``not installed``."""
    path = tool_path(name)
    if path is None:
        return "not installed"
    done = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "?"


def write_results(
    out: Path, sizes: dict[int, list[Row]], posting: dict[str, dict[str, Any]]
) -> Path:
    """Merge this run into ``results.json``: sizes and posting figures not rerun are kept."""
    path = out / "results.json"
    document: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    document["machine"] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "tools": {name: tool_version(name) for name in ("ledger", "hledger", "bean-query")},
    }
    sizes_doc = document.setdefault("sizes", {})
    for size, rows in sizes.items():
        sizes_doc[str(size)] = {
            "run_at": now,
            "rows": [asdict(r) for r in rows],
            "targets": size_targets(rows),
        }
    if posting:
        document["posting"] = {"run_at": now, **posting, "targets": posting_targets(posting)}
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """``--sizes 10000,100000 --out bench-data --no-posting``."""
    parser = argparse.ArgumentParser(description="crmledger end-to-end benchmarks")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--out", type=Path, default=Path("bench-data"), help="data folder")
    parser.add_argument("--no-posting", action="store_true", help="skip posting throughput")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run every size, then posting throughput; exit 1 if any answer was wrong."""
    args = parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    enable_bytecode_cache(args.out)
    warm_up(args.out)
    results: dict[int, list[Row]] = {}
    for size in sizes:
        bench = prepare(size, args.out)
        print(f"size {size:,}:", flush=True)
        results[size] = run_size(bench)
        print_size(size, results[size])
    posting = {} if args.no_posting else posting_benchmarks(args.out)
    if posting:
        print_posting(posting)
    print(f"\nresults written to {write_results(args.out, results, posting)}")
    if any(r.result.startswith("FAIL") for rows in results.values() for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
