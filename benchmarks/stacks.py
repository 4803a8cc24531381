"""Where the compiled kernel spends its time: stack samples of a run, taken with gdb.

Usage:  python benchmarks/stacks.py [--scenario metro] [--duration 60] [--samples 80]

numba's code is compiled at run time, so ``perf`` sees no symbols in it; LLVM registers every
function it loads with gdb's JIT interface, so gdb does. This starts the scenario in a child
process, waits for its slot loop to start, attaches gdb ``--samples`` times (a few tenths of a
second apart; each attach stops the run for a moment) and prints how many samples fell in each
kernel function, innermost first (a function LLVM inlined counts in its caller). A sample
profile: +-sqrt(n) samples per line. Needs gdb (Debian's package).
"""

from __future__ import annotations

import argparse
import collections
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys, airan
from airan.engine import Engine
sc = airan.load_scenario(sys.argv[1])
engine = Engine(sc, duration_s=float(sys.argv[2]))
print("ready", flush=True)
engine.run()
"""
# numba's mangled names: _ZN5airan6engine6kernel12update_loadsB4v198B38...: length-prefixed parts
_MANGLED = re.compile(r" in (_ZN\S+)")


def _demangle(symbol: str) -> str:
    parts, i = [], 3
    while i < len(symbol) and symbol[i].isdigit():
        j = i
        while symbol[j].isdigit():
            j += 1
        n = int(symbol[i:j])
        parts.append(symbol[j:j + n])
        i = j + n
    return ".".join(parts[-2:]) or symbol[:40]


def sample(pid: int) -> list[str]:
    """The airan frames of one stack sample, innermost first."""
    out = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "bt 16"],
                         capture_output=True, text=True, timeout=60).stdout
    return [_demangle(m.group(1)) for line in out.splitlines() if line.startswith("#")
            for m in [_MANGLED.search(line)] if m]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="metro")
    p.add_argument("--duration", type=float, default=60.0)
    p.add_argument("--samples", type=int, default=80)
    args = p.parse_args()
    if shutil.which("gdb") is None:
        sys.exit("gdb is not installed (apt-get install gdb)")
    child = subprocess.Popen([sys.executable, "-c", CHILD, args.scenario, str(args.duration)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout is not None
    child.stdout.readline()  # "ready": the world is built
    time.sleep(2.0)  # past the first slots
    innermost: collections.Counter[str] = collections.Counter()
    taken = 0
    try:
        for _ in range(args.samples):
            if child.poll() is not None:
                break
            frames = sample(child.pid)
            innermost[frames[0] if frames else "(outside the kernel)"] += 1
            taken += 1
            time.sleep(0.3)
    finally:
        child.kill()
    print(f"{args.scenario}, {taken} samples: innermost compiled function (inlined ones count "
          "in their caller)")
    for name, n in innermost.most_common():
        print(f"{n:5d}  {n / taken:6.1%}  {name}")


if __name__ == "__main__":
    main()
