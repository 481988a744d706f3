"""The values a training loop hands `Recorder.log`, checked and made plain on the caller's thread.

What is accepted (anything else is an InputError naming the argument, raised by `log`):
- a number: a Python int or float, a numpy scalar, or anything holding exactly one real
  number with `.item()`: a one-element numpy array, a torch tensor of any dtype (bf16, fp16)
  on any device, requiring grad or not, a JAX array. Refused: bools, strings, complex numbers,
  a list where one number is asked for, several values.
- NaN and ±inf are kept (they mark a diverging run) and written as "nan", "inf", "-inf".
- Norms and update ratios, when finite, are ≥ 0; accuracy and the saturated and dead shares,
  when finite, are fractions in [0, 1] (95 % is 0.95).
- A step is a whole number (int, numpy integer, one-element integer tensor) in 0…MAX_STEP.
- A per-layer series is a list, tuple, 1-D array or tensor of one entry per layer, each a
  number or None (not measured for that layer); neurons: per layer None or a list, array or
  tensor whose first NEURONS_SHOWN entries are kept.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable
from typing import Any

from vgrad.core.errors import InputError
from vgrad.core.record.format import MAX_STEP
from vgrad.core.record.step import NEURONS_SHOWN

Check = Callable[[float, str], float]


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _refuse(what: str, value: object, why: str) -> InputError:
    return InputError(f"{what}={_show(value)}: {why}")


def number(value: object, what: str) -> float:
    """`value` as a float, or InputError (see the module's rules)."""
    if type(value) is float:
        return value
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise _refuse(what, value, "a bool, not a number")
    if isinstance(value, numbers.Real):
        try:
            return float(value)
        except (OverflowError, TypeError, ValueError) as error:
            raise _refuse(what, value, f"not a float ({error})") from None
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        size = _size(value)
        if size != 1:
            raise _refuse(what, value, f"holds {size} values; give one number")
        try:
            inner = item()
        except Exception as error:
            raise _refuse(what, value, f"cannot read its value ({type(error).__name__}: {error})") from None
        if isinstance(inner, numbers.Real) and not hasattr(inner, "item") or type(inner) in (int, float):
            return number(inner, what)
        raise _refuse(what, value, f"holds {type(inner).__name__} {_show(inner)}, not a real number")
    raise _refuse(what, value, "not a number (give a float, or a one-element array or tensor)")


def _size(value: object) -> int | None:
    """How many values an array or tensor holds (None if it does not say)."""
    numel = getattr(value, "numel", None)
    if callable(numel):
        try:
            return int(numel())
        except Exception:
            return None
    size = getattr(value, "size", None)
    return size if isinstance(size, int) else None


def any_sign(value: float, what: str) -> float:
    return value


def norm(value: float, what: str) -> float:
    """A norm or ratio: ≥ 0 when finite."""
    if value < 0 and math.isfinite(value):
        raise _refuse(what, value, "negative; a norm or ratio is ≥ 0")
    return value


def fraction(value: float, what: str) -> float:
    """A share: in [0, 1] when finite (non-finite values are kept)."""
    if math.isfinite(value) and not 0.0 <= value <= 1.0:
        raise _refuse(what, value, "give a fraction in [0, 1] (95 % is 0.95)")
    return value


def optional(value: object, what: str, check: Check = any_sign) -> float | None:
    return None if value is None else check(number(value, what), what)


def scalar_later(value: object, what: str, check: Check = any_sign) -> object:
    """A number checked now, or a one-element real tensor left where it is (vgrad.watch reads it
    with the gradients, in one host transfer; its value is checked on the writer thread)."""
    tensor: Any = value
    is_complex = getattr(tensor, "is_complex", None)
    if callable(is_complex) and callable(getattr(tensor, "numel", None)) and hasattr(tensor, "dtype"):
        if tensor.numel() != 1:
            raise _refuse(what, value, f"holds {tensor.numel()} values; give one number")
        if is_complex() or not (tensor.dtype.is_floating_point or "int" in str(tensor.dtype)):
            raise _refuse(what, value, f"a {tensor.dtype} tensor, not a real number")
        return value
    return optional(value, what, check)


def step_number(step: object) -> int:
    """A step as readers accept it: a whole number in 0…MAX_STEP."""
    if type(step) is int and 0 <= step <= MAX_STEP:   # the common case, at once (a training loop's hot path)
        return step
    if isinstance(step, bool):
        raise _refuse("step", step, "a bool, not a step number")
    try:
        value = operator.index(step)   # type: ignore[arg-type]
    except TypeError:
        raise _refuse("step", step, "give a whole number (an int)") from None
    if not 0 <= value <= MAX_STEP:
        raise _refuse("step", value, f"outside 0…{MAX_STEP}, the steps a reader accepts")
    return value


def _listed(values: object, what: str) -> list[Any]:
    """A sequence, array or tensor as a list of its entries (one host transfer for a tensor)."""
    if isinstance(values, list):
        return values
    if isinstance(values, tuple):
        return list(values)
    if isinstance(values, (str, bytes, dict, set, frozenset, numbers.Number)):
        raise _refuse(what, values, "give one value per entry (a list, an array or a tensor)")
    if hasattr(values, "tolist") and hasattr(values, "reshape"):
        try:
            flat = values.reshape(-1).tolist()
        except Exception as error:
            raise _refuse(what, values, f"cannot read its values ({type(error).__name__}: {error})") from None
        return flat if isinstance(flat, list) else [flat]
    items: Any = values
    try:
        return list(items)
    except TypeError:
        raise _refuse(what, values, "give one value per entry (a list, an array or a tensor)") from None


def series(values: object, what: str, count: int, names: str = "layers",
           check: Check = norm) -> tuple[float | None, ...]:
    """One number or None per entry, `count` of them, each passing `check`."""
    entries = _listed(values, what)
    if len(entries) != count:
        raise InputError(f"{what}: {len(entries)} values for {count} {names}")
    if check is norm and all(type(v) is float and v >= 0.0 for v in entries):   # the common case
        return tuple(entries)
    return tuple(optional(v, f"{what}[{i}]", check) for i, v in enumerate(entries))


def heads(neurons: object, count: int) -> tuple[tuple[float, ...], ...]:
    """The first NEURONS_SHOWN entries of each layer's ∂L/∂b (empty where not given)."""
    if neurons is None:
        return ((),) * count
    if isinstance(neurons, (list, tuple)):
        layers = list(neurons)
    elif hasattr(neurons, "tolist") and getattr(neurons, "ndim", 1) >= 1 and not isinstance(neurons, str):
        layers = list(neurons)   # type: ignore[call-overload]   # rows of a 2-D array or tensor
    else:
        raise _refuse("neurons", neurons, "give one list, array or tensor (or None) per layer")
    if len(layers) != count:
        raise InputError(f"neurons: {len(layers)} layers given for {count} layers")
    return tuple(_head(layer, f"neurons[{i}]") for i, layer in enumerate(layers))


def _head(layer: object, what: str) -> tuple[float, ...]:
    if layer is None:
        return ()
    if isinstance(layer, (list, tuple)):
        entries = list(layer[:NEURONS_SHOWN])
    elif hasattr(layer, "reshape") and hasattr(layer, "tolist"):
        try:
            entries = layer.reshape(-1)[:NEURONS_SHOWN].tolist()
        except Exception as error:
            raise _refuse(what, layer, f"cannot read its values ({type(error).__name__}: {error})") from None
    else:
        entries = _listed(layer, what)[:NEURONS_SHOWN]
    return tuple(number(v, f"{what}[{j}]") for j, v in enumerate(entries))
