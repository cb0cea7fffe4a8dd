"""Integration tests: central on a real uvicorn (SQLite and PostgreSQL), the terminal's sync, the CLI."""
