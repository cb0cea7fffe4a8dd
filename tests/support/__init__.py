"""Helpers the tests and the benchmarks import: services, the PC/SC stack, central, the Pilot kiosk, data.

Fixtures defined here are registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``);
nothing here imports a conftest.
"""
