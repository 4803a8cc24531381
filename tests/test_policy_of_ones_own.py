"""A researcher's own ``module:callable`` policy across many runs (compare, sweeps, run
folders): each run depends on its scenario and seed only, a sweep names a policy that cannot
load before anything runs, the Python API takes functions where the CLI takes names, and a
run folder's scenario.yaml says when it cannot name the function its run used."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import airan
from airan.cli import app
from airan.report import run_comparison, write_run

runner = CliRunner()

# a policy that keeps state at module level: its answer changes after 300 decisions
LEARNER = '''
import numpy as np

CALLS = [0]


def learner(snapshot, batch):
    CALLS[0] += 1
    return np.full(len(batch), 0 if CALLS[0] > 300 else 2, dtype=np.int64)


def nearest(snapshot, batch):
    return np.zeros(len(batch), dtype=np.int64)
'''


@pytest.fixture
def learner_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"airan_learner_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(LEARNER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def test_a_policys_module_state_does_not_carry_from_one_run_to_the_next(
        learner_module: str, tmp_path: Path) -> None:
    """Each run imports a ``module:callable`` policy's module afresh: a compare's seeds give
    what each seed gives alone (a review: vla met 1.0, 0.688 and 0.042 on seeds 1-3 in one
    compare, 1.0 on each alone), and the module's counter after a run is that run's own."""
    policy = f"{learner_module}:learner"
    alone = {}
    for seed in (1, 2, 3):
        alone[seed] = airan.run("factory", policy=policy, seed=seed, duration_s=1.0).summary
    calls_alone = importlib.import_module(learner_module).CALLS[0]
    cmp = run_comparison("factory", [policy], seeds=3, first_seed=1, duration_s=1.0,
                         out=tmp_path / "cmp")
    for run in cmp.data["runs"]:
        s = alone[run["seed"]]
        assert run["summary"]["services"] == json.loads(json.dumps(s["services"]))
    assert importlib.import_module(learner_module).CALLS[0] == calls_alone


# (a module:callable's long name as a figure's tick label collapsed its panels, matplotlib
# warning that the layout was not applied: the figures name the callable alone)
@pytest.mark.filterwarnings("error:constrained_layout not applied:UserWarning")
def test_the_python_api_compares_policy_functions_beside_names(
        learner_module: str, tmp_path: Path) -> None:
    """``run_comparison`` takes a policy function, as :func:`airan.run` does (it raised
    AttributeError: 'function' object has no attribute 'strip'), under its module:qualname."""
    fn = importlib.import_module(learner_module).nearest
    cmp = run_comparison("factory", [fn, "cloud"], seeds=1, duration_s=0.3,
                         out=tmp_path / "cmp")
    assert cmp.data["policies"] == [f"{learner_module}:nearest", "cloud"]
    with pytest.raises(airan.InputError, match="policies"):
        run_comparison("factory", [3.5], seeds=1, duration_s=0.3, out=tmp_path / "bad")


def test_a_sweep_names_a_policy_that_cannot_load_before_anything_runs(
        learner_module: str, tmp_path: Path) -> None:
    """A misspelt callable or a module that is not there: exit 2 naming the axis, the value
    and a close match, on a dry run too (it listed them as to do, and a run failed each and
    exited 0); read from the file, not run."""
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"scenario: factory\nduration_s: 0.3\naxes:\n  policy: "
                     f"[{learner_module}:lerner, {learner_module}:learner]\n", encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(sweep), "--dry-run", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "field 'axes.policy'" in text and "defines no such name (got 'lerner')" in text
    assert "did you mean 'learner'?" in text
    sweep.write_text("scenario: factory\naxes:\n  policy: [no_such_module_q:x]\n",
                     encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(sweep), "--dry-run"])
    assert result.exit_code == 2
    assert "cannot find policy module 'no_such_module_q'" in " ".join(result.output.split())


def test_a_run_folder_says_when_it_cannot_name_its_runs_policy_function(
        tmp_path: Path) -> None:
    """A function of a script (``__main__``) or a lambda cannot be named in a file: the run
    folder's scenario.yaml says so in its first line, and `airan run` on it warns that it runs
    the file's policy instead (it ran deadline-aware silently)."""
    import numpy as np

    def cloudish(snapshot, batch):  # (a nested function: no file names it)
        return np.full(len(batch), 2, dtype=np.int64)

    result = airan.run("factory", policy=cloudish, duration_s=0.3)
    folder = write_run(result, tmp_path / "run")
    first = (folder / "scenario.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# airan: this run's policy was the function ")
    assert "cloudish" in first and "(deadline-aware)" in first
    out = runner.invoke(app, ["run", str(folder / "scenario.yaml"), "--duration", "0.2",
                              "--no-report", "--out", str(tmp_path / "again")])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "ran the policy function" in text and "uses the file's policy" in text
    named = runner.invoke(app, ["run", str(folder / "scenario.yaml"), "--duration", "0.2",
                                "--policy", "cloud", "--no-report", "--out",
                                str(tmp_path / "named")])
    assert "ran the policy function" not in named.output
    plain = write_run(airan.run("factory", duration_s=0.2), tmp_path / "plain")
    assert not (plain / "scenario.yaml").read_text().startswith("#")


