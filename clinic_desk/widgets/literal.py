"""User data on screen as it was written: Rich markup is not parsed, and control characters
(ESC, BEL, CSI, NUL, ...) are shown as ``\\xNN`` instead of reaching the terminal (as the CLI's
tables show them).

``literal(value)`` is what screens put in tables, labels and details; ``literal_str`` the same as
a plain string (notifications). ``ControlCharacterFilter`` is the backstop the App installs on
every painted line: a control character that got there any other way (typed or pasted into a
field) is dropped before the line is written to the terminal.
"""

from __future__ import annotations

import re

from rich.segment import Segment
from rich.text import Text
from textual.color import Color
from textual.filter import LineFilter

# C0 but newline and tab (they lay text out), DEL and C1 (0x9b is an 8-bit CSI).
_SHOWN_ESCAPED = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def literal_str(value: object) -> str:
    """``value`` as text whose control characters read ``\\x1b`` and so on."""
    text = "" if value is None else str(value)
    return _SHOWN_ESCAPED.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def literal(value: object, style: str = "", **options) -> Text:  # noqa: ANN003 - rich.text.Text's options
    """``value`` as a Rich Text shown literally: ``literal("[b]x[/]")`` shows the brackets."""
    return Text(literal_str(value), style=style, **options)


class ControlCharacterFilter(LineFilter):
    """Drops control characters from painted text (they take no cells, so nothing moves)."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        search = _CONTROL.search
        if not any(search(segment.text) for segment in segments if not segment.control):
            return segments
        return [
            segment if segment.control or not search(segment.text) else Segment(_CONTROL.sub("", segment.text), segment.style)
            for segment in segments
        ]
