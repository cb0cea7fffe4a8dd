"""Reliability tests of the terminal side: kill -9 of a committing process, network faults between the
sync worker and central, central killed mid-sync, late rejections.

The `central` fixture is the integration suite's (a seeded central on a real uvicorn, on SQLite and on
PostgreSQL through `database_url`); helpers live in `reliability_support.py`.
"""

from __future__ import annotations

from .reliability_support import central_fixture

central = central_fixture
