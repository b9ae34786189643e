"""ledger exports: a sync run may be an export of the ledger to a file

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-23

An ``export`` connector writes the whole ledger to a file on its schedule; its runs are
logged like the others, with the mode ``export``, so ``sync_runs``' mode check takes it.
"""

from __future__ import annotations

from alembic import op

from crmledger.persistence.migrations.checks import replace_check

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_CHECK = "ck_sync_runs_mode_known"
_MODES = "mode IN ('pull','push','dry_run','inbound','reconcile')"
_WITH_EXPORT = "mode IN ('pull','push','dry_run','inbound','reconcile','export')"


def upgrade() -> None:
    replace_check("sync_runs", _CHECK, _MODES, _WITH_EXPORT)


def downgrade() -> None:
    op.execute("DELETE FROM sync_runs WHERE mode = 'export'")
    replace_check("sync_runs", _CHECK, _WITH_EXPORT, _MODES)
