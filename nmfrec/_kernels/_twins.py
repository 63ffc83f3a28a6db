"""Serial twins of the parallel kernels, for problems too small for threads to pay.

Compiling a kernel with ``parallel=True`` takes about twice as long as compiling the
same function without threads (numba lowers each ``prange`` loop into a separate
threaded function), and on small problems the threads save little: on MovieLens 100K a
default fit takes about as long on one thread as on two. A process that fits small
data therefore runs, and compiles, only the serial twins (:func:`for_size`), and a
first fit after installing waits for half the compilation; large problems run the
parallel kernels. Both compute the same numbers: every kernel gives each row to one
loop iteration and fixes its order of operations, so the results do not depend on the
thread count (``prange`` is ``range`` in a serial twin).

A twin is the kernel's Python function compiled under its own name (``<name>_serial``),
so numba's on-disk cache keeps the two apart.
"""

from numba import njit

#: Units of work (stored ratings of a sweep, pairs scored, scores scanned) below which
#: :func:`for_size` picks the serial twin.
SERIAL_BELOW = 250_000

_TWINS = {}


def serial(kernel):
    """The serial twin of the parallel kernel ``kernel`` (made once, compiled on first call)."""
    twin = _TWINS.get(kernel)
    if twin is None:
        f = kernel.py_func
        g = type(f)(f.__code__, f.__globals__, f.__name__ + "_serial", f.__defaults__,
                    f.__closure__)
        g.__qualname__ = f.__qualname__ + "_serial"
        g.__module__ = f.__module__
        g.__doc__ = f.__doc__
        options = {k: v for k, v in kernel.targetoptions.items()
                   if k not in ("parallel", "nopython")}
        twin = _TWINS[kernel] = njit(cache=True, **options)(g)
    return twin


def for_size(kernel, work):
    """``kernel`` for ``work`` units of work: its serial twin below :data:`SERIAL_BELOW`."""
    return serial(kernel) if work < SERIAL_BELOW else kernel
