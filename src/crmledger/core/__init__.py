"""The pure domain: money, accounts, journal entries, hashing and report rules.

Nothing here does I/O or imports anything beyond the standard library.
"""
