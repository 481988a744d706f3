"""`vgrad-tui reproduce --accuracy`: refuses without --data (downloads nothing), runs on a synthetic IDX folder."""

import json
import struct

import numpy as np
import pytest
from typer.testing import CliRunner

from vgrad.core.lab.book import BOOK_ACCURACIES
from vgrad.tui.cli import app

runner = CliRunner()


def write_idx_folder(folder, n_train: int = 600, n_test: int = 20):
    """The four IDX files of a tiny MNIST-shaped set where digit c lights a block of pixels."""
    folder.mkdir()
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = np.zeros((n, 28, 28), dtype=np.uint8)
        for c in range(10):
            images[labels == c, c, :10] = 230
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">iiii", 0x803, n, 28, 28)
                                                             + images.tobytes())
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">ii", 0x801, n) + labels.tobytes())
    return folder


def test_without_data_one_line_says_full_mnist_is_needed_and_where_to_get_it():
    result = runner.invoke(app, ["reproduce", "--accuracy"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "full MNIST" in result.output and "https://" in result.output and "downloads nothing" in result.output


def test_bad_epochs_exit_2_before_any_work(tmp_path):
    result = runner.invoke(app, ["reproduce", "--accuracy", "--data", str(tmp_path), "--epochs", "0"])
    assert result.exit_code == 2 and "--epochs 0" in result.output


@pytest.mark.slow
def test_the_table_on_a_synthetic_idx_folder(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist")
    result = runner.invoke(app, ["reproduce", "--accuracy", "--data", str(folder), "--epochs", "2", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["train_images"], document["validation_images"], document["epochs"]) == (500, 100, 2)
    assert [net["spec"] for net in document["nets"]] == [spec for spec, _ in BOOK_ACCURACIES]
    assert [net["book"] for net in document["nets"]] == [book for _, book in BOOK_ACCURACIES]
    assert all(len(net["per_epoch"]) == 2 and 0 <= net["final"] <= 100 for net in document["nets"])
    assert "not comparable" in result.stderr
    spec = BOOK_ACCURACIES[0][0]
    assert f"{spec}: epoch 1/2, " in result.stderr and f"{spec}: epoch 2/2, " in result.stderr   # piped progress


@pytest.mark.slow
def test_the_rich_table_shows_every_epoch_beside_the_book(tmp_path):
    folder = write_idx_folder(tmp_path / "mnist")
    result = runner.invoke(app, ["reproduce", "--accuracy", "--data", str(folder), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("│ 2 ") or " 2 │" in line for line in lines)
    book_row = next(line for line in lines if "book (30)" in line)
    assert all(f"{book:.2f}" in book_row for _, book in BOOK_ACCURACIES)
