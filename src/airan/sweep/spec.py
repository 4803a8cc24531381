"""The sweep file: a base scenario, fixed changes to it, and the axes to vary; expanded into runs.

```yaml
name: city-gpus                 # optional (default: the file's name)
scenario: city                  # a built-in name or a YAML path (relative to this file)
duration_s: 2                   # optional: simulated seconds of every run
trace_limit: 0                  # optional: the first N requests of each run traced (default
                                # 0: none; no sample beyond them, unlike airan.run's trace_sample)
set:                            # optional: fixed changes, by field path
  radio.scheduler: rr
axes:                           # every combination (mode: product) or side by side (mode: zip)
  policy: [nearest-edge, deadline-aware]
  seed: {from: 1, count: 3}     # 1, 2, 3
  load: [1, 2]                  # multiplies every fleet's device count (like --fleet-scale)
  compute_sites[metro].gpus[0].count: [2, 4]
```

A field path walks the scenario as written in YAML: ``a.b`` for a key, ``[2]`` for a list item
by position and ``[name]`` for the item whose ``name`` is ``name``. ``load`` is the only axis
that is not a scenario field. Every run's scenario is validated before any run starts; an error
names the axis and the value. Each run is identified by a hash of its resolved scenario (policy,
seed and duration included; the files it names by absolute path and by their contents), its load
and its trace limit: that is what resume matches on.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from airan.errors import InputError, malformed_yaml, unknown_name
from airan.version import code_identity
from airan.yaml_files import load_yaml

LOAD_AXIS = "load"
FLEET_DRX = re.compile(r"fleets\[[^\]]+\]\.drx")  # an axis of a fleet's DRX: a setting or 'off'
# a key: a field name, or a name a user chose (live.sites.on-prem: site names hold '-')
_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[[^\[\]]+\])*)$")
_INDEX = re.compile(r"\[([^\[\]]+)\]")


class Range(BaseModel):
    """``{from: 1, count: 3, step: 1}``: the values 1, 2, 3."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: float = Field(alias="from", allow_inf_nan=False)
    count: int = Field(ge=1, le=1_000_000)
    step: float = Field(1.0, allow_inf_nan=False)

    def values(self) -> list[float | int]:
        """The values, as written: ``{from: 0.1, step: 0.1}`` gives 0.3, not
        0.30000000000000004 (rounded to the decimals ``from`` and ``step`` are written with)."""
        if float(self.start).is_integer() and float(self.step).is_integer():
            return [int(self.start) + i * int(self.step) for i in range(self.count)]
        digits = max(_decimals(self.start), _decimals(self.step))
        return [round(self.start + i * self.step, digits) for i in range(self.count)]


def _decimals(x: float) -> int:
    """The decimal places of ``x`` as Python writes it (0.1: 1, 2.5e-05: 6)."""
    from decimal import Decimal

    exponent = Decimal(repr(float(x))).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class SweepSpec(BaseModel):
    """A sweep file as written (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = None
    description: str = ""
    scenario: str
    duration_s: float | None = Field(None, gt=0, allow_inf_nan=False)
    trace_limit: int = Field(0, ge=0, le=10**9)
    set_: dict[str, Any] = Field(default_factory=dict, alias="set")
    axes: dict[str, list[Any] | Range] = Field(default_factory=dict)
    mode: Literal["product", "zip"] = "product"


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: its axis values and its fully resolved scenario."""

    index: int
    key: str  # content hash: resolved scenario + load + trace limit
    axes: dict[str, Any]  # axis path -> value, in the sweep file's order
    scenario: dict[str, Any]  # the scenario as run (JSON-ready; policy, seed, duration inside)
    load: float
    trace_limit: int

    @property
    def policy(self) -> str:
        return str(self.scenario["policy"])

    @property
    def seed(self) -> int:
        return int(self.scenario["seed"])

    @property
    def duration_s(self) -> float:
        return float(self.scenario["duration_s"])

    def label(self) -> str:
        """A short description: ``policy=a, seed=1``."""
        return ", ".join(f"{k}={_show(v)}" for k, v in self.axes.items()) or "base"


