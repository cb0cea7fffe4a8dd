"""Reliability tests of the terminal side (a package, so its conftest does not take the name `conftest`
from the integration suite, whose modules do `from conftest import ...`)."""
