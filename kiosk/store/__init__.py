"""The terminal's durable local store: requests, their outbox, cached policy; SQLite in WAL + FULL sync."""