@dataclass(frozen=True)
class Sweep:
    """A loaded sweep: its spec, the base scenario (after ``set``) and every run."""

    name: str
    label: str  # the file, for messages
    spec: SweepSpec
    base: dict[str, Any]
    runs: list[RunSpec]
    # fleets a run's load rounds more than 5% off it (api.fleet_scale_warnings), once each
    rounded: list[str] = field(default_factory=list)
    # the sweep file's folder (absolute): a `module:callable` policy is also looked for there
    folder: Path | None = None


# ---- loading -----------------------------------------------------------------------------------
def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand a sweep file; :class:`InputError` names the file and field."""
    p = Path(path)
    label = str(path)
    if not p.exists():
        raise InputError("file not found", file=label)
    if not p.is_file():
        raise InputError("not a file", file=label)
    try:
        data = load_yaml(p.read_text(encoding="utf-8"))
    except (yaml.YAMLError, RecursionError) as exc:
        raise malformed_yaml(exc, label) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=label) from None
    if not isinstance(data, dict):
        raise InputError("a sweep must be a YAML mapping (scenario:, axes:, ...)", file=label)
    return sweep_from_dict(data, label=label, base_dir=p.parent, default_name=p.stem)


def sweep_from_dict(
    data: Mapping[str, Any],
    *,
    label: str = "<sweep>",
    base_dir: Path | None = None,
    default_name: str = "sweep",
) -> Sweep:
    """Validate a sweep given as a dict and expand it into runs (every scenario validated)."""
    from airan.scenario import load_scenario

    try:
        spec = SweepSpec.model_validate(dict(data))
    except ValidationError as exc:
        raise _spec_error(exc, data, label) from None
    ref = _scenario_ref(spec.scenario, base_dir)
    try:
        base_sc = load_scenario(ref)
    except InputError as exc:
        if exc.file is not None and Path(ref).is_file():  # an error inside the scenario file
            raise
        # the reference itself: an unknown built-in name, a missing file (named by the sweep)
        raise InputError(exc.reason, file=label, field="scenario",
                         value=exc.value if exc.value is not None else spec.scenario,
                         choices=exc.choices) from None
    base = base_sc.model_dump(mode="json")
    if spec.duration_s is not None:
        base["duration_s"] = spec.duration_s
    for where, entries in (("set", spec.set_), ("axes", spec.axes)):
        for path, value in entries.items():
            _refuse_trace_field(path, value, f"{where}.{path}", label)
    given: set[tuple[str | int, ...]] = set()  # (the fields set: a band set after keeps them)
    for path, value in spec.set_.items():
        set_path(base, path, value, where="set", label=label, given=given)
    _validate(base, label, "set" if spec.set_ else "base", None)
    axes = {name: (v.values() if isinstance(v, Range) else list(v))
            for name, v in spec.axes.items()}
    from airan.policy import canonical_policy

    if "policy" in axes:  # (a policy's parameters written one way: one run, one key)
        axes["policy"] = list(dict.fromkeys(canonical_policy(v) for v in axes["policy"]))
    base["policy"] = canonical_policy(base.get("policy"))
    for name, values in axes.items():  # YAML 1.1 reads an unquoted off as false: show 'off'
        if FLEET_DRX.fullmatch(name):
            axes[name] = ["off" if v is False else v for v in values]
    for name, values in axes.items():
        if not values:
            raise InputError("an axis needs at least one value", file=label,
                             field=f"axes.{name}")
        if name == LOAD_AXIS:
            for v in values:
                if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0 \
                        or not math.isfinite(v):
                    raise InputError("a load multiplier must be a positive finite number",
                                     file=label, field=f"axes.{name}", value=v)
        else:
            set_path(copy.deepcopy(base), name, values[0], where="axis", label=label,
                     given=set(given))
    rounded: list[str] = []
    from airan.policy.files import also_search

    folder = base_dir.resolve() if base_dir is not None else None
    with also_search(folder):  # (its policies' code hashed as its runs will import it)
        runs = expand(base, axes, spec.mode, spec.trace_limit, label, rounded,
                      given=frozenset(given))
        _check_own_policies(runs, "policy" in axes, label)
    return Sweep(name=spec.name or default_name, label=label, spec=spec, base=base, runs=runs,
                 rounded=rounded, folder=folder)


TRACE_FIELDS = ("trace_limit", "trace_sample")  # the scenario's engine.<these>: not a sweep's


def _refuse_trace_field(path: str, value: Any, field: str, label: str) -> None:
    """An :class:`InputError` for a ``set`` entry or axis on the scenario's
    ``engine.trace_limit`` or ``engine.trace_sample`` (or a whole ``engine`` naming them): a
    sweep's runs trace the first ``trace_limit`` requests, the sweep file's own field, and
    keep no sample beyond them, so the scenario's two are not used; set, they changed the
    run keys and nothing else (a researcher's review of what ``trace_limit: 0`` means)."""
    try:
        parts = parse_path(path)
    except ValueError:
        return  # (set_path says what is wrong with it)
    if parts == ["engine"]:  # the whole engine: a set entry's object, an axis's objects
        objects = value if isinstance(value, list) else [value]
        named = [k for k in TRACE_FIELDS if any(isinstance(v, dict) and k in v
                                                for v in objects)]
    else:
        named = [str(parts[1])] if len(parts) == 2 and parts[0] == "engine" \
            and parts[1] in TRACE_FIELDS else []
    if named:
        raise InputError(
            f"the scenario's engine.{named[0]} is not used in a sweep: its runs trace the "
            "first `trace_limit` requests (the sweep file's top-level field, default 0) and no "
            "sample beyond them", file=label, field=field,
            value=None if parts == ["engine"] else
            value.values() if isinstance(value, Range) else value)


def _check_own_policies(runs: Sequence[RunSpec], on_axis: bool, label: str) -> None:
    """Each ``module:callable`` policy of the runs: a module that is not found, or a name its
    file does not define at top level, is the sweep's bad input (exit 2, before anything
    runs: it was a failed run each, and a dry run listed them as to do). Read, not run (listing
    a sweep runs no code of the user's); what only running shows (a wrong signature) is the
    run's to report."""
    from airan.policy import is_fixed_site, policy_params

    field = "axes.policy" if on_axis else "policy"
    for name in dict.fromkeys(r.policy for r in runs
                              if ":" in r.policy and not is_fixed_site(r.policy)):
        mod, _, call = name.partition(":")
        try:  # (a parameter of one's own policy: 'mypol:fn(thr=0.01)')
            attr = policy_params(call, name)[0]
        except InputError as exc:
            raise InputError(exc.reason, file=label, field=field, value=name) from None
        path = _module_file(mod) if mod and attr else None
        if path is None:
            raise InputError(f"cannot find policy module {mod!r} (on the Python path, in the "
                             "sweep file's folder or in the current folder); a policy of "
                             "one's own is 'module:callable'",
                             file=label, field=field, value=name)
        names = _top_level_names(path)
        if names is not None and attr not in names:
            raise InputError(f"policy {name!r}: its module ({path}) defines no such name",
                             file=label, field=field, value=attr,
                             choices=_callable_names(path, mod.partition(".")[0]))


def _top_level_names(path: Path) -> set[str] | None:
    """The names a Python file binds anywhere (functions, classes, assignments, imports, global
    declarations: more than its module's own, which only lets a typo of a local name through),
    or None where they cannot be told without running it (a star import, a module
    ``__getattr__``, ``globals()`` or ``setattr``, a file that does not parse: the run says)."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        if isinstance(node, ast.Name) and node.id in ("globals", "setattr", "vars"):
            return None
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Global):
            names.update(node.names)
    return None if "__getattr__" in names else names


def _callable_names(path: Path, top: str) -> list[str]:
    """The names a Python file binds at module level that may be a policy, for an error's
    Accepted list: its functions and classes, names assigned a call, a lambda or another name
    (``agent = Agent()``, ``greedy = nearest``) and names its package's own imports bring in;
    not a function's local variables (a researcher's review: the list showed ``col, d, est``),
    constants, or a library's names. Public ones only, sorted."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return []
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
                continue  # (its body is its own, not the module's)
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(
                    node.value, ast.Call | ast.Lambda | ast.Name | ast.Attribute):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(t.id for t in targets if isinstance(t, ast.Name))
            elif isinstance(node, ast.ImportFrom) and (
                    node.level or (node.module or "").partition(".")[0] == top):
                names.update(a.asname or a.name for a in node.names if a.name != "*")
            # (a top-level block's body is still the module's: if, with, try, loops)
            for block in ("body", "orelse", "finalbody"):
                visit(getattr(node, block, None) or [])
            for handler in getattr(node, "handlers", None) or []:
                visit(handler.body)

    visit(tree.body)
    return sorted(n for n in names if not n.startswith("_"))


