"""The same entity resolution on Spark, for inputs that outgrow one machine.

:mod:`crmledger.fusion.match` runs its splink model on DuckDB. Here the very same model
(:func:`~crmledger.fusion.match.splink_settings`, trained by the same steps: u from
random pairs, m by expectation maximisation on the name and email blocks) runs on a Spark
session instead and gives back pairs, explanations and clusters in the same shape, so
everything after matching (review decisions, pins, survivorship) is unchanged. Needs the
``spark`` extra (``uv sync --extra spark``: pyspark 4) and a Java 17 runtime::

    spark = local_session(cores=2)      # or any session with splink's jar on spark.jars
    result = match(records, MatchSettings(), backend=spark_backend(spark))
    pairs, model, trained = score(feature_table(records), MatchSettings(), spark_backend(spark))
    spark.stop()

A session of your own needs splink's string-similarity jar (Jaro-Winkler and
Damerau-Levenshtein are Scala functions there): ``.config("spark.jars",
similarity_jar_location())``. Intermediate tables are cached in memory
(``break_lineage_method="persist"``); on a cluster, set a checkpoint directory
(``spark.sparkContext.setCheckpointDir(...)``) and pass ``"parquet"`` to write them out.
Clustering the accepted pairs stays in process (connected components over an edge list).

The two engines agree closely, not bit for bit: splink's Scala Jaro-Winkler and DuckDB's
disagree on a few strings (which can move a pair to another level), and above
``max_pairs`` each engine draws its u sample by its own hash.
"""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import SparkSession
from splink.backends.spark import SparkAPI, similarity_jar_location

from crmledger.fusion.match import Backend


def spark_backend(spark: SparkSession, break_lineage_method: str = "persist") -> Backend:
    """A :data:`~crmledger.fusion.match.Backend` that runs splink on ``spark``."""

    def make() -> SparkAPI:
        return SparkAPI(  # type: ignore[no-untyped-call]
            spark_session=spark, break_lineage_method=break_lineage_method
        )

    return make


def local_session(
    cores: int = 1, memory: str = "1g", conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A Spark session on this machine (``local[cores]``), listening on the loopback only,
    without the web UI, with splink's jar, few shuffle partitions and any further ``conf``."""
    builder = SparkSession.builder.master(f"local[{cores}]").appName("crmledger-fusion")
    settings = {
        "spark.jars": similarity_jar_location(),
        "spark.driver.memory": memory,
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(2 * cores),
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
