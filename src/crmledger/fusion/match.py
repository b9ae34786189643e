"""Entity resolution: which cleaned records are the same customer, and how sure that is.

Matching is splink's Fellegi-Sunter model on DuckDB. Each record becomes a row of match
features (:func:`features`: a name key with nicknames resolved and legal forms removed,
its words sorted so swapped given and family names agree, email, phone and its last seven
digits, street tokens with abbreviations expanded, postcode, tax id, date of birth). The
comparisons score each field (:func:`comparisons`), the blocking rules pick the pairs worth
scoring, and the model is trained unsupervised: u from random pairs, m by expectation
maximisation on two blocks (same name; same email). Small inputs, where EM has too few
pairs to learn from, keep the prior m and u written here.

Pairs at or above ``accept`` link their records; pairs from ``review`` up to ``accept`` go
to a person. Review decisions are respected (a rejected pair never links, an accepted one
always does), as are pins (records that name a book party by external id). Clusters are
splink's connected components at ``accept``. Each pair carries its explanation: per field,
the level that applied and its match weight::

    result = match(records, MatchSettings(accept=0.95, review=0.7))
    result.clusters[0]            # cluster id of record 0
    result.pairs[0].explanation   # (Agreement('email', 'Exact match on email', 9.1), ...)

The settings are backend-neutral splink settings. :func:`score` and :func:`match` take the
database the model runs on as a ``backend`` (a maker of splink database APIs, ``DuckDBAPI``
unless told otherwise); :mod:`crmledger.fusion.spark` passes one that runs the same model,
trained the same way, on Spark.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, DuckDBAPI, Linker, SettingsCreator, block_on
from splink.clustering import cluster_pairwise_predictions_at_threshold
from splink.internals.database_api import DatabaseAPISubClass

from crmledger.fusion.clean import NICKNAMES, company_parts
from crmledger.fusion.normalise import search_key
from crmledger.fusion.records import FusedRecord

logging.getLogger("splink").setLevel(logging.ERROR)

Key = tuple[str, str]
#: The part of an email address before the ``@``.
_LOCAL_PART = ColumnExpression("email").regex_extract("^[^@]+")
#: Fewer records than this keep the prior model (EM needs enough pairs per block).
MIN_TRAIN = 400
#: Makes a fresh splink database API for a model to run on (``DuckDBAPI``, or Spark's).
Backend = Callable[[], DatabaseAPISubClass]

_STREET_WORDS = {
    "str": "strasse",
    "st": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "pl": "place",
    "sq": "square",
    "ln": "lane",
    "dr": "drive",
    "bd": "boulevard",
    "blvd": "boulevard",
}


# ---------------------------------------------------------------------------- features


def _text(record: FusedRecord, name: str) -> str:
    value = record.values.get(name)
    return value if isinstance(value, str) else ""


def name_key(record: FusedRecord) -> str:
    """What names are compared as: a company's core name (legal form dropped), or a
    person's given and family name with nicknames resolved."""
    if record.values.get("kind") == "person":
        whole = f"{_text(record, 'given_name')} {_text(record, 'family_name')}"
        return " ".join(NICKNAMES.get(w, w) for w in search_key(whole).split())
    name = _text(record, "display_name") or _text(record, "legal_name")
    return company_parts(name)[0]


def street_key(street: str) -> str:
    """A street with its abbreviations spelt out and ``strasse`` split off::

    >>> street_key("Hauptstr. 5"), street_key("Haupt Straße 5")
    ('haupt strasse 5', 'haupt strasse 5')
    """
    words = []
    for typed in search_key(street).split():
        word = _STREET_WORDS.get(typed, typed)
        for tail in ("strasse", "str"):
            if word.endswith(tail) and len(word) > len(tail):
                words.extend([word[: -len(tail)], "strasse"])
                break
        else:
            words.append(word)
    return " ".join(words)


def _or_none(text: str) -> str | None:
    return text or None


