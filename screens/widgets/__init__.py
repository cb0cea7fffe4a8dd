"""Widgets of the kiosk screens: digit entry and keypad, QR code, step indicator, status line, DEMO panel."""
