"""Adapters to the world outside the book: the event buses (in-process and NATS
JetStream), the HTTP sender of webhooks, and the sync connectors (a drop folder of CSV and
XLSX files, a SQL database). They implement the ports in ``services.integration_ports``
and ``services.sync_ports``; ``bootstrap`` picks and wires them."""
