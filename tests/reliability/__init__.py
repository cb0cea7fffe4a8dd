"""Reliability tests of the terminal side: kill -9 of a committing process, network faults between the sync
worker and central, central killed mid-sync, late rejections (helpers in ``tests.support.reliability``)."""
