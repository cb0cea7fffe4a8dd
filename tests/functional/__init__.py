"""Pilot tests of the kiosk app (a package, so its conftest is `functional.conftest`, not `conftest`)."""
