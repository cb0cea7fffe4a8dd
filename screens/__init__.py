"""Textual screens and widgets of the kiosk; no business rules, no SQL, no APDUs."""
