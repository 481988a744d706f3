"""Options every numba kernel is compiled with, and typed constants to pass between kernels."""

import numpy as np

JIT = dict(nogil=True, cache=True, fastmath=False, error_model="numpy")
INLINE = dict(inline="always", **JIT)
# Constants passed to other jitted functions as these numpy scalars are typed int64 and bool,
# not Literal[int](0) / Literal[bool](True): numba would compile a separate copy of the
# callee for every literal value (that alone cost seconds of cold compile).
I0 = np.int64(0)
YES, NO = np.bool_(True), np.bool_(False)
