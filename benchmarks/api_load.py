"""The HTTP API under load: reports on a large ledger, and posting by 32 concurrent clients.

1. A book of ``--entries`` generated entries (imported with ``crmledger import entries``) is
   served by ``crmledger serve --workers 2``. An open-loop generator sends
   ``GET /api/v1/reports/trial-balance`` and then ``GET /api/v1/journal-entries?limit=100``
   at ``--rate`` requests per second for ``--seconds`` each, and reports p50 / p99 latency
   (target: p99 under 50 ms at 100 requests/s).
2. 32 clients post entries through ``POST /api/v1/journal-entries`` (each with an
   ``Idempotency-Key``) for ``--seconds``, on SQLite and, with ``CRMLEDGER_BENCH_POSTGRES_URL``,
   on PostgreSQL: entries/s and p50 / p99 (target on PostgreSQL: 1,000 entries/s, p99 under
   100 ms).

The load generator runs on the same two cores as the server, so the figures are an upper
bound on latency rather than a lower one.

    python -m benchmarks.api_load --entries 1000000 --rate 100 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks.run import POSTGRES_ENV, postgres_url, prepare, sqlite_url

BIN = Path(sys.executable).parent
CRMLEDGER = str(BIN / "crmledger")
EMAIL, PASSWORD = "bench@example.com", "benchmark-password"


def _cli(url: str, *args: str, stdin: str | None = None, env: dict[str, str]) -> str:
    done = subprocess.run(
        [CRMLEDGER, "--db", url, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"crmledger {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done.stdout


def book(url: str, work: Path, csv: Path | None) -> tuple[dict[str, str], str]:
    """Initialise the book (importing ``csv``), add a user and return (env, token)."""
    env = dict(os.environ) | {"CRMLEDGER_KEYRING": str(work / "bench.keys")}
    env |= {"CRMLEDGER_ADMIN_EMAIL": EMAIL, "CRMLEDGER_ADMIN_PASSWORD": PASSWORD}
    _cli(url, "init", env=env)
    if csv is not None:
        started = time.perf_counter()
        _cli(url, "import", "entries", str(csv), "--batch", "50000", env=env)
        print(f"  imported {csv.name} in {time.perf_counter() - started:.0f} s", flush=True)
    token = _cli(url, "token", "create", EMAIL, "--name", "bench", env=env).strip().splitlines()[-1]
    return env, token


@contextmanager
def server(url: str, env: dict[str, str], port: int, workers: int) -> Iterator[str]:
    """``crmledger serve --workers N`` in child processes until the block ends."""
    process = subprocess.Popen(
        [CRMLEDGER, "--db", url, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(10)


def _summary(latencies: list[float], errors: int, elapsed: float, done: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    if not ordered:
        return {"errors": errors, "ok": 0}
    return {
        "ok": len(ordered),
        "errors": errors,
        "per_s": done / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "max_ms": 1000 * ordered[-1],
    }


async def open_loop(
    base: str, token: str, path: str, rate: float, seconds: float
) -> dict[str, Any]:
    """Send GET ``path`` at a fixed ``rate`` whatever the answers' speed (no coordinated
    omission: a slow answer does not delay the next request)."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:

        async def one() -> None:
            nonlocal errors
            started = time.perf_counter()
            try:
                answer = await client.get(path)
            except httpx.HTTPError:  # refused or dropped under overload: an error, not a crash
                errors += 1
                return
            if answer.status_code == 200:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

        await client.get(path)  # warm the caches
        tasks = []
        start = time.perf_counter()
        total = int(rate * seconds)
        for n in range(total):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - start
    return _summary(latencies, errors, elapsed, len(latencies)) | {"rate": rate}


def _entry(n: int) -> dict[str, Any]:
    amount = f"{n % 900 + 100}.{n % 100:02d}"
    return {
        "date": f"2026-{n % 12 + 1:02d}-{n % 28 + 1:02d}",
        "narration": f"Load {n}",
        "postings": [
            {"account": "Assets:Cash", "amount": amount, "commodity": "EUR"},
            {"account": "Income:Sales:Products", "amount": f"-{amount}", "commodity": "EUR"},
        ],
    }


async def posting(base: str, token: str, clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` closed-loop clients posting entries for ``seconds``."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(10**9))
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=60
    ) as client:
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                n = next(counter)
                started = time.perf_counter()
                try:
                    answer = await client.post(
                        "/api/v1/journal-entries",
                        json=_entry(n),
                        headers={"Idempotency-Key": f"b-{n}"},
                    )
                except httpx.HTTPError:
                    errors += 1
                    continue
                if answer.status_code == 201:
                    latencies.append(time.perf_counter() - started)
                else:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - start
    return _summary(latencies, errors, elapsed, len(latencies)) | {"clients": clients}


def _verdict(result: dict[str, Any], per_s: float, p99_ms: float) -> str:
    if not result.get("ok"):
        return "FAIL (no successful request)"
    met = result["per_s"] >= per_s * 0.98 and result["p99_ms"] < p99_ms and not result["errors"]
    return "met" if met else "not met"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path("bench-data"))
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2, help="server processes")
    args = parser.parse_args()
    results: dict[str, Any] = {"entries": args.entries, "workers": args.workers}
    bench = prepare(args.entries, args.out)
    work = args.out / f"api-{args.entries}"
    done = work / "reports.done"
    print(f"reports on a {args.entries:,}-entry ledger (SQLite) ...", flush=True)
    if done.exists():  # the imported book of an earlier run is reused
        url = f"sqlite:///{(work / 'reports.db').resolve()}"
        env = dict(os.environ) | {"CRMLEDGER_KEYRING": str(work / "bench.keys")}
        token = _cli(url, "token", "create", EMAIL, "--name", "bench", env=env).split()[-1]
    else:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        url = sqlite_url(work / "reports.db")
        env, token = book(url, work, bench.data / "entries.csv")
        done.touch()
    with server(url, env, args.port, args.workers) as base:
        for name, path in (
            ("trial_balance", "/api/v1/reports/trial-balance"),
            ("journal_entries_100", "/api/v1/journal-entries?limit=100"),
        ):
            result = asyncio.run(open_loop(base, token, path, args.rate, args.seconds))
            results[name] = result | {"target": _verdict(result, args.rate, 50)}
            print(f"  {name}: {json.dumps(results[name])}", flush=True)

    targets = [("sqlite", sqlite_url(work / "posting.db"))]
    if os.environ.get(POSTGRES_ENV):
        targets.append(("postgresql", postgres_url(os.environ[POSTGRES_ENV])))
    for name, target in targets:
        print(f"posting with {args.clients} clients ({name}) ...", flush=True)
        env, token = book(target, work, None)
        with server(target, env, args.port + 1, args.workers) as base:
            result = asyncio.run(posting(base, token, args.clients, args.seconds))
        verdict = _verdict(result, 1000, 100) if name == "postgresql" else "reported"
        results[f"posting_{name}"] = result | {"target": verdict}
        print(f"  posting_{name}: {json.dumps(results[f'posting_{name}'])}", flush=True)
    (args.out / "api-results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
