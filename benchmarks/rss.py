"""Peak resident memory of this process, per step: what the machine had to give, not what
tracemalloc sees (Python's allocations only, several times less than the real figure)."""

from __future__ import annotations

import resource
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak() -> bool:
    """Start a new peak from the current resident size (Linux: writing 5 to clear_refs resets
    VmHWM); False where that cannot be done (the peak is then the process's since its start)."""
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def peak_mib() -> float:
    """The peak resident size since the last reset_peak (VmHWM), else since the process began."""
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
