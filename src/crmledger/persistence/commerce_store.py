"""``CommerceStore`` on SQLAlchemy Core: products, quotes, orders and contracts in one
connection.

Numbers come from ``document_sequences`` with one upsert that bumps and returns the counter;
the bumped row stays locked until the transaction ends, so a rolled-back quote gives its
number back and two concurrent quotes never share one::

    store.next_number("quote", 2026)   # 1, then 2 ... (Q-2026-0001, Q-2026-0002)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from sqlalchemy import Connection, Row, Table, delete, func, insert, select, text, update

from crmledger.persistence.access_store import aware
from crmledger.persistence.commerce_tables import (
    contract_prices,
    contracts,
    order_lines,
    product_prices,
    products,
    quote_lines,
    quotes,
    sales_orders,
    tax_categories,
)
from crmledger.services.crm_ports import (
    ContractQuery,
    ContractRow,
    DocumentQuery,
    LineRow,
    OrderRow,
    ProductQuery,
    ProductRow,
    QuoteRow,
    TaxCategoryRow,
)

_NEXT_NUMBERS = text(
    "INSERT INTO document_sequences (series, year, last_number) "
    "VALUES (:series, :year, :count) ON CONFLICT (series, year) DO UPDATE "
    "SET last_number = document_sequences.last_number + :count RETURNING last_number"
)
_LINE_FIELDS = [f.name for f in fields(LineRow)]


def _columns(table: Table, *skip: str) -> list[str]:
    return [c.name for c in table.columns if c.name not in skip]


def _values(row: Any, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}


def _stamped(row: Row[Any], names: Sequence[str]) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in names}
    values["created_at"] = aware(values["created_at"])
    values["updated_at"] = aware(values["updated_at"])
    return values


def _like(fragment: str) -> str:
    escaped = fragment.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlCommerceStore:
    """The commerce tables in the unit of work's connection."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def tax_categories(self) -> list[TaxCategoryRow]:
        rows = self._conn.execute(select(tax_categories).order_by(tax_categories.c.category))
        return [TaxCategoryRow(r.category, r.rate, r.per) for r in rows]

    # -- products --------------------------------------------------------------------

    def insert_product(self, row: ProductRow) -> int:
        values = _values(row, _columns(products, "id"))
        new_id = int(
            self._conn.execute(
                insert(products).values(values).returning(products.c.id)
            ).scalar_one()
        )
        self._insert_prices(new_id, row.prices)
        return new_id

    def _insert_prices(self, product_id: int, prices: Sequence[tuple[str, int]]) -> None:
        if prices:
            self._conn.execute(
                insert(product_prices),
                [{"product_id": product_id, "currency": c, "amount_minor": a} for c, a in prices],
            )

    def update_product(self, row: ProductRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(products)
            .where(products.c.id == row.id, products.c.version == expected_version)
            .values(_values(row, _columns(products, "id", "created_at")))
        )
        if done.rowcount != 1:
            return False
        self._conn.execute(delete(product_prices).where(product_prices.c.product_id == row.id))
        self._insert_prices(row.id, row.prices)
        return True

    def product(self, product_id: int) -> ProductRow | None:
        found = self.products([product_id])
        return found[0] if found else None

    def products(self, ids: Sequence[int]) -> list[ProductRow]:
        if not ids:
            return []
        rows = self._conn.execute(select(products).where(products.c.id.in_(list(ids)))).all()
        return self._with_prices(rows)

    def _with_prices(self, rows: Sequence[Row[Any]]) -> list[ProductRow]:
        prices: dict[int, list[tuple[str, int]]] = defaultdict(list)
        ids = [r.id for r in rows]
        if ids:
            found = self._conn.execute(
                select(product_prices)
                .where(product_prices.c.product_id.in_(ids))
                .order_by(product_prices.c.currency)
            )
            for price in found:
                prices[price.product_id].append((price.currency, int(price.amount_minor)))
        names = _columns(products)
        return [ProductRow(**_stamped(r, names), prices=tuple(prices[r.id])) for r in rows]

    def product_ids_by_sku(self, skus: Sequence[str]) -> dict[str, int]:
        if not skus:
            return {}
        stmt = select(products.c.sku, products.c.id).where(products.c.sku.in_(list(skus)))
        return {sku: int(pid) for sku, pid in self._conn.execute(stmt)}

    def product_page(self, query: ProductQuery) -> list[ProductRow]:
        stmt = select(products)
        for name in ("active", "kind", "tax_category"):
            value = getattr(query, name)
            if value is not None:
                stmt = stmt.where(products.c[name] == value)
        if query.search:
            pattern = _like(query.search)
            stmt = stmt.where(
                func.lower(products.c.sku).like(pattern, escape="\\")
                | func.lower(products.c.name).like(pattern, escape="\\")
            )
        if query.after is not None:
            stmt = stmt.where(products.c.sku > query.after)
        rows = self._conn.execute(stmt.order_by(products.c.sku).limit(query.limit)).all()
        return self._with_prices(rows)

    # -- quotes and orders -------------------------------------------------------------

    def next_number(self, series: str, year: int) -> int:
        return self.next_numbers(series, year, 1)

    def next_numbers(self, series: str, year: int, count: int) -> int:
        params = {"series": series, "year": year, "count": count}
        return int(self._conn.execute(_NEXT_NUMBERS, params).scalar_one()) - count + 1

    def _insert_document(self, table: Table, lines: Table, row: QuoteRow | OrderRow) -> int:
        values = _values(row, _columns(table, "id"))
        new_id = int(
            self._conn.execute(insert(table).values(values).returning(table.c.id)).scalar_one()
        )
        self._insert_lines(lines, new_id, row.lines)
        return new_id

    def _insert_lines(self, table: Table, document_id: int, rows: Sequence[LineRow]) -> None:
        if rows:
            self._conn.execute(
                insert(table),
                [{"document_id": document_id} | _values(r, _LINE_FIELDS) for r in rows],
            )

    def _update_document(
        self, table: Table, lines: Table, row: QuoteRow | OrderRow, expected_version: int
    ) -> bool:
        done = self._conn.execute(
            update(table)
            .where(table.c.id == row.id, table.c.version == expected_version)
            .values(_values(row, _columns(table, "id", "created_at")))
        )
        if done.rowcount != 1:
            return False
        self._conn.execute(delete(lines).where(lines.c.document_id == row.id))
        self._insert_lines(lines, row.id, row.lines)
        return True

    def _lines_of(self, table: Table, ids: Sequence[int]) -> dict[int, list[LineRow]]:
        found: dict[int, list[LineRow]] = defaultdict(list)
        if ids:
            stmt = (
                select(table)
                .where(table.c.document_id.in_(list(ids)))
                .order_by(table.c.document_id, table.c.position)
            )
            for r in self._conn.execute(stmt):
                found[r.document_id].append(LineRow(**_values(r, _LINE_FIELDS)))
        return found

    def _documents(self, table: Table, lines: Table, stmt: Any) -> list[dict[str, Any]]:
        rows = self._conn.execute(stmt).all()
        by_id = self._lines_of(lines, [r.id for r in rows])
        names = _columns(table)
        return [_stamped(r, names) | {"lines": tuple(by_id[r.id])} for r in rows]

    def _page(self, table: Table, query: DocumentQuery) -> Any:
        stmt = select(table)
        for name in ("party_id", "status", "deal_id", "quote_id"):
            value = getattr(query, name)
            if value is not None and name in table.c:
                stmt = stmt.where(table.c[name] == value)
        if query.after is not None:
            stmt = stmt.where(table.c.id < query.after)
        return stmt.order_by(table.c.id.desc()).limit(query.limit)

    def insert_quote(self, row: QuoteRow) -> int:
        return self._insert_document(quotes, quote_lines, row)

    def update_quote(self, row: QuoteRow, expected_version: int) -> bool:
        return self._update_document(quotes, quote_lines, row, expected_version)

    def quote(self, quote_id: int) -> QuoteRow | None:
        found = self._documents(quotes, quote_lines, select(quotes).where(quotes.c.id == quote_id))
        return QuoteRow(**found[0]) if found else None

    def quote_page(self, query: DocumentQuery) -> list[QuoteRow]:
        return [
            QuoteRow(**v) for v in self._documents(quotes, quote_lines, self._page(quotes, query))
        ]

    def insert_order(self, row: OrderRow) -> int:
        return self._insert_document(sales_orders, order_lines, row)

    def update_order(self, row: OrderRow, expected_version: int) -> bool:
        return self._update_document(sales_orders, order_lines, row, expected_version)

    def order(self, order_id: int) -> OrderRow | None:
        stmt = select(sales_orders).where(sales_orders.c.id == order_id)
        found = self._documents(sales_orders, order_lines, stmt)
        return OrderRow(**found[0]) if found else None

    def order_page(self, query: DocumentQuery) -> list[OrderRow]:
        stmt = self._page(sales_orders, query)
        return [OrderRow(**v) for v in self._documents(sales_orders, order_lines, stmt)]

    # -- contracts -----------------------------------------------------------------------

    def insert_contract(self, row: ContractRow) -> int:
        values = _values(row, _columns(contracts, "id"))
        stmt = insert(contracts).values(values).returning(contracts.c.id)
        new_id = int(self._conn.execute(stmt).scalar_one())
        self._insert_contract_prices(new_id, row.prices)
        return new_id

    def _insert_contract_prices(self, contract_id: int, prices: Sequence[tuple[Any, int]]) -> None:
        if prices:
            self._conn.execute(
                insert(contract_prices),
                [
                    {"contract_id": contract_id, "effective": d, "amount_minor": a}
                    for d, a in prices
                ],
            )

    def update_contract(self, row: ContractRow, expected_version: int) -> bool:
        done = self._conn.execute(
            update(contracts)
            .where(contracts.c.id == row.id, contracts.c.version == expected_version)
            .values(_values(row, _columns(contracts, "id", "created_at")))
        )
        if done.rowcount != 1:
            return False
        self._conn.execute(delete(contract_prices).where(contract_prices.c.contract_id == row.id))
        self._insert_contract_prices(row.id, row.prices)
        return True

    def contract(self, contract_id: int) -> ContractRow | None:
        found = self._contracts(select(contracts).where(contracts.c.id == contract_id))
        return found[0] if found else None

    def contract_page(self, query: ContractQuery) -> list[ContractRow]:
        stmt = select(contracts)
        for name in ("party_id", "product_id", "status"):
            value = getattr(query, name)
            if value is not None:
                stmt = stmt.where(contracts.c[name] == value)
        if query.due_through is not None:
            stmt = stmt.where(
                contracts.c.status == "active", contracts.c.next_billing <= query.due_through
            )
        if query.after is not None:
            stmt = stmt.where(contracts.c.id < query.after)
        return self._contracts(stmt.order_by(contracts.c.id.desc()).limit(query.limit))

    def _contracts(self, stmt: Any) -> list[ContractRow]:
        rows = self._conn.execute(stmt).all()
        prices: dict[int, list[tuple[Any, int]]] = defaultdict(list)
        ids = [r.id for r in rows]
        if ids:
            found = self._conn.execute(
                select(contract_prices)
                .where(contract_prices.c.contract_id.in_(ids))
                .order_by(contract_prices.c.effective)
            )
            for p in found:
                prices[p.contract_id].append((p.effective, int(p.amount_minor)))
        names = _columns(contracts)
        return [ContractRow(**_stamped(r, names), prices=tuple(prices[r.id])) for r in rows]
