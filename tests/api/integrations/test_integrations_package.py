"""vgrad.integrations loads without the frameworks; each integration names its extra when its
framework is missing; what the callbacks share: which process watches, which options they take."""

import importlib
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

FRAMEWORKS = {"lightning": "lightning", "transformers": "transformers", "jax": "jax"}


def test_the_package_imports_none_of_the_frameworks():
    code = "import vgrad.integrations, json, sys; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout.splitlines()[-1])}
    assert loaded & {"lightning", "pytorch_lightning", "transformers", "accelerate", "jax", "optax", "torch"} == set()


@pytest.mark.parametrize("extra", sorted(FRAMEWORKS))
def test_without_its_framework_an_integration_says_which_extra_to_install(extra, monkeypatch):
    monkeypatch.setitem(sys.modules, FRAMEWORKS[extra], None)   # as if not installed
    monkeypatch.delitem(sys.modules, f"vgrad.integrations.{extra}", raising=False)
    with pytest.raises(ImportError) as raised:
        importlib.import_module(f"vgrad.integrations.{extra}")
    assert str(raised.value) == f'vgrad.integrations.{extra} needs {FRAMEWORKS[extra]}: pip install "vgrad[{extra}]"'


def test_the_callbacks_refuse_an_optimizer_for_the_watcher():
    from vgrad.core.errors import InputError
    from vgrad.integrations import watch_options

    assert watch_options("cb", {"every": 2, "activations": True}) == {"every": 2, "activations": True}
    with pytest.raises(InputError, match="cb: leave out optimizer="):
        watch_options("cb", {"optimizer": object()})


def test_rank_zero_watches_and_every_rank_does_when_the_parameters_are_sharded():
    from vgrad.integrations import watches_here

    class Model:   # what watches_here reads of a torch module: its parameters
        def __init__(self, *parameters):
            self.parameters = lambda: iter(parameters)

    plain, shard = object(), SimpleNamespace(to_local=lambda: None)   # FSDP2's DTensor parameters have to_local
    assert watches_here(Model(plain), rank_zero=True) and not watches_here(Model(plain), rank_zero=False)
    assert watches_here(Model(plain, shard), rank_zero=False)
