"""The terminal's link to the central service: the signed HTTP client and the outbox's sync worker."""
