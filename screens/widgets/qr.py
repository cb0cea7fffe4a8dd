"""A QR code drawn with half blocks (two modules per character cell), from the qrcode library."""

from __future__ import annotations

import qrcode
from rich.text import Text
from textual.widgets import Static


def qr_text(data: str, border: int = 2) -> str:
    qr = qrcode.QRCode(border=border, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    rows = []
    for top, bottom in zip(matrix[::2], matrix[1::2], strict=True):
        # dark modules are blanks and light modules are blocks; receipt.tcss colours blocks white on black,
        # so the code reads dark-on-light with a light quiet zone, like printed paper
        rows.append(
            "".join(
                {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}[(t, b)]
                for t, b in zip(top, bottom, strict=True)
            )
        )
    return "\n".join(rows)


class QRCode(Static):
    def __init__(self, data: str, id: str | None = None) -> None:
        super().__init__(Text(qr_text(data), no_wrap=True), id=id, classes="qr")
        self.data = data  # what a phone reads from it
