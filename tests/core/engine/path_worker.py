"""Run in a subprocess by test_paths.py with numba compiling for one SIMD path: checks the
path's kernels and prints one JSON line. `--arm` also compiles every kernel's LLVM IR for
aarch64 (needs a fresh NUMBA_CACHE_DIR: numba keeps no IR for cached code).
`--compile-only FILE` runs nothing: it compiles the kernels for the signatures pickled in FILE
(a path this host cannot run, such as AVX-512 on an AVX2 host) and counts those whose machine
code uses the path's widest registers."""

import json
import pickle
import re
import sys
from pathlib import Path

import llvmlite.binding as llvm
import numpy as np
from numba.core.registry import CPUDispatcher

from vgrad.core.config import Config
from vgrad.core.data import Dataset
from vgrad.core.engine import blas, jit, kernels
from vgrad.core.engine.net import activation_code, cost_code, init_params, make_layout, reference_backward
from vgrad.core.engine.simd import panels, products, sparse, target, thin_products
from vgrad.core.engine.simd.lanes import LANES
from vgrad.core.engine.structs import Hyper, Net, make_buffers
from vgrad.core.spec import parse_net
from vgrad.core.train.trainer import Trainer

ARM_CPUS = ("generic", "apple-m1", "neoverse-n1")
DENSITY = sparse.SPARSE_DENSITY


def dataset(rows=60, inputs=40, classes=5, zeros=0.0):
    """Random images whose first and last five pixels are zero everywhere (left out of the panels),
    and of the others a share `zeros` at random (above 1 − SPARSE_DENSITY: a compressed probe set)."""
    rng = np.random.default_rng(0)
    x = rng.random((rows, inputs)).astype(np.float32)
    if zeros:
        x[rng.random(x.shape) < zeros] = 0.0
    x[:, :5] = x[:, -5:] = 0.0
    y = rng.integers(0, classes, rows)
    return Dataset(name="paths", train_x=x, train_y=y, test_x=x, test_y=y, probe_x=x, probe_y=y, n_classes=classes)


def thin_against_blas(text, dtype, batch_size=7):
    """Largest |difference| of the weights after ten SGD batches on the thin kernels and on BLAS."""
    spec = parse_net(text)
    layout = make_layout(spec)
    rng = np.random.default_rng(5)
    n = 10 * batch_size - 1
    x = rng.random((n, spec.sizes[0])).astype(np.float32)
    y = np.eye(spec.sizes[-1], dtype=dtype)[rng.integers(0, spec.sizes[-1], n)]
    order = rng.permutation(n).astype(np.int64)
    results = []
    for thin in (False, True):
        params = init_params(spec, np.random.default_rng(0), dtype=dtype)
        net = Net(params, layout.table, activation_code(spec), cost_code(spec))
        buffers = make_buffers(layout, batch_size, batch_size, dtype, thin=thin)
        kernels.sgd_steps(net, buffers, Hyper(0.5, 5.0, 0.0, n, batch_size), x, y, order, 0, 10)
        results.append(params.astype(np.float64))
    return float(np.abs(results[1] - results[0]).max())


def panels_against_reference(data, dtype):
    """Largest |difference| between the probe gradient on the packed panels and the numpy reference."""
    trainer = Trainer(parse_net("40-12-12-5"), data, Config(mode="speed", dtype=dtype))
    assert trainer.panels.x_panels.size > 0
    trainer.gradient()
    reference, _ = reference_backward(trainer.spec, trainer.layout, trainer.params.astype(np.float64),
                                      trainer.probe_x.astype(np.float64), trainer.probe_y.astype(np.float64))
    return float(np.abs(trainer.grads - reference).max())


def sparse_dataset():
    return dataset(zeros=0.8)


def compressed_against_packed(dtype):
    """Whether the probe gradient on the compressed probe set has the packed one's bits."""
    from vgrad.core.train import trainer as training

    data, results = sparse_dataset(), []
    for most_dense in (1.0, 0.0):
        sparse.SPARSE_DENSITY, training._SHARED = most_dense, type(training._SHARED)()
        trainer = Trainer(parse_net("40-12-12-5"), data, Config(mode="speed", dtype=dtype))
        assert trainer.panels.sparse == (most_dense == 1.0)
        trainer.gradient()
        results.append(trainer.grads.copy())
    sparse.SPARSE_DENSITY, training._SHARED = DENSITY, type(training._SHARED)()
    return bool(np.array_equal(*results))


