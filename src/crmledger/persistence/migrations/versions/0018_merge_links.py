"""merge links: a party merge folds the absorbed party's sync links into the survivor

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-25

A sync link names one outside record per party and connector object type (its *account*
link: pushes and invoice reconciliation go to it). When a merge absorbs a party whose
outside record is linked while the survivor has an account link of its own, the absorbed
link moves to the survivor *folded*: ``sync_links.merge_id`` names the merge, the link
still routes that outside record's changes to the survivor, and undoing the merge clears
it. ``uq_sync_links_local`` becomes a partial unique index over the account links only::

    shop  customer  C-1  -> party 12   merge_id NULL   (account link)
    shop  customer  C-2  -> party 12   merge_id 7      (folded by merge 7)

``party_merge_rows.state`` keeps what a moved row held besides its party (a sync link's
versions and agreed values, as JSON), so the undo writes it back even when a sync run
went through the link in between.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_ACCOUNT = sa.text("merge_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("party_merge_rows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.Text(), nullable=True))
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merge_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_sync_links_merge_id_party_merges"), "party_merges", ["merge_id"], ["id"]
        )
        batch_op.drop_constraint("uq_sync_links_local", type_="unique")
        batch_op.create_index(
            "ux_sync_links_account",
            ["connector_id", "object_type", "local_id"],
            unique=True,
            sqlite_where=_ACCOUNT,
            postgresql_where=_ACCOUNT,
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.drop_index("ux_sync_links_account")
    # A folded link has no place once a party links one outside record only.
    op.execute("DELETE FROM sync_links WHERE merge_id IS NOT NULL")
    with op.batch_alter_table("sync_links", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_sync_links_local", ["connector_id", "object_type", "local_id"]
        )
        batch_op.drop_constraint(op.f("fk_sync_links_merge_id_party_merges"), type_="foreignkey")
        batch_op.drop_column("merge_id")
    with op.batch_alter_table("party_merge_rows", schema=None) as batch_op:
        batch_op.drop_column("state")
