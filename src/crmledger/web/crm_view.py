"""How CRM values look on the pages: times, owners, names and badges, one place for all.

Owners are users; only a role that may read users sees their emails, everyone else sees
"You" for themselves and "User #3" for a colleague (the user list is not theirs to read)::

    names = owner_names(viewer)          # {3: "ann@example.com", ...} or {7: "You"}
    when(datetime(2026, 5, 4, 9, tzinfo=UTC))   # '2026-05-04 09:00 UTC'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal

from crmledger.core.crm.parties import Party
from crmledger.web.session import Viewer

_CURSOR = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)Z?~(\d{1,12})$")
#: Badge class per state word (lifecycle, statuses, SLA states, stage kinds).
BADGES = {
    "customer": "badge-ok",
    "prospect": "badge-info",
    "former_customer": "badge-warning",
    "on_track": "badge-ok",
    "met": "badge-ok",
    "at_risk": "badge-warning",
    "breached": "badge-error",
    "open": "badge-info",
    "in_progress": "badge-info",
    "resolved": "badge-ok",
    "closed": "",
    "won": "badge-ok",
    "lost": "badge-error",
    "draft": "",
    "sent": "badge-info",
    "accepted": "badge-ok",
    "rejected": "badge-error",
    "expired": "badge-warning",
    "cancelled": "badge-warning",
    "confirmed": "badge-info",
    "fulfilled": "badge-ok",
    "paid": "badge-ok",
    "urgent": "badge-error",
    "high": "badge-warning",
}


def words(value: str) -> str:
    """``former_customer`` as ``Former customer``."""
    return value.replace("_", " ").capitalize()


def badge(value: str) -> str:
    """The badge class of a state word ('' for a plain badge)."""
    return BADGES.get(value, "")


def when(value: datetime | None) -> str:
    """A time in UTC to the minute: ``2026-05-04 09:00 UTC`` ('' for None)."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(value: date | None) -> str:
    """An ISO date ('' for None)."""
    return "" if value is None else value.isoformat()


def money(amount: Decimal | None, currency: str | None = None) -> str:
    """``1,234.50 EUR`` (thousands separators, the amount's own places)."""
    if amount is None:
        return ""
    text = format(amount, ",f")
    return f"{text} {currency}" if currency else text


def plain(number: Decimal) -> str:
    """A quantity or percentage without trailing zeros or exponent: ``2``, ``0.5``."""
    return format((number + 0).normalize(), "f")


def encode_at(at: datetime, item_id: int) -> str:
    """A keyset cursor of a time and an id: ``2026-05-04T09:00:00~17`` (UTC)."""
    return f"{at.astimezone(UTC).replace(tzinfo=None).isoformat()}~{item_id}"


def decode_at(text: str) -> tuple[datetime, int] | None:
    """The cursor of :func:`encode_at`, or None when ``text`` is not one."""
    found = _CURSOR.match(text.strip())
    if found is None:
        return None
    try:
        at = datetime.fromisoformat(found.group(1)).replace(tzinfo=UTC)
    except ValueError:
        return None
    return at, int(found.group(2))


def owner_names(viewer: Viewer) -> dict[int, str]:
    """The users the viewer may name: everyone's email for a role that reads users, else
    only the viewer itself."""
    names: dict[int, str] = {}
    if viewer.can("users", "read"):
        names = {u.id: u.email for u in viewer.book.access.users() if not u.disabled}
    me = viewer.principal.user_id
    if me is not None:
        names[me] = f"You ({viewer.email})"
    return names


def owner_label(names: Mapping[int, str], owner_id: int | None) -> str:
    """An owner as the viewer may see it ('' when none)."""
    if owner_id is None:
        return ""
    return names.get(owner_id, f"User #{owner_id}")


def owner_options(names: Mapping[int, str], current: int | None) -> list[tuple[str, str]]:
    """Owner choices: the nameable users, and the current owner even when not nameable."""
    options = sorted(((str(k), v) for k, v in names.items()), key=lambda kv: kv[1].lower())
    if current is not None and current not in names:
        options.append((str(current), f"User #{current}"))
    return options


def party_row(party: Party, owners: Mapping[int, str]) -> dict[str, object]:
    """A party as a list row shows it."""
    return {
        "id": party.id,
        "name": party.display_name,
        "kind": party.kind.value,
        "lifecycle": party.lifecycle.value,
        "email": party.emails[0].address if party.emails else "",
        "phone": party.phones[0].number if party.phones else "",
        "city": party.addresses[0].city if party.addresses else "",
        "country": party.addresses[0].country if party.addresses else "",
        "tags": list(party.tags),
        "segment": party.segment,
        "owner": owner_label(owners, party.owner_id),
    }
