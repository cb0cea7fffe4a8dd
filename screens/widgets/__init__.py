"""Reusable widgets of the kiosk screens: keypad, QR code, step indicator, status line, demo panel."""
