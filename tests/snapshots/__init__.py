"""Screen snapshots: a package, so this conftest never shadows the `conftest` other folders import."""
