"""What the bench counts: the FLOPs of the matrix products, per example and for the experiment."""

import pytest

from vgrad.bench.problem import experiment_gflop, matmul_flops_per_example


def test_flops_count_the_matrix_products_of_forward_and_backward():
    # W = 784·30 + 3·30·30 + 30·10 = 26520, first layer 23520: 4W + 2(W − W¹)
    assert matmul_flops_per_example((784, 30, 30, 30, 30, 10)) == 4 * 26520 + 2 * 3000


def test_the_experiment_counts_three_nets_1000_images_500_epochs():
    per_example = sum(matmul_flops_per_example(sizes) for sizes in
                      [(784, 30, 30, 10), (784, 30, 30, 30, 10), (784, 30, 30, 30, 30, 10)])
    assert experiment_gflop() == pytest.approx(per_example * 1000 * 500 / 1e9)
    assert experiment_gflop() == pytest.approx(160.02, abs=0.01)