def _scenario_ref(ref: str, base_dir: Path | None) -> str:
    """A built-in name as it is; a path relative to the sweep file if it exists there."""
    from airan.scenario import builtin_scenarios

    if ref in builtin_scenarios() or base_dir is None or Path(ref).is_absolute():
        return ref
    near = base_dir / ref
    return str(near) if near.exists() else ref


MAX_RUNS = 100_000  # runs in one sweep (each a scenario held in memory while it expands)


def expand(base: dict[str, Any], axes: Mapping[str, list[Any]], mode: str, trace_limit: int,
           label: str, rounded: list[str] | None = None, *,
           given: frozenset[tuple[str | int, ...]] = frozenset()) -> list[RunSpec]:
    """Every run of the sweep (product or zip of the axes), each scenario validated; where a
    run's load rounds a fleet's count more than 5% off it, the warning goes to ``rounded``
    (each once). ``given``: the fields the sweep's ``set`` wrote (:func:`set_path`)."""
    from airan.api import fleet_scale_warnings, scale_fleets
    from airan.report.rundir import scenario_document

    names = list(axes)
    if mode == "zip":
        lengths = {n: len(v) for n, v in axes.items()}
        if len(set(lengths.values())) > 1:
            raise InputError(f"mode zip needs axes of one length, got {lengths}", file=label,
                             field="axes")
        n_runs = next(iter(lengths.values()), 1)
    else:
        n_runs = math.prod(len(v) for v in axes.values())
    if n_runs > MAX_RUNS:
        raise InputError(f"the axes make {n_runs:,} runs, more than {MAX_RUNS:,}: split the "
                         "sweep", file=label, field="axes")
    combos: list[tuple[Any, ...]] = (list(zip(*axes.values(), strict=True)) if mode == "zip"
                                     else list(itertools.product(*axes.values())))
    runs: list[RunSpec] = []
    seen: dict[str, int] = {}
    for i, combo in enumerate(combos):
        values = dict(zip(names, combo, strict=True))
        d = copy.deepcopy(base)
        load = 1.0
        where_set: dict[tuple[str | int, ...], str] = {}
        written = set(given)
        for name, value in values.items():
            if name == LOAD_AXIS:
                load = float(value)
                continue
            at = set_path(d, name, value, where="axis", label=label, given=written)
            if at in where_set:  # two spellings of one field: one would silently win
                raise InputError(f"axes {where_set[at]!r} and {name!r} set the same field",
                                 file=label, field=f"axes.{name}")
            where_set[at] = name
        sc = _validate(d, label, "axis", values, base=base, given=given)
        if load != 1.0:
            if rounded is not None:  # (the run's own counts, an axis's included)
                rounded.extend(w for w in fleet_scale_warnings(sc, load, label=label,
                                                               option="load")
                               if w not in rounded)
            try:
                sc = scale_fleets(sc, load)
            except InputError as exc:
                raise InputError(exc.reason, file=label, field=f"axes.{LOAD_AXIS}",
                                 value=values[LOAD_AXIS]) from None
        resolved = scenario_document(sc)  # the files it names by absolute path
        key = run_key(resolved, load, trace_limit)
        if key in seen:
            raise InputError(
                f"runs {seen[key] + 1} and {i + 1} are the same run ({runs[seen[key]].label()} "
                f"and {', '.join(f'{k}={_show(v)}' for k, v in values.items())}); "
                "remove the repeated axis value", file=label, field="axes")
        seen[key] = i
        runs.append(RunSpec(index=i, key=key, axes=values, scenario=resolved, load=load,
                            trace_limit=trace_limit))
    return runs


