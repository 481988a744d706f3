"""vgrad.integrations.jax: a gradient pytree recorded as one layer per module path.

JAX is imported by a fixture, not at collection, which `pytest -m "not slow"` must not pay for."""

import numpy as np
import pytest

from vgrad.core.errors import InputError
from vgrad.core.record.reader import read_run

pytestmark = pytest.mark.slow   # importing jax and compiling take seconds


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    pytest.importorskip("optax")
    return jax


@pytest.fixture(scope="module")
def GradientRecorder(jax):
    from vgrad.integrations.jax import GradientRecorder

    return GradientRecorder


def flax_params(jax, sizes=(3, 5, 2)):
    """A flax-style variables dict for an MLP: {"params": {"Dense_i": {"kernel", "bias"}}}."""
    keys = jax.random.split(jax.random.PRNGKey(0), len(sizes) - 1)
    return {"params": {f"Dense_{i}": {"kernel": jax.random.normal(key, (n_in, n_out)) * 0.5,
                                      "bias": jax.numpy.full((n_out,), 0.1 * (i + 1))}
                       for i, (key, n_in, n_out) in enumerate(zip(keys, sizes, sizes[1:]))}}


def loss_fn(jax):
    def loss(variables, x, y):
        a = x
        layers = variables["params"]
        for i in range(len(layers)):
            z = a @ layers[f"Dense_{i}"]["kernel"] + layers[f"Dense_{i}"]["bias"]
            a = jax.numpy.tanh(z) if i < len(layers) - 1 else z
        return jax.numpy.mean((a - y) ** 2)

    return loss


def batch(jax, seed=1, size=4):
    kx, ky = jax.random.split(jax.random.PRNGKey(seed))
    return jax.random.normal(kx, (size, 3)), jax.random.normal(ky, (size, 2))


def expected(grads):
    """Per layer (‖∂L/∂b‖₂, ‖∂L/∂W‖₂), in numpy from the gradients themselves."""
    layers = grads["params"]
    return [norm for name in sorted(layers) for norm in (np.linalg.norm(np.asarray(layers[name]["bias"])),
                                                         np.linalg.norm(np.asarray(layers[name]["kernel"])))]


def recorded(path):
    run = read_run(path)
    return run, [(step.step, [n for pair in zip(step.speed, step.weight_grad) for n in pair]) for step in run.steps]


def test_a_flax_params_dict_gives_one_layer_per_module_with_its_bias_and_weight_norms(jax, GradientRecorder, tmp_path):
    params = flax_params(jax)
    loss = loss_fn(jax)
    gradient = jax.jit(jax.value_and_grad(loss))
    with GradientRecorder(tmp_path / "run.jsonl", params, name="mlp") as recorder:
        for step in range(3):
            value, grads = gradient(params, *batch(jax, seed=step))
            recorder.log(step, grads, loss=value)
            params = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
            if step == 2:
                last, last_loss = grads, value
    run, steps = recorded(tmp_path / "run.jsonl")
    assert run.specs[0].name == "mlp" and run.specs[0].layers == ("Dense_0", "Dense_1")
    assert [step for step, _ in steps] == [0, 1, 2]
    assert steps[2][1] == pytest.approx(expected(last), rel=1e-6)
    assert run.steps[2].cost == pytest.approx(float(last_loss))
    assert run.steps[2].neurons[0] == pytest.approx(np.asarray(last["params"]["Dense_0"]["bias"]).tolist())


def test_layers_keep_the_order_the_dicts_hold_them_in(jax, GradientRecorder, tmp_path):
    zeros = jax.numpy.zeros
    params = {"encoder": {"w": zeros((2, 2)), "b": zeros(2)}, "decoder": {"w": zeros((2, 2)), "b": zeros(2)},
              "Dense_10": {"kernel": zeros((2, 2))}, "Dense_2": {"kernel": zeros((2, 2))}}
    with GradientRecorder(tmp_path / "run.jsonl", params) as recorder:
        assert recorder.recorder.layers == ("encoder", "decoder", "Dense_10", "Dense_2")   # jax would sort them


def test_haiku_names_and_bias_free_layers(jax, GradientRecorder, tmp_path):
    grads = {"mlp/~/linear_0": {"w": jax.numpy.full((2, 3), 2.0), "b": jax.numpy.array([3.0, 4.0, 0.0])},
             "rms_norm": {"scale": jax.numpy.array([1.0, 2.0, 2.0])}, "step": jax.numpy.array(3)}
    with GradientRecorder(tmp_path / "run.jsonl", grads) as recorder:
        recorder.log(0, grads)
    run, steps = recorded(tmp_path / "run.jsonl")
    assert run.specs[0].layers == ("mlp/~/linear_0", "rms_norm")   # the integer leaf is not a layer
    assert steps[0][1] == pytest.approx([5.0, np.sqrt(24.0), None, 3.0])
    assert run.steps[0].neurons == ((3.0, 4.0, 0.0), ())


