"""The fusion stages between reading and writing: map and clean, then plan the merge.

:func:`read_records` reads every prepared source in chunks, maps and cleans each record
and logs every issue; :func:`plan` turns the match result into one group per golden
party: the records that go into it, the book party it updates (if any) and its golden
values. Both are pure: the service around them reads the book and writes the result::

    log = IssueLog()
    records = read_records(prepared, region="DE", log=log)
    result = match(records + book_records, settings, decisions)
    found = plan(records + book_records, result.clusters, owners, book, rules)
    found.groups, found.problems, found.merges    # merges: absorbed party -> survivor
"""

from __future__ import annotations

import multiprocessing
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from crmledger.core.crm.parties import Party
from crmledger.fusion.clean import clean_record
from crmledger.fusion.config import Prepared
from crmledger.fusion.mapping import Mapping as SourceMapping
from crmledger.fusion.mapping import identity_mapping
from crmledger.fusion.records import BOOK_SOURCE, FusedRecord, Issue, SourceRecord
from crmledger.fusion.sources import DEFAULT_CHUNK, party_cells
from crmledger.fusion.survive import Golden, Survivorship, survive

#: Issues kept in full per run (all are counted).
MAX_KEPT = 1000
Progress = Callable[[str, int], None]


@dataclass
class IssueLog:
    """Every issue counted by (source, field, kind, reason); the first :data:`MAX_KEPT`
    problems and fixes kept whole."""

    counts: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    problems: list[Issue] = field(default_factory=list)
    fixes: list[Issue] = field(default_factory=list)

    def extend(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self.counts[(issue.source, issue.field, issue.kind, issue.reason)] += 1
            kept = self.problems if issue.kind == "problem" else self.fixes
            if len(kept) < MAX_KEPT:
                kept.append(issue)

    def total(self, kind: str) -> int:
        return sum(n for key, n in self.counts.items() if key[2] == kind)

    def summary(self) -> list[dict[str, Any]]:
        """Counts per source, field, kind and reason, most frequent first (no values)."""
        return [
            {"source": s, "field": f, "kind": k, "reason": r, "count": n}
            for (s, f, k, r), n in sorted(self.counts.items(), key=lambda item: -item[1])
        ]


def _duplicate(record: FusedRecord, seen: dict[tuple[str, str], tuple[str, int]]) -> Issue | None:
    first = seen.setdefault(record.key, (record.source, record.row))
    if first == (record.source, record.row):
        return None
    reason = f"external id {record.external_id} is also on {first[0]} row {first[1]}"
    return Issue(record.source, record.row, "external_id", "problem", reason)


Cleaned = list[tuple[FusedRecord | None, list[Issue]]]


def read_records(
    prepared: Sequence[Prepared],
    region: str | None,
    log: IssueLog,
    progress: Progress | None = None,
    today: date | None = None,
    workers: int = 1,
    chunk: int = DEFAULT_CHUNK,
) -> tuple[list[FusedRecord], dict[str, int]]:
    """Every record of every source, mapped and cleaned, ``chunk`` at a time; rows read
    per source. With ``workers`` above 1 the chunks are mapped and cleaned by that many
    processes; the records, issues and their order are the same."""
    records: list[FusedRecord] = []
    seen: dict[tuple[str, str], tuple[str, int]] = {}
    rows: dict[str, int] = {}
    for item in prepared:
        rows[item.spec.name] = 0
        for size, cleaned in _cleaned_chunks(item, region, today, workers, chunk):
            for fused, issues in cleaned:
                log.extend(issues)
                if fused is not None and (issue := _duplicate(fused, seen)) is not None:
                    log.extend([issue])
                elif fused is not None:
                    records.append(fused)
            rows[item.spec.name] += size
            if progress is not None:
                progress("read", size)
    return records, rows


def clean_chunk(
    mapping: SourceMapping,
    system: str,
    priority: int,
    chunk: Sequence[SourceRecord],
    region: str | None,
    today: date | None,
) -> Cleaned:
    """Map and clean the records of one chunk, each with its issues."""
    out: Cleaned = []
    for raw in chunk:
        fused, issues = mapping.apply(raw, system, priority)
        if fused is None:
            out.append((None, issues))
            continue
        cleaned, more = clean_record(fused, region, today)
        out.append((cleaned, [*issues, *more]))
    return out


def _cleaned_chunks(
    item: Prepared, region: str | None, today: date | None, workers: int, chunk_size: int
) -> Iterator[tuple[int, Cleaned]]:
    spec = item.spec
    if workers <= 1:
        for chunk in item.source.chunks():
            yield (
                len(chunk),
                clean_chunk(item.mapping, spec.system, spec.priority, chunk, region, today),
            )
        return
    # Forked workers (the mapping and chunks travel pickled); a few chunks in flight
    # per worker keep memory bounded and results in source order.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[tuple[int, Future[Cleaned]]] = deque()
        for chunk in item.source.chunks(chunk_size):
            job = pool.submit(
                clean_chunk, item.mapping, spec.system, spec.priority, chunk, region, today
            )
            pending.append((len(chunk), job))
            while len(pending) > 2 * workers:
                size, done = pending.popleft()
                yield size, done.result()
        while pending:
            size, done = pending.popleft()
            yield size, done.result()


def book_record(party: Party, priority: int, region: str | None) -> FusedRecord:
    """A book party as a record (its id is its external id in the ``crmledger`` system)."""
    assert party.id is not None
    raw = SourceRecord(BOOK_SOURCE, party.id, party_cells(party))
    fused, _ = identity_mapping().apply(raw, BOOK_SOURCE, priority)
    assert fused is not None
    cleaned, _ = clean_record(fused, region)
    cleaned.party_id = party.id
    return cleaned


# ------------------------------------------------------------------------------ the plan


@dataclass
class Group:
    """The records of one golden party: ``party_id`` is the book party it updates (None:
    a new party), ``base`` that party as the book holds it."""

    party_id: int | None
    members: list[FusedRecord]
    golden: Golden
    base: Party | None = None

    @property
    def source_members(self) -> list[FusedRecord]:
        return [m for m in self.members if m.party_id is None]


def _targets(members: Sequence[FusedRecord], owners: Mapping[tuple[str, str], int]) -> set[int]:
    """The book parties a cluster's records belong to."""
    found = {owners[m.key] for m in members if m.key in owners}
    return found | {m.party_id for m in members if m.party_id is not None}


def _two_parties(members: Sequence[FusedRecord], found: set[int], why: str) -> Issue:
    listed = ", ".join(str(p) for p in sorted(found))
    first = min(members, key=lambda m: (m.source, m.row))
    reason = f"parties {listed} look like one customer: merge them in the book ({why})"
    return Issue(first.source, first.row, "party", "problem", reason)


def absorptions(
    target_sets: Iterable[set[int]], book: Mapping[int, tuple[Party, FusedRecord]]
) -> dict[int, int]:
    """Absorbed party -> survivor, for book parties that clusters tie together (directly
    or through a party in two clusters): the lowest id of each tied set survives, when
    the set holds parties of one kind."""
    parent: dict[int, int] = {}

    def root(party: int) -> int:
        while parent.setdefault(party, party) != party:
            party = parent[party]
        return party

    for targets in target_sets:
        first, *rest = sorted(targets)
        for other in rest:
            a, b = sorted((root(first), root(other)))
            parent[b] = a
    tied: dict[int, set[int]] = defaultdict(set)
    for party in parent:
        tied[root(party)].add(party)
    out: dict[int, int] = {}
    for survivor, members in tied.items():
        if len(members) > 1 and len({book[p][0].kind for p in members}) == 1:
            out |= {p: survivor for p in members if p != survivor}
    return out


@dataclass
class Plan:
    """One group per golden party, the problems met, and the book parties to merge
    (absorbed -> survivor) before the groups are written."""

    groups: list[Group]
    problems: list[Issue]
    merges: dict[int, int] = field(default_factory=dict)


def plan(
    records: Sequence[FusedRecord],
    clusters: Sequence[int],
    owners: Mapping[tuple[str, str], int],
    book: Mapping[int, tuple[Party, FusedRecord]],
    rules: Survivorship,
    merge: bool = True,
) -> Plan:
    """One group per golden party.

    A record owned by a book party (by its external id) goes to that party; any other
    record goes to the lowest book party its cluster holds, or with its cluster into a
    new party. Book parties a cluster ties together are merged into the lowest of them
    (``merge``; parties of one kind only), else the cluster is reported.
    """
    by_cluster: dict[int, list[FusedRecord]] = defaultdict(list)
    for record, cluster_id in zip(records, clusters, strict=True):
        by_cluster[cluster_id].append(record)
    targets = {c: _targets(members, owners) for c, members in by_cluster.items()}
    merges = absorptions((t for t in targets.values() if len(t) > 1), book) if merge else {}
    to_party: dict[int, list[FusedRecord]] = defaultdict(list)
    new: list[list[FusedRecord]] = []
    problems: list[Issue] = []
    for cluster_id in sorted(by_cluster):
        members = by_cluster[cluster_id]
        found = {merges.get(t, t) for t in targets[cluster_id]}
        if len(found) > 1:
            why = "of two kinds" if merge else "merging needs billing:write"
            problems.append(_two_parties(members, found, why))
        default = min(found) if found else None
        fresh = []
        for member in members:
            target = member.party_id or owners.get(member.key, default)
            if target is None:
                fresh.append(member)
            else:
                to_party[merges.get(target, target)].append(member)
        if fresh:
            new.append(fresh)
    base = _absorbing_base(book, merges)
    groups = [
        _group(pid, recs, base.get(pid) or book[pid], rules)
        for pid, recs in sorted(to_party.items())
    ]
    groups += [Group(None, recs, survive(recs, rules)) for recs in new]
    kept = [g for g in groups if g.source_members or g.party_id is None or g.party_id in base]
    return Plan(kept, problems, merges)


def _absorbing_base(
    book: Mapping[int, tuple[Party, FusedRecord]], merges: Mapping[int, int]
) -> dict[int, tuple[Party, FusedRecord]]:
    """Survivors as they will be once the merges moved the absorbed parties' tags and
    external ids to them."""
    out: dict[int, tuple[Party, FusedRecord]] = {}
    for absorbed, survivor in sorted(merges.items()):
        party, own = out.get(survivor, book[survivor])
        gone = book[absorbed][0]
        tags = tuple(sorted(set(party.tags) | set(gone.tags)))
        ids = sorted({*party.external_ids, *gone.external_ids}, key=lambda e: (e.system, e.id))
        out[survivor] = (replace(party, tags=tags, external_ids=tuple(ids)), own)
    return out


def _group(
    party_id: int, members: list[FusedRecord], book: tuple[Party, FusedRecord], rules: Survivorship
) -> Group:
    party, own = book
    everyone = [m for m in members if m.party_id != party_id] + [own]
    return Group(party_id, everyone, survive(everyone, rules), party)
