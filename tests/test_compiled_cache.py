"""numba's on-disk cache of airan's compiled functions is keyed on the code they import.

numba keeps a compiled function until its own file changes, and bakes in what it reads from
other modules (a constant of radio.nr, a roofline function): a change to one of those alone
left the kernel running stale code (found by a mutation review: a mutant of the S slot's
downlink share in radio/nr.py went unseen by every kernel test while the cache was warm)."""

from __future__ import annotations

from pathlib import Path

from numba.core.registry import CPUDispatcher

from airan.compiled import import_closure, source_stamp


def _cached_dispatchers() -> list[tuple[str, CPUDispatcher]]:
    import airan.engine.kernel as kernel
    import airan.engine.state as state
    import airan.engine.world as world
    import airan.policy.builtin as builtin
    import airan.radio.shadowing as shadowing

    return [(f"{mod.__name__}.{name}", obj)
            for mod in (kernel, state, world, builtin, shadowing)
            for name, obj in vars(mod).items()
            if isinstance(obj, CPUDispatcher) and obj._cache.__class__.__name__ != "NullCache"]


def test_every_cached_function_is_stamped_with_the_code_its_file_imports() -> None:
    found = _cached_dispatchers()
    assert len(found) > 90  # the kernel's functions, the state's, the world's, the policies'
    for name, d in found:
        locator = d._cache._impl._locator
        assert locator.get_source_stamp() == f"airan-{source_stamp(locator._py_file)}", name


def test_the_kernels_stamp_covers_the_modules_whose_code_and_constants_it_compiles_in() -> None:
    import airan.engine.kernel as kernel

    root = Path(kernel.__file__).resolve().parents[1]
    closure = {p.relative_to(root).as_posix() for p in import_closure(Path(kernel.__file__))}
    assert {"engine/kernel.py", "radio/nr.py", "compute/roofline.py", "metrics/histogram.py",
            "compiled.py", "scenario/payload.py"} <= closure
    assert "cli.py" not in closure and "report/html.py" not in closure  # no recompiling for those
    # nor for the scenario's loader and the engine around the kernel (a review: the payload
    # module imported through its package took in ~50 files)
    assert "scenario/load.py" not in closure and "engine/engine.py" not in closure


def test_a_change_to_an_imported_file_changes_the_stamp_and_one_elsewhere_does_not(
        tmp_path: Path) -> None:
    pkg = tmp_path / "airan"
    (pkg / "radio").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "radio" / "__init__.py").write_text("")
    (pkg / "radio" / "nr.py").write_text("S_SLOT_DL_FRACTION = 10 / 14\n")
    (pkg / "cli.py").write_text("import airan.kernel\n")
    kernel = pkg / "kernel.py"
    kernel.write_text("from airan.radio import nr\n\ndef f():\n    from airan.metrics import h\n")
    before = source_stamp.__wrapped__(str(kernel), pkg)
    (pkg / "cli.py").write_text("import airan.kernel  # changed\n")
    assert source_stamp.__wrapped__(str(kernel), pkg) == before
    (pkg / "radio" / "nr.py").write_text("S_SLOT_DL_FRACTION = 11 / 14\n")
    assert source_stamp.__wrapped__(str(kernel), pkg) != before
    # in the same process, an import added to a file brings the file it imports in
    (pkg / "other.py").write_text("X = 1\n")
    kernel.write_text(kernel.read_text() + "from airan import other\n")
    added = source_stamp.__wrapped__(str(kernel), pkg)
    (pkg / "other.py").write_text("X = 2\n")
    assert source_stamp.__wrapped__(str(kernel), pkg) != added


