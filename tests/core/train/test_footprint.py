"""A run's memory is estimated from its widths before anything is allocated."""

import pytest

from vgrad.core.config import Config
from vgrad.core.errors import InputError
from vgrad.core.spec import parse_net
from vgrad.core.train.footprint import GIB, check_memory, net_bytes

BOOK = parse_net("784-30-30-30-30-10")


def test_the_estimate_counts_parameters_and_activation_buffers():
    """784-30-30-30-30-10: 26 650 parameters (785·30 + 3·31·30 + 31·10) and four buffers of
    1000 probe rows × 130 activations."""
    params, buffers = 26_650, 4 * 1000 * 130 + 10 * (784 + 10 + 30)
    assert net_bytes(BOOK, Config(), 1000) == int(1.25 * (8 * params + 8 * (2 * params + buffers)))
    assert net_bytes(BOOK, Config(dtype="float32"), 1000) < net_bytes(BOOK, Config(), 1000)


def test_nets_that_do_not_fit_together_are_refused_naming_the_biggest():
    wide = parse_net("784-100000-100000-10")
    with pytest.raises(InputError, match="784-100000-100000-10.*GiB available"):
        check_memory((BOOK, wide), Config(), 1000, available=64 * GIB)
    check_memory((BOOK,) * 4, Config(), 1000, available=GIB)
