"""conflictnews: an annotated corpus of conflict news and an NLP benchmark built on it."""

import os
import platform

__version__ = "0.1.0"

# The OpenBLAS kernels every fit runs with, on any x86-64 CPU with AVX2 and FMA. OpenBLAS picks
# kernels for the CPU it finds (SkylakeX on an AVX-512 Intel Xeon, Haswell on an AMD EPYC), and
# the kernels round differently: L-BFGS follows the rounding, and the stance model
# tfidf_logreg_markers trained on the two gave 28 different test predictions of 27,930 (F_avg
# 0.337 vs 0.342). Pinned to one kernel family, the classical results are the same on both. Set
# here, before numpy or scipy load OpenBLAS; an OPENBLAS_CORETYPE already set wins.
PINNED_OPENBLAS_CORETYPE = "Haswell"


def _pin_openblas_kernels() -> None:
    if "OPENBLAS_CORETYPE" in os.environ or platform.machine() not in ("x86_64", "AMD64"):
        return
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), [])
    except OSError:
        return
    if {"avx2", "fma"} <= set(flags):  # the Haswell kernels need both
        os.environ["OPENBLAS_CORETYPE"] = PINNED_OPENBLAS_CORETYPE


_pin_openblas_kernels()
