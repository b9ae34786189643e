"""Group commit for entries posted one at a time by many callers at once.

Posting is serialised by the ledger's lock (numbers and hash links must follow each other),
so under concurrent load each single-entry transaction would wait for the one before it.
Instead, callers queue their entry and one of them, the *leader*, posts everything queued
in one transaction, with each entry's own audit record naming its own actor; the others
wait for their result. A lone caller leads at once, so nothing waits when there is no
crowd::

    group = PostingGroup(uow, clock)
    ref = group.post(entry, actor)   # from any number of threads

An entry that breaks a rule is refused alone: the rest of its group is posted again
without it, so one caller's mistake never fails another's request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from crmledger.core.entries import JournalEntry
from crmledger.core.errors import LedgerError
from crmledger.services.errors import EntriesRejectedError, Rejection
from crmledger.services.ports import Clock, LedgerStore, UnitOfWorkFactory
from crmledger.services.posting import PostedRef, post_batch
from crmledger.services.trail import Actor, record

MAX_GROUP = 256


@dataclass(eq=False)
class _Slot:
    entry: JournalEntry
    actor: Actor
    ref: PostedRef | None = None
    error: BaseException | None = None

    @property
    def done(self) -> bool:
        return self.ref is not None or self.error is not None

    def outcome(self) -> PostedRef:
        if self.error is not None:
            raise self.error
        assert self.ref is not None
        return self.ref


class PostingGroup:
    """Leader-follower group commit of single entries."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        clock: Clock,
        prepare: Callable[[LedgerStore, Sequence[JournalEntry]], None] | None = None,
    ) -> None:
        self._uow, self._clock, self._prepare = uow, clock, prepare
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._leading = False

    def post(self, entry: JournalEntry, actor: Actor) -> PostedRef:
        """Post ``entry`` for ``actor`` (whose permission the caller checked)."""
        slot = _Slot(entry, actor)
        with self._cond:
            self._queue.append(slot)
        while True:
            with self._cond:
                while not slot.done and self._leading:
                    self._cond.wait()
                if slot.done:
                    return slot.outcome()
                self._leading = True
                batch, self._queue = self._queue[:MAX_GROUP], self._queue[MAX_GROUP:]
            try:
                self._run(batch)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()

    def _run(self, batch: list[_Slot]) -> None:
        try:
            self._commit(batch)
        except EntriesRejectedError as rejected:
            refused = {r.index: r.error for r in rejected.rejections}
            for index, error in refused.items():
                batch[index].error = EntriesRejectedError([Rejection(0, error)])
            rest = [slot for i, slot in enumerate(batch) if i not in refused]
            if rest and len(rest) < len(batch):
                self._run(rest)
            elif rest:  # refused as a group, though no entry was named: try them alone
                self._alone(rest, rejected)
        except LedgerError as error:
            self._alone(batch, error)
        except BaseException as error:
            for slot in batch:
                slot.error = error
            raise

    def _alone(self, batch: list[_Slot], error: LedgerError) -> None:
        if len(batch) == 1:
            batch[0].error = error
            return
        for slot in batch:
            self._run([slot])

    def _commit(self, batch: list[_Slot]) -> None:
        entries = [slot.entry for slot in batch]
        now = self._clock.now()
        with self._uow() as uow:
            if self._prepare is not None:
                self._prepare(uow.ledger, entries)
            refs = post_batch(uow.ledger, entries, now)
            for slot, ref in zip(batch, refs, strict=True):
                after = {"number": ref.ref, "hash": ref.hash}
                record(uow, slot.actor, now, "journal.post", "journal-entry", ref.id, None, after)
            uow.commit()
        for slot, ref in zip(batch, refs, strict=True):
            slot.ref = ref
