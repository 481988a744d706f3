"""Thinning: at most `capacity` items of a stream, evenly spaced, the newest always at hand.

The board keeps each net's history with it, and the reader thins a long file's step lines
with it before decoding them, so both show the same points of a long run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

HISTORY_CAPACITY = 1024   # items a board keeps per net (a followed file decodes no more)
Item = TypeVar("Item")


@dataclass
class History(Generic[Item]):
    """At most `capacity` items, evenly thinned: keep every stride-th, halve and double the stride when full."""

    capacity: int
    points: list[Item] = field(default_factory=list)
    stride: int = 1
    seen: int = 0

    def add(self, item: Item) -> None:
        if self.seen % self.stride == 0:
            self.points.append(item)
            if len(self.points) >= self.capacity:
                self.points = self.points[::2]
                self.stride *= 2
        self.seen += 1

    def view(self, latest: Item | None) -> tuple[Item, ...]:
        """The kept items, oldest first, ending with `latest` (the newest seen) when it was thinned out."""
        if latest is not None and (not self.points or self.points[-1] is not latest):
            return (*self.points, latest)
        return tuple(self.points)
