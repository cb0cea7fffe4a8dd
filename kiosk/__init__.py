"""Family mutual-aid (家庭共济) self-service kiosk and its reference central service."""

__version__ = "0.1.0"
