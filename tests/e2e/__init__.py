"""End-to-end: ``kiosk --demo`` driven in a real terminal (tmux)."""