def features(uid: int, record: FusedRecord) -> dict[str, Any]:
    """The match features of one record."""
    key = name_key(record)
    phone = _text(record, "phone") or _text(record, "mobile")
    street = street_key(_text(record, "street"))
    born = record.values.get("birth_date")
    return {
        "unique_id": uid,
        "kind": record.values.get("kind", "organisation"),
        "name_key": _or_none(key),
        "name_sorted": _or_none(" ".join(sorted(key.split()))),
        "email": _or_none(_text(record, "email").casefold()),
        "phone": _or_none(phone),
        "phone_tail": _or_none(phone[-7:] if len(phone) >= 9 else ""),
        "street_key": _or_none(street),
        "postcode": _or_none(_text(record, "postcode").replace(" ", "").upper()),
        "city_key": _or_none(search_key(_text(record, "city"))),
        "tax_id": _or_none(_text(record, "tax_id")),
        "birth_date": born.isoformat() if isinstance(born, date) else None,
    }


def feature_table(records: Sequence[FusedRecord]) -> dict[str, list[Any]]:
    """The features of ``records`` as columns (record ``i`` has ``unique_id`` ``i``)."""
    rows = [features(i, r) for i, r in enumerate(records)]
    names = list(rows[0]) if rows else list(features(0, FusedRecord("", 0, "", "")))
    return {n: [row[n] for row in rows] for n in names}


# ------------------------------------------------------------------------- the model


def _priors(comparison: Any, m: list[float], u: list[float]) -> Any:
    return comparison.configure(m_probabilities=m, u_probabilities=u)


