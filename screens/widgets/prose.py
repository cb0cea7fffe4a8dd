"""Prose: a Static whose text breaks into lines where Chinese and English allow it (screens.text_layout)."""

from __future__ import annotations

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual
from textual.widgets import Static

from screens.text_layout import line_spans, widest_unit


class ProseVisual(Visual):
    """Lays `content` out at the width Textual asks for (so a resize lays it out again) and hands the lines
    to Content, which then has nothing left to wrap and applies the widget's styles as usual."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self._laid_out: tuple[int, Content] | None = None

    def __str__(self) -> str:
        return self.content.plain

    def lines(self, width: int) -> Content:
        """The content with a newline at each line end, for `width` cells."""
        if self._laid_out is None or self._laid_out[0] != width:
            spans = line_spans(self.content.plain, width)
            self._laid_out = (width, Content("\n").join(self.content[start:end] for start, end in spans))
        return self._laid_out[1]

    def _for(self, rules: RulesMap, width: int) -> Content:
        if rules.get("text_wrap", "wrap") == "nowrap":
            return self.content
        return self.lines(width - rules.get("line_pad", 0) * 2)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        return self._for(options.rules, width).render_strips(width, height, style, options)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return self._for(rules, width).get_height(rules, width)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        return self.content.get_optimal_width(rules, container_width)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return widest_unit(self.content.plain) + rules.get("line_pad", 0) * 2


class Prose(Static):
    """A Static for paragraphs: the same content, markup and CSS (color, text-style, text-align), but
    no line starts with closing punctuation (。，：) or ends with opening punctuation (（「), and no
    English word is split unless it is wider than the whole line."""

    _prose: ProseVisual | None = None

    @property
    def visual(self) -> Visual:
        visual = super().visual
        if not isinstance(visual, Content):  # a Rich renderable or another Visual lays itself out
            return visual
        if self._prose is None or self._prose.content is not visual:
            self._prose = ProseVisual(visual)
        return self._prose
