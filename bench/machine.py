"""What machine a benchmark ran on: figures differ by CPU, so every bench reports it.

``machine()`` is the CPU model (from /proc/cpuinfo, else lscpu), the number of
CPUs, the 1-minute load average, and the CPU name and features numba's LLVM
compiles for (``llvmlite.binding.get_host_cpu_name``), since the same interest
code measured 12x cKDTree on one CPU and 7x on another.
"""

from __future__ import annotations

import os
import platform
import subprocess
from typing import Any


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numba_target() -> dict[str, Any]:
    """The CPU numba compiles for, and the vector features it may use."""
    try:
        from llvmlite import binding
    except ImportError:
        return {}
    features = binding.get_host_cpu_features()
    wanted = ("avx2", "avx512f", "fma", "sse4.2", "neon")
    return {
        "cpu": binding.get_host_cpu_name(),
        "features": sorted(f for f in wanted if features.get(f)),
    }


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "numba_target": numba_target(),
        "python": platform.python_version(),
    }
