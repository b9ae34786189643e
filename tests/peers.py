"""The peers: ledger-cli, hledger and beancount, run on a file and read back as balances.

Each function runs one tool and returns what *it* computed, per account and commodity, with
zero balances left out, so that any book crmledger writes can be checked against three
independent implementations of double-entry arithmetic::

    assert ledger_balances(path) == hledger_balances(path) == expected

Balances are *exclusive*: an account's own postings, not its sub-accounts' (crmledger's
trial balance lists each account on its own). ledger prints them with ``%(amount)`` in a
flat balance report, hledger in list mode (its default) with one row per commodity
(``--layout bare``), beancount's query engine with ``GROUP BY account, currency``.

The tools show amounts at the display precision the file declares; the books checked here
carry no more places than that, so the comparison is exact to the last minor unit.

A test that needs a tool says so with :func:`needs`, and is skipped, with the reason shown,
where the tool is not installed::

    @needs("ledger", "hledger")
    def test_both_tools_agree(tmp_path: Path) -> None: ...
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

Balances = dict[tuple[str, str], Decimal]


def tool(name: str) -> str | None:
    """The executable ``name``: next to this Python (the venv) first, then on ``PATH``."""
    beside_python = Path(sys.executable).parent / name
    return str(beside_python) if beside_python.exists() else shutil.which(name)


LEDGER = tool("ledger")
HLEDGER = tool("hledger")
BEAN_QUERY = tool("bean-query")
BEAN_CHECK = tool("bean-check")
BEAN_EXAMPLE = tool("bean-example")


def needs(*names: str) -> pytest.MarkDecorator:
    """Skip the test unless every tool in ``names`` is installed."""
    missing = [name for name in names if tool(name) is None]
    return pytest.mark.skipif(bool(missing), reason=f"not installed: {', '.join(missing)}")


# ledger: one record per account, ``NAME<TAB>"AMOUNTS"``; a multi-commodity amount is
# one line per commodity inside the quotes.
_LEDGER_FORMAT = "%(account)\t%(quoted(scrub(amount)))\n"
_LEDGER_RECORD = re.compile(r'^([^\t\n]+)\t"((?:[^"\\]|\\.)*)"$', re.MULTILINE)
_COMMODITY = r'"[^"]*"|[^\s\d"+\-.,@;{}()\[\]=*/]+'
_LEDGER_AMOUNT = re.compile(
    rf"(?P<sign1>-?)\s*(?:(?P<prefix>{_COMMODITY})\s*)?(?P<sign2>-?)\s*"
    rf"(?P<number>\d[\d,]*(?:\.\d*)?|\.\d+)\s*(?P<suffix>{_COMMODITY})?"
)
BEAN_BALANCES_QUERY = (
    "SELECT account, currency, sum(number) AS total "
    "GROUP BY account, currency ORDER BY account, currency"
)


def _run(args: list[str]) -> str:
    """Run a tool without the user's ledger settings; raise with its output on failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LEDGER", "HLEDGER"))}
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}:\n{result.stderr[:4000]}"
        )
    return result.stdout


def _add(sums: Balances, account: str, commodity: str, number: Decimal) -> None:
    key = (account, commodity)
    sums[key] = sums.get(key, Decimal(0)) + number


def _nonzero(sums: Balances) -> Balances:
    return {key: total for key, total in sums.items() if total}


def parse_ledger_amount(text: str) -> tuple[str, Decimal]:
    """``-1,234.50 EUR`` / ``JPY -1000`` / ``$-3.50`` / ``0`` → commodity and number."""
    match = _LEDGER_AMOUNT.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"cannot parse ledger amount {text!r}")
    code = match["prefix"] or match["suffix"] or ""
    if len(code) > 1 and code[0] == code[-1] == '"':
        code = code[1:-1]
    number = Decimal(match["number"].replace(",", ""))
    return code, -number if "-" in (match["sign1"], match["sign2"]) else number


def ledger_balances(path: Path) -> Balances:
    """Exclusive balances as ledger-cli computes them (``ledger bal --flat``)."""
    assert LEDGER is not None
    out = _run(
        [
            LEDGER,
            "--args-only",  # no ~/.ledgerrc, no LEDGER_* variables
            "-f",
            str(path),
            "balance",
            "--flat",
            "--no-total",
            "--balance-format",
            _LEDGER_FORMAT,
        ]
    )
    sums: Balances = {}
    records = _LEDGER_RECORD.findall(out)
    assert sum(len(r[0]) + len(r[1]) + 4 for r in records) == len(out), out[:2000]
    for account, amounts in records:
        for line in amounts.replace('\\"', '"').splitlines():
            code, number = parse_ledger_amount(line)
            if number:
                _add(sums, account, code, number)
    return _nonzero(sums)


def ledger_warnings(path: Path) -> list[str]:
    """ledger's ``--strict`` warnings for ``path``: undeclared accounts and commodities.

    Warnings about undeclared metadata tags are left out: the journal writer declares
    accounts and commodities, not tags.
    """
    assert LEDGER is not None
    args = [LEDGER, "--args-only", "--strict", "-f", str(path), "balance", "--no-total"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER")}
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[:4000]
    return [
        line
        for line in result.stderr.splitlines()
        if line.startswith("Warning:") and "Unknown metadata tag" not in line
    ]


def hledger_balances(path: Path) -> Balances:
    """Exclusive balances as hledger computes them (``hledger bal`` in list mode)."""
    assert HLEDGER is not None
    out = _run(
        [HLEDGER, "-f", str(path), "balance", "--flat", "-N", "--layout", "bare", "-O", "csv"]
    )
    sums: Balances = {}
    for row in csv.DictReader(io.StringIO(out)):
        number = Decimal(row["balance"].replace(",", ""))
        if number:
            _add(sums, row["account"], row["commodity"], number)
    return _nonzero(sums)


def hledger_check(path: Path) -> None:
    """hledger reads ``path`` in strict mode: accounts and commodities are declared."""
    assert HLEDGER is not None
    _run([HLEDGER, "-f", str(path), "check", "--strict"])


def bean_query_balances(path: Path) -> Balances:
    """Per account and currency, the sum of posting units as beancount's query engine sees it.

    Runs ``bean-query -f csv FILE "SELECT account, currency, sum(number) ..."``; beanquery
    0.2 pads the numbers with spaces, so they are stripped. Zero sums are left out.
    """
    assert BEAN_QUERY is not None
    out = _run([BEAN_QUERY, "-f", "csv", str(path), BEAN_BALANCES_QUERY])
    sums: Balances = {}
    for row in csv.DictReader(io.StringIO(out)):
        _add(sums, row["account"], row["currency"], Decimal(row["total"].strip()))
    return _nonzero(sums)


def bean_check(path: Path) -> subprocess.CompletedProcess[str]:
    """``bean-check FILE``: exit status 0 when beancount loads it without an error."""
    assert BEAN_CHECK is not None
    return subprocess.run([BEAN_CHECK, str(path)], check=False, capture_output=True, text=True)


def bean_example(path: Path, *, seed: int, begin: str, end: str, birth: str) -> None:
    """Write ``bean-example``'s generated personal ledger to ``path``."""
    assert BEAN_EXAMPLE is not None
    args = ["--seed", str(seed), "--date-begin", begin, "--date-end", end, "--date-birth", birth]
    path.write_text(_run([BEAN_EXAMPLE, *args]), encoding="utf-8")
