"""Text from files and models made safe to show: control characters escaped, never obeyed.

A model name, layer name, event message or file path comes from someone else's file or
process: an ESC in it would let that file retitle or clear the user's terminal, a newline
would split a one-line-per-record output. `printable` escapes them the way Python's repr
does (`\\x1b`, `\\n`, `\\u202e`) and leaves every other character, backslashes included, as is.
"""

from __future__ import annotations

import unicodedata

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE_FORMATS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")  # bidi


def _unsafe(char: str) -> bool:
    """C0 and C1 controls, DEL, the bidirectional overrides, and lone surrogates."""
    category = unicodedata.category(char)
    return category in ("Cc", "Cs") or char in _UNSAFE_FORMATS or category in ("Zl", "Zp")


def _escape(char: str) -> str:
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """`text` (str() of it) with every control character escaped: safe on a terminal, one line."""
    text = str(text)
    if text.isprintable():   # the common case, one C-level pass (isprintable is False on any control)
        return text
    return "".join(_escape(char) if _unsafe(char) else char for char in text)


def literal_for_mathtext(text: object) -> str:
    """`text` printable, and shown literally by matplotlib, which reads `$…$` as mathtext (and
    raises on `$\\frac{a$`): every dollar sign escaped."""
    return printable(text).replace("$", r"\$")
