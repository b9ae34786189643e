"""The join figure of issue 7: customers and their transactions, side by side in one run.

``crm.csv`` holds N customers (with exact copies and copies that differ in spacing and
case), ``finance.csv`` 10 x N transactions whose customer id is written as the finance
system does (``" 100042"``, ``"100042.0"``, ``"C-100042"``, ``"00100042"``; some empty,
``n/a`` or ``#REF!``; some of customers the CRM does not know). Four approaches link them
and write the result, each in its own child process, measured by the parent
(``os.wait4``: wall seconds, CPU seconds, peak resident memory):

1. ``pandas``: ``read_csv``, ``drop_duplicates``, cast the id (``to_numeric``, rows that do
   not cast dropped), ``merge``, ``to_csv`` (what people do today);
2. ``duckdb-join``: DuckDB doing only the join (``TRY_CAST`` the id), the floor;
3. ``polars-lazy``: ``scan_csv``, ``unique``, cast, ``join``, ``sink_csv``;
4. ``crmledger``: :func:`crmledger.fusion.join.link_transactions`: the same join with the
   ids cleaned, customers deduplicated per key, and every transaction kept.

Each output is then read back to count its rows and the transactions it linked to a
customer (against the generator's truth)::

    python -m benchmarks.fusion --join 100000
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

APPROACHES = ("pandas", "duckdb-join", "polars-lazy", "crmledger")
#: Issue 7: at least this many times faster than pandas, within this share of its memory.
TARGET_SPEEDUP = 5.0
TARGET_MEMORY_SHARE = 0.5
THREADS = 2
_FIRST = ["Anna", "Ben", "Carla", "Dirk", "Eva", "Farid", "Greta", "Hugo", "Ines", "Jonas"]
_LAST = ["Meyer", "Schulz", "Keller", "Novak", "Rossi", "Berger", "Wolf", "Lang", "Roth", "Stein"]
_COUNTRIES = ["DE", "AT", "CH", "FR", "NL", "GB", "IT", "ES"]


# ------------------------------------------------------------------------------ the data


def _customers(n: int, seed: int) -> Any:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed)
    ids = np.arange(100_001, 100_001 + n)
    first = rng.integers(0, len(_FIRST), n)
    last = rng.integers(0, len(_LAST), n)
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "first": np.array(_FIRST)[first],
            "last": np.array(_LAST)[last],
            "country": np.array(_COUNTRIES)[rng.integers(0, len(_COUNTRIES), n)],
            "created": rng.integers(0, 3000, n),
        }
    ).select(
        pl.col("customer_id"),
        pl.format("{} {}", "first", "last").alias("name"),
        pl.format("{}.{}{}@example.com", "first", "last", "customer_id")
        .str.to_lowercase()
        .alias("email"),
        pl.format("+49 30 {}", pl.col("customer_id") * 7 % 10_000_000).alias("phone"),
        pl.col("country"),
        (pl.date(2018, 1, 1) + pl.duration(days="created")).alias("created"),
    )
    exact = frame.sample(fraction=0.02, seed=seed)
    spaced = frame.sample(fraction=0.01, seed=seed + 1).with_columns(
        pl.format("  {}", pl.col("name").str.to_uppercase()).alias("name"),
        pl.col("email").str.to_uppercase(),
    )
    return pl.concat([frame, exact, spaced]).sample(fraction=1.0, shuffle=True, seed=seed)


def _transactions(n: int, seed: int) -> Any:
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(seed + 7)
    rows = 10 * n
    true_id = rng.integers(100_001, 100_001 + n, rows)
    # 0.4 % of customers the CRM never saw.
    stranger = rng.random(rows) < 0.004
    unknown = rng.integers(100_001 + 2 * n, 100_001 + 3 * n, rows)
    true_id = np.where(stranger, unknown, true_id)
    style = rng.choice(8, rows, p=[0.966, 0.007, 0.007, 0.007, 0.007, 0.002, 0.002, 0.002])
    text = true_id.astype(str)
    written = np.select(
        [style == 1, style == 2, style == 3, style == 4, style == 5, style == 6, style == 7],
        [
            np.char.add(" ", text),
            np.char.add(text, ".0"),
            np.char.add("C-", text),
            np.char.add("00", text),
            np.full(rows, ""),
            np.full(rows, "n/a"),
            np.full(rows, "#REF!"),
        ],
        default=text,
    )
    return pl.DataFrame(
        {
            "txn_id": np.arange(1, rows + 1),
            "customer_id": written,
            "booked_on": pl.Series(rng.integers(0, 1500, rows)).cast(pl.Int32),
            "amount": np.round(rng.gamma(2.0, 180.0, rows), 2),
            "currency": np.where(rng.random(rows) < 0.9, "EUR", "USD"),
            "true_id": np.where((style >= 5) | stranger, 0, true_id),
        }
    ).with_columns((pl.date(2022, 1, 1) + pl.duration(days="booked_on")).alias("booked_on"))


def generate(customers: int, folder: Path, seed: int = 2026) -> dict[str, int]:
    """Write ``crm.csv``, ``finance.csv`` and ``truth.csv`` (transaction -> true customer,
    0 for none) into ``folder``; returns the row counts and how many transactions a
    customer of the CRM owns."""
    crm = _customers(customers, seed)
    crm.write_csv(folder / "crm.csv")
    tx = _transactions(customers, seed)
    tx.drop("true_id").write_csv(folder / "finance.csv")
    tx.select("txn_id", "true_id").write_csv(folder / "truth.csv")
    return {
        "customers": crm.height,
        "transactions": tx.height,
        "linkable": int((tx["true_id"] > 0).sum()),
    }


# ------------------------------------------------------------------------------ approaches


def _pandas(folder: Path, out: Path) -> None:
    import pandas as pd

    crm = pd.read_csv(folder / "crm.csv")
    finance = pd.read_csv(folder / "finance.csv")
    crm = crm.drop_duplicates()
    finance["customer_id"] = pd.to_numeric(finance["customer_id"], errors="coerce")
    finance = finance.dropna(subset=["customer_id"])
    finance["customer_id"] = finance["customer_id"].astype("int64")
    finance.merge(crm, on="customer_id").to_csv(out, index=False)


def _duckdb(folder: Path, out: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {THREADS}")
    con.execute(
        f"""
        COPY (
            SELECT * FROM read_csv('{folder / "finance.csv"}', all_varchar = true) f
            JOIN (SELECT DISTINCT * FROM read_csv('{folder / "crm.csv"}')) c
              ON TRY_CAST(f.customer_id AS BIGINT) = c.customer_id
        ) TO '{out}' (HEADER)
        """
    )


def _polars(folder: Path, out: Path) -> None:
    import polars as pl

    crm = pl.scan_csv(folder / "crm.csv").unique()
    finance = (
        pl.scan_csv(folder / "finance.csv", schema_overrides={"customer_id": pl.String})
        .with_columns(pl.col("customer_id").str.strip_chars().cast(pl.Int64, strict=False))
        .drop_nulls("customer_id")
    )
    finance.join(crm, on="customer_id").sink_csv(out)


def _crmledger(folder: Path, out: Path) -> None:
    from crmledger.fusion.join import JoinSpec, link_transactions

    report = link_transactions(
        JoinSpec(folder / "crm.csv", folder / "finance.csv", out, threads=THREADS)
    )
    summary = {
        "matched": report.matched,
        "repaired": report.repaired,
        "unknown": report.unknown,
        "bad": report.bad,
        "duplicates": report.duplicates,
    }
    (out.parent / f"{out.stem}.report.json").write_text(json.dumps(summary), encoding="utf-8")


CHILDREN = {
    "pandas": _pandas,
    "duckdb-join": _duckdb,
    "polars-lazy": _polars,
    "crmledger": _crmledger,
}


TIME = Path("/usr/bin/time")


def measure(approach: str, folder: Path) -> dict[str, Any]:
    """Run one approach in a child process: its wall and CPU seconds and peak resident
    memory, as GNU time reports them for the child alone (a child forked from this
    process would count this process's memory as its own)."""
    out = folder / f"out-{approach}.csv"
    env = os.environ | {"POLARS_MAX_THREADS": str(THREADS), "OMP_NUM_THREADS": str(THREADS)}
    command = [sys.executable, "-m", "benchmarks.fusion_join", approach, str(folder)]
    if TIME.exists():
        figures = folder / "time.txt"
        subprocess.run(
            [str(TIME), "-f", "%e %U %S %M", "-o", str(figures), *command], env=env, check=True
        )
        wall, user, system, peak_kb = figures.read_text(encoding="utf-8").split()[-4:]
        seconds, cpu, peak = float(wall), float(user) + float(system), int(peak_kb)
    else:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env)
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"{approach} failed")
        seconds, cpu = time.perf_counter() - started, usage.ru_utime + usage.ru_stime
        peak = usage.ru_maxrss
    return {
        "approach": approach,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_mb": round(peak / 1024, 1),
        **score(approach, folder, out),
    }


