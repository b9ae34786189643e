"""Reading with worker processes gives the same records, issues and order as reading in
one process (a differential test on generated dirty data)."""

from __future__ import annotations

from pathlib import Path

from crmledger.fusion.config import load_config, prepare
from crmledger.fusion.pipeline import IssueLog, read_records
from crmledger.fusion.sources import FILE_OPENERS
from crmledger.fusion.synth import generate, write_files


def test_workers_change_nothing_but_speed(tmp_path: Path) -> None:
    config = load_config(write_files(generate(1500, 11), tmp_path))
    alone, together = IssueLog(), IssueLog()
    one, rows = read_records(prepare(config, FILE_OPENERS), "DE", alone, chunk=100)
    many, rows_many = read_records(
        prepare(config, FILE_OPENERS), "DE", together, workers=2, chunk=100
    )
    assert rows == rows_many
    assert sum(rows.values()) >= 1500
    assert len(one) > 1000
    assert [(r.key, r.values) for r in many] == [(r.key, r.values) for r in one]
    assert together.counts == alone.counts
    assert together.problems == alone.problems
    assert together.fixes == alone.fixes
    assert alone.total("problem") > 0
