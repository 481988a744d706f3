"""The chain explorer: every key binding, what the widgets show, and two snapshots."""

import asyncio

import pytest
from textual.widgets import Label, Static

from vgrad.core.errors import InputError
from vgrad.core.lab.chain import NEUTRAL_BAND, default_chain, exploding_chain, forward
from vgrad.core.view.summary import number
from vgrad.tui.chain.app import BIAS_STEP, WEIGHT_STEP, ChainApp, make_chain_app
from vgrad.tui.chain.widgets import GradientRatio, NeuronCard, ProductFormula, Reading, reading

SNAPSHOT_SIZE = (100, 30)


@pytest.fixture
def chain_app(monkeypatch) -> ChainApp:
    """The app as the CLI builds it, with animations off."""
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    app = make_chain_app()
    app.animation_level = "none"
    return app


def run_steps(app: ChainApp, *steps, size: tuple[int, int] = (80, 24)) -> None:
    """Run the app headless; for each (keys, check) press the keys, then call check(app)."""

    async def scenario() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            for keys, check in steps:
                await pilot.press(*keys)
                await pilot.pause()
                check(app)

    asyncio.run(scenario())


def text_of(widget: Static) -> str:
    return str(widget.render())


def card_value(app: ChainApp, j: int, row: str) -> str:
    return str(app.query_one(f"#neuron-{j} .{row} .value", Label).render())


def starts_on_the_default_chain_with_the_first_neuron_selected(app):
    assert app.chain == default_chain(4)
    assert app.selected == 0
    cards = list(app.query(NeuronCard))
    assert [card.has_class("-selected") for card in cards] == [True, False, False, False]
    assert [card.has_class("-vanishing") for card in cards] == [True, True, True, False]
    assert cards[-1].has_class("-neutral") and cards[-1].border_subtitle == "the reference"


def gradient_ratio_shows_the_core_value_in_vgrads_number_format(app):
    expected = number(forward(default_chain(4)).first_over_last)
    ratio = app.query_one(GradientRatio)
    assert f"∂C/∂b₁ / ∂C/∂b₄ = {expected}  vanishing" in text_of(ratio)
    assert ratio.has_class("-vanishing")


def selected_is(index):
    def check(app):
        assert app.selected == index
        cards = list(app.query(NeuronCard))
        assert [card.has_class("-selected") for card in cards] == [j == index for j in range(4)]

    return check


def second_weight_is(weight):
    def check(app):
        assert app.chain.weights == (1.0, weight, 1.0, 1.0)
        assert app.chain.biases == (0.0,) * 4
        assert card_value(app, 2, "weight") == number(weight)

    return check


def third_bias_is(bias):
    def check(app):
        assert app.chain.biases == (0.0, 0.0, bias, 0.0)
        assert app.chain.weights == (1.0,) * 4
        assert card_value(app, 3, "bias") == number(bias)

    return check


def the_books_exploding_example(app):
    assert app.chain == exploding_chain(4)
    for j in range(1, 5):
        assert card_value(app, j, "factor") == "25.0"
        assert app.query_one(f"#neuron-{j}", NeuronCard).has_class("-exploding" if j < 4 else "-neutral")
    ratio = app.query_one(GradientRatio)
    assert "= 1.56e+04  exploding" in text_of(ratio)
    assert ratio.has_class("-exploding")
    assert "0.250  ·   25.0   ·   25.0   ·   25.0" in text_of(app.query_one(ProductFormula))


def reset_to_the_default_chain_and_the_first_neuron(app):
    assert app.chain == default_chain(4)
    assert app.selected == 0


def gradient_rows_coloured_by_the_gradient_and_factor_rows_by_the_factor(app):
    third = app.query_one("#neuron-3", NeuronCard)
    assert third.query_one(".factor").has_class("-vanishing")
    assert third.query_one(".gradient").has_class("-exploding")
    assert card_value(app, 3, "gradient") == "1.56"


def growth(app):
    return text_of(app.query_one("#growth-range", Static))


def no_growth_range_at_the_default_weights(app):
    assert growth(app).endswith("none: |w| < 4")
    assert "widest ≈ 0.45 at |w| ≈ 6.9" in text_of(app.query_one("#growth-widest", Static))


def growth_range_of_the_exploding_second_neuron(app):
    assert growth(app) == "neuron 2, w₂ = 100, b₂ = -50.0: a ∈ [0.454, 0.546]"
    assert "a₁ = 0.500 is inside" in text_of(app.query_one("#growth-input", Static))


def growth_range_below_zero(app):
    assert growth(app) == "neuron 1, w₁ = 5.00, b₁ = 1.50: none for a in [0, 1]"


def has_quit(app):
    assert not app.is_running