def score(approach: str, folder: Path, out: Path) -> dict[str, Any]:
    """Rows written, transactions linked to a customer, and linked to the right one (the
    generator's truth); read back, not measured."""
    import duckdb

    con = duckdb.connect()
    truth = f"read_csv('{folder / 'truth.csv'}')"
    ours = approach == "crmledger"
    linked_only = "WHERE link IN ('matched', 'repaired')" if ours else ""
    customer = "customer_id_crm" if ours else "customer_id"
    found = con.execute(
        f"""
        SELECT (SELECT count(*) FROM read_csv('{out}', all_varchar = true)),
               count(DISTINCT o.txn_id),
               count(DISTINCT o.txn_id) FILTER (WHERE TRY_CAST(o.customer AS BIGINT) = t.true_id)
        FROM (SELECT txn_id, "{customer}" AS customer
              FROM read_csv('{out}', all_varchar = true) {linked_only}) o
        JOIN {truth} t ON t.txn_id = CAST(o.txn_id AS BIGINT)
        """
    ).fetchone()
    assert found is not None
    rows, linked, right = found
    figures: dict[str, Any] = {"rows_out": rows, "linked": linked, "linked_right": right}
    report = out.parent / f"{out.stem}.report.json"
    if report.exists():
        figures["cleaning"] = json.loads(report.read_text(encoding="utf-8"))
    out.unlink()
    return figures


