"""Adapters to the relational store: schema, migrations, engine, unit of work, ledger store."""
