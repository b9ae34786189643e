"""Money and other commodities as exact decimals, stored as integer minor units.

Every number that enters the book goes through :func:`to_minor`, which refuses an amount
with more decimal places than its commodity's scale instead of rounding it::

    >>> to_minor(Decimal("12.34"), 2)
    1234
    >>> from_minor(1234, 2)
    Decimal('12.34')
    >>> to_minor(Decimal("0.001"), 2)
    Traceback (most recent call last):
    ...
    crmledger.core.errors.ExcessPrecisionError: 0.001 ? has more than 2 decimal place(s) ...

Rounding, where a document's rule asks for it, is explicit (:func:`quantize`) and uses
``ROUND_HALF_EVEN`` unless told otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from crmledger.core.errors import ExcessPrecisionError, InvalidAmountError, InvalidCommodityError

MAX_SCALE = 12
_COMMODITY_RE = re.compile(r"^(?:[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]|[A-Z]|[$€£¥])$")


@dataclass(frozen=True, slots=True)
class Commodity:
    """A currency or other unit that amounts are counted in.

    ``scale`` is the number of decimal places an amount may carry (2 for EUR, 0 for JPY).
    """

    code: str
    scale: int
    name: str = ""

    def __post_init__(self) -> None:
        validate_commodity_code(self.code)
        if not 0 <= self.scale <= MAX_SCALE:
            raise InvalidCommodityError(f"scale of {self.code} must be 0..{MAX_SCALE}")


def validate_commodity_code(code: str) -> str:
    """Return ``code`` if it is a valid commodity code, else raise."""
    if not _COMMODITY_RE.match(code):
        raise InvalidCommodityError(
            f"invalid commodity {code!r}: use upper-case letters, digits and ' . _ - "
            "(e.g. EUR, VBMPX) or one of $ € £ ¥"
        )
    return code


def decimal_places(number: Decimal) -> int:
    """Number of significant decimal places of ``number`` (trailing zeros ignored)."""
    exponent = number.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite numbers only
    return max(0, -exponent)


def to_minor(number: Decimal, scale: int, commodity: str = "?") -> int:
    """Convert ``number`` to integer minor units; refuse excess precision."""
    scaled = number.scaleb(scale)
    try:
        minor = int(scaled)
    except (ValueError, OverflowError) as exc:
        raise InvalidAmountError(f"not a finite number: {number}") from exc
    if scaled != minor:
        raise ExcessPrecisionError(number, commodity, scale)
    return minor


def from_minor(minor: int, scale: int) -> Decimal:
    """Convert integer minor units back to a decimal with exactly ``scale`` places."""
    return Decimal(minor).scaleb(-scale)


def quantize(number: Decimal, scale: int, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """Round ``number`` to ``scale`` places, half-even unless a rule says otherwise."""
    return number.quantize(Decimal(1).scaleb(-scale), rounding=rounding)


def format_number(number: Decimal, scale: int) -> str:
    """Render with exactly ``scale`` places (``12.3`` at scale 2 → ``12.30``)."""
    if decimal_places(number) > scale:
        return format(number.normalize(), "f")
    return format(number.quantize(Decimal(1).scaleb(-scale)), "f")


def format_minor(minor: int, scale: int) -> str:
    """``format(from_minor(minor, scale), "f")`` without building a Decimal (hot path)."""
    if scale == 0:
        return str(minor)
    digits = str(abs(minor)).rjust(scale + 1, "0")
    sign = "-" if minor < 0 else ""
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"
