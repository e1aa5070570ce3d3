"""User data on screen as it was written: Rich markup is not parsed, and control characters
(ESC, BEL, CSI, NUL, ...) are shown as ``\\xNN`` instead of reaching the terminal (as the CLI's
tables show them).

``literal(value)`` is what screens put in tables, labels and details; ``literal_str`` the same as
a plain string (notifications). ``ControlCharacterFilter`` is the backstop the App installs on
every painted line: a control character that got there any other way (typed or pasted into a
field) is dropped before the line is written to the terminal.
"""

from __future__ import annotations


from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter

from ..services.controls import CONTROL
from ..services.controls import shown as literal_str


def literal(value: object, style: str = "", **options) -> Text:  # noqa: ANN003 - rich.text.Text's options
    """``value`` as a Rich Text shown literally: ``literal("[b]x[/]")`` shows the brackets."""
    return Text(literal_str(value), style=style, **options)


class ControlCharacterFilter(LineFilter):
    """Drops control characters from painted text (they take no cells, so nothing moves)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        search = CONTROL.search
        if not any(search(segment.text) for segment in segments if not segment.control):
            return segments
        return [
            segment if segment.control or not search(segment.text) else Segment(CONTROL.sub("", segment.text), segment.style)
            for segment in segments
        ]
