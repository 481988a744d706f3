"""What the `?` screen says about the numbers, for the screen it describes: a live run, a replay,
or a watch of files other processes write."""

from __future__ import annotations

from vgrad.core.lab.book import ADJACENT_RATIO
from vgrad.core.view.lens import HEALTHY_UPDATE, UPDATE_BAND, power
from vgrad.core.view.summary import ZERO_FLOOR

NUMBERS = (
    "Each row is a layer: its sparkline (or heatmap row, m) on the scale every panel shares, its value now "
    "and the gain ×g, how much faster the next layer learns (×{ratio} at the book's initialisation; — where "
    "it means nothing). The bottom border holds the headline: the first hidden layer against the last, "
    "h1:h4 = 1:N when the first learns 1/N as fast. ≈0 (drawn ·) is a value under {floor:g}: underflow. "
    "w cycles the lenses the file has: s_l = ‖∂C/∂b‖ (the book's), ‖∂C/∂W‖ (sees what batch norm does), "
    "the update ratio ‖Δθ‖/‖θ‖ (about {healthy} is healthy; ↓ under {low} barely moves, ↑ over {high} "
    "thrashes) and the fraction of saturated or dead units (the headline names the worst layer). "
    "s averages over N records; f folds repeated blocks (root-sum-square of their norms)."
)
LIVE = ("s_l = ‖(1/N) Σ_x δ^l_x‖ is the speed of learning of hidden layer l, the norm of the mean bias "
        "gradient over the probe images; σ' ≤ 1/4, so each layer back usually learns several times slower. ")
REPLAY = ("A recorded run played back: +/- change the speed, home/end jump, space pauses, n takes one "
          "record. q prints the run's summary. ")
WATCH = ("Files other processes write (vgrad.watch, vgrad.Recorder, --record), followed live: the "
         "writer trains, this screen only reads. space pauses the display (the writer goes on), end "
         "comes back to live. A watched model's layers are the modules that own parameters; its last "
         "layer is its output, left out of the headline (o puts it in). q prints each file's summary. ")


def about_text(kind: str) -> str:
    """The help text for a "live", "replay" or "watch" screen."""
    lead = {"watch": WATCH, "replay": REPLAY}.get(kind, LIVE)
    return lead + NUMBERS.format(ratio=ADJACENT_RATIO.median, floor=ZERO_FLOOR, healthy=power(HEALTHY_UPDATE),
                                 low=power(UPDATE_BAND[0]), high=power(UPDATE_BAND[1]))
