"""crm parties: parties, contacts, tags, external ids and blind-index search terms

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)


def _parties() -> None:
    op.create_table(
        "parties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("legal_name", sa.String(200), nullable=True),
        sa.Column("personal_enc", sa.Text(), nullable=False),
        sa.Column("website", sa.String(300), server_default="", nullable=False),
        sa.Column("tax_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("lifecycle", sa.String(20), nullable=False),
        sa.Column("source", sa.String(100), server_default="", nullable=False),
        sa.Column("segment", sa.String(100), server_default="", nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=True),
        sa.Column("credit_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.CheckConstraint("kind IN ('organisation','person')", name=op.f("ck_parties_kind_known")),
        sa.CheckConstraint(
            "lifecycle IN ('lead','prospect','customer','former_customer')",
            name=op.f("ck_parties_lifecycle_known"),
        ),
        sa.CheckConstraint(
            "kind = 'organisation' OR name IS NULL", name=op.f("ck_parties_person_name_encrypted")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_parties_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parties")),
    )
    op.create_index("ix_parties_updated", "parties", ["updated_at", "id"])
    op.create_index("ix_parties_owner", "parties", ["owner_id", "id"])
    op.create_index("ix_parties_lifecycle", "parties", ["lifecycle", "id"])


def _links() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(100), server_default="", nullable=False),
        sa.Column("is_primary", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.CheckConstraint("organisation_id <> person_id", name=op.f("ck_contacts_not_self")),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["parties.id"], name=op.f("fk_contacts_organisation_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["parties.id"], name=op.f("fk_contacts_person_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("organisation_id", "person_id", name="uq_contacts_link"),
    )
    op.create_index("ix_contacts_person", "contacts", ["person_id"])
    op.create_table(
        "party_tags",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(50), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_tags_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("party_id", "tag", name=op.f("pk_party_tags")),
    )
    op.create_index("ix_party_tags_tag", "party_tags", ["tag", "party_id"])
    op.create_table(
        "party_external_ids",
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(50), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_external_ids_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("system", "external_id", name=op.f("pk_party_external_ids")),
    )
    op.create_index("ix_party_external_ids_party", "party_external_ids", ["party_id"])
    op.create_table(
        "party_search",
        sa.Column("term", sa.String(32), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_party_search_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("term", "party_id", name=op.f("pk_party_search")),
    )
    op.create_index("ix_party_search_party", "party_search", ["party_id"])


def upgrade() -> None:
    _parties()
    _links()


def downgrade() -> None:
    for table in ("party_search", "party_external_ids", "party_tags", "contacts", "parties"):
        op.drop_table(table)
