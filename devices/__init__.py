"""Hardware behind small interfaces: the card reader (simulated or PC/SC), the social security card
profile, and a virtual card for Debian's vpcd driver (tests, demos and staff training without a card)."""
