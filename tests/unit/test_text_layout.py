"""Line breaking of the letter, the guides and any prose: punctuation kept with its text, nothing lost."""

from __future__ import annotations

import itertools
import re
import tomllib
from importlib import resources

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from rich.cells import cell_len
from textual.content import Content
from uniseg.graphemecluster import grapheme_clusters
from uniseg.linebreak import line_break_boundaries

from screens.i18n import LANGS, translate
from screens.menu import GUIDES
from screens.text_layout import Span, line_spans, widest_unit, wrap

CLOSING = "。，、：；！？）」』》】〕…,.:;!?)]}"
"""No line starts with these (UAX #14 classes CL, CP, NS, EX and IN, as a reader sees them)."""
OPENING = "（「『《【〔([{"
"""No line ends with these (class OP)."""
WIDTHS = range(20, 119)


def _letters() -> list[tuple[str, str]]:
    data = tomllib.loads(resources.files("kiosk.central").joinpath("data", "letters.toml").read_text("utf-8"))
    return [
        (f"letter {item['id']} v{item['version']} {item['lang']}", item["body"]) for item in data["letter"]
    ]


def _guides() -> list[tuple[str, str]]:
    return [
        (f"guide {key} {lang}", translate(text, lang)) for key, (_, text) in GUIDES.items() for lang in LANGS
    ]


TEXTS = _letters() + _guides()


def _assert_whole(text: str, spans: tuple[Span, ...]) -> None:
    """The lines give back the text in order: between two lines only the break's spaces or a newline."""
    assert spans[0][0] == 0
    assert text[spans[-1][1] :].strip(" ") == ""
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start and text[end:start].strip(" ") in ("", "\n") and text[end:start].count("\n") <= 1


def _paragraph_starts(text: str) -> set[int]:
    return {0} | {m.end() for m in re.finditer("\n", text)}


def _opportunities(text: str) -> set[int]:
    """Where UAX #14 allows a line to start, as offsets into the whole text."""
    allowed = set()
    base = 0
    for paragraph in text.split("\n"):
        allowed |= {base} | {base + b for b in line_break_boundaries(paragraph)}
        base += len(paragraph) + 1
    return allowed


def test_the_texts_have_no_run_wider_than_the_narrowest_line() -> None:
    # Below, every break is a real opportunity: no run of the letter or the guides needs a forced break.
    assert TEXTS and all(widest_unit(text) <= WIDTHS[0] for _, text in TEXTS)


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[name for name, _ in TEXTS])
def test_no_line_starts_with_closing_or_ends_with_opening_punctuation(name: str, text: str) -> None:
    for width in WIDTHS:
        lines = wrap(text, width)
        for line in lines:
            assert cell_len(line) <= width, (width, line)
            assert not line.startswith(tuple(CLOSING)), (width, line)
            assert not line.endswith(tuple(OPENING)), (width, line)


@pytest.mark.parametrize(("name", "text"), TEXTS, ids=[name for name, _ in TEXTS])
def test_nothing_is_lost_reordered_or_split_inside_a_word(name: str, text: str) -> None:
    for width in WIDTHS:
        spans = line_spans(text, width)
        _assert_whole(text, spans)
        for start, _ in spans[1:]:
            assert not re.match(r"\w\w", text[start - 1 : start + 1], re.ASCII), (
                width,
                text[start - 1 :][:20],
            )


def test_textual_alone_starts_letter_lines_with_punctuation() -> None:
    # Why the kiosk lays the prose out itself: Textual breaks Chinese between any two characters.
    zh = next(text for name, text in TEXTS if name.endswith("zh-CN"))
    starts = {
        line.plain[:1]
        for width in WIDTHS
        for line in Content(zh).wrap(width)
        if line.plain  # the blank line after the first paragraph
    }
    assert starts & set(CLOSING)


@pytest.mark.parametrize(
    ("text", "width", "lines"),
    [
        ("本人知晓：被共济人", 8, ["本人知", "晓：被共", "济人"]),  # not "本人知晓" then "：被共济"
        ("所填写（或读取）的", 8, ["所填写", "（或读", "取）的"]),  # "（" goes down with "或"
        ("hello world again", 11, ["hello world", "again"]),
        ("hello world", 5, ["hello", "world"]),  # the break's space hangs: on neither line
        ("字字字", 5, ["字字", "字"]),  # two cells each: never half a character past the edge
        ("3 个工作日内领卡。", 6, ["3 个工", "作日内", "领卡。"]),
        ("line one\n\nline two", 20, ["line one", "", "line two"]),
        ("  indented", 20, ["  indented"]),
        ("", 20, [""]),
        ("abcdefghij kl", 4, ["abcd", "efgh", "ij", "kl"]),  # only a run wider than the line is cut
        ("字", 1, ["字"]),  # a character wider than the line still shows, alone
    ],
)
def test_examples(text: str, width: int, lines: list[str]) -> None:
    assert wrap(text, width) == lines


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789", min_size=1, max_size=12)
HAN = st.text(alphabet="本人自愿申请将职工基医疗保险个账户用于近亲属家庭共济", min_size=1, max_size=6)
PUNCT = st.sampled_from([*CLOSING, *OPENING, "-", "—", "%", "¥", "'", "“", "”", "/"])
SPACE = st.sampled_from([" ", "  ", "\n", "\u3000"])
PROSE = st.lists(st.one_of(WORDS, HAN, PUNCT, SPACE), max_size=60).map("".join)


@given(text=PROSE, width=st.integers(min_value=1, max_value=60))
@example(text="本人知晓：被", width=8)
@example(text="abc def", width=3)
def test_any_prose(text: str, width: int) -> None:
    spans = line_spans(text, width)
    _assert_whole(text, spans)
    forced = width < widest_unit(text)
    allowed = _opportunities(text)
    new_paragraphs = _paragraph_starts(text)
    for index, (start, end) in enumerate(spans):
        line = text[start:end]
        assert cell_len(line) <= width or len(list(grapheme_clusters(line))) == 1 or line.strip(" ") == ""
        if not forced:
            assert start in allowed, (start, line)
            assert not line.startswith(tuple(CLOSING)) or start in new_paragraphs
            assert (
                not line.rstrip(" ").endswith(tuple(OPENING))
                or index + 1 == len(spans)
                or (spans[index + 1][0] in new_paragraphs)
            )
    for (prev_start, prev_end), (start, end) in itertools.pairwise(spans):
        if forced or start in new_paragraphs:
            continue
        # Greedy: the next line's first unit would not have fitted on this one.
        next_unit_end = min(b for b in allowed if b > start)
        grown = text[prev_start:next_unit_end].rstrip(" ")
        assert cell_len(grown) > width, (text[prev_start:prev_end], text[start:end])


def test_the_layout_is_remembered_per_text_and_width() -> None:
    line_spans.cache_clear()
    text = TEXTS[0][1]
    assert line_spans(text, 40) is line_spans(text, 40)
    assert line_spans.cache_info().hits == 1
