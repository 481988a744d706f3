"""The one exception type for bad user input: the CLI turns it into exit code 2."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

CLOSE_ENOUGH = 0.6   # difflib's own default: rleu → relu, remedie → remedies, digit → digits


class InputError(ValueError):
    """Bad usage or input, with a one-line reason that names the culprit."""


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`; did you mean relu?` when `word` looks like one of `choices` (case aside), else ""."""
    if not isinstance(word, str):
        return ""
    close = get_close_matches(word.strip().lower(), list(choices), n=1, cutoff=CLOSE_ENOUGH)
    return f"; did you mean {close[0]}?" if close else ""
