"""Integration as pure rules: outbox events, webhook signatures, retry schedules, which
addresses a webhook may reach, sync conflict rules and reconciliation. Standard library
only, like all of ``core``."""
