"""Small inputs that used to exhaust time or memory: wall time and peak memory of `reconciler
validate` (the real CLI, in a subprocess) on each, for the sizes given.

    .venv/bin/python benchmarks/limits.py            # 2,000 and 20,000 people, 1,000 aliases
    .venv/bin/python benchmarks/limits.py 5000 300   # other sizes: people, aliases

What each case is:
- manager chain: N people, each the manager of the next (no loop): the loop check walked every
  chain anew (cubic);
- manager loop: the same chain closed into one loop: every person on it is reported;
- one name: N people named 张伟: address numbering probed zhangwei, zhangwei2, ... from the start
  for each newcomer (quadratic);
- aliases: a 1 MB string anchored once and aliased A times in one 1 MB file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "tests" / "example" / "org"
CLI = Path(sys.executable).parent / "reconciler"


def people(size: int, manager: str) -> str:
    first = 100_000
    lines = []
    for n in range(size):
        line = f"- {{id: E{first + n}, given_name: 伟, family_name: 张, department: sales"
        if manager == "chain" and n:
            line += f", manager: E{first + n - 1}"
        elif manager == "loop":
            line += f", manager: E{first + (n + 1) % size}"
        lines.append(line + "}\n")
    return "".join(lines)


def aliases(count: int) -> str:
    return f"- &big {'x' * 1_000_000}\n" + "- *big\n" * count


def run(label: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        org = Path(tmp) / "org"
        shutil.copytree(EXAMPLE, org)
        (org / "users" / "case.yaml").write_text(text, encoding="utf-8")
        started = time.perf_counter()
        # GNU time prints the peak resident memory (KiB) of this one run as the last line of stderr.
        result = subprocess.run(["/usr/bin/time", "-f", "%M", str(CLI), "--org", str(org), "validate"],
                                capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        *said, peak = result.stderr.strip().splitlines() or ["0"]
        first = next((line for line in said if line.strip()), "")
        print(f"{label:<34} {seconds:8.2f} s {int(peak) / 1024:8.0f} MiB  exit {result.returncode}  {first[:100]}",
              flush=True)


def main(argv: list[str]) -> None:
    sizes = [int(argv[0])] if argv else [2_000, 20_000]
    alias_counts = [int(argv[1])] if len(argv) > 1 else [1_000]
    for size in sizes:
        run(f"manager chain of {size:,}", people(size, "chain"))
        run(f"manager loop of {size:,}", people(size, "loop"))
        run(f"{size:,} people named 张伟", people(size, "none"))
    for count in alias_counts:
        run(f"1 MB string aliased {count:,} times", aliases(count))


if __name__ == "__main__":
    main(sys.argv[1:])
