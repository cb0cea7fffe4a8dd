"""The test suite: a package, so every test module and helper has one dotted name (``tests.support...``)."""
