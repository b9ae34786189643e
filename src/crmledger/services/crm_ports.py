"""The ports of the CRM use cases: how parties and their links are stored.

Rows here are the stored shape (personal fields already encrypted, search terms already
hashed); the services turn them into ``core.crm`` values and back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from crmledger.core.crm.parties import Contact
from crmledger.core.crm.satisfaction import Response


@dataclass(frozen=True, slots=True)
class PartyRow:
    """A party as stored: ``personal_enc`` holds the encrypted personal fields (JSON)."""

    id: int
    kind: str
    name: str | None
    legal_name: str | None
    personal_enc: str
    website: str
    tax_ids: str
    owner_id: int | None
    lifecycle: str
    source: str
    segment: str
    currency: str | None
    language: str | None
    payment_terms_days: int | None
    credit_limit_minor: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    tags: tuple[str, ...] = ()
    external_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PartyQuery:
    """A page of parties: filters are exact (``updated_since``: changed at or after it;
    ``external``: the party holding this ``(system, id)``);
    ``sort`` is ``id`` or ``updated`` (``-`` for newest first); ``after`` is the last row's
    ``(sort value, id)`` of the previous page."""

    limit: int = 100
    sort: str = "-id"
    after: tuple[str, int] | None = None
    kind: str | None = None
    lifecycle: str | None = None
    owner_id: int | None = None
    tag: str | None = None
    segment: str | None = None
    source: str | None = None
    ids: tuple[int, ...] | None = None
    updated_since: datetime | None = None
    external: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A person's link to an organisation."""

    id: int
    organisation_id: int
    person_id: int
    role: str
    primary: bool
    version: int
    created_at: datetime


class PartyStore(Protocol):
    """Parties, contacts, tags, external ids and hashed search terms."""

    def reserve_ids(self, count: int) -> list[int]:
        """Ids for ``count`` new parties (values are encrypted bound to their row id)."""

    def insert(self, rows: Sequence[PartyRow], terms: Sequence[tuple[int, str]]) -> None:
        """Insert parties with their tags, external ids and ``(party id, term)`` pairs."""

    def update(self, row: PartyRow, expected_version: int, terms: Sequence[str]) -> bool:
        """Replace a party (and its tags, external ids, terms) if still at
        ``expected_version``; False when it moved on (the row's version is the new one)."""

    def get(self, party_id: int) -> PartyRow | None: ...
    def many(self, ids: Sequence[int]) -> list[PartyRow]:
        """The parties of ``ids`` that exist, in no particular order."""

    def existing(self, ids: Sequence[int]) -> set[int]:
        """Those of ``ids`` that are parties (a cheap check, no party is read)."""

    def merged_into(self, ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Those of ``ids`` an active party merge absorbed: ``(survivor id, merge id)``."""

    def page(self, query: PartyQuery) -> list[PartyRow]: ...
    def count(self) -> int: ...
    def matching_all(self, terms: Sequence[str], limit: int) -> list[int]:
        """Ids of parties holding every one of ``terms`` (at most ``limit``)."""

    def matching_any(self, terms: Sequence[str], limit: int) -> list[int]:
        """Ids of parties holding at least one of ``terms``."""

    def external_owners(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Which party holds each ``(system, id)`` already."""

    def external_holders(self, external_id: str) -> list[int]:
        """The parties holding ``external_id`` in any system."""

    def add_contact(
        self, organisation_id: int, person_id: int, role: str, primary: bool, at: datetime
    ) -> int: ...
    def add_contacts(self, links: Sequence[Contact], at: datetime) -> list[int]:
        """Insert many links in one statement; their new ids, in the order given."""

    def contact(self, contact_id: int) -> ContactRow | None: ...
    def contacts(
        self, organisation_id: int | None = None, person_id: int | None = None
    ) -> list[ContactRow]: ...
    def contacts_of_people(self, person_ids: Sequence[int]) -> list[ContactRow]:
        """The contact links of several people at once."""

    def contact_page(self, after_id: int, limit: int) -> list[ContactRow]: ...
    def update_contact(
        self, contact_id: int, expected_version: int, role: str, primary: bool
    ) -> bool:
        """Compare-and-set the role and primary flag."""

    def delete_contact(self, contact_id: int) -> bool: ...


# -- satisfaction -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SatisfactionRow:
    """A stored NPS or CSAT answer; ``created_by`` is the recording actor's audit id."""

    id: int
    kind: str
    score: int
    comment: str
    answered_on: date
    party_id: int
    interaction_id: int | None
    order_id: int | None
    invoice_id: int | None
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class SatisfactionQuery:
    """A page of responses, latest answer first; filters are exact, dates inclusive;
    ``after`` is the last row's ``(answered_on, id)`` of the previous page."""

    limit: int = 100
    after: tuple[date, int] | None = None
    party_id: int | None = None
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True, slots=True)
class ScoreCount:
    """How many answers of one party on one day gave one score."""

    party_id: int
    answered_on: date
    score: int
    count: int


