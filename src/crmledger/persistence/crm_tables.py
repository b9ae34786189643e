"""The CRM's party tables: parties, their contacts, tags, external ids and search terms.

People's names and everyone's emails, phones, addresses and bank accounts live in one
AES-GCM value per party (``personal_enc``, bound to the row); an organisation's name stays
readable so lists can show and sort it. ``party_search`` holds keyed hashes of the search
terms (``core.crm.search``), so fragments of encrypted names are still found.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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
)

from crmledger.persistence.tables import metadata

parties = Table(
    "parties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(12), nullable=False),
    # Organisations only: a person's names are personal data and sit in personal_enc.
    Column("name", String(200)),
    Column("legal_name", String(200)),
    Column("personal_enc", Text, nullable=False),
    Column("website", String(300), nullable=False, server_default=""),
    Column("tax_ids", Text, nullable=False, server_default="[]"),
    Column("owner_id", Integer, ForeignKey("users.id")),
    Column("lifecycle", String(20), nullable=False),
    Column("source", String(100), nullable=False, server_default=""),
    Column("segment", String(100), nullable=False, server_default=""),
    Column("currency", String(3)),
    Column("language", String(8)),
    Column("payment_terms_days", Integer),
    Column("credit_limit_minor", BigInteger),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('organisation','person')", name="kind_known"),
    CheckConstraint(
        "lifecycle IN ('lead','prospect','customer','former_customer')", name="lifecycle_known"
    ),
    CheckConstraint("kind = 'organisation' OR name IS NULL", name="person_name_encrypted"),
    Index("ix_parties_updated", "updated_at", "id"),
    Index("ix_parties_owner", "owner_id", "id"),
    Index("ix_parties_lifecycle", "lifecycle", "id"),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("organisation_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("person_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("role", String(100), nullable=False, server_default=""),
    Column("is_primary", Boolean, nullable=False, server_default="0"),
    Column("version", Integer, nullable=False, server_default="1"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("organisation_id", "person_id", name="uq_contacts_link"),
    CheckConstraint("organisation_id <> person_id", name="not_self"),
    Index("ix_contacts_person", "person_id"),
)

party_tags = Table(
    "party_tags",
    metadata,
    Column("party_id", Integer, ForeignKey("parties.id"), primary_key=True),
    Column("tag", String(50), primary_key=True),
    Index("ix_party_tags_tag", "tag", "party_id"),
)

party_external_ids = Table(
    "party_external_ids",
    metadata,
    Column("party_id", Integer, ForeignKey("parties.id"), nullable=False),
    Column("system", String(50), primary_key=True),
    Column("external_id", String(200), primary_key=True),
    Index("ix_party_external_ids_party", "party_id"),
)

party_search = Table(
    "party_search",
    metadata,
    Column("term", String(32), primary_key=True),
    Column("party_id", Integer, ForeignKey("parties.id"), primary_key=True),
    Index("ix_party_search_party", "party_id"),
)
