"""The book's published numbers (Nielsen, NNDL ch. 5) and our seed bands, as data.

This is the one place reference figures live; the tests and the `reproduce` command
compare measurements against it. Speeds are s_l at initialisation on the book's
first 1000 MNIST training images; bands are the median [p5, p95] over 200 seeds.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    median: float
    low: float   # 5th percentile
    high: float  # 95th percentile

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclass(frozen=True)
class BookNet:
    spec: str
    book_speeds: tuple[float, ...]   # the book's s_1 … s_k at initialisation
    bands: tuple[Band, ...]          # our 200-seed bands, one per hidden layer
    book_accuracy: float             # % after 30 epochs of SGD on 50k images


BOOK_NETS = (
    BookNet("784-30-30-10", (0.0657, 0.309),
            (Band(0.058, 0.035, 0.085), Band(0.286, 0.18, 0.38)), 96.90),
    BookNet("784-30-30-30-10", (0.0118, 0.0600, 0.283),
            (Band(0.0123, 0.0072, 0.0193), Band(0.059, 0.037, 0.096), Band(0.297, 0.20, 0.41)), 96.57),
    BookNet("784-30-30-30-30-10", (0.00298, 0.0171, 0.0695, 0.285),
            (Band(0.0023, 0.0014, 0.0039), Band(0.0116, 0.0071, 0.0179), Band(0.058, 0.037, 0.085),
             Band(0.296, 0.20, 0.40)), 96.53),
)

BOOK_ACCURACY_ONE_HIDDEN = 96.48  # 784-30-10, same training

# The book's accuracy table (ch. 5): validation accuracy in % after 30 epochs of network2's SGD
# on the first 50,000 MNIST training images, measured on the last 10,000.
BOOK_ACCURACIES = (("784-30-10", BOOK_ACCURACY_ONE_HIDDEN),
                   *((net.spec, net.book_accuracy) for net in BOOK_NETS))
ACCURACY_EXPERIMENT = {"epochs": 30, "batch_size": 10, "eta": 0.1, "lmbda": 5.0,
                       "train_images": 50_000, "validation_images": 10_000}

# Adjacent-layer gain s_{l+1}/s_l at initialisation over seeds.
ADJACENT_RATIO = Band(4.9, 3.9, 6.3)

# The speed experiment: full-batch GD on the probe images.
SPEED_EXPERIMENT = {"eta": 0.1, "lmbda": 5.0, "epochs": 500, "probe_images": 1000}

# After 500 full-batch steps, 4 hidden layers: roughly these s_1 … s_4.
AFTER_500_FOUR_HIDDEN = (8e-6, 3e-5, 2e-4, 9e-4)

# The single-neuron chain: w = 100, b = −100·a_prev gives w σ'(z) = 100 · 1/4 = 25 per layer;
# |w σ'(wa + b)| ≥ 1 holds on a range of a that is widest, ≈ 0.45, at |w| ≈ 6.9.
EXPLODING_FACTOR = 25.0
WIDEST_GROWTH_RANGE = 0.45
WIDEST_GROWTH_W = 6.9
