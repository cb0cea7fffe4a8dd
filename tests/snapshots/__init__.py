"""Screen snapshots of the kiosk app on a fixed, offline world."""
