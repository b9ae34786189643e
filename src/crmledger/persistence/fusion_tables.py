"""Fusion tables: runs, field lineage of golden parties and the review queue.

A run keeps its configuration (passwords masked), its counts, stage timings and report
(issue counts and located problems, never a personal value). Lineage names, per golden
party and field, the source record that gave the value; the source records themselves are
attached to their party as external ids (``party_external_ids``)::

    fusion_runs     3  "customers"  records_in 12000  created 7100  updated 40 ...
    fusion_lineage  party 42  email  <- crm C000123 (row 124), run 3
    fusion_review   9  crm C000007 ~ finance F000311  p 0.8312  open

A review pair is stored once per pair of records (its unique key, the records ordered);
its decision stays with it and later runs respect it. The records' values are kept for
the side-by-side view, encrypted (``left_values`` / ``right_values``).

A merge of two book parties moves the absorbed party's rows to the survivor and keeps a
journal of every row it moved (``party_merge_rows``), so undoing it puts exactly those rows
back; an active merge also redirects reads by party to the survivor (postings keep the
party they were posted with)::

    party_merges      4  survivor 12  absorbed 31  active  moved {"billing_documents": 3}
    party_merge_rows  4  billing_documents.party_id  "207"
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from crmledger.persistence.crm_tables import party_external_ids
from crmledger.persistence.tables import metadata

_TS = DateTime(timezone=True)

fusion_runs = Table(
    "fusion_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("config", Text, nullable=False),
    Column("records_in", Integer, nullable=False),
    Column("problems", Integer, nullable=False),
    Column("fixes", Integer, nullable=False),
    Column("clusters", Integer, nullable=False),
    Column("created", Integer, nullable=False),
    Column("updated", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("merged", Integer, nullable=False),
    Column("for_review", Integer, nullable=False),
    Column("timings", Text, nullable=False),
    Column("report", Text, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("started_at", _TS, nullable=False),
    Column("finished_at", _TS, nullable=False),
    CheckConstraint(
        "records_in >= 0 AND problems >= 0 AND fixes >= 0 AND clusters >= 0 AND created >= 0"
        " AND updated >= 0 AND unchanged >= 0 AND merged >= 0 AND for_review >= 0",
        name="counts_not_negative",
    ),
)

fusion_lineage = Table(
    "fusion_lineage",
    metadata,
    Column("party_id", Integer, ForeignKey("parties.id"), primary_key=True),
    Column("field", String(40), primary_key=True),
    Column("system", String(50), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("source", String(100), nullable=False),
    Column("source_row", Integer, nullable=False),
    Column("run_id", Integer, ForeignKey("fusion_runs.id"), nullable=False),
    Index("ix_fusion_lineage_run", "run_id"),
)

fusion_review = Table(
    "fusion_review",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("fusion_runs.id"), nullable=False),
    Column("left_system", String(50), nullable=False),
    Column("left_id", String(200), nullable=False),
    Column("right_system", String(50), nullable=False),
    Column("right_id", String(200), nullable=False),
    Column("probability_ppm", Integer, nullable=False),
    Column("explanation", Text, nullable=False),
    Column("left_values", Text, nullable=False),
    Column("right_values", Text, nullable=False),
    Column("status", String(10), nullable=False, server_default="open"),
    Column("decided_by", String(64)),
    Column("decided_at", _TS),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", _TS, nullable=False),
    Column("updated_at", _TS, nullable=False),
    CheckConstraint("status IN ('open','accepted','rejected')", name="status_known"),
    CheckConstraint(
        "probability_ppm >= 0 AND probability_ppm <= 1000000", name="probability_in_range"
    ),
    CheckConstraint("(status = 'open') = (decided_at IS NULL)", name="decided_when_not_open"),
    UniqueConstraint(
        "left_system", "left_id", "right_system", "right_id", name="uq_fusion_review_pair"
    ),
    Index("ix_fusion_review_status", "status", "id"),
)

party_merges = Table(
    "party_merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("survivor_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("absorbed_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("status", String(10), nullable=False, server_default="active"),
    Column("moved", Text, nullable=False),
    Column("run_id", Integer, ForeignKey("fusion_runs.id")),
    Column("merged_by", String(64), nullable=False),
    Column("merged_at", _TS, nullable=False),
    Column("undone_by", String(64)),
    Column("undone_at", _TS),
    CheckConstraint("status IN ('active','undone')", name="status_known"),
    CheckConstraint("survivor_id <> absorbed_id", name="not_self"),
    CheckConstraint("(status = 'active') = (undone_at IS NULL)", name="undone_when_undone"),
    Index("ix_party_merges_survivor", "survivor_id", "status"),
    # A party is absorbed by at most one active merge (the database backs the service).
    Index(
        "ux_party_merges_absorbed_active",
        "absorbed_id",
        unique=True,
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
)

party_merge_rows = Table(
    "party_merge_rows",
    metadata,
    Column("merge_id", Integer, ForeignKey("party_merges.id"), primary_key=True),
    Column("table_name", String(40), primary_key=True),
    Column("column_name", String(40), primary_key=True),
    # The row's id, or its natural key (a tag; ``[system, external id]`` as JSON).
    Column("row_key", String(400), primary_key=True),
    # What the undo writes back besides the party (a sync link's state, as JSON; 0018).
    Column("state", Text),
)

#: Finding a party by an external id whatever system gave it (invoice and payment imports).
Index("ix_party_external_ids_external_id", party_external_ids.c.external_id)
