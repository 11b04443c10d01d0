"""What the CPU offers, from /proc/cpuinfo (Linux; elsewhere nothing is known and nothing is assumed).

Imports nothing heavy: the package's __init__ reads it before numpy loads OpenBLAS.
"""

from __future__ import annotations

import platform
from functools import cache

# Instruction sets with native bfloat16 arithmetic. Without one, torch's CPU autocast emulates
# bfloat16: `predict --precision bfloat16` ran 5x slower than float32 on an AVX2-only AMD EPYC
# (3 vs 16 sentences/s, all MiniLM models), where an AMX Intel Xeon ran it 2x faster.
NATIVE_BFLOAT16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


@cache
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is absent or has none)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
            line = next((line for line in cpuinfo if line.startswith("flags")), "")
    except OSError:
        return frozenset()
    return frozenset(line.split(":", 1)[1].split()) if ":" in line else frozenset()


def is_x86_64() -> bool:
    return platform.machine() in ("x86_64", "AMD64")


def has_native_bfloat16(flags: frozenset[str]) -> bool | None:
    """Whether a CPU with these flags computes bfloat16 natively (None: flags unknown)."""
    return bool(flags & NATIVE_BFLOAT16_FLAGS) if flags else None
