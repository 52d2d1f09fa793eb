"""Fair timing: one thread, inputs prepared before the clock, best of repeats."""

import time

from threadpoolctl import threadpool_limits


def best_time(func, *args, repeats=20, warmup=2):
    """Best wall-clock seconds of ``func(*args)`` over ``repeats`` calls, single-threaded.

    BLAS (OpenBLAS/MKL through threadpoolctl) and torch are limited to one
    thread for the measurement, so a structure and its dense baseline compete
    on the same single core. The best time is the least disturbed by the rest
    of the machine.

    Examples
    --------
    >>> best_time(sum, range(1000)) > 0
    True
    """
    import torch

    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            for _ in range(warmup):
                func(*args)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                func(*args)
                times.append(time.perf_counter() - start)
    finally:
        torch.set_num_threads(torch_threads)
    return min(times)