def test_a_mostly_bias_free_model_opens_on_the_weight_lens(jax, GradientRecorder, tmp_path):
    import inspect

    from vgrad.core.watch import Recorder

    if "lens" not in inspect.signature(Recorder).parameters:
        pytest.skip("this Recorder does not take lens= yet (run format 3)")
    zeros = jax.numpy.zeros
    llama = {f"layer_{i}": {"kernel": zeros((2, 2))} for i in range(3)} | {"out": {"kernel": zeros((2, 2)),
                                                                                    "bias": zeros(2)}}
    with GradientRecorder(tmp_path / "llama.jsonl", llama):
        pass
    with GradientRecorder(tmp_path / "mlp.jsonl", flax_params(jax)):
        pass
    assert read_run(tmp_path / "llama.jsonl").header["nets"][0]["lens"] == "weight"
    assert read_run(tmp_path / "mlp.jsonl").header["nets"][0]["lens"] == "bias"


def test_every_keeps_every_nth_step_and_a_changed_structure_is_refused(jax, GradientRecorder, tmp_path):
    params = flax_params(jax)
    with GradientRecorder(tmp_path / "run.jsonl", params, every=2) as recorder:
        for step in range(5):
            recorder.log(step, params)
        with pytest.raises(InputError, match="structure"):
            recorder.log(6, {"params": {"Dense_0": params["params"]["Dense_0"]}})
    assert [step for step, _ in recorded(tmp_path / "run.jsonl")[1]] == [0, 2, 4]


def test_gradients_without_the_params_collection_match_the_variables_dict(jax, GradientRecorder, tmp_path):
    params = flax_params(jax)
    with GradientRecorder(tmp_path / "run.jsonl", params) as recorder:
        recorder.log(0, params["params"])
    assert recorded(tmp_path / "run.jsonl")[1][0][1] == pytest.approx(expected(params), rel=1e-6)


def test_bad_arguments_are_refused_before_a_file_is_made(jax, GradientRecorder, tmp_path):
    with pytest.raises(InputError, match="every"):
        GradientRecorder(tmp_path / "run.jsonl", flax_params(jax), every=0)
    with pytest.raises(InputError, match="no floating-point array"):
        GradientRecorder(tmp_path / "run.jsonl", {"step": jax.numpy.array(1)})
    assert not (tmp_path / "run.jsonl").exists()


def test_log_inside_jit_says_to_use_the_transformation(jax, GradientRecorder, tmp_path):
    params = flax_params(jax)
    with GradientRecorder(tmp_path / "run.jsonl", params) as recorder:
        with pytest.raises(InputError, match="inside jit.*transformation"):
            jax.jit(lambda grads: recorder.log(0, grads))(params)


def test_as_the_first_link_of_an_optax_chain_it_records_inside_jit(jax, GradientRecorder, tmp_path):
    import optax

    params, loss = flax_params(jax), loss_fn(jax)
    recorder = GradientRecorder(tmp_path / "run.jsonl", params)
    optimizer = optax.chain(recorder.transformation(), optax.sgd(0.1))

    @jax.jit
    def train_step(params, state, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, state = optimizer.update(grads, state, params, value=value)
        return optax.apply_updates(params, updates), state, grads, value

    state, seen, losses = optimizer.init(params), [], []
    for step in range(3):
        params, state, grads, value = train_step(params, state, *batch(jax, seed=step))
        seen.append(expected(grads))
        losses.append(float(value))
    recorder.close()
    run, steps = recorded(tmp_path / "run.jsonl")
    assert [step for step, _ in steps] == [0, 1, 2]
    for (_, got), want in zip(steps, seen):
        assert got == pytest.approx(want, rel=1e-6)
    assert [step.cost for step in run.steps] == pytest.approx(losses)


def test_inside_multi_steps_it_records_once_per_real_step_the_mean_gradient(jax, GradientRecorder, tmp_path):
    import optax

    params, loss = flax_params(jax), loss_fn(jax)
    recorder = GradientRecorder(tmp_path / "run.jsonl", params)
    optimizer = optax.MultiSteps(optax.chain(recorder.transformation(), optax.sgd(0.1)), every_k_schedule=2)
    state, means = optimizer.init(params), []
    gradient, update = jax.jit(jax.grad(loss)), jax.jit(optimizer.update)
    for step in range(3):
        grads = [gradient(params, *batch(jax, seed=2 * step + k, size=2)) for k in range(2)]
        for g in grads:
            updates, state = update(g, state, params)
            params = optax.apply_updates(params, updates)
        means.append(expected(jax.tree_util.tree_map(lambda a, b: (a + b) / 2, *grads)))
    recorder.close()   # writes the last step's record once its callbacks have run
    steps = recorded(tmp_path / "run.jsonl")[1]
    assert [step for step, _ in steps] == [0, 1, 2]
    for (_, got), want in zip(steps, means):
        assert got == pytest.approx(want, rel=1e-5)