@pytest.mark.slow  # one long app session: the full suite runs it
def test_every_key_binding_drives_the_chain_and_the_widgets_follow(chain_app):
    """One app session (starting a Textual app is the slow part) walks through every binding:
    `r` returns to the starting state before each group, which the first step checks."""
    run_steps(
        chain_app,
        ([], starts_on_the_default_chain_with_the_first_neuron_selected),
        ([], gradient_ratio_shows_the_core_value_in_vgrads_number_format),
        ([], no_growth_range_at_the_default_weights),
        # left and right select a neuron and stop at the ends
        (["right"], selected_is(1)),
        (["right", "left", "right"], selected_is(2)),
        (["right"] * 5, selected_is(3)),
        (["left"] * 5, selected_is(0)),
        # up, down, W and w step the selected weight
        (["right", "up"], second_weight_is(1.0 + WEIGHT_STEP)),
        (["W"], second_weight_is(1.0 + 2 * WEIGHT_STEP)),
        (["down"], second_weight_is(1.0 + WEIGHT_STEP)),
        (["w"], second_weight_is(1.0)),
        # plus, =, shift+up, B raise the selected bias; minus, shift+down, b lower it
        (["r"], starts_on_the_default_chain_with_the_first_neuron_selected),
        (["right", "right", "plus"], third_bias_is(BIAS_STEP)),
        (["equals_sign"], third_bias_is(2 * BIAS_STEP)),
        (["shift+up"], third_bias_is(3 * BIAS_STEP)),
        (["B"], third_bias_is(4 * BIAS_STEP)),
        (["minus"], third_bias_is(3 * BIAS_STEP)),
        (["shift+down"], third_bias_is(2 * BIAS_STEP)),
        (["b"], third_bias_is(BIAS_STEP)),
        # e sets the book's exploding example; the growth condition follows the selected neuron
        (["r", "e"], the_books_exploding_example),
        (["right"], growth_range_of_the_exploding_second_neuron),
        # r resets the chain and the selection
        (["up", "plus", "r"], reset_to_the_default_chain_and_the_first_neuron),
        (["up"] * 8 + ["plus"] * 3, growth_range_below_zero),  # z in [-0.96, 0.96] needs a < 0
        (["r"] + ["right"] * 3 + ["up"] * 12, gradient_rows_coloured_by_the_gradient_and_factor_rows_by_the_factor),
        (["q"], has_quit),
    )
    assert chain_app.return_code == 0


@pytest.mark.slow  # about 2 s: the full suite runs it
def test_more_neurons_wrap_into_rows():
    def check(app):
        assert app.chain.weights[5] == 1.0 + WEIGHT_STEP
        assert len(app.query(NeuronCard)) == 6
        assert app.query_one("#neuron-5").region.y > app.query_one("#neuron-4").region.y

    run_steps(make_chain_app(6), (["right"] * 5 + ["up"], check))


def test_readings_round_to_their_room_instead_of_being_cut():
    assert [reading(0.00964, room) for room in (9, 6, 4)] == ["0.00964", "0.0096", "0.01"]
    assert reading(-1.234e-5, 7) == "-1e-05"


def test_at_60x20_every_card_reading_fits_beside_its_name(chain_app):
    def check(app):
        for row in app.query(Reading):
            value = str(row.query_one(".value", Label).render())
            name = row.query_one(".name", Label)
            assert len(value) <= row.size.width - len(row.reading_name) - 1, (row.reading_name, value)
            assert name.region.right < row.query_one(".value", Label).region.right - len(value) + 1

    run_steps(chain_app, ([], check), size=(60, 20))


def test_make_chain_app_rejects_a_chain_of_one():
    with pytest.raises(InputError):
        make_chain_app(1)


def test_snapshot_default(chain_app, snap_compare):
    """The default chain: every factor below 1/4, dC/db_1 ~ 1e-2 of dC/db_4."""
    assert snap_compare(chain_app, terminal_size=SNAPSHOT_SIZE)


def test_snapshot_exploding_example(chain_app, snap_compare):
    """After `e`: every factor is 25 and dC/db_1 is 25^3 times dC/db_4."""
    assert snap_compare(chain_app, terminal_size=SNAPSHOT_SIZE, press=["e"])


def test_question_mark_lists_every_key_and_the_chain_rule(chain_app):
    """`?` opens the keys and the chain's ∂C/∂b_1 product; escape closes it."""
    from vgrad.tui.widgets import HelpScreen

    def opened(app):
        assert isinstance(app.screen, HelpScreen)
        keys = dict(app.screen.keys)
        assert {"left", "right", "e", "r", "?", "q"} <= set(keys) and "∂C/∂b_1" in app.screen.about

    run_steps(chain_app, (["question_mark"], opened),
              (["escape"], lambda app: not isinstance(app.screen, HelpScreen) or pytest.fail("still open")))


@pytest.mark.parametrize("name", ["default", "exploding", "mixed"])
def test_each_card_is_labelled_by_the_gradient_it_shows_in_one_number_format(name):
    """The exploding example's last card once read `exploding` over ∂C/∂b = 1; its w read 100.00
    beside a factor of 25 and a gradient of 1.56e+04."""
    from dataclasses import replace

    chain = default_chain(4) if name == "default" else exploding_chain(4)
    if name == "mixed":
        chain = replace(chain, weights=(100.0, 100.0, 1.0, 100.0))
    app = ChainApp(4)
    app.set_reactive(ChainApp.chain, chain)

    def check(app):
        state = forward(chain)
        for card, neuron in zip(app.query(NeuronCard), state.neurons):
            last = neuron.j == 4
            shown = {cls: card_value(app, neuron.j, cls) for cls in
                     ("weight", "bias", "z", "sigma-prime", "factor", "gradient")}
            values = {"weight": neuron.weight, "bias": neuron.bias, "z": neuron.z, "sigma-prime": neuron.sigma_prime,
                      "factor": neuron.factor, "gradient": neuron.relative_gradient}
            assert shown == {cls: number(value) for cls, value in values.items()}
            gradient = neuron.relative_gradient
            low, high = NEUTRAL_BAND
            kind = "exploding" if gradient > high else "vanishing" if gradient < low else "neutral"
            assert card.has_class(f"-{kind}") and card.query_one(".gradient").has_class(f"-{kind}")
            assert card.border_subtitle == ("the reference" if last else f"∂C/∂b {kind}")

    run_steps(app, ([], check), size=(120, 30))
