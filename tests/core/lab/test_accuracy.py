"""The book's accuracy table: network2's split, the book's figures as data, four nets trained at once."""

import numpy as np
import pytest

from vgrad.core.data.dataset import make_dataset
from vgrad.core.errors import InputError
from vgrad.core.lab.accuracy import accuracy_config, accuracy_table, validation_split
from vgrad.core.lab.book import BOOK_ACCURACIES


def separable(n: int, inputs: int = 784) -> object:
    """n images where digit c lights pixels 10c … 10c+9: learnable in a few epochs."""
    labels = np.arange(n) % 10
    x = np.zeros((n, inputs), dtype=np.float32)
    for c in range(10):
        x[labels == c, 10 * c:10 * c + 10] = 0.9
    return make_dataset("separable", x, labels, x[:10], labels[:10])


def test_the_books_four_nets_and_figures():
    assert [spec for spec, _ in BOOK_ACCURACIES] == [
        "784-30-10", "784-30-30-10", "784-30-30-30-10", "784-30-30-30-30-10"]
    assert [book for _, book in BOOK_ACCURACIES] == [96.48, 96.90, 96.57, 96.53]


def test_network2s_split_trains_on_the_first_five_sixths_and_validates_on_the_rest():
    data = separable(600)
    split = validation_split(data)
    assert len(split.train_x) == 500 and len(split.test_x) == 100
    assert np.array_equal(split.test_x, data.train_x[500:]) and np.array_equal(split.train_y, data.train_y[:500])


def test_too_few_images_are_refused_by_name():
    with pytest.raises(InputError, match="separable: 30 training images"):
        validation_split(separable(30))


def test_the_config_is_network2s():
    config = accuracy_config()
    assert (config.mode, config.n_epochs, config.batch_size, config.eta, config.lmbda) == ("sgd", 30, 10, 0.1, 5.0)


def test_four_nets_learn_and_report_every_epoch():
    seen = []
    runs = accuracy_table(separable(600), epochs=3, dtype="float32",
                          progress=lambda net, epoch, accuracy: seen.append((net, epoch)))
    assert [run.spec for run in runs] == [spec for spec, _ in BOOK_ACCURACIES]
    assert sorted(seen) == [(net, epoch) for net in range(4) for epoch in (1, 2, 3)]
    assert all(len(run.per_epoch) == 3 and not run.error for run in runs)
    assert runs[0].final > 90.0  # one hidden layer separates ten lit blocks within 3 epochs