def run(customers: int, folder: Path, approaches: tuple[str, ...] = APPROACHES) -> dict[str, Any]:
    """Generate the files (in a child process, so this one stays small) and measure every
    approach on them."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "benchmarks.fusion_join", "generate", str(folder)]
    subprocess.run([*command, str(customers)], check=True)
    counts = json.loads((folder / "counts.json").read_text(encoding="utf-8"))
    figures: dict[str, Any] = {**counts, "generate_s": round(time.perf_counter() - started, 1)}
    figures["approaches"] = [measure(a, folder) for a in approaches]
    by_name = {r["approach"]: r for r in figures["approaches"]}
    if {"pandas", "crmledger"} <= set(by_name):
        ours, seed = by_name["crmledger"], by_name["pandas"]
        figures["speedup_vs_pandas"] = round(seed["seconds"] / ours["seconds"], 2)
        figures["cpu_speedup_vs_pandas"] = round(seed["cpu_seconds"] / ours["cpu_seconds"], 2)
        figures["memory_share_of_pandas"] = round(ours["peak_mb"] / seed["peak_mb"], 2)
        figures["target_met"] = (
            figures["speedup_vs_pandas"] >= TARGET_SPEEDUP
            and figures["memory_share_of_pandas"] <= TARGET_MEMORY_SHARE
        )
    return figures


def print_figures(figures: dict[str, Any]) -> None:
    print(
        f"join: {figures['customers']} customer rows, {figures['transactions']} transactions "
        f"({figures['linkable']} of known customers)"
    )
    print(
        f"{'approach':12} {'seconds':>8} {'cpu s':>7} {'peak MB':>8} {'rows out':>10} "
        f"{'linked':>10} {'right':>10}"
    )
    for r in figures["approaches"]:
        print(
            f"{r['approach']:12} {r['seconds']:>8.2f} {r['cpu_seconds']:>7.2f} "
            f"{r['peak_mb']:>8.0f} {r['rows_out']:>10} {r['linked']:>10} {r['linked_right']:>10}"
        )
    if "speedup_vs_pandas" in figures:
        print(
            f"crmledger vs pandas: {figures['speedup_vs_pandas']}x faster (wall), "
            f"{figures['cpu_speedup_vs_pandas']}x (CPU), "
            f"{figures['memory_share_of_pandas']:.0%} of its peak memory; target "
            f"(>= {TARGET_SPEEDUP:g}x, <= {TARGET_MEMORY_SHARE:.0%}): "
            + ("met" if figures["target_met"] else "NOT met")
        )


def _child(argv: list[str]) -> None:
    if argv[0] == "generate":
        folder = Path(argv[1])
        counts = generate(int(argv[2]), folder)
        (folder / "counts.json").write_text(json.dumps(counts), encoding="utf-8")
        return
    folder = Path(argv[1])
    CHILDREN[argv[0]](folder, folder / f"out-{argv[0]}.csv")


if __name__ == "__main__":
    _child(sys.argv[1:])
