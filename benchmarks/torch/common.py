"""Import this before torch. Shared timing helper for the PyTorch peers: warm-up, then the best of several
batches of repetitions, timed with time.perf_counter. Prints `name microseconds` lines
that benchmarks/run.sh and the .NET --compare mode parse."""
import argparse
import os
import sys
import time

# OpenBLAS (pthreads) and OpenMP size their pools when torch is loaded: pin them to --threads
# first, or they oversubscribe the 2 shared cores (a 2-thread MLP step went from 2 ms to 36-150 ms).
_n = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = _n

import torch  # noqa: E402


def args(extra=None):
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="fewer repetitions")
    if extra:
        extra(p)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(a.threads)
    return a


def bench(name, fn, min_time=0.05, batches=7, quick=False):
    """Best-batch time per call of fn in microseconds; each batch runs at least min_time seconds."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < (0.2 if quick else 0.5):
        fn()
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        dt = time.perf_counter() - t0
        if dt >= (min_time / 4 if quick else min_time):
            break
        reps *= 2
    times = []
    for _ in range(5 if quick else batches):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        times.append((time.perf_counter() - t0) / reps)
    us = min(times) * 1e6  # best batch: the machine is shared
    print(f"{name} {us:.3f}", flush=True)
    return us