def fifty_epochs(data, mode):
    """The parameters after 50 epochs (speed: full batch on the panels; sgd: batches of 10 on
    the thin products), as floats."""
    config = Config(mode=mode, epochs=50, batch_size=10)
    trainer = Trainer(parse_net("40-12-12-12-5"), data, config)
    for _ in range(config.n_epochs):
        if mode == "speed":
            trainer.probe()
            trainer.full_batch_step()
        else:
            order = trainer.rng.permutation(trainer.n_train).astype(np.int64)
            trainer.sgd_batches(order, 0, -(-trainer.n_train // config.batch_size))
    assert np.isfinite(trainer.params).all()
    return trainer.params.tolist()


# numba's runtime (its inlined reference-count decrement) is the one x86 construct in the IR: the
# x86 backend's IR passes turn `atomicrmw sub` then a test for zero into this intrinsic. Put back
# as the generic IR it came from; any other llvm.x86 call fails the check.
_DECREF = re.compile(r"(%[\w.]+) = tail call i8 @llvm\.x86\.atomic\.sub\.cc\.i64\(ptr nonnull (%[\w.]+), "
                     r"i64 1, i32 4\)")


def _generic_decref(match):
    value, pointer = match.groups()
    name = "%decref" + value[1:].replace(".", "_")
    return (f"{name}.old = atomicrmw sub ptr {pointer}, i64 1 seq_cst\n"
            f"  {name}.zero = icmp eq i64 {name}.old, 1\n  {value} = zext i1 {name}.zero to i8")


def arm_compiles():
    """{cpu: number of kernel modules compiled}: every compiled kernel's IR through aarch64's
    target machine (compile only: an object file is emitted, nothing runs)."""
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    modules = []
    for module in (kernels, products, panels, sparse, thin_products, blas):
        for value in vars(module).values():
            if isinstance(value, CPUDispatcher):
                modules += [value.inspect_llvm(sig) for sig in value.signatures]
    triple = "aarch64-unknown-linux-gnu"
    counts = {}
    for cpu in ARM_CPUS:
        machine = llvm.Target.from_triple(triple).create_target_machine(cpu=cpu, opt=2)
        for text in modules:
            text = _DECREF.sub(_generic_decref, text)
            text = re.sub(r"declare .*@llvm\.x86\.atomic\.sub\.cc\.i64\(.*\n", "", text)
            assert "llvm.x86" not in text, re.findall(r"llvm\.x86[\w.]*", text)
            module = llvm.parse_assembly(text)
            module.triple, module.data_layout = triple, str(machine.target_data)
            module.verify()
            assert machine.emit_object(module)
        counts[cpu] = len(modules)
    return counts


def compile_only(signatures_file: str) -> dict:
    """Compile (never call) each kernel for the pickled {name: [signature, …]}; machine code only."""
    wanted = pickle.loads(Path(signatures_file).read_bytes())
    register = {"avx512": "%zmm", "avx2": "%ymm"}.get(target.PATH or "", "%xmm")
    compiled, narrow = 0, []
    for name, dispatcher in jit.engine_dispatchers().items():
        for signature in wanted.get(name, ()):
            dispatcher.compile(signature)
            compiled += 1
            if register not in dispatcher.inspect_asm(signature):
                narrow.append(name)
    return {"path": target.PATH, "compiled": compiled, "narrow": narrow}


def main():
    if "--compile-only" in sys.argv:
        print(json.dumps(compile_only(sys.argv[sys.argv.index("--compile-only") + 1])))
        return
    data = dataset()
    dtypes = ("float64",) if "--arm" in sys.argv else ("float64", "float32")  # --arm compiles cold: keep it short
    speed, sgd = fifty_epochs(data, "speed"), fifty_epochs(data, "sgd")
    result = {
        "path": target.PATH,
        "tile_rows": panels.TILE_ROWS,
        "lanes": {str(dtype): lanes for dtype, lanes in LANES.items()},
        "thin_vs_blas": {dtype: max(thin_against_blas(text, dtype) for text in
                                    ("40-12-12-5", "20-7-7-3:relu:residual:he", "30-11-4:tanh:quadratic"))
                         for dtype in dtypes},
        "panels_vs_reference": {dtype: panels_against_reference(data, dtype) for dtype in dtypes},
        "compressed_as_packed": {dtype: compressed_against_packed(dtype) for dtype in dtypes},
        "speed_params": speed,
        "sparse_speed_params": fifty_epochs(sparse_dataset(), "speed"),
        "sgd_params": sgd,
        "repeat_identical": fifty_epochs(data, "speed") == speed and fifty_epochs(data, "sgd") == sgd,
    }
    if "--arm" in sys.argv:
        result["arm"] = arm_compiles()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
