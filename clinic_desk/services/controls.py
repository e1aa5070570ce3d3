"""Control characters in text: what the terminal would obey (ESC, BEL, CSI, NUL, ...), never text.

C0 and DEL and C1 (0x9b is an 8-bit CSI). Newline and tab lay text out, so multi-line text keeps them.
"""

from __future__ import annotations

import re

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def shown(value: object) -> str:
    """``value`` as text fit for a terminal: control characters read ``\\x1b`` and so on."""
    text = "" if value is None else str(value)
    return CONTROL_BUT_LAYOUT.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
