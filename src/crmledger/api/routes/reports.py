"""``/reports`` and ``/audit``: trial balance, account ledger, integrity, the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from crmledger.api.deps import Services
from crmledger.api.problems import requires, responses
from crmledger.api.routes.common import Cursor, Limit, number_cursor
from crmledger.api.routes.statements import DOWNLOADS, Format, chosen_format, download
from crmledger.api.schemas import (
    NO_NUL,
    AccountLedgerPublic,
    AuditFindingPublic,
    AuditRecordPublic,
    AuditVerifyPublic,
    Day,
    LedgerLinePublic,
    Page,
    TrialBalancePublic,
    TrialBalanceRowPublic,
    encode_cursor,
    money,
)
from crmledger.core.report_table import trial_balance_table
from crmledger.core.reports import TrialBalanceRow

router = APIRouter(tags=["reports"])


def _row(row: TrialBalanceRow) -> TrialBalanceRowPublic:
    return TrialBalanceRowPublic(
        account=row.account,
        commodity=row.commodity,
        debit=money(row.debit),
        credit=money(row.credit),
        balance=money(row.balance),
    )


@router.get(
    "/reports/trial-balance",
    operation_id="trialBalance",
    openapi_extra=requires("reports:read"),
    response_model=TrialBalancePublic,
    responses=responses(401, 403, 422) | DOWNLOADS,
)
def trial_balance(
    services: Services, request: Request, as_of: Day | None = None, fmt: Format = None
) -> Any:
    """Debit and credit turnover and balance per account and commodity, as of a date."""
    tb = services.reports.trial_balance(as_of)
    chosen = chosen_format(fmt, request)
    if chosen != "json":
        name = f"trial-balance-{as_of.isoformat() if as_of else 'all'}"
        return download(trial_balance_table(tb), chosen, name)
    return TrialBalancePublic(
        as_of=tb.as_of,
        rows=[_row(r) for r in tb.rows],
        totals=[_row(r) for r in tb.totals().values()],
        conversions={c: money(v) for c, v in tb.conversions},
        balanced=not tb.residuals(),
    )


@router.get(
    "/reports/account-ledger",
    operation_id="accountLedger",
    openapi_extra=requires("reports:read"),
    response_model=AccountLedgerPublic,
    responses=responses(401, 403, 422),
)
def account_ledger(
    services: Services,
    account: Annotated[str, Query(min_length=1, max_length=400, pattern=NO_NUL)],
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> AccountLedgerPublic:
    """An account's (and its sub-accounts') opening balance and lines with running
    balances."""
    start = number_cursor(cursor) if cursor is not None else 0
    opening, lines = services.reports.account_ledger(account, date_from, date_to)
    page = lines[start : start + limit]
    return AccountLedgerPublic(
        account=account,
        opening={c: money(v) for c, v in opening.items()},
        items=[
            LedgerLinePublic(
                date=line.date,
                entry=line.entry,
                narration=line.narration,
                commodity=line.commodity,
                amount=money(line.amount),
                balance=money(line.balance),
            )
            for line in page
        ],
        next_cursor=encode_cursor([start + limit]) if start + limit < len(lines) else None,
    )


@router.get(
    "/audit/verify",
    operation_id="auditVerify",
    openapi_extra=requires("audit:read"),
    response_model=AuditVerifyPublic,
    responses=responses(401, 403),
)
def audit_verify(services: Services) -> AuditVerifyPublic:
    """Walk every journal's hash chain and the audit log's; recompute running balances."""
    report = services.audit.verify()
    return AuditVerifyPublic(
        ok=report.ok,
        entries_checked=report.entries_checked,
        records_checked=report.records_checked,
        journals=report.journals,
        findings=[
            AuditFindingPublic(journal=f.journal, reference=f.reference, reason=f.reason)
            for f in report.findings
        ],
    )


@router.get(
    "/audit/log",
    operation_id="auditLog",
    openapi_extra=requires("audit:read"),
    response_model=Page[AuditRecordPublic],
    responses=responses(401, 403, 422),
)
def audit_log(
    services: Services,
    limit: Limit = 100,
    cursor: Cursor = None,
    actor: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    action: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    resource: Annotated[str | None, Query(max_length=64, pattern=NO_NUL)] = None,
    resource_id: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
) -> Page[AuditRecordPublic]:
    """Audit records, newest first; filter by actor, action or resource."""
    before = number_cursor(cursor) if cursor is not None else None
    filters = {
        k: v
        for k, v in {
            "actor": actor,
            "action": action,
            "resource": resource,
            "resource_id": resource_id,
        }.items()
        if v is not None
    }
    records = services.audit.log(before, limit, filters)
    return Page(
        items=[
            AuditRecordPublic(
                seq=r.seq,
                at=r.at,
                actor=r.actor,
                role=r.role,
                via=r.via,
                request_id=r.request_id,
                action=r.action,
                resource=r.resource,
                resource_id=r.resource_id,
                changes=dict(r.changes),
            )
            for r in records
        ],
        next_cursor=encode_cursor([records[-1].seq]) if len(records) == limit else None,
    )
