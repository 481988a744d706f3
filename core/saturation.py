"""What counts as a saturated unit, for the built-in engine's census and a watched model's hooks alike.

A sigmoid unit with σ'(z) = σ(1 − σ) < SIGMOID_SLOPE, or a tanh unit with |tanh z| > TANH_LEVEL,
passes almost nothing back: the book's explanation of the vanishing gradient.
"""

SIGMOID_SLOPE = 0.01   # σ'(z) below this: saturated (|z| > 4.585)
TANH_LEVEL = 0.97      # |tanh z| above this: saturated (|z| > 2.092)
