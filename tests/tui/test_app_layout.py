"""Snapshots of the dashboard's layouts, each fed by a committed recording."""


def test_three_nets_side_by_side(snap_compare, replay_app):
    """The book's three nets at 120x40: panels side by side, 3-row sparklines, neuron bars below."""
    assert snap_compare(replay_app("book3.jsonl"), terminal_size=(120, 40))


def test_two_nets_sgd_with_accuracy(snap_compare, replay_app):
    """Two nets trained by mini-batch SGD: the status shows test accuracy."""
    assert snap_compare(replay_app("sgd2.jsonl"), terminal_size=(100, 30))


def test_four_nets_remedies_in_a_grid(snap_compare, replay_app):
    """Four 4-hidden-layer nets (book, ReLU/He, tanh/Xavier, residual) at 120x40: a 2x2 grid."""
    assert snap_compare(replay_app("remedies4.jsonl"), terminal_size=(120, 40))


def test_four_nets_side_by_side(snap_compare, replay_app):
    """The same four nets at 160x40: side by side, a panel each 40 columns wide."""
    assert snap_compare(replay_app("remedies4.jsonl"), terminal_size=(160, 40))


def test_paused_mid_run(snap_compare, replay_app):
    """Paused after 25 of 60 steps: sparklines fill 25/60 of the width; every net reads paused."""
    assert snap_compare(replay_app("book3.jsonl", paused_at=25), terminal_size=(120, 40))


def test_diverged_net(snap_compare, replay_app):
    """A net that overflowed: red border, its reason, inf drawn as '!', the scale kept for the others."""
    assert snap_compare(replay_app("diverged2.jsonl"), terminal_size=(100, 30))


def test_small_terminal_stacks_panels(snap_compare, replay_app):
    """80x24: panels stacked, one-row sparklines, neuron bars hidden."""
    assert snap_compare(replay_app("book3.jsonl"), terminal_size=(80, 24))


def test_narrow_tall_terminal_puts_bars_beside(snap_compare, replay_app):
    """90x50: panels stacked, each with its neuron bars beside the layer rows."""
    assert snap_compare(replay_app("book3.jsonl"), terminal_size=(90, 50))


def test_linear_scale(snap_compare, replay_app):
    """After `l`: linear sparklines, where the early layers all but vanish."""
    assert snap_compare(replay_app("book3.jsonl"), press=["l"], terminal_size=(120, 40))
