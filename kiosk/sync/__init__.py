"""The terminal's link to the central service: the signed HTTP client (and, later, the outbox worker)."""
