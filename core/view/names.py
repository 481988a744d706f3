"""A panel's layer names: one name per layer, shortened one way for every row, bar and legend.

A long qualified name (`model.encoder.layers.11.mlp.fc1`) loses first what every layer shares
(the leading `model.encoder.`), then its words shrink to initials (`l.11.mlp.fc1` keeps the block
number and the layer's own name), and only then is it cut from the left (`…11.mlp.fc1`) or, where
that would make two names one, in the middle of its last word (`l.0.input…norm`). Names that
still coincide get a number (`…#2`): rows are never named alike.
Blocks of repeated layers (`layers.0.…`, `blocks.3.…`) fold into one row each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

NAME_LIMIT = 14           # columns a shown name takes at most


def common_prefix(names: Sequence[str]) -> int:
    """Dotted words every name starts with (never a whole name)."""
    split = [name.split(".") for name in names]
    if len(split) < 2:
        return 0
    count = 0
    for words in zip(*split):
        if len(set(words)) != 1:
            break
        count += 1
    count = min(count, min(len(words) for words in split) - 1)
    if count and all(words[count].isdigit() for words in split):
        count -= 1      # `layers.11`, not `11`: a block's number keeps its word
    return count


def drop_words(names: Sequence[str], count: int) -> list[str]:
    """Each name without its first `count` dotted words (its last word at least)."""
    return [".".join(name.split(".")[min(count, len(name.split(".")) - 1):]) for name in names]


def initials(name: str, keep: int = 3) -> str:
    """`layers.11.mlp.fc1` → `l.11.mlp.fc1`: every word but the numbers and the last, to its initial,
    words of at most `keep` letters kept."""
    words = name.split(".")
    return ".".join(word if word.isdigit() or index == len(words) - 1 or len(word) <= keep else word[0]
                    for index, word in enumerate(words))


def cut_left(name: str, width: int) -> str:
    """`name` in `width` columns, cut from the left: the end tells layers apart."""
    return name if len(name) <= width else "…" + name[len(name) - width + 1:]


def short_names(names: Sequence[str], width: int = NAME_LIMIT) -> tuple[str, ...]:
    """Each name in at most `width` columns, shortened the same way for all of them, and still
    told apart where the full names were: the shared prefix goes, then leading words (never
    leaving a bare block number), then words shrink to initials, and last a cut from the left."""
    if all(len(name) <= width for name in names):
        return tuple(names)
    drop = common_prefix(names)
    stripped = [".".join(name.split(".")[drop:]) for name in names]
    distinct = len(set(names))
    for form in (stripped, [initials(name) for name in stripped], [initials(name, 1) for name in stripped]):
        for count in range(max(len(name.split(".")) for name in form)):
            shown = drop_words(form, count)
            if len(set(shown)) != distinct or any(name.split(".")[0].isdigit() and "." in name for name in shown):
                break
            if all(len(name) <= width for name in shown):
                return tuple(shown)
    for shown in ([cut_left(initials(name), width) for name in stripped],
                  [cut_middle(initials(name, 1), width) for name in stripped],
                  [cut_left(name, width) for name in stripped]):
        if len(set(shown)) == distinct:
            return tuple(shown)
    return tuple(numbered(shown, width))


def cut_middle(name: str, width: int) -> str:
    """`name` in `width` columns keeping its head (the block numbers) whole and its last word's
    start and end: `l.0.input_layernorm` → `l.0.input…norm`, apart from `l.0.post_…norm`."""
    if len(name) <= width:
        return name
    head, _, last = name.rpartition(".")
    head += "." if head else ""
    room = width - len(head) - 1
    if room < 4:
        return cut_left(name, width)
    start = room // 2
    return head + last[:start] + "…" + last[len(last) - (room - start):]


def numbered(names: Sequence[str], width: int) -> list[str]:
    """Names that still coincide, told apart by a number at their end (`…norm#2`), each in `width`."""
    total = Counter(names)   # names.count per name would be quadratic in 10,000 layers
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        if total[name] == 1:
            out.append(name)
        else:
            mark = f"#{seen[name]}"
            out.append(name[:max(1, width - len(mark) - 1)] + "…" + mark if len(name) + len(mark) > width
                       else name + mark)
    return out


def block_of(name: str) -> str | None:
    """The repeated block a layer belongs to: its name up to its first number followed by more
    (`layers.11` of `layers.11.mlp.fc1`, `h.3` of `h.3.attn`); None for a layer of its own."""
    words = name.split(".")
    for index, word in enumerate(words[:-1]):
        if word.isdigit():
            return ".".join(words[:index + 1])
    return None


def fold_groups(names: Sequence[str]) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Rows when repeated blocks are folded: (label, the layers it holds) in the layers' order;
    a layer outside a block is its own row."""
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(block_of(name) or f"\0{index}", []).append(index)
    return tuple((key if not key.startswith("\0") else names[members[0]], tuple(members))
                 for key, members in groups.items())


def foldable(names: Sequence[str]) -> bool:
    """Whether folding changes anything: some block holds more than one layer."""
    return len(fold_groups(names)) < len(names)