def run_key(scenario: Mapping[str, Any], load: float, trace_limit: int) -> str:
    """The run's identity: a SHA-256 (16 hex digits) of its resolved scenario, load and trace,
    of the contents of the files the scenario names (a site list, mobility traces) and of the
    airan that runs it (version and code hash): a run whose trace changed, or that a changed
    engine or catalog would give otherwise, is another run, wherever the sweep is started from."""
    ident: dict[str, Any] = {"scenario": scenario, "load": load, "trace_limit": trace_limit,
                             **code_identity()}
    files = file_digests(scenario)
    if files:  # (keys of scenarios that name no file are as before)
        ident["files"] = files
    policy_code = policy_digest(str(scenario.get("policy", "")))
    if policy_code:  # a policy of one's own: its module's code (a changed one is another run)
        ident["policy_code"] = policy_code
    text = json.dumps(ident, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def policy_digest(policy: str) -> str | None:
    """The SHA-256 of a ``module:callable`` policy's code (None for a built-in, or where the
    module is not found: its runs then fail, and say why): of its module's file where it imports
    no module of the user's, else of each file, by module name, of the modules of the user's it
    imports (:func:`airan.policy.files.policy_sources`: a helper module beside it, its package's
    modules), which a run imports afresh too (a researcher's review: an edit to a helper was
    reused from cache). Found as Python would import it, or in the current folder as airan's
    policy loader also looks, without running it (listing a sweep runs no code of the user's)."""
    from airan.policy import is_fixed_site

    if ":" not in policy or is_fixed_site(policy):
        return None
    module = policy.partition(":")[0]
    path = _module_file(module)
    if path is None:
        return None
    from airan.policy.files import policy_sources

    sources = policy_sources(module, path)
    if len(sources) <= 1:  # (the key of a policy in one file is as it was)
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digests = {name: _file_digest(str(f), *_stamp(str(f))) for name, f in sources.items()}
    text = json.dumps(digests, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _module_file(name: str) -> Path | None:
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)  # (a dotted name imports its parent packages)
    except (Exception, SystemExit):  # noqa: BLE001  (a parent that fails: the run says why)
        spec = None
    if spec is not None and spec.origin and Path(spec.origin).is_file():
        return Path(spec.origin)
    here = Path.cwd().joinpath(*name.split("."))
    for candidate in (here.with_suffix(".py"), here / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def file_digests(scenario: Mapping[str, Any]) -> dict[str, str]:
    """The SHA-256 of each file a (dumped) scenario names (:func:`named_files`), by path: what
    a run key holds so that a changed trace or site list is another run."""
    return {f: _file_digest(f, *_stamp(f)) for f in named_files(scenario)}


def named_files(scenario: Mapping[str, Any]) -> list[str]:
    """The files a (dumped) scenario names: ``cell_sites_file.path``, fleets' ``mobility.file``."""
    refs = [(scenario.get("cell_sites_file"), "path")]
    refs += [(f.get("mobility"), "file") for f in scenario.get("fleets") or []
             if isinstance(f, dict)]
    return sorted({ref[key] for ref, key in refs
                   if isinstance(ref, dict) and isinstance(ref.get(key), str) and ref[key]})


def _stamp(path: str) -> tuple[int, int]:
    try:
        st = Path(path).stat()
    except OSError:
        return -1, -1
    return st.st_mtime_ns, st.st_size


@functools.lru_cache(maxsize=256)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    """SHA-256 of a file's bytes (once per version of the file: a sweep's runs share it)."""
    if size < 0:
        return "missing"
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _validate(d: dict[str, Any], label: str, where: str, values: Mapping[str, Any] | None,
              *, base: dict[str, Any] | None = None,
              given: frozenset[tuple[str | int, ...]] = frozenset()) -> Any:
    """The validated Scenario; an :class:`InputError` that names the axis and value otherwise."""
    from airan.scenario import scenario_from_dict

    try:
        return scenario_from_dict(d, label=label)
    except InputError as exc:
        if values is None:  # the base scenario (after `set`, where the sweep has one)
            reason = f"after `set`: {exc.reason}" if where == "set" else exc.reason
            raise InputError(reason, file=label, field=exc.field,
                             value=exc.value, choices=exc.choices) from None
        found = _culprit(base or {}, values, label, exc.field, given)
        if found is not None:
            # the axis value alone is invalid: its own error, so that the message, the field
            # and the value all belong to that axis (another axis may fail first in the whole)
            culprit, own = found
            scenario_field = f" (scenario field '{own.field}')" if own.field else ""
            # the axis value, unless the scenario's message shows it already ("got true")
            value = own.value if own.value is not None or " got " in own.reason \
                else values[culprit]
            raise InputError(f"{own.reason}{scenario_field}", file=label,
                             field=f"axes.{culprit}", value=value,
                             choices=own.choices) from None
        scenario_field = f" (scenario field '{exc.field}')" if exc.field else ""
        combo = ", ".join(f"{k}={_show(v)}" for k, v in values.items())
        raise InputError(f"the run {combo} is invalid: {exc.reason}{scenario_field}",
                         file=label, field="axes", value=exc.value,
                         choices=exc.choices) from None


def _culprit(base: dict[str, Any], values: Mapping[str, Any], label: str,
             field: str | None, given: frozenset[tuple[str | int, ...]] = frozenset()
             ) -> tuple[str, InputError] | None:
    """An axis whose value alone makes the base scenario invalid, with that error: the first
    whose error is on ``field`` (the field the whole run's error names), else the first."""
    from airan.scenario import scenario_from_dict

    first: tuple[str, InputError] | None = None
    for name, value in values.items():
        if name == LOAD_AXIS:
            continue
        d = copy.deepcopy(base)
        set_path(d, name, value, where="axis", label=label, given=set(given))
        try:
            scenario_from_dict(d, label=label)
        except InputError as own:
            if own.field == field:
                return name, own
            first = first or (name, own)
    return first


# ---- field paths -------------------------------------------------------------------------------
def parse_path(path: str) -> list[str | int]:
    """``compute_sites[metro].gpus[0].count`` -> ['compute_sites', 'metro', 'gpus', 0, 'count'].

    Keys are strings; ``[n]`` with digits is a list position (int); ``[name]`` stays a string
    and selects the list item with that ``name``. Raises ValueError for a malformed path.
    """
    if not isinstance(path, str) or not path.strip():
        raise ValueError("empty field path")
    out: list[str | int] = []
    for seg in path.strip().split("."):
        m = _SEGMENT.match(seg)
        if not m:
            raise ValueError(f"malformed segment {seg!r} (expected key or key[index])")
        out.append(m.group(1))
        for idx in _INDEX.findall(m.group(2)):
            idx = idx.strip()
            out.append(int(idx) if re.fullmatch(r"-?\d+", idx) else f"[{idx}]")
    return out


#: mappings whose keys the user names (a scenario's own models): a sweep may add one
OPEN_MAPPINGS = frozenset({"models", "gpus"})


def set_path(data: dict[str, Any], path: str, value: Any, *, where: str = "axis",
             label: str | None = None,
             given: set[tuple[str | int, ...]] | None = None) -> tuple[str | int, ...]:
    """Set ``value`` at the field ``path`` of ``data`` (in place); :class:`InputError` if the
    path does not exist in the scenario. ``where`` ('axis' or 'set') names it in messages.
    ``given``: the fields set before it for the same scenario (as :func:`set_path` returns
    them), to which it adds its own: a carrier's band set after them keeps them, in whatever
    order (:func:`_band_defaults_follow`).
    Returns the path as keys and list positions (``services[detect]`` and ``services[0]``
    alike), so two spellings of one field can be told apart. (Any other ``where``: the path
    alone, as :func:`airan.api.with_fields` names it.)"""
    field = {"axis": f"axes.{path}", "set": f"set.{path}"}.get(where, path)
    try:
        parts = parse_path(path)
    except ValueError as exc:
        raise InputError(f"malformed field path: {exc}", file=label, field=field) from None
    node: Any = data
    walked = ""
    steps: list[str | int] = []
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(part, str) and not part.startswith("["):  # a key
            if not isinstance(node, dict):
                raise InputError(f"'{walked}' is not a mapping, so it has no field {part!r}",
                                 file=label, field=field)
            # a fleet's fields its device class fills are left out of the dumped scenario
            # (so that it reloads with its class's values): set, they are the fleet's own
            class_filled = _fleet_fields(steps) or _carrier_fields(walked)
            if part not in node and not (last and (not node or walked in OPEN_MAPPINGS
                                                   or part in class_filled)):
                # at the top, the load axis is a name too (it is no scenario field)
                top_axis = where == "axis" and len(parts) == 1
                names = list(dict.fromkeys([*node, *class_filled])) + (
                    [LOAD_AXIS] if top_axis else [])
                err = unknown_name("field", part, names, field=field)
                raise err.with_file(label) if label else err
            # (an empty mapping of the dumped scenario is one of names the user chooses, e.g.
            # live.sites: a new name in it is set, and the scenario's validation checks it)
            step: Any = part
            walked += ("." if walked else "") + part
        else:  # a list item, by position or by name
            if not isinstance(node, list):
                what = "null" if node is None else type(node).__name__
                raise InputError(f"'{walked}' is {what} in the scenario, not a list",
                                 file=label, field=field)
            if isinstance(part, int):
                if not -len(node) <= part < len(node):
                    raise InputError(f"'{walked}' has {len(node)} items; no item {part}",
                                     file=label, field=field, value=part)
                step = part % len(node)
            else:
                name = part[1:-1]
                names = [x.get("name") for x in node if isinstance(x, dict)]
                if name not in names:
                    err = unknown_name(f"item of '{walked}'", name, [str(n) for n in names],
                                       field=field)
                    raise err.with_file(label) if label else err
                step = names.index(name)
            walked += f"[{part if isinstance(part, int) else part[1:-1]}]"
        steps.append(step)
        if last:
            if step == "band" and len(parts) > 1 and parts[-2] == "carrier":
                here = tuple(steps[:-1])
                # (a carrier set whole, or the cell site holding it, keeps all its fields)
                whole = any(g == here[:len(g)] for g in (given or ()))
                _band_defaults_follow(node, value, keep={"fc_ghz", "tdd_pattern"} if whole else {
                    str(g[-1]) for g in (given or ()) if g[:-1] == here})
            node[step] = copy.deepcopy(value)
            if given is not None:
                given.add(tuple(steps))
            return tuple(steps)
        nxt = node[step]
        if nxt is None:
            raise InputError(f"'{walked}' is null in the base scenario: set it whole "
                             f"('{walked}: {{...}}')", file=label, field=field)
        node = nxt
    return tuple(steps)  # (not reached: a path has a last part)


def _band_defaults_follow(carrier: dict[str, Any], band: Any, keep: set[str]) -> None:
    """A carrier's frequency and duplex mode that its old band gave it (TS 38.104: unset in the
    file, the band's defaults) are dropped when a path sets another band, so the new band gives
    its own; values the file gave otherwise stay. (A diff review: an axis over carrier.band
    kept 3.5 GHz from the base's n78, so n1 was refused as 3.5 GHz outside it, and an unlisted
    band ran silently at 3.5 GHz TDD.) The fields in ``keep``, set by a path of the same
    scenario before it, stay as they were set (a review: ``fc_ghz: 3.5`` then ``band: n48``
    ran n48 at 3.625 GHz, labelled 3.5, and the other order was refused)."""
    from airan.radio import bands

    old = carrier.get("band")
    if not isinstance(old, str) or old not in bands.NR_BANDS or band == old:
        return
    spec = bands.NR_BANDS[old]
    if "fc_ghz" not in keep and carrier.get("fc_ghz") == bands.default_fc_ghz(old):
        carrier.pop("fc_ghz", None)
    if "tdd_pattern" not in keep and "tdd_pattern" in carrier and carrier["tdd_pattern"] == (
            None if spec.duplex == "FDD" else "DDDSU"):
        carrier.pop("tdd_pattern")


def _carrier_fields(walked: str) -> list[str]:
    """Every field of a carrier where ``walked`` leads to one: a band set before them leaves
    out the fields its old band gave (:func:`_band_defaults_follow`)."""
    if walked == "carrier" or walked.endswith(".carrier"):
        from airan.scenario.schema import Carrier

        return list(Carrier.model_fields)
    return []


def _fleet_fields(steps: list[str | int]) -> list[str]:
    """Every field of a fleet where ``steps`` lead to one (``fleets[i]``), else none."""
    if len(steps) == 2 and steps[0] == "fleets" and isinstance(steps[1], int):
        from airan.scenario.schema import Fleet

        return list(Fleet.model_fields)
    return []


def _show(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _spec_error(exc: ValidationError, data: Any, label: str) -> InputError:
    err = _axis_errors(exc)[0]
    loc = [str(x) for x in err["loc"] if not str(x).startswith(("list[", "Range"))]
    field = ".".join(loc)
    if err["type"] == "extra_forbidden":
        in_range = any(str(x) == "Range" for x in err["loc"])
        return InputError(f"unknown field {loc[-1]!r}", file=label, field=field, value=loc[-1],
                          choices=[f.alias or n for n, f in SweepSpec.model_fields.items()]
                          if len(loc) == 1 else [f.alias or n for n, f in
                                                 Range.model_fields.items()] if in_range
                          else None)
    if err["type"] == "missing":
        return InputError("required field is missing", file=label, field=field)
    value = err.get("input")
    if isinstance(value, dict | list):
        value = None
    msg = err["msg"]
    if len(loc) >= 2 and loc[0] == "axes":
        msg = f"{msg} (an axis is a list of values or {{from: N, count: N, step: N}})"
    return InputError(msg, file=label, field=field, value=value)


def _axis_errors(exc: ValidationError) -> list[Any]:
    """The errors of ``exc``, a range axis's own first (``{from:, count:}``, written as a
    mapping: what is wrong in it, not that it is not a list)."""
    errors = exc.errors(include_url=False)

    def ranged(e: Any) -> bool:
        loc = [str(x) for x in e["loc"]]
        return len(loc) >= 3 and loc[0] == "axes" and loc[2] == "Range"

    def listed(e: Any) -> bool:
        loc = [str(x) for x in e["loc"]]
        return len(loc) >= 3 and loc[0] == "axes" and loc[2].startswith("list[") \
            and isinstance(e.get("input"), dict)

    def misspelt_first(es: list[Any]) -> list[Any]:  # {form: 1}: 'form', not 'from' missing
        return sorted(es, key=lambda e: e["type"] != "extra_forbidden")

    return misspelt_first([e for e in errors if ranged(e)]) + [
        e for e in errors if not ranged(e) and not listed(e)] or errors