def comparisons() -> list[Any]:
    """One comparison per field, with prior m and u for the non-null levels."""
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_key").configure(label_for_charts="same name"),
            cll.ExactMatchLevel("name_sorted").configure(label_for_charts="same words"),
            cll.JaroWinklerLevel("name_sorted", 0.94).configure(label_for_charts="nearly the same"),
            cll.JaroWinklerLevel("name_sorted", 0.88).configure(label_for_charts="similar"),
            cll.JaroWinklerLevel("name_sorted", 0.75).configure(label_for_charts="somewhat alike"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    phone = cl.CustomComparison(
        output_column_name="phone",
        comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone").configure(label_for_charts="same number"),
            cll.ExactMatchLevel("phone_tail").configure(label_for_charts="same last 7 digits"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_levels=[
            cll.And(cll.NullLevel("street_key"), cll.NullLevel("postcode")),
            cll.And(cll.ExactMatchLevel("street_key"), cll.ExactMatchLevel("postcode")).configure(
                label_for_charts="same street and postcode"
            ),
            cll.And(
                cll.ExactMatchLevel("postcode"), cll.JaroWinklerLevel("street_key", 0.88)
            ).configure(label_for_charts="same postcode, similar street"),
            cll.ExactMatchLevel("postcode").configure(label_for_charts="same postcode"),
            cll.ExactMatchLevel("street_key").configure(label_for_charts="same street"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    email = cl.CustomComparison(
        output_column_name="email",
        comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email").configure(label_for_charts="same address"),
            cll.ExactMatchLevel(_LOCAL_PART).configure(label_for_charts="same local part"),
            cll.JaroWinklerLevel("email", 0.88).configure(label_for_charts="similar address"),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    born = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date").configure(label_for_charts="same date"),
            cll.DamerauLevenshteinLevel("birth_date", 1).configure(
                label_for_charts="one digit apart"
            ),
            cll.ElseLevel().configure(label_for_charts="different"),
        ],
    )
    return [
        _priors(name, [0.6, 0.1, 0.15, 0.08, 0.04, 0.03], [5e-4, 1e-4, 1e-3, 5e-3, 5e-2, 0.9434]),
        _priors(email, [0.8, 0.05, 0.08, 0.07], [1e-4, 1e-2, 1e-3, 0.9889]),
        _priors(phone, [0.85, 0.03, 0.12], [2e-4, 3e-4, 0.9995]),
        _priors(address, [0.75, 0.1, 0.05, 0.03, 0.07], [5e-4, 5e-4, 1e-2, 1e-3, 0.988]),
        _priors(cl.ExactMatch("tax_id"), [0.95, 0.05], [1e-4, 0.9999]),
        _priors(born, [0.85, 0.08, 0.07], [3e-4, 2e-3, 0.9977]),
    ]


def blocking_rules() -> list[Any]:
    """The pairs scored: any shared email, phone, tax id, name (in any word order), last
    seven phone digits, or postcode with the same first letters of the name; always of
    the same kind (a company and a person are never one party)."""
    return [
        block_on("email", "kind"),
        block_on("phone", "kind"),
        block_on("tax_id"),
        block_on("name_sorted", "kind"),
        block_on("phone_tail", "kind"),
        block_on("postcode", "substr(name_sorted, 1, 2)", "kind"),
        block_on("birth_date", "substr(name_sorted, 1, 1)"),
        block_on("city_key", "substr(name_sorted, 1, 4)", "kind"),
    ]


def splink_settings(prior: float) -> SettingsCreator:
    """The model, for any splink backend (DuckDB here, Spark for very large inputs)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
    )


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Thresholds (match probabilities): ``accept`` links, ``review`` and up asks a
    person; ``train`` is ``auto`` (EM from :data:`MIN_TRAIN` records), ``always`` or
    ``never``; ``seed`` makes u sampling repeatable."""

    accept: float = 0.95
    review: float = 0.70
    train: str = "auto"
    seed: int = 42
    max_pairs: float = 3e5


@dataclass(frozen=True, slots=True)
class Agreement:
    """How one field compared in a pair: the level that applied and its match weight
    (log2 of its Bayes factor; positive speaks for a match)."""

    field: str
    level: str
    weight: float


@dataclass(frozen=True, slots=True)
class Pair:
    """Two records (their positions in the input) scored by the model."""

    left: int
    right: int
    probability: float
    weight: float
    explanation: tuple[Agreement, ...]
    decided: str = ""


@dataclass
class MatchResult:
    """Pairs at or above the review threshold, the cluster of every record, the model."""

    pairs: list[Pair]
    clusters: list[int]
    model: dict[str, Any] = field(default_factory=dict)
    trained: bool = False

    def review_pairs(self, accept: float) -> list[Pair]:
        return [p for p in self.pairs if p.probability < accept and not p.decided]


def _levels(linker: Linker) -> dict[str, list[tuple[str, float]]]:
    """Per comparison, its non-null levels as ``(label, match weight)`` in order."""
    out: dict[str, list[tuple[str, float]]] = {}
    for comparison in linker._settings_obj.comparisons:
        out[comparison.output_column_name] = [
            (level.label_for_charts, float(level._match_weight or 0.0))
            for level in comparison.comparison_levels
            if not level.is_null_level
        ]
    return out


def _explain(
    row: Mapping[str, Any], levels: Mapping[str, list[tuple[str, float]]]
) -> tuple[Agreement, ...]:
    """Which level of each comparison applied (splink reports each comparison's match
    weight, which names its level) and its weight with any term-frequency adjustment."""
    out = []
    for column, known in levels.items():
        weight = row.get(f"mw_{column}")
        if weight is None:
            continue
        found = [label for label, w in known if abs(w - float(weight)) < 1e-9]
        if not found:
            continue  # a null level: the field is missing on one side
        total = float(weight) + float(row.get(f"mw_tf_adj_{column}") or 0.0)
        out.append(Agreement(column, found[0], round(total, 2)))
    return tuple(sorted(out, key=lambda a: -a.weight))


def _train(linker: Linker, settings: MatchSettings, size: int) -> bool:
    wanted = settings.train == "always" or (settings.train == "auto" and size >= MIN_TRAIN)
    if not wanted:
        return False
    training = linker.training
    training.estimate_u_using_random_sampling(
        max_pairs=settings.max_pairs, seed=settings.seed, num_chunks=1
    )
    training.estimate_parameters_using_expectation_maximisation(
        block_on("name_sorted", "kind"), estimate_without_term_frequencies=True
    )
    training.estimate_parameters_using_expectation_maximisation(
        block_on("email"), estimate_without_term_frequencies=True
    )
    return True


def _prior(size: int) -> float:
    # About one duplicate per record among all pairs: n / (n (n - 1) / 2).
    return min(0.5, 2.0 / max(size - 1, 2))


def _linker(table: dict[str, list[Any]], size: int, backend: Backend) -> Linker:
    # A shared database (a Spark session) keeps earlier runs' tables: each run its own name.
    name = f"records_{uuid.uuid4().hex}"
    frame = backend().register(table, dataset_display_name="records", table_name=name)
    return Linker(frame, splink_settings(_prior(size)), log_level=None)


def score(
    table: dict[str, list[Any]], settings: MatchSettings, backend: Backend = DuckDBAPI
) -> tuple[list[Pair], dict[str, Any], bool]:
    """Every blocked pair scoring at least ``review`` (or above an accepted match weight
    floor), explained; the trained model; whether it was trained. The model runs on
    ``backend``."""
    size = len(table["unique_id"])
    linker = _linker(table, size, backend)
    try:
        trained = _train(linker, settings, size)
    except ValueError:
        # EM drives a level's m to zero when the records never reach it (a few, lopsided
        # records): score with the prior m and u instead of failing the run.
        linker, trained = _linker(table, size, backend), False
    predicted = linker.inference.predict(threshold_match_probability=settings.review)
    levels = _levels(linker)
    pairs = [
        Pair(
            int(row["unique_id_l"]),
            int(row["unique_id_r"]),
            float(row["match_probability"]),
            float(row["match_weight"]),
            _explain(row, levels),
        )
        for row in predicted.as_record_list()
    ]
    model = linker.misc.save_model_to_json()
    return sorted(pairs, key=lambda p: (p.left, p.right)), model, trained


def cluster(size: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    """splink's connected components of ``size`` nodes over ``edges``: node ``i``'s
    cluster id is the smallest node id of its component."""
    links = sorted({(min(a, b), max(a, b)) for a, b in edges if a != b})
    if not links:
        return list(range(size))
    db = DuckDBAPI()
    nodes = {"unique_id": list(range(size))}
    table = {
        "unique_id_l": [a for a, _ in links],
        "unique_id_r": [b for _, b in links],
        "match_probability": [1.0] * len(links),
    }
    found = cluster_pairwise_predictions_at_threshold(
        nodes,
        table,
        db,
        "unique_id",
        "unique_id_l",
        "unique_id_r",
        threshold_match_probability=0.5,
    )
    raw = {int(r["unique_id"]): r["cluster_id"] for r in found.as_record_list()}
    smallest: dict[object, int] = {}
    for node, label in raw.items():
        smallest[label] = min(node, smallest.get(label, node))
    return [smallest[raw[i]] if i in raw else i for i in range(size)]


def _decide(
    pairs: list[Pair], keys: Sequence[Key], decisions: Mapping[tuple[Key, Key], bool]
) -> list[Pair]:
    out = []
    for pair in pairs:
        key = pair_key(keys[pair.left], keys[pair.right])
        verdict = decisions.get(key)
        if verdict is None:
            out.append(pair)
        else:
            out.append(
                Pair(
                    pair.left,
                    pair.right,
                    pair.probability,
                    pair.weight,
                    pair.explanation,
                    "accepted" if verdict else "rejected",
                )
            )
    return out


def pair_key(a: Key, b: Key) -> tuple[Key, Key]:
    """The order-free key of a pair of records (review decisions are stored by it)."""
    return (a, b) if a <= b else (b, a)


def match(
    records: Sequence[FusedRecord],
    settings: MatchSettings,
    decisions: Mapping[tuple[Key, Key], bool] | None = None,
    pins: Iterable[tuple[int, int]] = (),
    backend: Backend = DuckDBAPI,
) -> MatchResult:
    """Score (on ``backend``), decide and cluster ``records`` (see the module docs)."""
    if not records:
        return MatchResult([], [])
    table = feature_table(records)
    pairs, model, trained = score(table, settings, backend)
    pairs = _decide(pairs, [r.key for r in records], decisions or {})
    edges = [
        (p.left, p.right)
        for p in pairs
        if p.decided == "accepted" or (p.probability >= settings.accept and p.decided != "rejected")
    ]
    index = {r.key: i for i, r in enumerate(records)}
    accepted = [k for k, ok in (decisions or {}).items() if ok]
    edges += [(index[a], index[b]) for a, b in accepted if a in index and b in index]
    edges += list(pins)
    return MatchResult(pairs, cluster(len(records), edges), model, trained)