def _parsed_imports(py_file: Path, root: Path) -> set[Path]:
    """What ``py_file`` imports of the package, by Python's own parser (the scan's reference)."""
    import ast

    from airan.compiled import _module_file

    names: set[str] = set()
    for node in ast.walk(ast.parse(py_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.split(".")[0] == "airan"}
        elif (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
              and node.module.split(".")[0] == "airan"):
            names |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {m.resolve() for m in (_module_file(n, root) for n in names) if m is not None}


def test_the_scan_of_imports_finds_what_pythons_parser_finds_in_every_file_of_airan() -> None:
    """The stamp's scan reads the text (a parse of every file took 0.6 s of each command's
    start); over airan's own files it finds every airan module that ``ast`` finds (one it
    missed would leave a stale kernel in the cache). One more (a docstring's line that reads
    as an import) would cost a recompile only, and fails nothing here."""
    import airan
    from airan.compiled import _imported_files

    root = Path(airan.__file__).resolve().parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 100
    for f in files:
        st = f.stat()
        scanned, parsed = set(_imported_files(f, root, st.st_mtime_ns, st.st_size)), \
            _parsed_imports(f, root)
        assert scanned >= parsed, (f, parsed - scanned)


def test_the_scan_of_imports_reads_every_form_of_import(tmp_path: Path) -> None:
    from airan.compiled import _imported_files

    pkg = tmp_path / "airan"
    (pkg / "radio").mkdir(parents=True)
    for name in ("__init__", "a", "b", "c", "d", "e", "radio/__init__", "radio/nr", "radio/x"):
        (pkg / f"{name}.py").write_text("")
    f = pkg / "user.py"
    f.write_text("import airan.a\nimport os, airan.b as bee\n"
                 "from airan.radio import (  # the NR figures (TS 38.214)\n"
                 "    nr,  # (a comment's parenthesis)\n    x as why,\n)\n"
                 "def g():\n    from airan import c, d as dee; import json\n"
                 "from airanother import e\n# from airan import e\n")
    want = {"a.py", "b.py", "radio/__init__.py", "radio/nr.py", "radio/x.py", "__init__.py",
            "c.py", "d.py"}
    assert {p.relative_to(pkg.resolve()).as_posix() for p in _imported_files(f, pkg, 0, 0)} \
        == want
    # continuations, one-line compound statements, odd spacing: what ast finds, the scan finds
    f.write_text("from airan.radio import \\\n    nr\nfrom airan \\\n    import a\n"
                 "import os, \\\n    airan.b\nif True: from airan import c\n"
                 "try: import airan.d\nexcept ImportError: pass\nfrom airan import(e)\n"
                 "from airan . radio import x\n")
    assert {p.relative_to(pkg.resolve()).as_posix() for p in _imported_files(f, pkg, 1, 0)} \
        == {p.relative_to(pkg.resolve()).as_posix() for p in _parsed_imports(f, pkg.resolve())} \
        == {"radio/__init__.py", "radio/nr.py", "__init__.py", "a.py", "b.py", "c.py", "d.py",
            "e.py", "radio/x.py"}


_AFTER_WARM_UP = """
import copy, json, sys
import airan
from airan.engine.warmup import warm_up
from airan.scenario import load_scenario, scenario_from_dict
sys.path.insert(0, {tests!r})
from test_compiled_cache import _cached_dispatchers

warm_up()
before = {{n: len(d.signatures) for n, d in _cached_dispatchers()}}
d = load_scenario("factory").model_dump(mode="json")
d["faults"] = [
    {{"kind": "site_down", "site": "on-prem", "start_s": 0.1, "end_s": 0.3}},
    {{"kind": "gpu_down", "site": "regional", "start_s": 0.1, "end_s": 0.3}},
    {{"kind": "link_down", "link": ["regional-edge", "cloud"], "start_s": 0.15, "end_s": 0.35}},
    {{"kind": "cell_down", "cell": "cell-a", "start_s": 0.2, "end_s": 0.4}},
    {{"kind": "surge", "fleet": "amr", "start_s": 0.1, "end_s": 0.2}}]
s = airan.run(scenario_from_dict(d), duration_s=0.5).summary
held = sum(f.get("affected_requests") or 0 for f in s["faults"])
for policy in ("least-loaded", "nearest-edge", "cloud", "local"):
    airan.run("factory", policy=policy, duration_s=0.2)
d = load_scenario("factory").model_dump(mode="json")
d["objective"] = "energy"  # deadline-aware through a snapshot, reading the devices' powers
airan.run(scenario_from_dict(d), duration_s=0.2)
after = {{n: len(d.signatures) for n, d in _cached_dispatchers()}}
print(json.dumps({{"held": held, "new": {{n: after[n] - before[n] for n in after
                                         if after[n] != before[n]}}}}))
"""


def test_a_run_after_the_warm_up_compiles_nothing() -> None:
    """warm_up() (before a run's clock starts) loads every compiled function a run may call:
    one it missed compiles at its first use, inside the run's ``wall_s`` and with no word of
    why (a fresh install's first fault took 11 s: 768 requests per wall second, not 36,885).
    In a fresh process: faults of every kind (a site down that held requests), every policy,
    the energy objective."""
    import json
    import subprocess
    import sys

    code = _AFTER_WARM_UP.format(tests=str(Path(__file__).parent))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["held"] > 0  # the failed site held requests: they were placed again
    assert got["new"] == {}
