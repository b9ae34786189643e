"""The match model on Spark: the same settings, trained the same way, find the same customers
in the same records as on DuckDB.

Four hundred generated records (a few hundred customers, many written twice or more) go
through :func:`match` twice, on DuckDB and on a local Spark session. u comes from all pairs
on both engines (400 records make fewer pairs than ``max_pairs``, so neither samples), and
EM sees the same blocks, so the clusters and the linked pairs must be the same. The one
thing the engines compute differently is Jaro-Winkler (DuckDB's and splink's Scala
function disagree on a few strings), so a pair may sit on another level: every such pair is
found and checked to be one where the two functions fall on either side of a threshold.
It is one test, so that ``pytest -n`` starts one Spark session, not one per worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from crmledger.fusion.config import load_config, prepare
from crmledger.fusion.match import MatchResult, MatchSettings, Pair, feature_table, match
from crmledger.fusion.pipeline import IssueLog, read_records
from crmledger.fusion.records import FusedRecord
from crmledger.fusion.sources import FILE_OPENERS
from crmledger.fusion.synth import SynthData, accuracy, generate, write_files

pytest.importorskip("pyspark", reason="pyspark is not installed (uv sync --extra spark)")

from pyspark.sql import SparkSession

from crmledger.fusion.spark import local_session, spark_backend

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas")

SETTINGS = MatchSettings(accept=0.95, review=0.7)
#: The Jaro-Winkler levels of the model: column and the thresholds of its levels.
JARO_WINKLER = {"name_sorted": (0.94, 0.88, 0.75), "email": (0.88,), "street_key": (0.88,)}
#: Probabilities of a pair both engines keep may differ this much (u of the Jaro-Winkler
#: levels is counted over pairs the two functions place differently).
PROBABILITY_BOUND = 0.01


def _records(folder: Path) -> tuple[SynthData, list[FusedRecord]]:
    data = generate(400, seed=2026)
    config = load_config(write_files(data, folder))
    records, _ = read_records(prepare(config, FILE_OPENERS), config.region, IssueLog())
    assert len(records) == data.records == 400
    return data, records


def _session() -> SparkSession:
    # Tiny data: planning and code generation cost more than they save.
    session = local_session(
        cores=1,
        memory="1g",
        conf={"spark.sql.adaptive.enabled": "false", "spark.sql.codegen.wholeStage": "false"},
    )
    session.sparkContext.setLogLevel("ERROR")
    return session


def _by_pair(result: MatchResult) -> dict[tuple[int, int], Pair]:
    return {(p.left, p.right): p for p in result.pairs}


def _levels(pair: Pair) -> dict[str, str]:
    return {a.field: a.level for a in pair.explanation}


def _m_and_u(model: dict[str, Any]) -> dict[tuple[str, str, str], float]:
    return {
        (comparison["output_column_name"], level["label_for_charts"], key): level[key]
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        for key in ("m_probability", "u_probability")
        if key in level
    }


def _check_same_model(on_duckdb: MatchResult, on_spark: MatchResult) -> None:
    assert on_duckdb.trained
    assert on_spark.trained
    ours, theirs = _m_and_u(on_duckdb.model), _m_and_u(on_spark.model)
    assert ours.keys() == theirs.keys()
    assert len(ours) == 46  # 23 non-null levels
    assert max(abs(ours[k] - theirs[k]) for k in ours) < 1e-3
    wanted = on_duckdb.model["probability_two_random_records_match"]
    assert on_spark.model["probability_two_random_records_match"] == wanted


def _check_same_customers_and_links(
    on_duckdb: MatchResult, on_spark: MatchResult, data: SynthData, records: list[FusedRecord]
) -> None:
    assert on_spark.clusters == on_duckdb.clusters
    linked = {k for k, p in _by_pair(on_duckdb).items() if p.probability >= SETTINGS.accept}
    assert {k for k, p in _by_pair(on_spark).items() if p.probability >= SETTINGS.accept} == linked
    assert len(linked) > 100
    score = accuracy({r.key: on_spark.clusters[i] for i, r in enumerate(records)}, data.truth)
    assert score.f1 > 0.95


def _crosses(thresholds: tuple[float, ...], ours: float, theirs: float) -> bool:
    return any((ours >= t) != (theirs >= t) for t in thresholds)


def _jaro_winkler_disagrees(
    spark: SparkSession, table: dict[str, list[Any]], pair: tuple[int, int]
) -> bool:
    for column, thresholds in JARO_WINKLER.items():
        left, right = table[column][pair[0]], table[column][pair[1]]
        if left is None or right is None:
            continue
        found = duckdb.execute("select jaro_winkler_similarity(?, ?)", [left, right]).fetchone()
        assert found is not None
        row = spark.sql("select jaro_winkler(:l, :r) as s", args={"l": left, "r": right}).first()
        assert row is not None
        if _crosses(thresholds, float(found[0]), float(row["s"])):
            return True
    return False


def _check_pairs_differ_only_where_jaro_winkler_does(
    on_duckdb: MatchResult, on_spark: MatchResult, records: list[FusedRecord], spark: SparkSession
) -> None:
    ours, theirs = _by_pair(on_duckdb), _by_pair(on_spark)
    both = ours.keys() & theirs.keys()
    moved = {k for k in both if _levels(ours[k]) != _levels(theirs[k])}
    differing = (ours.keys() ^ theirs.keys()) | moved
    table = feature_table(records)
    assert [k for k in sorted(differing) if not _jaro_winkler_disagrees(spark, table, k)] == []
    assert len(differing) <= len(ours) // 100
    assert len(both) > 200
    assert max(abs(ours[k].probability - theirs[k].probability) for k in both) < PROBABILITY_BOUND


def test_spark_finds_the_customers_duckdb_finds(tmp_path: Path) -> None:
    data, records = _records(tmp_path)
    on_duckdb = match(records, SETTINGS)
    spark = _session()
    try:
        on_spark = match(records, SETTINGS, backend=spark_backend(spark))
        _check_same_model(on_duckdb, on_spark)
        _check_same_customers_and_links(on_duckdb, on_spark, data, records)
        _check_pairs_differ_only_where_jaro_winkler_does(on_duckdb, on_spark, records, spark)
    finally:
        spark.stop()
