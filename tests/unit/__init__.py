"""Unit tests: one module at a time, without servers or devices."""
