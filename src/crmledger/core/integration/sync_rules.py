"""Field-level conflict rules: a three-way merge of one record against the last sync.

The sync keeps, per linked record and field, a keyed hash of the value both sides last
agreed on (the *base*). A side *changed* a field when its value no longer hashes to the
base. Only when both changed it (or no base exists yet and they differ) does a rule decide:

- ``remote``: the outside system is the source of truth for the field;
- ``local``: crmledger is (the outside value is overwritten on the next push);
- ``newest``: the last writer wins, by the records' timestamps;
- ``review``: neither; the field is held as a conflict for a person to decide.

::

    >>> h = lambda field, value: value                     # a stand-in for the keyed hash
    >>> rules = FieldRules(Rule.NEWEST, {"email": Rule.REVIEW})
    >>> m = merge({"name": "Acme", "email": "a@x"}, {"name": "ACME", "email": "b@x"},
    ...           {"name": "Acme", "email": "c@x"}, h, rules, remote_newer=True)
    >>> m.take, m.hold
    ({'name': 'ACME'}, ('email',))
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from crmledger.core.errors import InvalidFieldError

Digest = Callable[[str, str], str]


class Rule(StrEnum):
    """Who wins a field both sides changed."""

    REMOTE = "remote"
    LOCAL = "local"
    NEWEST = "newest"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class FieldRules:
    """The rule of each field, and the rule of the fields not named."""

    default: Rule = Rule.NEWEST
    fields: Mapping[str, Rule] = field(default_factory=dict)

    def of(self, name: str) -> Rule:
        return self.fields.get(name, self.default)

    @classmethod
    def parse(cls, document: Mapping[str, object], known: tuple[str, ...]) -> FieldRules:
        """Rules from ``{"default": "newest", "fields": {"email": "review"}}``; fields
        must be among ``known``."""
        default = _rule("rules.default", document.get("default", Rule.NEWEST.value))
        named = document.get("fields", {})
        if not isinstance(named, Mapping):
            raise InvalidFieldError("rules.fields", "name each field with its rule")
        rules: dict[str, Rule] = {}
        for name, value in named.items():
            if name not in known:
                raise InvalidFieldError(f"rules.fields.{name}", f"no field {name!r} to sync")
            rules[str(name)] = _rule(f"rules.fields.{name}", value)
        return cls(default, rules)


def _rule(where: str, value: object) -> Rule:
    try:
        return Rule(str(value))
    except ValueError:
        choices = ", ".join(r.value for r in Rule)
        raise InvalidFieldError(where, f"{value!r} is not a rule ({choices})") from None


@dataclass(frozen=True, slots=True)
class Merge:
    """What to do with one record: fields to ``take`` from the outside (their values),
    fields held for review, fields the outside should get from crmledger, and the base
    to keep for each field afterwards (hashes)."""

    take: dict[str, str]
    hold: tuple[str, ...]
    push: tuple[str, ...]
    base: dict[str, str]


def merge(
    local: Mapping[str, str],
    remote: Mapping[str, str],
    base: Mapping[str, str] | None,
    digest: Digest,
    rules: FieldRules,
    remote_newer: bool,
) -> Merge:
    """Merge ``remote`` into ``local`` field by field (see the module)."""
    take: dict[str, str] = {}
    hold: list[str] = []
    push: list[str] = []
    new_base = dict(base or {})
    for name, theirs in remote.items():
        ours = local.get(name, "")
        if ours == theirs:
            new_base[name] = digest(name, theirs)
            continue
        known = (base or {}).get(name)
        ours_changed = known is None or digest(name, ours) != known
        theirs_changed = known is None or digest(name, theirs) != known
        winner = _winner(ours_changed, theirs_changed, rules.of(name), remote_newer)
        if winner == "remote":
            take[name] = theirs
            new_base[name] = digest(name, theirs)
        elif winner == "local":
            push.append(name)
            new_base[name] = digest(name, theirs)
        else:
            hold.append(name)
    return Merge(take, tuple(hold), tuple(push), new_base)


def _winner(ours_changed: bool, theirs_changed: bool, rule: Rule, remote_newer: bool) -> str:
    if theirs_changed and not ours_changed:
        return "remote"
    if ours_changed and not theirs_changed:
        return "local"
    if rule is Rule.NEWEST:
        return "remote" if remote_newer else "local"
    return {Rule.REMOTE: "remote", Rule.LOCAL: "local"}.get(rule, "review")