class SatisfactionStore(Protocol):
    """NPS and CSAT responses."""

    def insert(self, responses: Sequence[Response], at: datetime, by: str) -> list[int]:
        """Store ``responses`` (their ``id`` is ignored); returns their new ids, in order."""

    def get(self, response_id: int) -> SatisfactionRow | None: ...
    def page(self, query: SatisfactionQuery) -> list[SatisfactionRow]: ...
    def score_counts(
        self, kind: str, date_from: date | None, date_to: date | None
    ) -> list[ScoreCount]:
        """Answers of ``kind`` given between the dates (inclusive), counted per party, day
        and score."""


# -- deals and pipelines --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StageRow:
    """A pipeline stage as stored: ``probability_bp`` in basis points (5000 = 0.50)."""

    key: str
    name: str
    position: int
    probability_bp: int
    kind: str


@dataclass(frozen=True, slots=True)
class PipelineRow:
    """A pipeline with its stages in board order."""

    key: str
    name: str
    version: int
    stages: tuple[StageRow, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DealRow:
    """A deal as stored: the amount in minor units of ``currency``, the override
    probability in basis points; ``title_fold`` is the case-folded title search matches."""

    id: int
    pipeline: str
    stage: str
    title: str
    title_fold: str
    party_id: int
    amount_minor: int
    currency: str
    expected_close: date | None
    owner_id: int | None
    probability_bp: int | None
    lost_reason: str
    won_at: datetime | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StageChangeRow:
    """One step of a deal's stage history; ``by`` is the actor's audit id."""

    id: int
    deal_id: int
    from_stage: str | None
    to_stage: str
    at: datetime
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class DealQuery:
    """A page of deals by id (newest first unless ``ascending``); ``after`` is the last id of
    the previous page. ``status`` is a stage kind (open, won, lost); the close dates are
    inclusive and leave out deals without an expected close date."""

    limit: int = 100
    after: int | None = None
    ascending: bool = False
    pipeline: str | None = None
    stage: str | None = None
    owner_id: int | None = None
    party_id: int | None = None
    status: str | None = None
    close_from: date | None = None
    close_to: date | None = None


@dataclass(frozen=True, slots=True)
class StageTotal:
    """How many deals a stage holds in one currency and their summed amount."""

    stage: str
    currency: str
    deals: int
    amount_minor: int


class DealStore(Protocol):
    """Pipelines, their stages, deals and the deals' stage history."""

    def pipelines(self) -> list[PipelineRow]: ...
    def pipeline(self, key: str) -> PipelineRow | None: ...

    def insert_pipeline(self, row: PipelineRow) -> None: ...
    def update_pipeline(self, row: PipelineRow, expected_version: int) -> bool:
        """Replace the name and stage list if still at ``expected_version``: stages are
        updated in place, added, or removed (only ones no deal is in)."""

    def deals_per_stage(self, pipeline: str) -> dict[str, int]: ...
    def insert_deal(self, row: DealRow) -> int:
        """Store a new deal (``row.id`` is ignored); returns its id."""

    def update_deal(self, row: DealRow, expected_version: int) -> bool:
        """Compare-and-set a deal (every column but id and created_at)."""

    def deal(self, deal_id: int) -> DealRow | None: ...
    def deal_page(self, query: DealQuery) -> list[DealRow]: ...
    def open_deals(
        self, pipeline: str | None, close_from: date | None, close_to: date | None
    ) -> list[DealRow]:
        """Deals in open stages; with either date, only those expected to close between
        them (inclusive)."""

    def stage_deals(self, pipeline: str, stage: str, limit: int) -> list[DealRow]:
        """The newest ``limit`` deals in one stage."""

    def stage_totals(self, pipeline: str) -> list[StageTotal]: ...
    def search(self, fragment: str, limit: int) -> list[DealRow]:
        """Deals whose folded title contains the folded ``fragment``, newest first."""

    def add_change(self, row: StageChangeRow) -> int: ...
    def changes(self, deal_id: int, after_id: int, limit: int) -> list[StageChangeRow]:
        """The stage history of a deal, oldest first, after change ``after_id``."""


# -- interactions ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InteractionRow:
    """An interaction as stored: enums as their text values, every datetime in UTC.

    The field names are those of ``core.crm.interactions.Interaction``; ``id`` is ``None``
    on a row about to be inserted.
    """

    id: int | None
    kind: str
    party_id: int
    contact_id: int | None
    deal_id: int | None
    order_id: int | None
    invoice_id: int | None
    subject: str
    body: str
    channel: str
    direction: str
    occurred_at: datetime
    due_at: datetime | None
    status: str
    priority: str
    owner_id: int | None
    resolution: str
    sla_first_response_due: datetime | None
    sla_resolution_due: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InteractionQuery:
    """A page of interactions.

    ``sort`` is ``occurred`` or ``id`` (``-`` for newest first); the page continues after
    the previous page's last row: ``after_id`` and, when sorting by ``occurred``, its
    ``after_at``. Filters are exact; ``due_before`` keeps interactions due before it.
    """

    limit: int = 100
    sort: str = "-occurred"
    after_at: datetime | None = None
    after_id: int | None = None
    party_id: int | None = None
    kind: str | None = None
    status: str | None = None
    owner_id: int | None = None
    priority: str | None = None
    due_before: datetime | None = None


class InteractionStore(Protocol):
    """Interactions, the party timeline, the complaint queue and full-text search."""

    def insert(self, rows: Sequence[InteractionRow]) -> list[int]:
        """Store ``rows`` (their ``id`` is ignored); returns the new ids, in order."""

    def update(self, row: InteractionRow, expected_version: int) -> bool:
        """Compare-and-set every column but ``id`` and ``created_at``; False when the row
        is no longer at ``expected_version``."""

    def get(self, interaction_id: int) -> InteractionRow | None: ...
    def many(self, ids: Sequence[int]) -> list[InteractionRow]:
        """The interactions of ``ids`` that exist, in no particular order."""

    def page(self, query: InteractionQuery) -> list[InteractionRow]: ...
    def timeline(
        self, party_ids: Sequence[int], before: tuple[datetime, int] | None, limit: int
    ) -> list[InteractionRow]:
        """The interactions of ``party_ids``, newest first by ``(occurred_at, id)``,
        strictly before ``before``."""

    def complaint_queue(
        self, limit: int, after: tuple[datetime, int] | None
    ) -> list[InteractionRow]:
        """Open and in-progress complaints by their next SLA due time (the first response
        until one is made, then the resolution), then id; after ``after``."""

    def search(self, text: str, limit: int) -> list[tuple[int, float]]:
        """Ids of interactions whose subject and body hold every word of ``text``, with a
        relevance score, best first. Query syntax in ``text`` is never interpreted."""


# -- commerce: products, quotes, sales orders, contracts ----------------------------------


@dataclass(frozen=True, slots=True)
class TaxCategoryRow:
    """A tax category: its rate as exact decimal text (``"0.19"``) and where it rounds."""

    category: str
    rate: str
    per: str


@dataclass(frozen=True, slots=True)
class ProductRow:
    """A product as stored: money in minor units of its currency; ``prices`` holds
    ``(currency, amount minor)`` pairs sorted by currency; ``id`` is ignored on insert."""

    id: int
    sku: str
    name: str
    description: str
    unit: str
    kind: str
    tax_category: str
    income_account: str
    cost_minor: int | None
    cost_currency: str | None
    cost_account: str | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime
    prices: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ProductQuery:
    """A page of products by SKU; ``after`` is the last SKU of the previous page;
    ``search`` is a case-insensitive fragment of the SKU or the name."""

    limit: int = 100
    after: str | None = None
    active: bool | None = None
    kind: str | None = None
    tax_category: str | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class LineRow:
    """A quote or order line as stored: quantity and discount as exact decimal text, the
    unit price and the line's net and tax in minor units, the tax rate it was taxed at."""

    position: int
    product_id: int | None
    description: str
    quantity: str
    unit_price_minor: int
    discount: str
    tax_category: str
    tax_rate: str
    net_minor: int
    tax_minor: int


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """A quote with its lines; ``number`` is ``Q-<year>-<seq>``; ``id`` ignored on insert;
    ``prices_include_tax``: the lines' unit prices are gross."""

    id: int
    number: str
    party_id: int
    deal_id: int | None
    currency: str
    status: str
    valid_until: date | None
    issued_on: date
    sent_on: date | None
    decided_on: date | None
    net_minor: int
    tax_minor: int
    gross_minor: int
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[LineRow, ...] = ()
    prices_include_tax: bool = False


@dataclass(frozen=True, slots=True)
class OrderRow:
    """A sales order with its lines; ``number`` is ``SO-<year>-<seq>``; ``quote_id`` names
    the accepted quote it came from."""

    id: int
    number: str
    party_id: int
    deal_id: int | None
    quote_id: int | None
    currency: str
    status: str
    ordered_on: date
    confirmed_on: date | None
    fulfilled_on: date | None
    net_minor: int
    tax_minor: int
    gross_minor: int
    version: int
    created_at: datetime
    updated_at: datetime
    lines: tuple[LineRow, ...] = ()
    prices_include_tax: bool = False


@dataclass(frozen=True, slots=True)
class DocumentQuery:
    """A page of quotes or orders, newest first; ``after`` is the last id of the previous
    page; filters are exact (``quote_id`` applies to orders only)."""

    limit: int = 100
    after: int | None = None
    party_id: int | None = None
    status: str | None = None
    deal_id: int | None = None
    quote_id: int | None = None


@dataclass(frozen=True, slots=True)
class ContractRow:
    """A recurring contract; ``prices`` holds ``(effective, amount minor)`` by date."""

    id: int
    party_id: int
    product_id: int | None
    description: str
    currency: str
    frequency: str
    start: date
    end: date | None
    next_billing: date
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    prices: tuple[tuple[date, int], ...] = ()


@dataclass(frozen=True, slots=True)
class ContractQuery:
    """A page of contracts, newest first, after the id ``after``; filters are exact;
    ``due_through`` keeps active contracts whose next billing date is on or before it."""

    limit: int = 100
    after: int | None = None
    party_id: int | None = None
    product_id: int | None = None
    status: str | None = None
    due_through: date | None = None


class CommerceStore(Protocol):
    """The catalogue, tax categories, quotes, sales orders and contracts."""

    def tax_categories(self) -> list[TaxCategoryRow]: ...
    def insert_product(self, row: ProductRow) -> int:
        """Store a product and its prices; returns its id."""

    def update_product(self, row: ProductRow, expected_version: int) -> bool:
        """Compare-and-set every column but id and created_at, and replace the prices."""

    def product(self, product_id: int) -> ProductRow | None: ...
    def products(self, ids: Sequence[int]) -> list[ProductRow]:
        """The products of ``ids`` that exist, in no particular order."""

    def product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        """Which of ``skus`` exist already, with their products' ids."""

    def product_page(self, query: ProductQuery) -> list[ProductRow]: ...
    def next_number(self, series: str, year: int) -> int:
        """The next number of ``series`` (``quote``, ``order``) in ``year``; the counter row
        stays locked until the transaction ends, so numbers have no gaps."""

    def next_numbers(self, series: str, year: int, count: int) -> int:
        """Reserve ``count`` numbers of ``series`` in ``year`` at once; the first of them."""

    def insert_quote(self, row: QuoteRow) -> int: ...
    def update_quote(self, row: QuoteRow, expected_version: int) -> bool:
        """Compare-and-set the quote and replace its lines."""

    def quote(self, quote_id: int) -> QuoteRow | None: ...
    def quote_page(self, query: DocumentQuery) -> list[QuoteRow]: ...
    def insert_order(self, row: OrderRow) -> int: ...
    def update_order(self, row: OrderRow, expected_version: int) -> bool:
        """Compare-and-set the order and replace its lines."""

    def order(self, order_id: int) -> OrderRow | None: ...
    def order_page(self, query: DocumentQuery) -> list[OrderRow]: ...
    def insert_contract(self, row: ContractRow) -> int: ...
    def update_contract(self, row: ContractRow, expected_version: int) -> bool:
        """Compare-and-set the contract and replace its prices."""

    def contract(self, contract_id: int) -> ContractRow | None: ...
    def contract_page(self, query: ContractQuery) -> list[ContractRow]: ...
