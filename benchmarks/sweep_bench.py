"""Sweeps and sharded runs: speed-up from 1 to N workers, and a national run's requests / s.

    python benchmarks/sweep_bench.py                       # both parts, default sizes
    python benchmarks/sweep_bench.py --only sweep --duration 20 --seeds 4
    python benchmarks/sweep_bench.py --only shard --sites 345795 --regions 16x16 \
        --shard-duration 0.2

Every configuration runs as its own ``airan`` command in a fresh process, so each wall time is
end to end: imports, Ray's start, every run, writing the results. The sweep runs ``city`` under
2 policies x ``--seeds`` seeds: in process (``--workers 1``), then on a local Ray with 1, 2, ...
workers; the speed-up is against Ray with 1 worker and against in process. The sharded part
runs the built-in ``korea`` grown to ``--sites`` sites, cut into ``--regions``, on a local Ray
with every core, and prints simulated requests per wall second (end to end, world builds
included) and per engine second summed over shards. Speed is measured here, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWEEP = """\
name: bench
scenario: city
duration_s: {duration}
axes:
  policy: [nearest-edge, deadline-aware]
  seed: {{from: 1, count: {seeds}}}
"""


def airan(*args: str) -> tuple[float, str]:
    """Run ``airan ARGS`` in a fresh process; its wall time (s) and stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "airan.cli", *args], capture_output=True,
                          text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"airan {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall, proc.stdout


def bench_sweep(duration: float, seeds: int, workers: list[int], tmp: Path) -> None:
    spec = tmp / "bench.yaml"
    spec.write_text(SWEEP.format(duration=duration, seeds=seeds), encoding="utf-8")
    runs = 2 * seeds
    print(f"sweep: city, 2 policies x {seeds} seeds = {runs} runs of {duration:g} simulated s "
          f"({os.cpu_count()} cores)")
    airan("run", "city", "--duration", "0.1", "--no-report", "--out", str(tmp / "warm"))
    walls: dict[str, float] = {}
    rates: dict[str, float] = {}
    configs = [("in process", ["--workers", "1"], "inproc", 1)]
    configs += [(f"Ray, {w} worker{'s' * (w > 1)}", ["--workers", str(w)], f"ray{w}", w)
                for w in workers]
    for label, opts, tag, w in configs:
        out = tmp / f"sweep-{tag}"
        shutil.rmtree(out, ignore_errors=True)
        wall, _ = airan("sweep", str(spec), "--out", str(out), *opts)
        walls[tag] = wall
        # steady state: runs finished per second once the workers are up (from the times the
        # run folders' summary.json were written; the first wave of w runs starts the clock)
        done = sorted(p.stat().st_mtime for p in out.glob("runs/*/summary.json"))
        span = done[-1] - done[min(w, len(done)) - 1]
        rates[tag] = (len(done) - w) / span if span > 0 else float("nan")
        print(f"  {label:<18} end to end {wall:6.1f} s ({runs / wall:.2f} runs / s); "
              f"steady {rates[tag]:.2f} runs / s")
    for w in workers:
        if w > 1:
            tag = f"ray{w}"
            e2e = ", ".join(f"{walls[b] / walls[tag]:.2f}x vs {n}"
                            for b, n in (("ray1", "Ray 1 worker"), ("inproc", "in process"))
                            if b in walls)
            steady = ", ".join(f"{rates[tag] / rates[b]:.2f}x vs {n}"
                               for b, n in (("ray1", "Ray 1 worker"), ("inproc", "in process"))
                               if b in rates)
            print(f"  speed-up with {w} workers: end to end {e2e}; steady {steady}")


def bench_shard(sites: int | None, regions: str, duration: float, tmp: Path) -> None:
    out = tmp / "korea"
    args = ["run-sharded", "korea", "--regions", regions, "--duration", str(duration),
            "--out", str(out)]
    if sites:
        args += ["--sites", str(sites)]
    wall, _ = airan(*args)
    s = json.loads((out / "summary.json").read_text())
    n = s["requests"]["created"]
    info = s["sharding"]
    print(f"sharded korea: {info['sites']:,} sites, {s['devices']:,} devices, {info['shards']} "
          f"shards ({regions}), {duration:g} simulated s, {os.cpu_count()} cores")
    print(f"  {n:,} requests; end to end {wall:.1f} s -> {n / wall:,.0f} requests / wall s "
          f"(run {s['wall_s']:.1f} s -> {s['requests_per_wall_s']:,.0f} / s; engine "
          f"{s['cpu_wall_s']:.1f} s summed over shards -> {n / s['cpu_wall_s']:,.0f} / engine s)")
    hits = ", ".join(f"{k} {v['hit_ratio']:.3f}" for k, v in s["services"].items()
                     if v["hit_ratio"] is not None)
    print(f"  hit ratios: {hits}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["sweep", "shard"])
    ap.add_argument("--duration", type=float, default=20.0, help="sweep: simulated s per run")
    ap.add_argument("--seeds", type=int, default=4, help="sweep: seeds per policy")
    ap.add_argument("--workers", default="1,2", help="sweep: Ray worker counts to time")
    ap.add_argument("--sites", type=int, default=None, help="shard: korea sites (345795: all)")
    ap.add_argument("--regions", default="4x4", help="shard: the grid of regions")
    ap.add_argument("--shard-duration", type=float, default=2.0, help="shard: simulated s")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="airan-bench-") as d:
        tmp = Path(d)
        if a.only in (None, "sweep"):
            bench_sweep(a.duration, a.seeds, [int(w) for w in a.workers.split(",")], tmp)
        if a.only in (None, "shard"):
            bench_shard(a.sites, a.regions, a.shard_duration, tmp)


if __name__ == "__main__":
    main()