def test_a_policy_answer_of_nan_says_so_and_when() -> None:
    """A float answer with NaN (a policy's 0/0): the error says NaN, the batch's size and its
    simulated time (it said only 'dtype float64')."""
    import numpy as np

    def nan_policy(snapshot, batch):
        return np.full(len(batch), np.nan)

    with pytest.raises(airan.InputError) as exc:
        airan.run("factory", policy=nan_policy, duration_s=0.2)
    text = str(exc.value)
    assert "dtype float64 (with NaN) for the batch of" in text and " at t = 0.0" in text


def test_a_policy_that_places_requests_on_a_down_site_is_cautioned() -> None:
    """A policy of one's own that always answers site 0 while that site is down: each request
    comes back and is placed again, over and over (a review: 92,811 give-backs and detect's
    p95 ul_transport 943 ms, and nothing said the policy chose a down site). The fault's row
    counts the placements and a caution names the site; deadline-aware places none there."""
    import numpy as np

    from airan.report.cautions import cautions

    def always_first(snapshot, batch):
        return np.zeros(len(batch), dtype=np.int64)

    d = airan.load_scenario("factory").model_dump(mode="json", exclude_unset=True)
    d["faults"] = [{"kind": "site_down", "site": "on-prem", "start_s": 0.2, "end_s": 0.4}]
    from airan.scenario import scenario_from_dict

    sc = scenario_from_dict(d)
    s = airan.run(sc, policy=always_first, duration_s=0.6).summary
    (row,) = s["faults"]
    assert row["placed_while_down"] > 100 and row["affected_requests"] > 100
    (line,) = [c for c in cautions(s) if "sites that were down" in c]
    assert f"{row['placed_while_down']:,} placements on on-prem (0.2-0.4 s)" in line
    assert "snapshot.site_healthy" in line
    good = airan.run(sc, policy="deadline-aware", duration_s=0.6).summary
    assert good["faults"][0]["placed_while_down"] == 0
    assert not [c for c in cautions(good) if "sites that were down" in c]


