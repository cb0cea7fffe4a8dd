"""Line breaking of prose for a terminal: Unicode line-break opportunities (UAX #14), cells for width."""

from __future__ import annotations

from functools import lru_cache
from itertools import pairwise

from rich.cells import cell_len
from uniseg.graphemecluster import grapheme_clusters
from uniseg.linebreak import line_break_boundaries

Span = tuple[int, int]
"""A line as [start, end) offsets into the text: the break spaces after it and the newline are outside."""


@lru_cache(maxsize=256)
def _units(paragraph: str) -> tuple[Span, ...]:
    """The paragraph cut at each of its break opportunities. UAX #14 puts none before closing punctuation
    (。，、：；！？）」』), after opening punctuation (（「『) or inside an English word."""
    # Remembered per paragraph, whatever the width: the rules take uniseg about 0.1 ms a character, the
    # laying out at one more width (a resize) almost nothing.
    starts = [0, *(int(b) for b in line_break_boundaries(paragraph))]
    return tuple(pairwise(starts))


def _fold(text: str, start: int, end: int, width: int) -> list[Span]:
    """An unbreakable run wider than the line, cut between grapheme clusters: the one place a line ends
    where the text allows no break (a long number or address, a line narrower than a word)."""
    pieces: list[Span] = []
    piece_start, used, offset = start, 0, start
    for cluster in grapheme_clusters(text[start:end]):
        cells = cell_len(cluster)
        if used and used + cells > width:
            pieces.append((piece_start, offset))
            piece_start, used = offset, 0
        used += cells
        offset += len(cluster)
    pieces.append((piece_start, end))
    return pieces


def _paragraph_spans(paragraph: str, width: int) -> list[Span]:
    """Greedy: each line takes as many break units as fit."""
    spans: list[Span] = []
    line: Span | None = None
    used = 0
    for start, end in _units(paragraph):
        # Spaces after the last word of a line hang past its end, as in any text: they neither count
        # against the width nor open the next line. Spaces alone in a unit can only open the paragraph:
        # they are its indentation, and stay.
        body_end = start + len(paragraph[start:end].rstrip(" "))
        if body_end == start:
            body_end = end
        body = cell_len(paragraph[start:body_end])
        if line is not None:
            gap = cell_len(paragraph[line[1] : start])
            if used + gap + body <= width:
                line, used = (line[0], body_end), used + gap + body
                continue
            spans.append(line)
        if body > width:
            *full, line = _fold(paragraph, start, body_end, width)
            spans += full
            used = cell_len(paragraph[line[0] : line[1]])
        else:
            line, used = (start, body_end), body
    spans.append(line or (0, 0))
    return spans


@lru_cache(maxsize=256)
def line_spans(text: str, width: int) -> tuple[Span, ...]:
    """The lines of `text` laid out `width` cells wide: each newline ends a line, and within a paragraph
    a line ends only at a break opportunity, unless one unbreakable run is wider than the whole line."""
    width = max(width, 1)
    spans: list[Span] = []
    base = 0
    for paragraph in text.split("\n"):
        spans += [(base + start, base + end) for start, end in _paragraph_spans(paragraph, width)]
        base += len(paragraph) + 1
    return tuple(spans)


def wrap(text: str, width: int) -> list[str]:
    """The lines of `text` laid out `width` cells wide (see `line_spans`)."""
    return [text[start:end] for start, end in line_spans(text, width)]


@lru_cache(maxsize=64)
def widest_unit(text: str) -> int:
    """The cells of the widest run that cannot be broken: the narrowest line that needs no forced break."""
    widest = 0
    for paragraph in text.split("\n"):
        for start, end in _units(paragraph):
            widest = max(widest, cell_len(paragraph[start:end].rstrip(" ") or paragraph[start:end]))
    return widest
