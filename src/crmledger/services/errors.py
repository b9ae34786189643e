"""Exceptions raised by the use cases (rule violations come from ``core.errors``)."""

from __future__ import annotations

from dataclasses import dataclass

from crmledger.core.errors import InvalidFieldError, LedgerError
from crmledger.core.imports import Problem


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the entry at ``index`` of a batch was refused."""

    index: int
    error: LedgerError


class EntriesRejectedError(LedgerError):
    """One or more entries of a batch break a rule; nothing of the batch was written."""

    def __init__(self, rejections: list[Rejection]) -> None:
        self.rejections = rejections
        first = rejections[0]
        more = f" (and {len(rejections) - 1} more)" if len(rejections) > 1 else ""
        super().__init__(f"entry #{first.index + 1}: {first.error}{more}")


class ImportRejectedError(LedgerError):
    """An import found problems: a whole-file import wrote nothing; a batched one wrote
    nothing of the refused batch (batches committed before it stay)."""

    field = "file"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s); first: {problems[0]}")


class NotFoundError(LedgerError, LookupError):
    """The thing asked for does not exist."""


class DecryptionError(LedgerError, ValueError):
    """An encrypted value does not decrypt: tampered, moved to another row or field, or its
    key version is no longer in the key ring."""

    field = "key"


class LoginThrottledError(LedgerError):
    """Too many failed logins for this account or address; try again later."""

    field = "credentials"

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed logins; try again in {retry_after} s")


class VersionConflictError(LedgerError):
    """The resource changed since the version the caller read (optimistic concurrency)."""

    field = "version"

    def __init__(self, resource: str, expected: int, current: int) -> None:
        self.expected, self.current = expected, current
        super().__init__(f"{resource} is at version {current}, not {expected}; read it again")


class ConflictError(LedgerError):
    """The request conflicts with the state of a resource (for example a duplicate)."""


class InvalidInputError(InvalidFieldError):
    """A value given to a use case is malformed; ``field`` names it."""


class CreditLimitError(ConflictError):
    """Issuing a document or confirming an order would take a customer's exposure (open
    receivables and confirmed unbilled orders) over the credit limit."""

    field = "party_id"
