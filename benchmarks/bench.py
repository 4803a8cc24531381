"""airan throughput benchmark: simulated requests per wall second, peak memory, and airan vs SimPy.

Usage:  python benchmarks/bench.py [--duration 60] [--only city,metro] [--simpy-duration 20]

Each scenario runs in a fresh process (so its peak memory is its own), after one short warm-up
run that loads the compiled kernel from numba's cache. "end to end" includes building the world
(radio precomputation); "engine" is the slot loop alone; neither counts Python's imports and
loading the kernel (~3 s, which `airan run` pays). Peak memory is the process's high-water RSS,
the warm-up's included: in a fresh clone the warm-up compiles the kernel, which raises it (city:
0.96 GB against 0.32 with numba's cache warm): run it twice. The SimPy comparison runs the
multi-stage pipeline of tests/test_validation_simpy.py in both simulators (the median of several
runs of each), each keeping every request's result (airan's trace, SimPy's arrays of
latencies), and prints the ratio.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


RUNS_AIRAN, RUNS_SIMPY = 7, 3  # the SimPy comparison: median of this many runs of each
MOBILE_SUFFIX = "-mobile"  # e.g. city-mobile: every fleet on a Manhattan grid at 8-14 m/s


def _scenario(name: str):  # noqa: ANN202
    import airan
    from airan.scenario import scenario_from_dict

    if not name.endswith(MOBILE_SUFFIX):
        return airan.load_scenario(name)
    d = airan.load_scenario(name[: -len(MOBILE_SUFFIX)]).model_dump(mode="json")
    for f in d["fleets"]:
        f["mobility"] = {"model": "manhattan", "block_m": 250.0, "speed_mps": [8.0, 14.0]}
    d["name"] = name
    return scenario_from_dict(d)


def one(name: str, duration_s: float) -> dict:
    from airan.engine import Engine

    scenario = _scenario(name)
    Engine(scenario, duration_s=0.01).run()  # warm-up: load the compiled kernel
    t0 = time.perf_counter()
    engine = Engine(scenario, duration_s=duration_s)
    t_build = time.perf_counter() - t0
    result = engine.run()
    t_total = time.perf_counter() - t0
    created = result.summary["requests"]["created"]
    work = engine.work  # exact per request, where wall time varies with the host's load
    return {
        "scenario": name,
        "devices": result.summary["devices"],
        "simulated_s": duration_s,
        "requests": created,
        "build_s": round(t_build, 3),
        "engine_s": round(engine.wall_s, 3),
        "end_to_end_s": round(t_total, 3),
        "requests_per_wall_s": round(created / t_total),
        "engine_requests_per_wall_s": round(created / engine.wall_s),
        # (ru_maxrss: KiB on Linux)
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9, 2),
        "per_request": {k: round(work[k] / max(created, 1), 2)
                        for k in ("ul_ue_slots", "dl_ue_slots", "events")},
    }


def simpy_vs_airan(duration_s: float) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from test_validation_simpy import (  # the independent SimPy model of the test suite
        batch_table_s,
        pipeline_scenario,
        poisson_arrivals,
        simpy_pipeline,
    )

    import airan

    # every request traced, as the SimPy model keeps every request's latency (untraced, airan
    # ran ~1.3x faster: a review)
    sc = pipeline_scenario(seed=3, duration_s=duration_s)
    airan.run(pipeline_scenario(seed=3, duration_s=0.1))  # warm-up
    runs = []  # each side's median of a few runs: one airan run lasts only ~25 ms
    for _ in range(RUNS_AIRAN):
        t0 = time.perf_counter()
        res = airan.run(sc)
        runs.append(time.perf_counter() - t0)
    t_airan = float(np.median(runs))
    n_airan = res.summary["requests"]["created"]
    table = batch_table_s(sc)
    t_arr, dev = poisson_arrivals(np.random.default_rng(3), duration_s)
    runs = []
    for _ in range(RUNS_SIMPY):
        t0 = time.perf_counter()
        simpy_pipeline(t_arr, dev, table)
        runs.append(time.perf_counter() - t0)
    t_simpy = float(np.median(runs))
    a = n_airan / t_airan
    s = len(t_arr) / t_simpy
    return {
        "simulated_s": duration_s,
        "airan_requests_per_wall_s": round(a),
        "simpy_requests_per_wall_s": round(s),
        "ratio": round(a / s, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=60.0, help="simulated seconds per scenario")
    ap.add_argument("--only", default="city,metro",
                    help="comma-separated built-in scenarios (NAME-mobile: with mobility)")
    ap.add_argument("--simpy-duration", type=float, default=20.0,
                    help="simulated seconds of the SimPy comparison (0: none)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.duration)))
        return
    print(
        f"machine: {platform.processor() or platform.machine()}, {platform.python_version()}, "
        f"numpy {np.__version__}"
    )
    rows = []
    for name in args.only.split(","):
        out = subprocess.run(
            [sys.executable, __file__, "--one", name, "--duration", str(args.duration)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row))
    if args.simpy_duration > 0:  # (0: the scenarios alone, as alternated runs want them)
        cmp = simpy_vs_airan(args.simpy_duration)
        print(json.dumps({"simpy_comparison": cmp}))


if __name__ == "__main__":
    main()
