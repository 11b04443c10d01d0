"""conflictnews: an annotated corpus of conflict news and an NLP benchmark built on it."""

import os

from conflictnews.cpu import cpu_flags, is_x86_64

__version__ = "0.1.0"

# The OpenBLAS kernels every fit runs with, on any x86-64 CPU with AVX2 and FMA. OpenBLAS picks
# kernels for the CPU it finds (SkylakeX on an AVX-512 Intel Xeon, Haswell on an AMD EPYC), and
# the kernels round differently: L-BFGS follows the rounding, and the stance model
# tfidf_logreg_markers trained on the two gave 28 different test predictions of 27,930 (F_avg
# 0.337 vs 0.342). Pinned to one kernel family, the classical results are the same on both. Set
# here, before numpy or scipy load OpenBLAS; an OPENBLAS_CORETYPE already set wins.
PINNED_OPENBLAS_CORETYPE = "Haswell"


def _pin_openblas_kernels() -> None:
    if "OPENBLAS_CORETYPE" in os.environ or not is_x86_64():
        return
    if {"avx2", "fma"} <= cpu_flags():  # the Haswell kernels need both
        os.environ["OPENBLAS_CORETYPE"] = PINNED_OPENBLAS_CORETYPE


_pin_openblas_kernels()
