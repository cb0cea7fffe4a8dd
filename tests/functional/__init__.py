"""Pilot tests of the kiosk app on the demo world (the fixtures come from ``tests.support.pilot``)."""
