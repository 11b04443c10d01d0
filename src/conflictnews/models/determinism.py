"""Thread settings that make a fit reproducible on any machine, and their record in each result.

Why: the summation order of a multithreaded BLAS reduction depends on the number of threads, and
L-BFGS follows the rounding of its dot products. On release 0.2.0 the stance model
`tfidf_logreg_markers` stops after 126 iterations with 1 OpenBLAS thread, 133 with 2, 136 with 3,
131 with 4 and 107 with 8; the decision margin of its closest test row
(`5afdfd2f2664a8a9-s011-823b6041bb-3137ff29bc`, NONE vs OPPOSES) is +0.031, +0.042, -0.014,
-0.029 and +0.131: with 3 or 4 threads it flips to OPPOSES and F_avg drops from 0.633 to 0.606.
OpenBLAS starts one thread per visible core, so the result depended on the machine.

So every fit and predict runs with BLAS and OpenMP pinned (`threadpoolctl`) to `PINNED_THREADS`,
whatever the core count; torch (neural baselines) runs with its configured thread count and
`torch.use_deterministic_algorithms(True)`. One thread costs nothing here: the classical models
are sparse and small (the stance fit takes 6 s with 1 thread, 10 s with 2).

The CPU's instruction set mattered too: OpenBLAS picks its kernels for the CPU (SkylakeX on an
AVX-512 Xeon, Haswell on an AMD EPYC), and the kernels round differently. `conflictnews` pins the
kernel family on import (`conflictnews.PINNED_OPENBLAS_CORETYPE`, any x86-64 CPU with AVX2); the
timings file records the kernels a run used. torch's own kernels (oneDNN, MKL) still follow the CPU,
so a MiniLM rerun is exact on the CPU it was trained on.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict

# Threads for BLAS (OpenBLAS, MKL) and OpenMP (scikit-learn's Cython loops) during fit and predict.
PINNED_THREADS = 1


class ThreadSettings(BaseModel):
    """The thread settings a result was produced with (None: not pinned, the machine's default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    blas_threads: int | None = PINNED_THREADS
    openmp_threads: int | None = PINNED_THREADS
    torch_threads: int | None = None  # neural baselines: torch intra-op threads
    torch_deterministic: bool | None = None  # neural baselines: torch.use_deterministic_algorithms


@contextmanager
def pinned_threads(settings: ThreadSettings) -> Iterator[None]:
    """BLAS and OpenMP thread pools limited as `settings` says (restored on exit)."""
    from threadpoolctl import threadpool_limits

    with (
        threadpool_limits(limits=settings.blas_threads, user_api="blas"),
        threadpool_limits(limits=settings.openmp_threads, user_api="openmp"),
    ):
        yield


@contextmanager
def deterministic_torch(threads: int) -> Iterator[None]:
    """torch with `threads` intra-op threads and deterministic algorithms only (restored on exit).

    The CPU kernels a MiniLM fine-tune uses have deterministic implementations, so this raises
    nowhere today; it makes any future nondeterministic op an error instead of a silent drift.
    """
    import torch

    previous_threads = torch.get_num_threads()
    previous_mode = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous_mode)
        torch.set_num_threads(previous_threads)


def machine_threads() -> dict[str, Any]:
    """What this machine offers (for the timings file: it varies by machine, the scores must not)."""
    from threadpoolctl import threadpool_info

    pools = [
        {
            key: pool.get(key)
            for key in ("user_api", "internal_api", "version", "architecture", "num_threads")
            if pool.get(key) is not None
        }
        for pool in threadpool_info()
    ]
    return {"cpu_count": os.cpu_count(), "threadpools": pools}
