"""Snapshots of the dashboard's layouts, each fed by a committed recording."""


def test_three_nets_side_by_side(snap_compare, replay_app):
    """The book's three nets at 120x40: panels titled by their spec side by side, 4-row sparklines named on
    their bottom row, neuron bars below, the headline h1:hk = 1:N on each bottom border."""
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


def test_four_nets_2x2_when_tall(snap_compare, replay_app):
    """200x50: four nets in a 2x2 grid of wide panels (bars beside the layers), not one row."""
    assert snap_compare(replay_app("remedies4.jsonl"), terminal_size=(200, 50))


def test_60x20(snap_compare, replay_app):
    """60x20: no title bar, stacked one-row sparklines, every border whole, no scrollbar."""
    assert snap_compare(replay_app("book3.jsonl"), terminal_size=(60, 20))


def test_narrow_layer_net(snap_compare, replay_app):
    """784-3-3-10 and 784-30-2-30-10: as many bars as each layer has neurons."""
    assert snap_compare(replay_app("narrow2.jsonl"), terminal_size=(120, 40))


def test_exploding_preset(snap_compare, replay_app):
    """--preset exploding: underflow (s_l < 1e-12) drawn as ·, the scale not stretched to 1e-35."""
    assert snap_compare(replay_app("exploding3.jsonl"), terminal_size=(120, 40))
