"""printable: text from files and models is shown, never obeyed by the terminal."""

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from vgrad.core.text import literal_for_mathtext, printable

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def obeyed(text: str) -> list[str]:
    """The characters of `text` a terminal would act on: controls, line breaks, bidi overrides."""
    return [c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c in BIDI]


def test_escape_sequences_and_line_breaks_are_shown_escaped():
    assert printable("M\x1b]0;PWNED\x07\x1b[2J") == "M\\x1b]0;PWNED\\x07\\x1b[2J"
    assert printable("a\nb\tc\rd") == "a\\nb\\tc\\rd"
    assert printable("evil\u202eexe.jsonl\x9b") == "evil\\u202eexe.jsonl\\x9b"


def test_ordinary_names_are_left_as_they_are():
    for name in ("blocks.0.linear", "‖∂C/∂b‖ · h1:h4", "$\\frac{a$", "[bold]x", "naïve café", "a b"):
        assert printable(name) == name


@given(st.text())
def test_nothing_printable_returns_can_act_on_a_terminal_and_it_is_one_line(text):
    shown = printable(text)
    assert obeyed(shown) == [] and "\n" not in shown
    assert printable(shown) == shown            # escaping twice changes nothing more


def test_dollar_signs_are_literal_for_matplotlib():
    assert literal_for_mathtext("$\\frac{a$\x1b") == "\\$\\frac{a\\$\\x1b"
