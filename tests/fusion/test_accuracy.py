"""Deduplication accuracy on generated dirty data with ground truth: pairwise precision,
recall and F1 of the whole pipeline (map, clean, match, cluster), against the exact-match
baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmledger.fusion.config import load_config, prepare
from crmledger.fusion.match import match
from crmledger.fusion.pipeline import IssueLog, read_records
from crmledger.fusion.sources import FILE_OPENERS
from crmledger.fusion.synth import accuracy, exact_match_clusters, generate, typo, write_files


def test_scoring_counts_pairs() -> None:
    truth = {("a", "1"): 1, ("a", "2"): 1, ("a", "3"): 1, ("a", "4"): 2}
    found = {("a", "1"): 0, ("a", "2"): 0, ("a", "3"): 9, ("a", "4"): 9}
    score = accuracy(found, truth)
    assert (score.true_pairs, score.found_pairs, score.right_pairs) == (3, 2, 1)
    assert (score.precision, round(score.recall, 4)) == (0.5, 0.3333)
    assert round(score.f1, 4) == 0.4


def test_the_generator_is_repeatable_and_dirty() -> None:
    first, again = generate(400, seed=11), generate(400, seed=11)
    assert first.rows == again.rows
    assert first.truth == again.truth
    assert first.records >= 400
    customers = set(first.truth.values())
    assert len(customers) < first.records * 0.8  # duplicates
    names = [r["NAME1"] for r in first.rows["finance"]]
    assert any(", " in n for n in names)  # "Last, First"
    import random

    assert typo(random.Random(1), "Schneider") != "Schneider"


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> tuple[float, float, float]:
    data = generate(3000, seed=2026)
    folder: Path = tmp_path_factory.mktemp("synth")
    config = load_config(write_files(data, folder))
    records, rows = read_records(prepare(config, FILE_OPENERS), config.region, IssueLog())
    assert sum(rows.values()) == data.records
    result = match(records, config.match)
    assert result.trained
    ours = accuracy({r.key: result.clusters[i] for i, r in enumerate(records)}, data.truth)
    exact = accuracy(exact_match_clusters(data), data.truth)
    return ours.f1, ours.precision, exact.f1


def test_f1_at_three_thousand_records(scored: tuple[float, float, float]) -> None:
    f1, precision, _ = scored
    assert f1 >= 0.95
    assert precision >= 0.95


def test_better_than_exact_matching(scored: tuple[float, float, float]) -> None:
    f1, _, exact = scored
    assert exact < 0.5
    assert f1 > exact + 0.4