def test_a_module_the_script_imported_and_set_keeps_its_settings(
        learner_module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a module airan imported is imported afresh for each run: one the user's script
    imported first, and set a value on, keeps it (a review: the fresh import reset the
    script's setting, and the runs ignored it)."""
    name = f"airan_set_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "import numpy as np\nSITE = 0\n\n\ndef choose(snapshot, batch):\n"
        "    return np.full(len(batch), SITE, dtype=np.int64)\n", encoding="utf-8")
    mod = importlib.import_module(name)
    mod.SITE = 2  # the cloud
    s = airan.run("factory", policy=f"{name}:choose", duration_s=0.3).summary
    assert s["sites"]["cloud"]["served"] > 0 and s["sites"]["on-prem"]["served"] == 0
    assert importlib.import_module(name).SITE == 2


def test_a_policy_a_package_re_exports_starts_over_too(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """``pkg:learner`` where the package's __init__ imports it from ``pkg.impl``: the fresh
    import runs the submodule's code again too (a review: its counter carried over, vla met
    1.0, 0.762, 0.05 on three runs of seed 1)."""
    pkg = tmp_path / f"airan_pkg_{tmp_path.name.replace('-', '_')}"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .impl import learner\n", encoding="utf-8")
    (pkg / "impl.py").write_text(LEARNER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    hits = [airan.run("factory", policy=f"{pkg.name}:learner", seed=1,
                      duration_s=1.0).summary["services"]["vla"]["hit_ratio"]
            for _ in range(3)]
    assert hits[0] == hits[1] == hits[2]


def test_two_policy_functions_under_one_label_both_run(tmp_path: Path) -> None:
    """Two functools.partials (both labelled functools:partial()) are two policies, numbered
    (a review: the second was dropped silently)."""
    import functools

    import numpy as np

    def site(snapshot, batch, where=0):
        return np.full(len(batch), where, dtype=np.int64)

    cmp = run_comparison("factory", [functools.partial(site, where=0),
                                     functools.partial(site, where=2)],
                         seeds=1, duration_s=0.3, out=tmp_path / "cmp")
    assert cmp.data["policies"] == ["functools:partial()", "functools:partial()#2"]
    served = [r["summary"]["sites"]["cloud"]["served"] for r in cmp.data["runs"]]
    assert served[0] == 0 and served[1] > 0


def test_the_sweeps_name_check_finds_names_bound_in_with_blocks_and_globals(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A name bound inside a top-level ``with`` or by a ``global`` in a function is defined
    (a review: such modules were refused though they import fine); one built by globals()
    cannot be told without running the module, and is left to the run."""
    from airan.sweep.spec import _top_level_names

    f = tmp_path / "m.py"
    f.write_text("import numpy as np\nwith open(__file__) as fh:\n"
                 "    def choose(s, b):\n        return np.zeros(len(b), dtype=np.int64)\n"
                 "def make():\n    global made\n    made = choose\nmake()\n", encoding="utf-8")
    names = _top_level_names(f)
    assert names is not None and {"choose", "made", "make", "np"} <= names
    f.write_text("globals()['p'] = print\n", encoding="utf-8")
    assert _top_level_names(f) is None


def test_objective_energy_on_cells_it_fills_is_cautioned() -> None:
    """objective: energy with cells more than 90% used: a caution says why its estimate runs
    low there (a robot maker's AMRs filled four uplinks and met 66%); the summary says the
    objective and admission the run applied; objective latency on the same cells: nothing."""
    from airan.report.cautions import cautions

    s = airan.run("factory", duration_s=0.2).summary
    assert (s["objective"], s["admission"]) == ("latency", "none")
    assert s["policy"] == "deadline-aware"
    busy = {**s, "objective": "energy",
            "cells": {**s["cells"], "cells_busy_ul": 4, "busiest_cell_ul": "cell-a",
                      "max_prb_utilization_ul": 0.999}}
    assert [c for c in cautions(busy) if c.startswith("objective: energy offloads")]
    assert not [c for c in cautions({**busy, "objective": "latency"})
                if c.startswith("objective: energy")]
    # a policy that does not apply the objective: nothing of it to say
    assert not [c for c in cautions({**busy, "policy": "nearest-edge"})
                if c.startswith("objective: energy")]


def test_a_policy_that_raises_is_named_with_its_batch_and_time() -> None:
    """A policy of one's own that raises: one line with the exception, where in its code, and
    the batch and simulated time of the failing call (a researcher: it gave neither)."""
    def broken(snapshot, batch):
        if snapshot.time_s > 0.05:
            raise ZeroDivisionError("late in the run")
        import numpy as np

        return np.zeros(len(batch), dtype=np.int64)

    with pytest.raises(airan.InputError) as exc:
        airan.run("factory", policy=broken, duration_s=0.2)
    text = str(exc.value)
    assert "calling the policy with (snapshot, batch) on a batch of " in text
    assert " at t = 0.05" in text and "raised ZeroDivisionError: late in the run" in text
    assert "in broken)" in text


def test_a_policy_that_calls_sys_exit_or_was_registered_by_the_user_is_the_users_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ML researcher's review: a policy calling sys.exit(0) ended `airan run` with exit 0
    and nothing written, no word; and one registered with airan.policy.register that raised
    came out as a bare traceback, as if airan's own had failed."""
    (tmp_path / "quits.py").write_text(
        "import sys\n\ndef choose(snapshot, batch):\n    sys.exit(0)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    res = runner.invoke(app, ["run", "factory", "--policy", "quits:choose", "--duration", "0.1",
                              "--no-report", "--out", str(out)])
    assert res.exit_code == 2 and "raised SystemExit: 0" in res.output, res.output
    assert "in choose)" in res.output and not out.exists()

    from airan import policy as policies

    monkeypatch.setitem(policies._REGISTRY, "my-failing-policy", None)  # (removed after)

    @policies.register("my-failing-policy")
    def boom(snapshot, batch):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("boom")

    with pytest.raises(airan.InputError, match="raised ZeroDivisionError: boom"):
        airan.run("factory", policy="my-failing-policy", duration_s=0.1)
    assert policies.is_builtin_policy("cloud", policies.resolve_policy("cloud"))
    assert not policies.is_builtin_policy("my-failing-policy", boom)


def test_a_compare_goes_on_without_a_policy_that_fails_in_a_run(tmp_path: Path) -> None:
    """A policy of one's own that raises in its first seed's run is left out, with why, and
    the others are compared (a researcher's review: the whole compare stopped, exit 2, no
    comparison.json); where every policy fails, that is the bad input."""
    import numpy as np

    def gives_up(snapshot, batch):
        if snapshot.time_s > 0.1:
            raise RuntimeError("gave up")
        return np.zeros(len(batch), dtype=np.int64)

    cmp = run_comparison("factory", [gives_up, "cloud"], seeds=2, duration_s=0.3,
                         out=tmp_path / "cmp")
    label = next(iter(cmp.data["failed_policies"]))
    assert cmp.data["policies"] == ["cloud"] and label.endswith("gives_up")
    assert "seed 1:" in cmp.data["failed_policies"][label]
    assert "RuntimeError: gave up" in cmp.data["failed_policies"][label]
    assert sorted(p.name for p in (tmp_path / "cmp" / "runs").iterdir()) == [
        "cloud-seed1.json", "cloud-seed2.json"]
    with pytest.raises(airan.InputError, match="every policy failed"):
        run_comparison("factory", [gives_up], seeds=1, duration_s=0.3, out=tmp_path / "all")


@pytest.mark.parametrize(("given", "told"), [
    ("mypol.no_cloud", "named 'module:callable': did you mean mypol:no_cloud?"),
    ("mypol.py:no_cloud", "name the module, not its file: mypol:no_cloud"),
    ("sub/mypol.py:no_cloud", "mypol:no_cloud, run from sub or with it on PYTHONPATH"),
    ("mypol.py", "the function after a colon (e.g. mypol:<function>)"),
])
def test_a_policy_of_ones_own_written_as_python_names_it_elsewhere_is_told_the_form(
        given: str, told: str) -> None:
    """A researcher's 'mypol.no_cloud' was offered the built-in 'cloud'; a module named by its
    file said only that no module 'mypol.py' exists."""
    for args in (["run", "factory", "--policy", given],
                 ["compare", "factory", "--policies", f"nearest-edge,{given}"]):
        res = runner.invoke(app, [*args, "--duration", "0.1"])
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())
        assert told in text and "did you mean 'cloud'" not in text


def test_compare_strict_exits_4_where_a_policy_failed(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The command goes on without a failing policy, exit 0; with --strict, exit 4 once it
    has written the comparison (a researcher's review: a pipeline took exit 0 for all done)."""
    from typer.testing import CliRunner

    from airan.cli import app

    (tmp_path / "gives_up_xyz.py").write_text(
        "def policy(snapshot, batch):\n    raise RuntimeError('gave up')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    args = ["compare", "factory", "--policies", "cloud,gives_up_xyz:policy", "--seeds", "1",
            "--duration", "0.2"]
    runner = CliRunner()
    plain = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert plain.exit_code == 0, plain.output
    strict = runner.invoke(app, [*args, "--strict", "--out", str(tmp_path / "b")])
    assert strict.exit_code == 4 and "gave up" in strict.output
    assert (tmp_path / "b" / "comparison.json").is_file()


def test_compare_takes_variants_of_one_policy_under_labels_of_ones_own(tmp_path: Path) -> None:
    """A researcher's review: two partials of one policy were labelled functools:partial()
    and functools:partial()#2. A mapping names them; a name keeps its policy under its label."""
    import functools

    import numpy as np

    def edge_or_cloud(snapshot, batch, cloud_share):  # every request to site 0 or the last
        n = len(batch)
        site = np.zeros(n, dtype=np.int64)
        site[: int(n * cloud_share)] = len(snapshot.world.site_names) - 1
        return site

    cmp = run_comparison("factory", {"share-0": functools.partial(edge_or_cloud, cloud_share=0),
                                     "share-1": functools.partial(edge_or_cloud, cloud_share=1),
                                     "mine-nearest": "nearest-edge"},
                         seeds=1, duration_s=0.3, out=tmp_path / "cmp")
    assert cmp.data["policies"] == ["share-0", "share-1", "mine-nearest"]
    assert sorted(p.name for p in (tmp_path / "cmp" / "runs").iterdir()) == [
        "mine-nearest-seed1.json", "share-0-seed1.json", "share-1-seed1.json"]
    by = {r["policy"]: r["summary"] for r in cmp.data["runs"]}
    assert by["share-0"]["requests"] != by["share-1"]["requests"]  # (two variants, two runs)
    with pytest.raises(airan.InputError, match="label"):
        run_comparison("factory", {"": "cloud"}, seeds=1, duration_s=0.3, out=tmp_path / "x")


def test_a_policy_that_draws_from_its_snapshots_generator_repeats_with_the_seed() -> None:
    """An ML researcher's review: an epsilon-greedy policy drawing from np.random met 424
    requests in one process and 418 in the next, and nothing in the snapshot said the run's
    seed. ``snapshot.rng`` is the run's own, from its seed: the same seed, the same run; another
    seed, other draws; one generator for the whole run."""
    import numpy as np

    seen: list[object] = []

    def random_site(snapshot, batch):  # type: ignore[no-untyped-def]
        seen.append(snapshot.rng)
        n = len(snapshot.world.site_names)
        return snapshot.rng.integers(0, n, size=len(batch)).astype(np.int64)

    runs = [airan.run("factory", policy=random_site, duration_s=0.3, seed=s).summary
            for s in (1, 1, 2)]
    assert runs[0]["services"] == runs[1]["services"]
    assert runs[0]["services"] != runs[2]["services"]
    assert len({id(g) for g in seen}) == 3  # one per run, kept through it


HELPER_POLICY = '''
import numpy as np

import {helper}
from {helper} import LIMIT


def alt(snapshot, batch):
    {helper}.CALLS[0] += 1
    return np.full(len(batch), 2 if {helper}.CALLS[0] <= LIMIT else 0, dtype=np.int64)
'''


@pytest.fixture
def helper_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A policy module beside a plain top-level helper module that counts its decisions (no
    package): the policy's ``module:callable`` and the helper's file."""
    tag = tmp_path.name.replace("-", "_")
    helper = tmp_path / f"airan_helper_{tag}.py"
    helper.write_text("CALLS = [0]\nLIMIT = 30\n", encoding="utf-8")
    (tmp_path / f"airan_uses_helper_{tag}.py").write_text(
        HELPER_POLICY.format(helper=helper.stem), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"airan_uses_helper_{tag}:alt", helper


def test_a_helper_modules_state_starts_over_with_each_run_in_either_order(
        helper_policy: tuple[str, Path]) -> None:
    """A counter in a helper module the policy imports (a sibling file, not its package's)
    starts over with each run: seed 2 gives the same figures before seed 1 and after it, and so
    does seed 1 (a researcher's review: detect's mean 12.29 ms after seed 1, 22.96 ms alone)."""
    policy, _ = helper_policy

    def services(seed: int) -> dict:
        return airan.run("factory", policy=policy, seed=seed, duration_s=0.4).summary["services"]

    two_first, one_after = services(2), services(1)
    two_after, one_again = services(2), services(1)
    assert two_first == two_after
    assert one_after == one_again


def test_a_sweeps_run_key_follows_the_policys_helper_modules(
        helper_policy: tuple[str, Path], tmp_path: Path) -> None:
    """The run key hashes the helper modules of the user's a policy imports, not only its own
    file: an edited helper is another run (it was reused from the cache, the old helper's
    results). A policy in one file keeps the key it had (its file's SHA-256)."""
    import hashlib

    from airan.sweep.spec import policy_digest, run_key

    policy, helper = helper_policy
    scenario = {"name": "x", "policy": policy}
    before = run_key(scenario, 1.0, 0)
    assert run_key(scenario, 1.0, 0) == before
    helper.write_text("CALLS = [0]\nLIMIT = 3000\n", encoding="utf-8")
    assert run_key(scenario, 1.0, 0) != before
    single = tmp_path / f"airan_single_{tmp_path.name.replace('-', '_')}.py"
    single.write_text("import numpy as np\nimport os\n\n\ndef f(s, b):\n"
                      "    return np.zeros(len(b), dtype=np.int64)\n", encoding="utf-8")
    assert policy_digest(f"{single.stem}:f") == hashlib.sha256(single.read_bytes()).hexdigest()


def test_a_sweeps_unknown_policy_name_lists_only_the_modules_top_level_callables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Accepted list of ``mypol:missing_name`` names the module's functions, classes and
    objects it makes at top level (an agent instance), not a function's local variables,
    constants or a library's names (a researcher's review: it listed ``col, d, est, k``)."""
    name = f"airan_accepted_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(
        "import numpy as np\nfrom numpy import zeros\nTHRESHOLD = 0.01\n\n\n"
        "def nearest(snapshot, batch):\n    col = np.zeros(len(batch), dtype=np.int64)\n"
        "    est = col\n    return est\n\n\nclass Agent:\n"
        "    def __call__(self, snapshot, batch):\n        inner = 1\n        return inner\n\n\n"
        "agent = Agent()\nif True:\n    alias = nearest\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"scenario: factory\naxes:\n  policy: [{name}:missing_name]\n",
                     encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(sweep), "--dry-run", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "Accepted: Agent, agent, alias, nearest." in text


AGENT = '''
import numpy as np


class Agent:
    def __init__(self, site):
        self.site = site

    def __call__(self, snapshot, batch):
        return np.full(len(batch), self.site, dtype=np.int64)


agent = Agent(2)
'''


def test_a_callable_object_policy_is_named_by_its_module_level_name_and_reruns(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A learned agent passed from Python (``mypol.agent``, an instance with ``__call__``) runs
    as ``mypol:agent``: its run folder's scenario.yaml names it and reruns it, the same figures
    (a researcher's review: it ran as ``mypol:Agent()``, and the rerun warned and ran
    deadline-aware). One no module names keeps ``Class()`` and the run folder's warning."""
    name = f"airan_agent_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(AGENT, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module(name)
    result = airan.run("factory", policy=mod.agent, duration_s=0.3)
    assert result.summary["policy"] == f"{name}:agent"
    folder = write_run(result, tmp_path / "run")
    assert not (folder / "scenario.yaml").read_text(encoding="utf-8").startswith("#")
    out = runner.invoke(app, ["run", str(folder / "scenario.yaml"), "--no-report", "--out",
                              str(tmp_path / "again")])
    assert out.exit_code == 0, out.output
    assert "ran the policy function" not in out.output
    again = json.loads(next((tmp_path / "again").rglob("summary.json")).read_text())
    assert again["policy"] == f"{name}:agent"
    assert again["services"] == json.loads(json.dumps(result.summary["services"]))
    assert again["sites"]["cloud"]["served"] > 0

    unnamed = mod.Agent(0)
    result = airan.run("factory", policy=unnamed, duration_s=0.2)
    assert result.summary["policy"] == f"{name}:Agent()"
    folder = write_run(result, tmp_path / "unnamed")
    first = (folder / "scenario.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# airan: this run's policy was the function ")


PARAM_POLICY = '''
import numpy as np


def site(snapshot, batch, where=0, scale=1.0):
    return np.full(len(batch), where, dtype=np.int64)
'''


def test_a_sweep_takes_a_parameter_of_ones_own_policy_as_an_axis(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``mypol:site(where=2)`` runs ``site`` with that keyword argument, so a sweep's policy
    axis can vary a parameter of one's own policy, each value its own run and key (a
    researcher's review: ``mypol:fn(thr=0.01)`` was 'defines no such name', and a threshold
    needed one module-level function per value); compare takes several, commas and all."""
    name = f"airan_param_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(PARAM_POLICY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"scenario: factory\nduration_s: 0.2\naxes:\n  policy: "
                     f"['{name}:site(where=0)', '{name}:site(where=2, scale=0.5)']\n",
                     encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(sweep), "--workers", "1", "--out",
                                 str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    served = {}
    for f in (tmp_path / "out" / "runs").glob("*/summary.json"):
        s = json.loads(f.read_text())
        served[s["policy"]] = s["sites"]["cloud"]["served"]
    assert served[f"{name}:site(where=0)"] == 0
    assert served[f"{name}:site(scale=0.5, where=2)"] > 0  # (written one way: keys sorted)
    cmp = runner.invoke(app, ["compare", "factory", "--policies",
                              f"{name}:site(where=2, scale=0.5),cloud", "--seeds", "1",
                              "--duration", "0.2", "--out", str(tmp_path / "cmp")])
    assert cmp.exit_code == 0, cmp.output
    assert f"{name}:site(scale=0.5, where=2)" in cmp.output


def test_a_policys_parameters_written_two_ways_are_one_run_and_one_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A diff review: `(a=1,b=2)` and `(b=2, a=1)`, or a value quoted or written otherwise,
    were two runs of one policy with two keys. Written one way: keys sorted, each value as
    Python writes it."""
    from airan.policy import canonical_policy
    from airan.sweep.spec import sweep_from_dict

    name = f"airan_canon_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(PARAM_POLICY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    ways = [f"{name}:site(where=2,scale=0.5)", f"{name}:site( scale=5e-1, where=0x2 )"]
    assert len({canonical_policy(w) for w in ways}) == 1
    assert canonical_policy(f"{name}:site(tag=\"a\")") == f"{name}:site(tag='a')"
    sweep = sweep_from_dict({"scenario": "factory", "duration_s": 0.2,
                             "axes": {"policy": ways}})
    assert [r.policy for r in sweep.runs] == [f"{name}:site(scale=0.5, where=2)"]
    one = sweep_from_dict({"scenario": "factory", "duration_s": 0.2,
                           "set": {"policy": ways[1]}})
    assert [r.key for r in one.runs] == [r.key for r in sweep.runs]


def test_a_policy_parameter_that_is_misspelt_or_not_a_literal_is_the_policys_input_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keyword the function does not take names it and the close match; a value that is not
    a literal, or a positional argument, says the form; a sweep says so before anything
    runs."""
    name = f"airan_param_bad_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(PARAM_POLICY, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(airan.InputError) as exc:
        airan.run("factory", policy=f"{name}:site(wher=2)", duration_s=0.1)
    assert exc.value.field == "policy" and "did you mean 'where'?" in str(exc.value)
    for bad in ("site(where=os.sep)", "site(2)"):
        with pytest.raises(airan.InputError, match="keyword arguments of literal values"):
            airan.run("factory", policy=f"{name}:{bad}", duration_s=0.1)
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"scenario: factory\naxes:\n  policy: ['{name}:site(where=x)']\n",
                     encoding="utf-8")
    result = runner.invoke(app, ["sweep", str(sweep), "--dry-run"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "field 'axes.policy'" in text and "is not a literal" in text


def test_fresh_imports_reset_a_packages_and_a_shared_helper_and_leave_libraries_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A diff review of the fresh imports: a package policy whose ``from . import helper``
    kept the old helper where the package was imported first (the user's script, a sweep's
    listing); a helper shared by two policies that the second started from the first's state;
    a library elsewhere on the path (an editable install) imported again each run, one that
    refuses a second registration failing on the second; a broken edit running the old code
    silently. Each is now as it should be."""
    from airan.errors import InputError
    from airan.policy import resolve_policy

    tag = tmp_path.name.replace("-", "_")
    proj, lib = tmp_path / "proj", tmp_path / "lib"
    pkg = proj / f"pk_{tag}"
    pkg.mkdir(parents=True)
    lib.mkdir()
    counter = "CALLS = [0]\n"
    use = ("import numpy as np\n\n\ndef fn(s, b):\n    helper.CALLS[0] += 1\n"
           "    return np.zeros(len(b), dtype=np.int64)\n")
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "helper.py").write_text(counter, encoding="utf-8")
    (pkg / "pol.py").write_text("from . import helper\n" + use, encoding="utf-8")
    (proj / f"shared_{tag}.py").write_text(counter, encoding="utf-8")
    for side in "ab":
        (proj / f"pol{side}_{tag}.py").write_text(
            f"import shared_{tag} as helper\nimport reg_{tag}\n" + use, encoding="utf-8")
    (lib / f"reg_{tag}.py").write_text(  # (a registry that refuses a second registration)
        "import builtins\nkey = '_airan_test_reg'\nif getattr(builtins, key, False):\n"
        "    raise RuntimeError('already registered')\nsetattr(builtins, key, True)\n",
        encoding="utf-8")
    monkeypatch.syspath_prepend(str(lib))
    monkeypatch.syspath_prepend(str(proj))
    import builtins
    import importlib
    import sys

    monkeypatch.delattr(builtins, "_airan_test_reg", raising=False)
    importlib.import_module(f"pk_{tag}")  # (the user's script imports the package first)

    def starts_at(name: str) -> int:
        fn = resolve_policy(name, fresh=True)
        at = sys.modules[fn.__module__].helper.CALLS[0]
        for _ in range(3):
            fn(None, [0])
        return int(at)

    assert [starts_at(f"pk_{tag}.pol:fn") for _ in range(2)] == [0, 0]
    assert [starts_at(f"pol{s}_{tag}:fn") for s in "aabb"] == [0, 0, 0, 0]
    # a broken edit is the policy's import error, not the old code run silently
    (proj / f"polb_{tag}.py").write_text("import no_such_module_xyz\n" + use, encoding="utf-8")
    importlib.invalidate_caches()
    with pytest.raises(InputError, match="no_such_module_xyz"):
        resolve_policy(f"polb_{tag}:fn", fresh=True)
    monkeypatch.delattr(builtins, "_airan_test_reg", raising=False)


@pytest.mark.parametrize(("text", "said"), [
    ("fn(x=1, x=2)", "x given twice"),
    ("\ufb01lter(x=1)", "reads as 'filter'"),
])
def test_a_policy_parameter_given_twice_or_a_name_python_reads_otherwise_is_refused(
        text: str, said: str) -> None:
    """A diff review: `fn(x=1, x=2)` took the last value, and a name written with a ligature
    (NFKC-normalised by Python) called another function, `filter`."""
    import re

    from airan.errors import InputError
    from airan.policy import policy_params

    with pytest.raises(InputError, match=re.escape(said)):
        policy_params(text, f"mypol:{text}")


def test_compares_policies_split_at_commas_outside_brackets_and_strings() -> None:
    """A diff review: a bracket inside a string value (`s=')'`) split the list wrongly."""
    from airan.cli import split_policies

    assert split_policies("mypol:fn(s=')', t=1),cloud") == ["mypol:fn(s=')', t=1)", "cloud"]
    assert split_policies('a:f(x=[1, 2]),b:g(y="a,b"),local') == [
        "a:f(x=[1, 2])", 'b:g(y="a,b")', "local"]
