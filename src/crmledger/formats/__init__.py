"""Adapters between files and the ledger: readers and writers of each format."""
