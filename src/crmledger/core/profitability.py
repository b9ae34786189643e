"""Profitability: revenue, cost of goods, gross margin, and net profitability after the cost
to serve a customer.

``gross margin = revenue - cost of goods`` (net of tax, in the base currency; credit notes
reduce revenue, the cost of goods is what the invoices' lines moved out of inventory), and
``net = gross margin - cost to serve``, where serving costs (:class:`CostToServe`):

- a fixed amount per interaction of each kind (a call, a meeting ...), dunning letters aside;
- a fixed amount per complaint, per credit note and per dunning letter;
- financing: the receivable's money-days (each amount times the days it stayed open, from
  the invoice's date until paid or credited, or until today) times an annual rate / 365.

::

    >>> events = ServiceEvents({"call": 2}, complaints=1, credit_notes=0, dunning_steps=1,
    ...                        money_days=Decimal("36500"))
    >>> costs = cost_of(events, DEFAULT_COST_TO_SERVE, 2)
    >>> costs.interactions, costs.complaints, costs.dunning, costs.financing, costs.total
    (Decimal('16.00'), Decimal('40.00'), Decimal('10.00'), Decimal('8.00'), Decimal('74.00'))
    >>> line = ProfitLine("7", "Acme", Decimal("500.00"), Decimal("300.00"), costs)
    >>> line.gross_margin, line.net
    (Decimal('200.00'), Decimal('126.00'))

The configuration's defaults are :data:`DEFAULT_COST_TO_SERVE`; a book stores its own as
flat ``key = value`` text (:func:`cost_settings`, :func:`flat`), e.g. ``interaction.call =
8.00``, ``complaint = 40.00``, ``credit_rate = 0.08``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

from crmledger.core.errors import InvalidFieldError
from crmledger.core.money import decimal_places, quantize

#: The interaction kinds that cost per interaction (complaints have their own cost).
INTERACTION_KINDS = ("order", "inquiry", "call", "email", "meeting", "note", "task")
DAYS_PER_YEAR = 365
#: Most decimal places of the annual credit rate.
RATE_PLACES = 6


@dataclass(frozen=True, slots=True)
class CostToServe:
    """What serving a customer costs, in the base currency: per interaction by kind, per
    complaint, per credit note, per dunning letter, and an annual rate on the money-days of
    credit given (``0.08`` is 8 %)."""

    interactions: Mapping[str, Decimal]
    complaint: Decimal
    credit_note: Decimal
    dunning_step: Decimal
    credit_rate: Decimal


DEFAULT_COST_TO_SERVE = CostToServe(
    interactions=MappingProxyType(
        {
            "order": Decimal("0.00"),
            "inquiry": Decimal("5.00"),
            "call": Decimal("8.00"),
            "email": Decimal("3.00"),
            "meeting": Decimal("60.00"),
            "note": Decimal("0.00"),
            "task": Decimal("5.00"),
        }
    ),
    complaint=Decimal("40.00"),
    credit_note=Decimal("15.00"),
    dunning_step=Decimal("10.00"),
    credit_rate=Decimal("0.08"),
)

_FIXED = ("complaint", "credit_note", "dunning_step")


def flat(config: CostToServe) -> dict[str, str]:
    """The configuration as flat ``key: value`` text, keys sorted."""
    values = {f"interaction.{kind}": str(cost) for kind, cost in config.interactions.items()}
    values |= {name: str(getattr(config, name)) for name in _FIXED}
    values["credit_rate"] = str(config.credit_rate)
    return dict(sorted(values.items()))


def _number(key: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidFieldError(key, f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise InvalidFieldError(key, "must be a number of at least 0")
    return value


def _amount(key: str, text: str, scale: int) -> Decimal:
    value = _number(key, text)
    if decimal_places(value) > scale:
        raise InvalidFieldError(key, f"has more than {scale} decimal places")
    return quantize(value, scale)


def _rate(key: str, text: str) -> Decimal:
    value = _number(key, text)
    if value > 1:
        raise InvalidFieldError(key, "is an annual rate from 0 to 1 (0.08 is 8 %)")
    if decimal_places(value) > RATE_PLACES:
        raise InvalidFieldError(key, f"has more than {RATE_PLACES} decimal places")
    return value


def cost_settings(
    changes: Mapping[str, str], scale: int, base: CostToServe = DEFAULT_COST_TO_SERVE
) -> CostToServe:
    """``base`` with the flat ``changes`` applied (amounts at most ``scale`` places);
    an unknown key or a bad value raises :class:`InvalidFieldError` naming the key."""
    interactions = dict(base.interactions)
    fixed: dict[str, Decimal] = {}
    rate = base.credit_rate
    for key, text in changes.items():
        kind = key.removeprefix("interaction.")
        if key.startswith("interaction.") and kind in INTERACTION_KINDS:
            interactions[kind] = _amount(key, text, scale)
        elif key in _FIXED:
            fixed[key] = _amount(key, text, scale)
        elif key == "credit_rate":
            rate = _rate(key, text)
        else:
            known = ", ".join(flat(base))
            raise InvalidFieldError(key, f"not a cost-to-serve setting (known: {known})")
    return replace(base, interactions=MappingProxyType(interactions), credit_rate=rate, **fixed)


@dataclass(frozen=True, slots=True)
class ServiceEvents:
    """What serving a customer took in some period: interactions by kind (complaints and
    dunning letters not among them), complaints, credit notes, dunning letters, and the
    money-days of credit (base amount x days open)."""

    interactions: Mapping[str, int] = field(default_factory=dict)
    complaints: int = 0
    credit_notes: int = 0
    dunning_steps: int = 0
    money_days: Decimal = Decimal(0)

    def __add__(self, other: ServiceEvents) -> ServiceEvents:
        kinds = dict(self.interactions)
        for kind, count in other.interactions.items():
            kinds[kind] = kinds.get(kind, 0) + count
        return ServiceEvents(
            kinds,
            self.complaints + other.complaints,
            self.credit_notes + other.credit_notes,
            self.dunning_steps + other.dunning_steps,
            self.money_days + other.money_days,
        )


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """The cost to serve by what caused it, in the base currency."""

    interactions: Decimal = Decimal(0)
    complaints: Decimal = Decimal(0)
    credit_notes: Decimal = Decimal(0)
    dunning: Decimal = Decimal(0)
    financing: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        """All of it."""
        return (
            self.interactions + self.complaints + self.credit_notes + self.dunning + self.financing
        )

    def parts(self) -> tuple[Decimal, ...]:
        """The five parts, in field order."""
        return (self.interactions, self.complaints, self.credit_notes, self.dunning, self.financing)

    def __add__(self, other: CostBreakdown) -> CostBreakdown:
        return CostBreakdown(*(a + b for a, b in zip(self.parts(), other.parts(), strict=True)))


def cost_of(events: ServiceEvents, config: CostToServe, scale: int) -> CostBreakdown:
    """What ``events`` cost under ``config``; financing is rounded half-even to ``scale``
    places (the fixed costs already carry that scale)."""
    interactions = sum(
        (config.interactions.get(kind, Decimal(0)) * n for kind, n in events.interactions.items()),
        Decimal(0),
    )
    financing = quantize(events.money_days * config.credit_rate / DAYS_PER_YEAR, scale)
    return CostBreakdown(
        interactions=quantize(interactions, scale),
        complaints=quantize(config.complaint * events.complaints, scale),
        credit_notes=quantize(config.credit_note * events.credit_notes, scale),
        dunning=quantize(config.dunning_step * events.dunning_steps, scale),
        financing=financing,
    )


@dataclass(frozen=True, slots=True)
class ProfitLine:
    """Revenue, cost of goods and cost to serve of one customer, product, owner, segment or
    month; the margins follow from them."""

    key: str
    label: str
    revenue: Decimal
    cost_of_goods: Decimal
    cost_to_serve: CostBreakdown = CostBreakdown()

    @property
    def gross_margin(self) -> Decimal:
        """Revenue less the cost of goods."""
        return self.revenue - self.cost_of_goods

    @property
    def net(self) -> Decimal:
        """Gross margin less the cost to serve: negative when the customer costs more than it
        brings."""
        return self.gross_margin - self.cost_to_serve.total

    @property
    def margin_percent(self) -> Decimal | None:
        """Gross margin as a percentage of revenue, one decimal (None without revenue)."""
        if not self.revenue:
            return None
        return quantize(self.gross_margin * 100 / self.revenue, 1)

    def __add__(self, other: ProfitLine) -> ProfitLine:
        return ProfitLine(
            self.key,
            self.label,
            self.revenue + other.revenue,
            self.cost_of_goods + other.cost_of_goods,
            self.cost_to_serve + other.cost_to_serve,
        )


def allocate(total: Decimal, weights: Sequence[Decimal], scale: int) -> list[Decimal]:
    """Split ``total`` in proportion to ``weights`` (all >= 0, not all 0) into amounts of
    ``scale`` places that add up to it exactly: each share rounded down, the units left over
    to the largest remainders (the first of equal ones)."""
    weight = sum(weights, Decimal(0))
    if weight <= 0:
        raise InvalidFieldError("weights", "nothing to allocate by")
    unit = Decimal(1).scaleb(-scale)
    exact = [total * w / weight for w in weights]
    shares = [(e / unit).to_integral_value(rounding="ROUND_FLOOR") * unit for e in exact]
    left = int((total - sum(shares, Decimal(0))) / unit)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[:left]:
        shares[i] += unit
    return [quantize(s, scale) for s in shares]


def allocate_costs(
    costs: CostBreakdown, weights: Sequence[Decimal], scale: int
) -> list[CostBreakdown]:
    """Each part of ``costs`` split by :func:`allocate` over ``weights``."""
    split = [allocate(part, weights, scale) for part in costs.parts()]
    return [CostBreakdown(*(column[i] for column in split)) for i in range(len(weights))]
